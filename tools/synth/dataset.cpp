#include "dataset.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <fstream>
#include <opencv2/core.hpp>
#include <thread>
#include <opencv2/imgcodecs.hpp>
#include <nlohmann/json.hpp>

#include "random.h"
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
              {"category_id", track.category_id},
              {"iscrowd", 0},
              {"segmentations", std::move(segmentations)},
              {"areas", std::move(areas)},
              {"bboxes", std::move(bboxes)},
              {"height", size.height},
              {"width", size.width}};
}

Json categories_json(Style style) {
  Json categories = Json::array();
  for (const Category& category : style_categories(style))
    categories.push_back({{"id", category.id}, {"name", category.name}, {"supercategory", "shape"}});
  return categories;
}

/// Renders every frame of `video`, hands each to `on_frame`, and returns the tracks of the
/// objects that are visible at least once.
template <typename OnFrame>
std::vector<ObjectTrack> render_video(const SyntheticVideo& video, OnFrame&& on_frame) {
  std::vector<ObjectTrack> tracks(video.object_count());
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    tracks[i].object_index = i;
    tracks[i].category_id = video.category_id(i);
  }
  for (std::uint32_t frame = 0; frame < video.frames(); ++frame) {
    const RenderedFrame rendered = video.render(frame);
    on_frame(frame, rendered);
    std::vector<std::optional<Rle>> masks = masks_from_labels(rendered.labels, video.size(), tracks.size());
    for (std::size_t i = 0; i < tracks.size(); ++i) tracks[i].masks.push_back(std::move(masks[i]));
  }
  std::erase_if(tracks, [](const ObjectTrack& track) { return !track.ever_visible(); });
  return tracks;
}

/// Runs `work(v)` for v in [0, count) on up to `jobs` threads; rethrows the error of the lowest
/// failing index (so the same input fails the same way whatever the thread count).
template <typename Work>
void for_each_video(std::uint32_t count, unsigned jobs, Work&& work) {
  const unsigned threads = std::max(1u, std::min<unsigned>(jobs, count));
  if (threads <= 1) {
    for (std::uint32_t v = 0; v < count; ++v) work(v);
    return;
  }
  std::atomic<std::uint32_t> next{0};
  std::vector<std::exception_ptr> errors(count);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::uint32_t v = next++; v < count; v = next++) {
        try {
          work(v);
        } catch (...) {
          errors[v] = std::current_exception();
        }
      }
    });
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

/// One video's part of instances.json: its "videos" entry and its annotations (ids not yet set).
struct VideoJson {
  Json video;
  std::vector<ObjectTrack> tracks;
  MaskSize size;
  std::uint32_t frames = 0;
};

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
  std::vector<VideoJson> parts(videos);
  for_each_video(videos, options.jobs, [&](std::uint32_t v) {
    const std::unique_ptr<SyntheticVideo> video = make_video(options.scene, video_seed(options.seed, split, v));
    const std::string name = video_name(v);
    make_folder(image_dir / name);
    Json file_names = Json::array();
    VideoJson& part = parts[v];
    part.tracks = render_video(*video, [&](std::uint32_t frame, const RenderedFrame& rendered) {
      write_jpeg(image_dir / name / frame_file_name(frame), rendered, options.jpeg_quality);
      file_names.push_back(name + "/" + frame_file_name(frame));
    });
    part.size = video->size();
    part.frames = video->frames();
    part.video = {{"id", v + 1},
                  {"width", part.size.width},
                  {"height", part.size.height},
                  {"length", part.frames},
                  {"file_names", std::move(file_names)}};
  });
  Json videos_json = Json::array(), annotations_json = Json::array();
  WriteSummary summary;
  for (std::uint32_t v = 0; v < videos; ++v) {
    VideoJson& part = parts[v];
    for (const ObjectTrack& track : part.tracks)
      annotations_json.push_back(annotation_json(track, ++summary.annotations, v + 1, part.size));
    videos_json.push_back(std::move(part.video));
    ++summary.videos;
    summary.frames += part.frames;
    part = VideoJson{};  // the masks are in the JSON now
  }
  const Json info = {{"description", "vmt-synth synthetic shapes"},
                     {"version", "1"},
                     {"split", std::string(split)},
                     {"seed", options.seed},
                     {"style", std::string(style_name(options.scene.style))}};
  const Json dataset = {{"info", info},
                        {"licenses", Json::array()},
                        {"videos", std::move(videos_json)},
                        {"categories", categories_json(options.scene.style)},
                        {"annotations", std::move(annotations_json)}};
  write_text(split_dir / "instances.json", dataset.dump() + "\n");
  return summary;
}

WriteSummary write_frames_only(const DatasetOptions& options, std::string_view split,
                               std::uint32_t videos) {
  std::vector<std::uint32_t> frames(videos, 0);
  for_each_video(videos, options.jobs, [&](std::uint32_t v) {
    const std::unique_ptr<SyntheticVideo> video = make_video(options.scene, video_seed(options.seed, split, v));
    const std::filesystem::path dir = options.out_dir / video_name(v);
    make_folder(dir);
    for (std::uint32_t frame = 0; frame < video->frames(); ++frame)
      write_jpeg(dir / frame_file_name(frame), video->render(frame), options.jpeg_quality);
    frames[v] = video->frames();
  });
  WriteSummary summary;
  summary.videos = videos;
  for (const std::uint32_t count : frames) summary.frames += count;
  return summary;
}

}  // namespace vmt::synth
