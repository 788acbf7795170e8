// How objects of the randomised style look, drawn independently of their class: a fill (flat,
// gradient or texture) in the object's own frame, an optional outline, partial transparency,
// defocus, and a contrast with the background that ranges from faint to strong.
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string_view>

#include "random.h"
#include "randomised/colour.h"

namespace vmt::synth::randomised {

/// The fills an object can wear.
enum class FillKind : std::uint8_t {
  flat, linear_gradient, radial_gradient, noise, checker, stripes, dots, grid,
};

inline constexpr std::array kFillKinds = {FillKind::flat,    FillKind::linear_gradient,
                                          FillKind::radial_gradient, FillKind::noise,
                                          FillKind::checker, FillKind::stripes,
                                          FillKind::dots,    FillKind::grid};

/// "flat", "linear_gradient", ...
std::string_view fill_kind_name(FillKind kind);

/// The texture tile covers the object's unit frame [−kTextureReach, kTextureReach]² (the outline
/// lies inside the unit circle; the margin covers wobble) with kTextureSide² pixels.
inline constexpr double kTextureReach = 1.3;
inline constexpr int kTextureSide = 128;

/// One object's look.
struct ObjectLook {
  FillKind fill = FillKind::flat;
  cv::Mat3f texture;                     ///< the fill over the unit frame (kTextureSide², BGR)
  std::optional<Colour> outline;         ///< a border of this colour inside the silhouette
  double outline_width = 0.05;           ///< border width as a fraction of the object's radius (≥ 1 px)
  float opacity = 1.0f;                  ///< 1 = opaque; semi-transparent objects ≥ 0.6
  float defocus_sigma = 0.0f;            ///< Gaussian blur of the object's layer, pixels
};

/// A random look against a background whose mean colour is `background_mean`.
ObjectLook random_look(const Colour& background_mean, Random& random);

/// A look of one colour and nothing else (tests, hand-made scenes).
ObjectLook flat_look(const Colour& colour);

}  // namespace vmt::synth::randomised
