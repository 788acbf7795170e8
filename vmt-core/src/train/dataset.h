// A YouTube-VIS-format training set (JPEGImages/<video>/<frame>.jpg + instances.json with COCO
// RLE or polygon-free masks) and the official clip sampling / augmentation: T frames of one
// video in order without repetition, shorter edge drawn from a list of sizes (official
// [288, 512] step 32), horizontal flip with probability 0.5. Uses OpenCV; internal to the
// trainer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "degrade.h"
#include "targets.h"
#include "vmt/mask.h"

namespace vmt::train {

/// One annotated track: its category and one mask per frame of the video (nullopt = absent).
struct TrackAnnotation {
  std::int64_t category_id = 0;
  std::vector<std::optional<Rle>> masks;
};

/// One video of the set.
struct VideoEntry {
  std::int64_t id = 0;                  ///< the JSON video id
  std::string name;                     ///< folder of the first frame
  std::vector<std::string> file_names;  ///< relative to the image folder
  std::uint32_t width = 0, height = 0;
  std::vector<TrackAnnotation> tracks;
};

/// How clips are drawn.
struct ClipOptions {
  std::int64_t frames = 5;                  ///< T
  std::vector<std::int64_t> shorter_edges;  ///< empty = official 288, 320, ..., 512
  std::int64_t max_longer_edge = 768;       ///< the longer edge is capped (aspect kept)
  std::int64_t size_multiple = 32;          ///< both sides rounded to a multiple of this
  double flip_probability = 0.5;
  double degrade_probability = 0.0;         ///< per (track, frame): degrade the target mask
  DegradeOptions degrade;
};

/// The official shorter-edge list: 288 to 512 in steps of 32.
std::vector<std::int64_t> official_shorter_edges();

/// Shorter-edge list "LO:HI[:STEP]" or "A,B,C" (throws vmt::Error(InvalidArgument)).
std::vector<std::int64_t> parse_sizes(const std::string& text);

/// A YouTube-VIS-format dataset held in memory (annotations only; frames are read per clip).
class YtvisDataset {
 public:
  /// Reads `annotations` (instances.json); frames live under `image_root`
  /// (e.g. <split>/JPEGImages). Videos without any annotated track are dropped.
  /// Throws vmt::Error(NotFound / CorruptData) naming the file.
  YtvisDataset(const std::filesystem::path& annotations, const std::filesystem::path& image_root);

  /// The class names by category id: labels()[c − 1] is category c (gaps named "class_<c>").
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<VideoEntry>& videos() const { return videos_; }

  /// Frame indices of a clip from a video of `length` frames: `frames` distinct indices in
  /// order (all of them, repeated in order, when the video is shorter).
  static std::vector<std::int64_t> sample_frames(std::int64_t length, std::int64_t frames,
                                                 std::mt19937_64& rng);

  /// A random clip: random video, frames, size and flip (ClipOptions). Tracks absent from every
  /// sampled frame are dropped.
  Clip sample(std::mt19937_64& rng, const ClipOptions& options) const;

  /// `count` clips for one data-parallel step, drawn as sample() draws them (the first is the
  /// clip sample() would give) but all at the first one's shorter edge, so that they cost about
  /// the same and the clips that run side by side finish together.
  std::vector<Clip> sample_batch(std::mt19937_64& rng, const ClipOptions& options,
                                 std::int64_t count) const;

  /// The clip of `video`'s frames `frame_indices` at `height` × `width`, optionally flipped,
  /// with no other augmentation.
  Clip load(std::size_t video, const std::vector<std::int64_t>& frame_indices,
            std::int64_t height, std::int64_t width, bool flip,
            std::mt19937_64* degrade_rng = nullptr, const ClipOptions* options = nullptr) const;

 private:
  /// sample() at `shorter_edge` (drawn from options.shorter_edges when absent, then written to
  /// `drawn_edge` if given).
  Clip sample_at(std::mt19937_64& rng, const ClipOptions& options,
                 std::optional<std::int64_t> shorter_edge, std::int64_t* drawn_edge = nullptr) const;

  std::filesystem::path image_root_;
  std::vector<std::string> labels_;
  std::vector<VideoEntry> videos_;
};

/// The input size for a frame of `height` × `width` with shorter edge `shorter` (longer edge
/// capped at max_longer, both rounded to `multiple`, at least `multiple`): {H, W}.
std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t height, std::int64_t width,
                                                   std::int64_t shorter, std::int64_t max_longer,
                                                   std::int64_t multiple);

}  // namespace vmt::train
