// Writing synthetic videos to disk in YouTube-VIS layout:
//   <out>/<split>/JPEGImages/<video>/<frame:05d>.jpg
//   <out>/<split>/instances.json   ("info", "videos", "categories", "annotations")
// Each video's scene is seeded from (seed, split, video index) alone, so a video is the same
// whichever other videos or splits are written with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "video.h"
#include "vmt/mask.h"

namespace vmt::synth {

/// One object's masks through a video; nullopt on frames where none of its pixels is visible
/// (outside the frame, or entirely behind other objects).
struct ObjectTrack {
  std::size_t object_index = 0;  ///< the object's index in its video (label − 1)
  std::uint32_t category_id = 0;
  std::vector<std::optional<Rle>> masks;  ///< one per frame

  /// Whether any frame has a mask.
  bool ever_visible() const;
};

/// The mask of every object on one frame, cut from its label map: element i is object i's mask,
/// or nullopt where no pixel carries label i + 1. Labels above `object_count` (distractors) and 0
/// belong to no mask.
std::vector<std::optional<Rle>> masks_from_labels(std::span<const std::uint16_t> labels,
                                                  MaskSize size, std::size_t object_count);

/// What to write and how.
struct DatasetOptions {
  std::filesystem::path out_dir;
  std::uint64_t seed = 0;
  SceneOptions scene;      ///< style, sizes, length, objects
  int jpeg_quality = 90;   ///< 1..100
  unsigned jobs = 1;       ///< videos generated in parallel (the files do not depend on it)
};

/// What was written.
struct WriteSummary {
  std::uint32_t videos = 0;
  std::uint64_t frames = 0;
  std::uint64_t annotations = 0;
};

/// The scene seed of video `video_index` of `split`.
std::uint64_t video_seed(std::uint64_t seed, std::string_view split, std::uint32_t video_index);

/// The folder name of a video ("video_00042").
std::string video_name(std::uint32_t video_index);

/// The file name of a frame ("00007.jpg").
std::string frame_file_name(std::uint32_t frame);

/// Writes `videos` videos of `split` (images and instances.json) under options.out_dir / split.
WriteSummary write_split(const DatasetOptions& options, std::string_view split,
                         std::uint32_t videos);

/// Writes only the JPEG frames of the same videos, as options.out_dir/<video>/<frame>.jpg
/// (for making demo clips, e.g. with GStreamer's multifilesrc).
WriteSummary write_frames_only(const DatasetOptions& options, std::string_view split,
                               std::uint32_t videos);

/// The COCO RLE object of a mask: {"size": [h, w], "counts": "<pycocotools string>"} as JSON text.
std::string rle_json(const Rle& rle);

}  // namespace vmt::synth
