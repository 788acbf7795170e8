// The held-out style (docs/synthetic-data.md): an evaluation-only generator written apart from
// the training styles. Its own figures (ellipse, pentagon, starburst, crescent, blob, heart),
// palettes, finishes, backdrops and paths, rasterised with OpenCV's fillPoly rather than the
// training styles' scan converter. It shares with them only the SyntheticVideo interface, the
// seeded Random and the writer (JSON, RLE, JPEG).
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "heldout/figures.h"
#include "heldout/paths.h"
#include "heldout/surfaces.h"
#include "video.h"

namespace vmt::synth::heldout {

/// The held-out categories: one per figure, ids 1..6 in kFigures order.
std::vector<Category> categories();

/// One figure of a held-out video.
struct Actor {
  Figure figure = Figure::ellipse;
  std::vector<cv::Point2d> outline;  ///< own frame, inside the unit disc
  Path path;
  Surface surface;
  double aspect = 1.0;               ///< x scaled by aspect, y by 1 / aspect
};

/// A held-out video.
struct Stage {
  cv::Size frame;
  std::uint32_t frames = 0;
  cv::Mat3b backdrop;          ///< larger than the frame when it drifts
  Backdrop backdrop_kind = Backdrop::plain;
  std::string_view palette;    ///< the palette's name
  cv::Point2d drift;           ///< backdrop offset per frame (pixels; 0 = still)
  std::vector<Actor> actors;   ///< back to front
  double blur = 0.0;           ///< Gaussian σ over the whole frame (0 = none)
  int jpeg_quality = 0;        ///< a JPEG round trip at this quality (0 = none)
  int grain = 0;               ///< uniform noise amplitude, 8-bit levels
  std::uint64_t seed = 0;
};

/// A random held-out video (options: size, frames, objects; random_size is refused).
Stage generate_stage(const SceneOptions& options, std::uint64_t seed);

/// Renders frame `frame` of `stage`.
RenderedFrame render_stage(const Stage& stage, std::uint32_t frame);

/// A held-out video behind the SyntheticVideo interface.
std::unique_ptr<SyntheticVideo> make_video(const SceneOptions& options, std::uint64_t seed);

}  // namespace vmt::synth::heldout
