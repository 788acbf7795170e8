// Backgrounds of the randomised style: flat, gradients, grain, tiled patterns, procedural
// textures and photograph-like clutter made of blended noise octaves; sometimes two blended,
// sometimes out of focus. A background covers the world the camera pans and zooms across.
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string_view>

#include "random.h"

namespace vmt::synth::randomised {

/// The kinds of background.
enum class BackgroundKind : std::uint8_t {
  flat,             ///< one colour
  linear_gradient,  ///< two or three colour stops along a random direction
  radial_gradient,  ///< from a random centre outwards
  grain,            ///< a colour with per-pixel grain and a faint low-frequency tint
  clutter,          ///< photograph-like: 3–5 colours blended by noise fields of different scales
  checker,          ///< tiled, rotated, sometimes warped
  stripes,
  grid,
  dots,
  marble,           ///< veins: a sine of a turbulent coordinate
  ridged,           ///< ridged multifractal noise
};

inline constexpr std::array kBackgroundKinds = {
    BackgroundKind::flat,    BackgroundKind::linear_gradient, BackgroundKind::radial_gradient,
    BackgroundKind::grain,   BackgroundKind::clutter,         BackgroundKind::checker,
    BackgroundKind::stripes, BackgroundKind::grid,            BackgroundKind::dots,
    BackgroundKind::marble,  BackgroundKind::ridged};

/// "flat", "linear_gradient", ...
std::string_view background_kind_name(BackgroundKind kind);

/// A background of `kind` over `size` pixels (CV_32FC3, BGR in [0, 1]); pattern scales are
/// relative to `frame_short_side` (the shorter side of the video's frames).
cv::Mat3f make_background(cv::Size size, double frame_short_side, BackgroundKind kind, Random& random);

/// A background and what it was made of.
struct Background {
  cv::Mat3f image;                        ///< BGR in [0, 1]
  BackgroundKind kind = BackgroundKind::flat;
  std::optional<BackgroundKind> blended;  ///< a second kind mixed in through a soft noise mask
  bool defocused = false;
};

/// A random background: a kind drawn with weights; sometimes blended with a second one through
/// a soft noise mask; sometimes defocused.
Background random_background(cv::Size size, double frame_short_side, Random& random);

}  // namespace vmt::synth::randomised
