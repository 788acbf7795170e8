#include "dataset.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <nlohmann/json.hpp>

#include "vmt/error.h"

namespace vmt::synth {
namespace {

using Json = nlohmann::ordered_json;

/// Writes `frame` as a baseline JPEG of `quality`.
void write_jpeg(const std::filesystem::path& path, const RenderedFrame& frame, int quality) {
  const cv::Mat image(static_cast<int>(frame.size.height), static_cast<int>(frame.size.width),
                      CV_8UC3, const_cast<std::uint8_t*>(frame.bgr.data()));
  const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, quality};
  if (!cv::imwrite(path.string(), image, params))
    throw Error(ErrorCode::Internal, "cannot write " + path.string());
}

void make_folder(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw Error(ErrorCode::InvalidArgument, "cannot create " + dir.string() + ": " + error.message());
}

Json mask_json(const Rle& rle) {
  return Json{{"size", {rle.size.height, rle.size.width}}, {"counts", rle_to_string(rle)}};
}

/// The YouTube-VIS annotation of one track.
Json annotation_json(const ObjectTrack& track, std::uint64_t id, std::uint32_t video_id, MaskSize size) {
  Json segmentations = Json::array(), areas = Json::array(), bboxes = Json::array();
  for (const std::optional<Rle>& mask : track.masks) {
    if (!mask) {
      segmentations.push_back(nullptr);
      areas.push_back(nullptr);
      bboxes.push_back(nullptr);
      continue;
    }
    const BoundingBox box = rle_bbox(*mask);
    segmentations.push_back(mask_json(*mask));
    areas.push_back(rle_area(*mask));
    bboxes.push_back({box.x, box.y, box.width, box.height});
  }
  return Json{{"id", id},
              {"video_id", video_id},
              {"category_id", category_id(track.shape)},
              {"iscrowd", 0},
              {"segmentations", std::move(segmentations)},
              {"areas", std::move(areas)},
              {"bboxes", std::move(bboxes)},
              {"height", size.height},
              {"width", size.width}};
}

Json categories_json() {
  Json categories = Json::array();
  for (const ShapeClass shape : kShapeClasses)
    categories.push_back({{"id", category_id(shape)},
                          {"name", std::string(shape_class_name(shape))},
                          {"supercategory", "shape"}});
  return categories;
}

/// Renders every frame of `scene`, hands each to `on_frame`, and returns the tracks of the
/// objects that are visible at least once.
template <typename OnFrame>
std::vector<ObjectTrack> render_video(const Scene& scene, OnFrame&& on_frame) {
  std::vector<ObjectTrack> tracks(scene.objects.size());
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    tracks[i].object_index = i;
    tracks[i].shape = scene.objects[i].shape;
  }
  for (std::uint32_t frame = 0; frame < scene.frames; ++frame) {
    const RenderedFrame rendered = render_frame(scene, frame);
    on_frame(frame, rendered);
    std::vector<std::optional<Rle>> masks = masks_from_labels(rendered.labels, scene.size, tracks.size());
    for (std::size_t i = 0; i < tracks.size(); ++i) tracks[i].masks.push_back(std::move(masks[i]));
  }
  std::erase_if(tracks, [](const ObjectTrack& track) { return !track.ever_visible(); });
  return tracks;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw Error(ErrorCode::Internal, "cannot write " + path.string());
}

}  // namespace

bool ObjectTrack::ever_visible() const {
  return std::any_of(masks.begin(), masks.end(), [](const auto& mask) { return mask.has_value(); });
}

std::vector<std::optional<Rle>> masks_from_labels(std::span<const std::uint16_t> labels,
                                                  MaskSize size, std::size_t object_count) {
  if (labels.size() != size.pixels())
    throw Error(ErrorCode::InvalidArgument, "label map does not match its size");
  std::vector<std::uint64_t> pixel_counts(object_count + 1, 0);
  for (const std::uint16_t label : labels)
    if (label <= object_count) ++pixel_counts[label];
  std::vector<std::optional<Rle>> masks(object_count);
  for (std::size_t i = 0; i < object_count; ++i) {
    if (pixel_counts[i + 1] == 0) continue;
    Bitmap mask(size);
    const auto label = static_cast<std::uint16_t>(i + 1);
    std::span<std::uint8_t> pixels = mask.data();
    for (std::size_t p = 0; p < labels.size(); ++p) pixels[p] = labels[p] == label ? 1 : 0;
    masks[i] = rle_encode(mask.view());
  }
  return masks;
}

std::uint64_t video_seed(std::uint64_t seed, std::string_view split, std::uint32_t video_index) {
  return derive_seed(derive_seed(seed, split), video_index);
}

std::string video_name(std::uint32_t video_index) {
  char name[32];
  std::snprintf(name, sizeof name, "video_%05u", video_index);
  return name;
}

std::string frame_file_name(std::uint32_t frame) {
  char name[32];
  std::snprintf(name, sizeof name, "%05u.jpg", frame);
  return name;
}

std::string rle_json(const Rle& rle) { return mask_json(rle).dump(); }

WriteSummary write_split(const DatasetOptions& options, std::string_view split, std::uint32_t videos) {
  const std::filesystem::path split_dir = options.out_dir / std::string(split);
  const std::filesystem::path image_dir = split_dir / "JPEGImages";
  Json videos_json = Json::array(), annotations_json = Json::array();
  WriteSummary summary;
  for (std::uint32_t v = 0; v < videos; ++v) {
    const Scene scene = generate_scene(options.scene, video_seed(options.seed, split, v));
    const std::string name = video_name(v);
    make_folder(image_dir / name);
    Json file_names = Json::array();
    const std::vector<ObjectTrack> tracks =
        render_video(scene, [&](std::uint32_t frame, const RenderedFrame& rendered) {
          write_jpeg(image_dir / name / frame_file_name(frame), rendered, options.jpeg_quality);
          file_names.push_back(name + "/" + frame_file_name(frame));
        });
    const std::uint32_t video_id = v + 1;
    videos_json.push_back({{"id", video_id},
                           {"width", scene.size.width},
                           {"height", scene.size.height},
                           {"length", scene.frames},
                           {"file_names", std::move(file_names)}});
    for (const ObjectTrack& track : tracks)
      annotations_json.push_back(annotation_json(track, ++summary.annotations, video_id, scene.size));
    ++summary.videos;
    summary.frames += scene.frames;
  }
  const Json info = {{"description", "vmt-synth synthetic shapes"},
                     {"version", "1"},
                     {"split", std::string(split)},
                     {"seed", options.seed}};
  const Json dataset = {{"info", info},
                        {"licenses", Json::array()},
                        {"videos", std::move(videos_json)},
                        {"categories", categories_json()},
                        {"annotations", std::move(annotations_json)}};
  write_text(split_dir / "instances.json", dataset.dump() + "\n");
  return summary;
}

WriteSummary write_frames_only(const DatasetOptions& options, std::string_view split,
                               std::uint32_t videos) {
  WriteSummary summary;
  for (std::uint32_t v = 0; v < videos; ++v) {
    const Scene scene = generate_scene(options.scene, video_seed(options.seed, split, v));
    const std::filesystem::path dir = options.out_dir / video_name(v);
    make_folder(dir);
    for (std::uint32_t frame = 0; frame < scene.frames; ++frame)
      write_jpeg(dir / frame_file_name(frame), render_frame(scene, frame), options.jpeg_quality);
    ++summary.videos;
    summary.frames += scene.frames;
  }
  return summary;
}

}  // namespace vmt::synth
