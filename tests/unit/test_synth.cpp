// vmt-synth, the synthetic video generator (tools/synth): determinism, masks that are exactly the
// painted pixels, occlusion, objects entering and leaving, categories and sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "dataset.h"
#include "synth_test_support.h"
#include "random.h"
#include "raster.h"
#include "scene.h"
#include "shapes.h"
#include "vmt/mask.h"

namespace fs = std::filesystem;
using nlohmann::json;
using synth_test::files_under;
using synth_test::load_json;
using synth_test::read_bytes;
using synth_test::TempDir;
using namespace vmt::synth;
using vmt::Bitmap;
using vmt::MaskSize;

namespace {

/// Small, quick options.
DatasetOptions small_options(const fs::path& out, std::uint64_t seed) {
  DatasetOptions options;
  options.out_dir = out;
  options.seed = seed;
  options.scene.size = {72, 112};
  options.scene.frames = 10;
  options.scene.min_objects = 3;
  options.scene.max_objects = 5;
  return options;
}

/// Masks of every object on every frame of `scene`: [frame][object].
std::vector<std::vector<std::optional<vmt::Rle>>> all_masks(const Scene& scene) {
  std::vector<std::vector<std::optional<vmt::Rle>>> masks;
  for (std::uint32_t f = 0; f < scene.frames; ++f)
    masks.push_back(masks_from_labels(render_labels(scene, f), scene.size, scene.objects.size()));
  return masks;
}

Bitmap labels_equal(std::span<const std::uint16_t> labels, MaskSize size, std::uint16_t label) {
  Bitmap mask(size);
  for (std::size_t i = 0; i < labels.size(); ++i) mask.data()[i] = labels[i] == label ? 1 : 0;
  return mask;
}

}  // namespace

// The hand-made distributions are in range and reproducible.
TEST(SynthRandom, DistributionsAreInRangeAndReproducible) {
  Random a(42), b(42);
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform(2.0, 3.0);
    EXPECT_GE(u, 2.0);
    EXPECT_LT(u, 3.0);
    EXPECT_EQ(u, b.uniform(2.0, 3.0));
    const auto k = a.uniform_int(-3, 4);
    EXPECT_GE(k, -3);
    EXPECT_LE(k, 4);
    EXPECT_EQ(k, b.uniform_int(-3, 4));
  }
  EXPECT_NE(derive_seed(1, "train"), derive_seed(1, "valid"));
  EXPECT_NE(derive_seed(1, std::uint64_t{0}), derive_seed(2, std::uint64_t{0}));
}

// A pixel is covered exactly when its centre is inside; the ring's inner contour cuts a hole.
TEST(SynthRaster, CoversPixelCentresWithEvenOddHoles) {
  const MaskSize size{8, 10};
  Bitmap covered(size);
  auto paint = [&](std::uint32_t y, std::uint32_t x0, std::uint32_t x1) {
    for (std::uint32_t x = x0; x < x1; ++x) covered.set(x, y, true);
  };
  const std::vector<Contour> square_with_hole = {
      {{1.0, 1.0}, {7.0, 1.0}, {7.0, 7.0}, {1.0, 7.0}},
      {{3.0, 3.0}, {5.0, 3.0}, {5.0, 5.0}, {3.0, 5.0}}};
  rasterize_even_odd(square_with_hole, size, paint);
  for (std::uint32_t y = 0; y < size.height; ++y)
    for (std::uint32_t x = 0; x < size.width; ++x) {
      const bool outer = x >= 1 && x < 7 && y >= 1 && y < 7;
      const bool hole = x >= 3 && x < 5 && y >= 3 && y < 5;
      EXPECT_EQ(covered.at(x, y), (outer && !hole) ? 1 : 0) << x << "," << y;
    }
}

// Shapes reaching past the image are clipped, never written out of bounds.
TEST(SynthRaster, ClipsToTheImage) {
  const MaskSize size{5, 6};
  std::uint64_t pixels = 0;
  const std::vector<Contour> huge = {{{-100.0, -100.0}, {100.0, -100.0}, {100.0, 100.0}, {-100.0, 100.0}}};
  rasterize_even_odd(huge, size, [&](std::uint32_t y, std::uint32_t x0, std::uint32_t x1) {
    EXPECT_LT(y, size.height);
    EXPECT_LE(x1, size.width);
    pixels += x1 - x0;
  });
  EXPECT_EQ(pixels, size.pixels());
}

// Same seed and options: the same bytes in every file (JSON and JPEGs), both splits.
TEST(SynthDataset, SameSeedGivesIdenticalFiles) {
  TempDir first, second;
  for (const TempDir* dir : {&first, &second}) {
    const DatasetOptions options = small_options(dir->path(), 7);
    write_split(options, "train", 2);
    write_split(options, "valid", 1);
  }
  const auto a = files_under(first.path()), b = files_under(second.path());
  ASSERT_EQ(a.size(), 2u + 3u * 10u);
  EXPECT_TRUE(a == b);
}

// A different seed gives different videos; the held-out split differs from the training one.
TEST(SynthDataset, DifferentSeedOrSplitGivesDifferentVideos) {
  TempDir first, second;
  write_split(small_options(first.path(), 7), "train", 1);
  write_split(small_options(first.path(), 7), "valid", 1);
  write_split(small_options(second.path(), 8), "train", 1);
  const std::string frame = "JPEGImages/video_00000/00000.jpg";
  EXPECT_NE(read_bytes(first.path() / "train/instances.json"),
            read_bytes(second.path() / "train/instances.json"));
  EXPECT_NE(read_bytes(first.path() / "train" / frame), read_bytes(second.path() / "train" / frame));
  EXPECT_NE(read_bytes(first.path() / "train" / frame), read_bytes(first.path() / "valid" / frame));
}

// Every mask in the JSON decodes to exactly the pixels labelled with its object, areas and boxes
// match the masks, null exactly where the object has no pixel, and every labelled pixel belongs
// to some annotation.
TEST(SynthDataset, MasksAreExactlyTheLabelledPixels) {
  TempDir dir;
  DatasetOptions options = small_options(dir.path(), 3);
  options.scene.frames = 40;  // long enough for objects to come and go (null masks)
  write_split(options, "train", 3);
  const json dataset = load_json(dir.path() / "train/instances.json");
  std::size_t nulls = 0, masks = 0;
  for (const json& video : dataset["videos"]) {
    const auto video_index = video["id"].get<std::uint32_t>() - 1;
    const Scene scene = generate_scene(options.scene, video_seed(options.seed, "train", video_index));
    std::vector<std::vector<std::uint16_t>> labels;
    for (std::uint32_t f = 0; f < scene.frames; ++f) labels.push_back(render_labels(scene, f));
    std::set<std::uint16_t> claimed;
    for (const json& annotation : dataset["annotations"]) {
      if (annotation["video_id"] != video["id"]) continue;
      EXPECT_EQ(annotation["iscrowd"], 0);
      ASSERT_EQ(annotation["segmentations"].size(), scene.frames);
      // The object's label: the label under its first mask's pixels.
      std::optional<std::uint16_t> label;
      for (std::uint32_t f = 0; f < scene.frames; ++f) {
        const json& segmentation = annotation["segmentations"][f];
        if (segmentation.is_null()) {
          ++nulls;
          EXPECT_TRUE(annotation["areas"][f].is_null());
          EXPECT_TRUE(annotation["bboxes"][f].is_null());
          continue;
        }
        ++masks;
        const vmt::Rle rle = vmt::rle_from_string(segmentation["counts"].get<std::string>(), scene.size);
        const Bitmap mask = vmt::rle_decode(rle);
        const auto first = std::find(mask.data().begin(), mask.data().end(), 1);
        ASSERT_NE(first, mask.data().end()) << "a non-null mask must not be empty";
        const std::uint16_t here = labels[f][static_cast<std::size_t>(first - mask.data().begin())];
        if (!label) label = here;
        ASSERT_EQ(here, *label);
        EXPECT_TRUE(mask == labels_equal(labels[f], scene.size, *label)) << "frame " << f;
        EXPECT_EQ(annotation["areas"][f].get<std::uint64_t>(), vmt::rle_area(rle));
        const vmt::BoundingBox box = vmt::rle_bbox(rle);
        EXPECT_EQ(annotation["bboxes"][f], json({box.x, box.y, box.width, box.height}));
        EXPECT_EQ(scene.objects[*label - 1].shape,
                  kShapeClasses[annotation["category_id"].get<std::size_t>() - 1]);
      }
      ASSERT_TRUE(label.has_value()) << "an annotation with no mask at all";
      EXPECT_TRUE(claimed.insert(*label).second);
      for (std::uint32_t f = 0; f < scene.frames; ++f)
        if (annotation["segmentations"][f].is_null()) {
          EXPECT_EQ(std::count(labels[f].begin(), labels[f].end(), *label), 0);
        }
    }
    for (const auto& frame_labels : labels)
      for (const std::uint16_t l : frame_labels)
        if (l != kBackgroundLabel) {
          EXPECT_TRUE(claimed.contains(l));
        }
  }
  EXPECT_GT(masks, 0u);
  EXPECT_GT(nulls, 0u);
}

// An object entirely behind another has no mask on that frame (null in the JSON).
TEST(SynthScene, FullyHiddenObjectHasNoMask) {
  Random random(1);
  Scene scene{{40, 40}, 1, BackgroundTile({40, 40}, random), {}, {}, {}, 0, 0};
  SceneObject hidden, cover;
  hidden.shape = ShapeClass::circle;
  hidden.trajectory.anchor = {20.0, 20.0};
  hidden.trajectory.radius = 5.0;
  cover.shape = ShapeClass::square;
  cover.trajectory.anchor = {20.0, 20.0};
  cover.trajectory.radius = 15.0;
  scene.objects = {hidden, cover};  // painter's order: the square is in front
  const auto masks = masks_from_labels(render_labels(scene, 0), scene.size, 2);
  EXPECT_FALSE(masks[0].has_value());
  ASSERT_TRUE(masks[1].has_value());
  EXPECT_GT(vmt::rle_area(vmt::rle_encode(render_silhouette(scene, 0, 0).view())), 0u);
  std::swap(scene.objects[0], scene.objects[1]);  // now the circle is in front
  const auto swapped = masks_from_labels(render_labels(scene, 0), scene.size, 2);
  EXPECT_TRUE(swapped[0].has_value());
  EXPECT_TRUE(swapped[1].has_value());
}

// Objects in front remove pixels from the masks of objects behind them: a mask is always inside
// the object's own silhouette, and sometimes strictly smaller.
TEST(SynthScene, OcclusionRemovesPixels) {
  SceneOptions options;
  options.size = {96, 160};
  options.frames = 20;
  options.min_objects = 4;
  options.max_objects = 6;
  std::size_t occluded = 0;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    const Scene scene = generate_scene(options, seed);
    const auto masks = all_masks(scene);
    for (std::uint32_t f = 0; f < scene.frames; ++f)
      for (std::size_t i = 0; i < scene.objects.size(); ++i) {
        const vmt::Rle silhouette = vmt::rle_encode(render_silhouette(scene, i, f).view());
        const std::uint64_t visible = masks[f][i] ? vmt::rle_area(*masks[f][i]) : 0;
        if (masks[f][i]) {
          EXPECT_EQ(vmt::rle_intersection_area(*masks[f][i], silhouette), visible);
        }
        if (visible < vmt::rle_area(silhouette)) ++occluded;
      }
  }
  EXPECT_GT(occluded, 0u);
}

// In a long video objects enter (absent, then present) and leave (present, then absent).
TEST(SynthScene, ObjectsEnterAndLeaveALongVideo) {
  SceneOptions options;
  options.size = {64, 96};
  options.frames = 150;
  const Scene scene = generate_scene(options, 11);
  const auto masks = all_masks(scene);
  bool entered = false, left = false;
  for (std::size_t i = 0; i < scene.objects.size(); ++i)
    for (std::uint32_t f = 1; f < scene.frames; ++f) {
      entered |= !masks[f - 1][i] && masks[f][i];
      left |= masks[f - 1][i] && !masks[f][i];
    }
  EXPECT_TRUE(entered);
  EXPECT_TRUE(left);
  EXPECT_GT(scene.objects.size(), options.max_objects) << "lanes should bring in new objects";
}

// Objects move, turn and change size from frame to frame.
TEST(SynthScene, ObjectsMoveTurnAndScale) {
  const Scene scene = generate_scene(SceneOptions{}, 5);
  ASSERT_FALSE(scene.objects.empty());
  const Trajectory& path = scene.objects[0].trajectory;
  const Pose a = path.pose_at(0), b = path.pose_at(10);
  EXPECT_NE(a.centre.x, b.centre.x);
  EXPECT_NE(a.angle, b.angle);
  EXPECT_NE(a.radius, b.radius);
}

// Every category occurs, and the JSON lists all of them with 1-based ids.
TEST(SynthDataset, AllCategoriesAreUsed) {
  std::set<ShapeClass> seen;
  SceneOptions options;
  options.size = {48, 64};
  options.frames = 4;
  for (std::uint64_t seed = 0; seed < 20; ++seed)
    for (const SceneObject& object : generate_scene(options, seed).objects) seen.insert(object.shape);
  EXPECT_EQ(seen.size(), kShapeClasses.size());

  TempDir dir;
  write_split(small_options(dir.path(), 0), "train", 1);
  const json dataset = load_json(dir.path() / "train/instances.json");
  ASSERT_EQ(dataset["categories"].size(), kShapeClasses.size());
  for (std::size_t i = 0; i < kShapeClasses.size(); ++i) {
    EXPECT_EQ(dataset["categories"][i]["id"], i + 1);
    EXPECT_EQ(dataset["categories"][i]["name"], std::string(shape_class_name(kShapeClasses[i])));
  }
  for (const json& annotation : dataset["annotations"]) {
    EXPECT_GE(annotation["category_id"].get<int>(), 1);
    EXPECT_LE(annotation["category_id"].get<int>(), static_cast<int>(kShapeClasses.size()));
  }
}

// Odd frame sizes and counts are respected by the images, the videos and the masks.
TEST(SynthDataset, SizesAndCountsAreRespected) {
  TempDir dir;
  DatasetOptions options = small_options(dir.path(), 9);
  options.scene.size = {23, 37};
  options.scene.frames = 5;
  write_split(options, "valid", 2);
  const json dataset = load_json(dir.path() / "valid/instances.json");
  ASSERT_EQ(dataset["videos"].size(), 2u);
  for (const json& video : dataset["videos"]) {
    EXPECT_EQ(video["width"], 37);
    EXPECT_EQ(video["height"], 23);
    EXPECT_EQ(video["length"], 5);
    ASSERT_EQ(video["file_names"].size(), 5u);
    for (const json& name : video["file_names"]) {
      const cv::Mat image = cv::imread((dir.path() / "valid/JPEGImages" / name.get<std::string>()).string());
      ASSERT_FALSE(image.empty()) << name;
      EXPECT_EQ(image.cols, 37);
      EXPECT_EQ(image.rows, 23);
    }
  }
  for (const json& annotation : dataset["annotations"]) {
    EXPECT_EQ(annotation["width"], 37);
    EXPECT_EQ(annotation["height"], 23);
    for (const json& segmentation : annotation["segmentations"])
      if (!segmentation.is_null()) {
        EXPECT_EQ(segmentation["size"], json({23, 37}));
      }
  }
}

// --frames-only writes the same pictures as the dataset, without JSON.
TEST(SynthDataset, FramesOnlyMatchesTheDatasetImages) {
  TempDir dataset_dir, frames_dir;
  write_split(small_options(dataset_dir.path(), 4), "train", 1);
  const WriteSummary summary = write_frames_only(small_options(frames_dir.path(), 4), "train", 1);
  EXPECT_EQ(summary.frames, 10u);
  EXPECT_FALSE(fs::exists(frames_dir.path() / "instances.json"));
  EXPECT_EQ(read_bytes(frames_dir.path() / "video_00000/00009.jpg"),
            read_bytes(dataset_dir.path() / "train/JPEGImages/video_00000/00009.jpg"));
}
