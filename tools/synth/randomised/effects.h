// Whole-frame effects of the randomised style, in the order a camera and a codec apply them:
// lighting that changes over time and across the frame, sensor noise, then compression
// artefacts (a JPEG round trip at low quality, or an H.264-like intra coder: 4:2:0 chroma,
// flat macroblocks replaced by planar prediction, quantised 8×8 transforms, light deblocking).
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>

#include "random.h"
#include "randomised/colour.h"
#include "raster.h"

namespace vmt::synth::randomised {

/// Light over the video: a global gain with a slow swing and flicker, a colour tint that drifts,
/// a brightness ramp that moves across the frame, a vignette.
struct Lighting {
  double gain = 1.0;
  double swing = 0.0;          ///< relative gain change
  double swing_period = 60.0;  ///< frames
  double swing_phase = 0.0;
  double flicker = 0.0;        ///< per-frame random gain jitter (relative)
  Colour tint{1, 1, 1};        ///< per channel gain
  Colour tint_drift{0, 0, 0};  ///< per channel gain change over the whole video
  double ramp = 0.0;           ///< brightness ramp strength (relative, across the diagonal)
  Point ramp_direction{1, 0};
  double ramp_speed = 0.0;     ///< ramp phase shift, cycles per frame
  double vignette = 0.0;       ///< darkening at the corners (relative)
};

enum class Compression : std::uint8_t { none, jpeg, h264_like };

/// "none", "jpeg", "h264_like".
std::string_view compression_name(Compression compression);

/// The effects of one video.
struct Effects {
  Lighting lighting;
  double shutter = 0.0;        ///< motion blur: fraction of a frame interval the shutter is open
  double sensor_noise = 0.0;   ///< Gaussian noise σ (in [0, 1] units)
  Compression compression = Compression::none;
  int jpeg_quality = 50;       ///< Compression::jpeg
  double quantiser = 12.0;     ///< Compression::h264_like: transform quantiser step (8-bit levels)
  std::uint64_t seed = 0;      ///< noise and flicker
};

/// Random effects for a video of `frames` frames.
Effects random_effects(std::uint32_t frames, Random& random);

/// Applies the lighting of frame `frame` of a `frames`-frame video to `image` (in place).
void apply_lighting(cv::Mat3f& image, const Effects& effects, std::uint32_t frame, std::uint32_t frames);

/// Adds the sensor noise of frame `frame` (in place).
void add_sensor_noise(cv::Mat3f& image, const Effects& effects, std::uint32_t frame);

/// 8-bit image of a [0, 1] float image (rounded, saturated).
cv::Mat3b to_bytes(const cv::Mat3f& image);

/// Applies the compression artefacts (in place).
void compress(cv::Mat3b& image, const Effects& effects);

/// The H.264-like intra coder on its own (see the file comment), quantiser step in 8-bit levels.
void h264_like_artefacts(cv::Mat3b& image, double quantiser);

}  // namespace vmt::synth::randomised
