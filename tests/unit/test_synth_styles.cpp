// vmt-synth's randomised (training) and held-out (evaluation) styles: determinism, masks that are
// exactly the painted labels with consistent boxes, pixels that come from what the masks say,
// the variety each style promises, and the separation of the held-out style from training.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>
#include <vector>

#include "dataset.h"
#include "heldout/heldout_video.h"
#include "randomised/randomised_video.h"
#include "scene.h"
#include "shapes.h"
#include "synth_test_support.h"
#include "video.h"
#include "vmt/error.h"
#include "vmt/mask.h"

namespace fs = std::filesystem;
using nlohmann::json;
using synth_test::files_under;
using synth_test::load_json;
using synth_test::read_bytes;
using synth_test::TempDir;
using namespace vmt::synth;
namespace rnd = vmt::synth::randomised;
namespace ho = vmt::synth::heldout;
using vmt::Bitmap;
using vmt::MaskSize;

namespace {

constexpr Style kNewStyles[] = {Style::randomised, Style::heldout};

/// Small, quick options of `style` (randomised: random frame sizes with a small shorter side).
DatasetOptions style_options(Style style, const fs::path& out, std::uint64_t seed) {
  DatasetOptions options;
  options.out_dir = out;
  options.seed = seed;
  options.scene.style = style;
  options.scene.frames = 12;
  options.scene.min_objects = 2;
  options.scene.max_objects = 4;
  if (style == Style::randomised)
    options.scene.random_size = ShortSideRange{48, 72};
  else
    options.scene.size = {60, 80};
  return options;
}

Bitmap pixels_labelled(std::span<const std::uint16_t> labels, MaskSize size, std::uint16_t label) {
  Bitmap mask(size);
  for (std::size_t i = 0; i < labels.size(); ++i) mask.data()[i] = labels[i] == label ? 1 : 0;
  return mask;
}

std::string style_label(const testing::TestParamInfo<Style>& info) {
  return std::string(style_name(info.param));
}

cv::Vec3b pixel(const RenderedFrame& frame, std::uint32_t x, std::uint32_t y) {
  const std::size_t i = (std::size_t{y} * frame.size.width + x) * 3;
  return {frame.bgr[i], frame.bgr[i + 1], frame.bgr[i + 2]};
}

/// Frame-to-frame events of a rendered video: objects that appear after frame 0 having been
/// absent, and objects that disappear before the last frame.
struct Comings {
  int entered = 0;
  int left = 0;
};

Comings comings_and_goings(const SyntheticVideo& video) {
  Comings c;
  std::vector<bool> before(video.object_count(), false);
  for (std::uint32_t f = 0; f < video.frames(); ++f) {
    const RenderedFrame frame = video.render(f);
    std::vector<bool> now(video.object_count(), false);
    for (const std::uint16_t l : frame.labels)
      if (l >= 1 && l <= video.object_count()) now[l - 1] = true;
    if (f > 0)
      for (std::size_t i = 0; i < now.size(); ++i) {
        c.entered += !before[i] && now[i];
        c.left += before[i] && !now[i];
      }
    before = now;
  }
  return c;
}

class SynthStyle : public testing::TestWithParam<Style> {};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Styles, SynthStyle, testing::ValuesIn(kNewStyles), style_label);

// Same seed and options: byte-identical JSON and JPEGs, also when videos are made in parallel.
TEST_P(SynthStyle, SameSeedGivesIdenticalFilesWhateverTheJobs) {
  TempDir first, second;
  DatasetOptions options = style_options(GetParam(), first.path(), 7);
  write_split(options, "valid", 3);
  options.out_dir = second.path();
  options.jobs = 3;
  write_split(options, "valid", 3);
  const auto a = files_under(first.path()), b = files_under(second.path());
  ASSERT_EQ(a.size(), 1u + 3u * 12u);
  EXPECT_TRUE(a == b);
}

// Another seed, another video.
TEST_P(SynthStyle, AnotherSeedGivesOtherVideos) {
  TempDir first, second;
  write_split(style_options(GetParam(), first.path(), 7), "valid", 1);
  write_split(style_options(GetParam(), second.path(), 8), "valid", 1);
  const std::string frame = "valid/JPEGImages/video_00000/00000.jpg";
  EXPECT_NE(read_bytes(first.path() / frame), read_bytes(second.path() / frame));
  EXPECT_NE(read_bytes(first.path() / "valid/instances.json"), read_bytes(second.path() / "valid/instances.json"));
}

// Every JSON mask is exactly the pixels carrying its object's label; areas and boxes match;
// null exactly where the object has no pixel; every object pixel is claimed by one annotation,
// distractor pixels by none; categories are the style's; frame files have the video's size.
TEST_P(SynthStyle, MasksBoxesAndFramesAgreeWithTheLabels) {
  TempDir dir;
  DatasetOptions options = style_options(GetParam(), dir.path(), 3);
  options.scene.frames = 30;  // long enough for objects to come and go
  write_split(options, "valid", 4);
  const json dataset = load_json(dir.path() / "valid/instances.json");
  EXPECT_EQ(dataset["info"]["style"], std::string(style_name(GetParam())));
  std::set<std::uint32_t> category_ids;
  for (const Category& c : style_categories(GetParam())) category_ids.insert(c.id);
  ASSERT_EQ(dataset["categories"].size(), category_ids.size());
  std::size_t nulls = 0, masks = 0, distractor_pixels = 0;
  for (const json& video_json : dataset["videos"]) {
    const auto index = video_json["id"].get<std::uint32_t>() - 1;
    const auto video = make_video(options.scene, video_seed(options.seed, "valid", index));
    const MaskSize size = video->size();
    ASSERT_EQ(video_json["width"], size.width);
    ASSERT_EQ(video_json["height"], size.height);
    const cv::Mat first_frame =
        cv::imread((dir.path() / "valid/JPEGImages" / video_json["file_names"][0].get<std::string>()).string());
    ASSERT_EQ(first_frame.cols, static_cast<int>(size.width));
    ASSERT_EQ(first_frame.rows, static_cast<int>(size.height));
    std::vector<std::vector<std::uint16_t>> labels;
    for (std::uint32_t f = 0; f < video->frames(); ++f) labels.push_back(video->render(f).labels);
    std::set<std::uint16_t> claimed;
    for (const json& annotation : dataset["annotations"]) {
      if (annotation["video_id"] != video_json["id"]) continue;
      ASSERT_EQ(annotation["segmentations"].size(), video->frames());
      EXPECT_TRUE(category_ids.contains(annotation["category_id"].get<std::uint32_t>()));
      std::optional<std::uint16_t> label;
      for (std::uint32_t f = 0; f < video->frames(); ++f) {
        const json& segmentation = annotation["segmentations"][f];
        if (segmentation.is_null()) {
          ++nulls;
          EXPECT_TRUE(annotation["areas"][f].is_null());
          EXPECT_TRUE(annotation["bboxes"][f].is_null());
          continue;
        }
        ++masks;
        const vmt::Rle rle = vmt::rle_from_string(segmentation["counts"].get<std::string>(), size);
        const Bitmap mask = vmt::rle_decode(rle);
        const auto first = std::find(mask.data().begin(), mask.data().end(), 1);
        ASSERT_NE(first, mask.data().end());
        const std::uint16_t here = labels[f][static_cast<std::size_t>(first - mask.data().begin())];
        if (!label) label = here;
        ASSERT_EQ(here, *label);
        ASSERT_GE(here, 1);
        ASSERT_LE(here, video->object_count()) << "a distractor got an annotation";
        EXPECT_TRUE(mask == pixels_labelled(labels[f], size, here)) << "frame " << f;
        EXPECT_EQ(annotation["areas"][f].get<std::uint64_t>(), vmt::rle_area(rle));
        const vmt::BoundingBox box = vmt::rle_bbox(rle);
        EXPECT_EQ(annotation["bboxes"][f], json({box.x, box.y, box.width, box.height}));
        EXPECT_EQ(annotation["category_id"].get<std::uint32_t>(), video->category_id(here - 1u));
      }
      ASSERT_TRUE(label.has_value());
      EXPECT_TRUE(claimed.insert(*label).second);
      for (std::uint32_t f = 0; f < video->frames(); ++f)
        if (annotation["segmentations"][f].is_null()) {
          EXPECT_EQ(std::count(labels[f].begin(), labels[f].end(), *label), 0);
        }
    }
    for (const auto& frame_labels : labels)
      for (const std::uint16_t l : frame_labels) {
        if (l >= 1 && l <= video->object_count()) {
          EXPECT_TRUE(claimed.contains(l));
        } else if (l != 0) {
          ++distractor_pixels;
        }
      }
  }
  EXPECT_GT(masks, 0u);
  EXPECT_GT(nulls, 0u);
  if (GetParam() == Style::heldout) {
    EXPECT_EQ(distractor_pixels, 0u) << "the held-out style has no distractors";
  } else {
    EXPECT_GT(distractor_pixels, 0u) << "distractors should show (and hide objects) in these videos";
  }
}

// Bad options are refused with InvalidArgument, never a crash.
TEST_P(SynthStyle, BadOptionsAreRefused) {
  SceneOptions options = style_options(GetParam(), "unused", 0).scene;
  SceneOptions no_frames = options;
  no_frames.frames = 0;
  SceneOptions inverted = options;
  inverted.min_objects = 5;
  inverted.max_objects = 2;
  for (const SceneOptions& bad : {no_frames, inverted}) {
    try {
      (void)make_video(bad, 1);
      ADD_FAILURE() << "accepted bad options";
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::InvalidArgument);
    }
  }
}

// Objects enter and leave: in longer videos, masks start and end mid-video.
TEST_P(SynthStyle, ObjectsEnterAndLeave) {
  SceneOptions options = style_options(GetParam(), "unused", 0).scene;
  options.frames = 60;
  options.min_objects = options.max_objects = 4;
  int entered = 0, left = 0;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    const auto video = make_video(options, seed);
    const Comings c = comings_and_goings(*video);
    entered += c.entered;
    left += c.left;
  }
  EXPECT_GT(entered, 0);
  EXPECT_GT(left, 0);
}

// Hand-made randomised scene, no effects: background pixels are the background's colour, an
// object's mask pixels are its colour, and an opaque distractor line in front of it takes its
// pixels (out of the mask, painted in the line's colour).
TEST(SynthRandomised, PixelsComeFromWhatTheLabelsSay) {
  rnd::Scene scene;
  scene.size = {40, 60};
  scene.frames = 1;
  scene.background = cv::Mat3f(80, 100, rnd::Colour(0.2f, 0.4f, 0.6f));
  scene.background_origin = {-20, -20};
  scene.camera.start = {30, 20};
  rnd::Object square;
  square.shape = ShapeClass::square;
  square.outline = rnd::densify(unit_outline(ShapeClass::square), 0.08);
  square.motion.anchor = {30, 20};
  square.motion.radius = 14;
  square.look = rnd::flat_look(rnd::Colour(1.0f, 0.0f, 0.0f));  // pure blue in BGR
  scene.objects = {square};
  rnd::Distractor wire;
  wire.kind = rnd::DistractorKind::line;
  wire.colour = rnd::Colour(0.0f, 1.0f, 0.0f);
  wire.pieces = {rnd::thick_segment({0, 20}, {60, 20}, 3.0)};
  scene.distractors = {wire};
  scene.layers = {{true, 0}, {false, 0}};
  const RenderedFrame frame = rnd::render_frame(scene, 0);
  std::size_t object_pixels = 0, wire_pixels = 0;
  for (std::uint32_t y = 0; y < scene.size.height; ++y)
    for (std::uint32_t x = 0; x < scene.size.width; ++x) {
      const std::uint16_t label = frame.labels[y * scene.size.width + x];
      const cv::Vec3b c = pixel(frame, x, y);
      if (label == 1) {
        ++object_pixels;
        EXPECT_EQ(c, cv::Vec3b(255, 0, 0)) << x << "," << y;
      } else if (label == rnd::distractor_label(scene, 0)) {
        ++wire_pixels;
        EXPECT_EQ(c, cv::Vec3b(0, 255, 0)) << x << "," << y;
      } else {
        EXPECT_EQ(label, 0);
        EXPECT_EQ(c, cv::Vec3b(51, 102, 153)) << x << "," << y;
      }
    }
  EXPECT_GT(object_pixels, 200u);
  EXPECT_EQ(wire_pixels, 3u * 60u) << "a 3-pixel line across the frame";
  // The wire crosses the square: its pixels there are not in the square's mask.
  for (std::uint32_t x = 25; x < 35; ++x) EXPECT_NE(frame.labels[20 * scene.size.width + x], 1);
}

// The randomised style draws what the issue lists, across videos: every class, fill,
// background kind, distractor kind and codec; outlines, transparency, defocus, motion blur,
// wobble, camera pan and zoom; real-video formats (landscape and portrait); object sizes from a
// few percent to half the frame.
TEST(SynthRandomised, VariesWhatItPromises) {
  SceneOptions options;
  options.style = Style::randomised;
  options.random_size = ShortSideRange{40, 60};  // small frames: quick
  options.frames = 8;
  std::set<ShapeClass> shapes;
  std::set<rnd::FillKind> fills;
  std::set<rnd::BackgroundKind> backgrounds;
  std::set<rnd::DistractorKind> distractors;
  std::set<rnd::Compression> codecs;
  std::set<std::pair<std::uint32_t, std::uint32_t>> aspects;  // reduced w:h
  int outlined = 0, transparent = 0, defocused = 0, wobbly = 0, blurred = 0, panning = 0, zooming = 0,
      portrait = 0, landscape = 0, blended = 0;
  double smallest = 1.0, largest = 0.0;
  for (std::uint64_t seed = 0; seed < 120; ++seed) {
    const rnd::Scene scene = rnd::generate_scene(options, seed);
    const double short_side = std::min(scene.size.width, scene.size.height);
    backgrounds.insert(scene.background_kind);
    blended += scene.background_blend.has_value();
    codecs.insert(scene.effects.compression);
    blurred += scene.effects.shutter > 0;
    panning += scene.camera.velocity.x != 0 || scene.camera.velocity.y != 0;
    zooming += scene.camera.log_zoom_rate != 0;
    portrait += scene.size.height > scene.size.width;
    landscape += scene.size.width > scene.size.height;
    const std::uint32_t g = std::gcd(scene.size.width, scene.size.height);
    aspects.insert({scene.size.width / g, scene.size.height / g});
    for (const rnd::Object& o : scene.objects) {
      shapes.insert(o.shape);
      fills.insert(o.look.fill);
      outlined += o.look.outline.has_value();
      transparent += o.look.opacity < 1.0f;
      defocused += o.look.defocus_sigma > 0;
      wobbly += !o.wobble.harmonics.empty();
      smallest = std::min(smallest, o.motion.radius / short_side);
      largest = std::max(largest, o.motion.radius / short_side);
    }
    for (const rnd::Distractor& d : scene.distractors) distractors.insert(d.kind);
  }
  EXPECT_EQ(shapes.size(), kShapeClasses.size());
  EXPECT_EQ(fills.size(), rnd::kFillKinds.size());
  EXPECT_EQ(backgrounds.size(), rnd::kBackgroundKinds.size());
  EXPECT_EQ(distractors.size(), rnd::kDistractorKinds.size());
  EXPECT_EQ(codecs.size(), 3u);
  for (const int count : {outlined, transparent, defocused, wobbly, blurred, panning, zooming, portrait,
                          landscape, blended})
    EXPECT_GT(count, 0);
  EXPECT_GE(aspects.size(), 4u) << "several aspect ratios";
  EXPECT_LT(smallest, 0.04) << "radius as a fraction of the shorter side";
  EXPECT_GT(largest, 0.22);
}

// The H.264-like coder changes the picture, more at a coarser quantiser, and stays close to it.
TEST(SynthRandomised, CodecArtefactsGrowWithTheQuantiser) {
  cv::Mat3b picture(64, 96);
  for (int y = 0; y < picture.rows; ++y)
    for (int x = 0; x < picture.cols; ++x)
      picture(y, x) = cv::Vec3b(static_cast<std::uint8_t>((x * 7 + y * 3) % 256), static_cast<std::uint8_t>(x * 2),
                                static_cast<std::uint8_t>(((x / 8 + y / 8) % 2) * 200 + 20));
  auto error_at = [&](double quantiser) {
    cv::Mat3b coded = picture.clone();
    rnd::h264_like_artefacts(coded, quantiser);
    return cv::norm(coded, picture, cv::NORM_L1) / (picture.total() * 3.0);
  };
  const double fine = error_at(4.0), coarse = error_at(26.0);
  EXPECT_GT(fine, 0.0);
  EXPECT_GT(coarse, fine);
  EXPECT_LT(coarse, 40.0) << "mean absolute error per channel, 8-bit levels";
}

// Hand-made held-out stage, no degradation: backdrop pixels are the backdrop's colour and a flat
// figure's mask pixels are its colour; a figure in front hides the one behind.
TEST(SynthHeldout, PixelsComeFromWhatTheLabelsSay) {
  Random random(3);
  ho::Stage stage;
  stage.frame = {64, 48};
  stage.frames = 1;
  stage.backdrop = cv::Mat3b(48, 64, cv::Vec3b(10, 20, 30));
  const std::vector<cv::Point2d> outline = ho::random_figure(ho::Figure::ellipse, random);
  for (const double x : {24.0, 36.0}) {
    ho::Actor actor;
    actor.figure = ho::Figure::ellipse;
    actor.outline = outline;
    actor.path = ho::random_path(ho::PathKind::drift, stage.frame, 1, 0.0, random);
    actor.path.centre = {x, 24.0};
    actor.path.extent = {0, 0};
    actor.path.size = 12.0;
    actor.path.angle = 0.0;
    actor.path.rock = actor.path.turn = actor.path.growth = 0.0;
    actor.surface.finish = ho::Finish::flat;
    actor.surface.first = x < 30 ? cv::Vec3b(200, 0, 0) : cv::Vec3b(0, 0, 200);
    stage.actors.push_back(actor);
  }
  const RenderedFrame frame = ho::render_stage(stage, 0);
  std::size_t counts[3] = {};
  for (std::uint32_t y = 0; y < 48; ++y)
    for (std::uint32_t x = 0; x < 64; ++x) {
      const std::uint16_t label = frame.labels[y * 64 + x];
      ASSERT_LE(label, 2);
      ++counts[label];
      const cv::Vec3b expected = label == 0 ? cv::Vec3b(10, 20, 30) : label == 1 ? cv::Vec3b(200, 0, 0) : cv::Vec3b(0, 0, 200);
      EXPECT_EQ(pixel(frame, x, y), expected) << x << "," << y;
    }
  EXPECT_GT(counts[1], 50u);
  EXPECT_GT(counts[2], counts[1]) << "the front figure is whole, the back one partly hidden";
}

// The held-out style draws all its figures, finishes, backdrops, palettes and paths.
TEST(SynthHeldout, VariesWhatItPromises) {
  SceneOptions options;
  options.style = Style::heldout;
  options.size = {36, 48};
  options.frames = 8;
  std::set<ho::Figure> figures;
  std::set<ho::Finish> finishes;
  std::set<ho::Backdrop> backdrops;
  std::set<ho::PathKind> paths;
  std::set<std::string_view> palettes;
  for (std::uint64_t seed = 0; seed < 80; ++seed) {
    const ho::Stage stage = ho::generate_stage(options, seed);
    backdrops.insert(stage.backdrop_kind);
    palettes.insert(stage.palette);
    for (const ho::Actor& actor : stage.actors) {
      figures.insert(actor.figure);
      finishes.insert(actor.surface.finish);
      paths.insert(actor.path.kind);
    }
  }
  EXPECT_EQ(figures.size(), ho::kFigures.size());
  EXPECT_EQ(finishes.size(), ho::kFinishes.size());
  EXPECT_EQ(backdrops.size(), ho::kBackdrops.size());
  EXPECT_EQ(paths.size(), ho::kPathKinds.size());
  EXPECT_EQ(palettes.size(), 6u);
}

// What the held-out style shares with the training styles: no category name, and of the looks
// only plain colour ("flat": the issue's own test videos had plain objects and backgrounds).
// (Which code it may include is checked by synth-heldout-independent.)
TEST(SynthHeldout, SharesNoClassesAndOnlyPlainLooksWithTraining) {
  std::set<std::string> training, heldout;
  for (const Category& c : style_categories(Style::randomised)) training.insert(c.name);
  for (const Category& c : style_categories(Style::classic)) training.insert(c.name);
  for (const Category& c : style_categories(Style::heldout)) heldout.insert(c.name);
  ASSERT_EQ(heldout.size(), 6u);
  for (const std::string& name : heldout) EXPECT_FALSE(training.contains(name)) << name;

  std::set<std::string> training_looks, heldout_looks;
  for (const auto kind : rnd::kFillKinds) training_looks.insert(std::string(rnd::fill_kind_name(kind)));
  for (const auto kind : rnd::kBackgroundKinds)
    training_looks.insert(std::string(rnd::background_kind_name(kind)));
  for (const auto kind : ho::kFinishes) heldout_looks.insert(std::string(ho::finish_name(kind)));
  for (const auto kind : ho::kBackdrops) heldout_looks.insert(std::string(ho::backdrop_name(kind)));
  std::set<std::string> shared;
  std::set_intersection(training_looks.begin(), training_looks.end(), heldout_looks.begin(), heldout_looks.end(),
                        std::inserter(shared, shared.begin()));
  EXPECT_EQ(shared, std::set<std::string>{"flat"});
}

// The classic style behind the interface is the classic scene, byte for byte.
TEST(SynthClassic, InterfaceRendersTheClassicScene) {
  SceneOptions options;
  options.size = {30, 40};
  options.frames = 3;
  const auto video = make_video(options, 5);
  const Scene scene = generate_scene(options, 5);
  ASSERT_EQ(video->object_count(), scene.objects.size());
  for (std::uint32_t f = 0; f < 3; ++f) {
    const RenderedFrame a = video->render(f), b = render_frame(scene, f);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_EQ(a.bgr, b.bgr);
  }
}
