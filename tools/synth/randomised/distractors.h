// Things in a randomised video that are no object of any class: thin lines and curves (wires,
// twigs), specks, fences of parallel lines — opaque, so they hide what is behind them and cut
// it out of its mask — and soft shadows and glare patches that only change the light.
// They are deliberately not compact, object-sized shapes: the model should learn that thin or
// tiny clutter is background without learning that any compact shape may be.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "random.h"
#include "randomised/colour.h"
#include "raster.h"
#include "vmt/mask.h"

namespace vmt::synth::randomised {

enum class DistractorKind : std::uint8_t { line, curve, specks, fence, shadow, glare };

inline constexpr std::array kDistractorKinds = {DistractorKind::line,  DistractorKind::curve,
                                                DistractorKind::specks, DistractorKind::fence,
                                                DistractorKind::shadow, DistractorKind::glare};

/// "line", "curve", ...
std::string_view distractor_kind_name(DistractorKind kind);

/// One distractor, in world coordinates at frame 0.
struct Distractor {
  DistractorKind kind = DistractorKind::line;
  /// Pieces, each rasterised on its own (their union is covered): quads of a thick line, specks.
  /// shadow / glare: one ellipse.
  std::vector<Contour> pieces;
  Point velocity;            ///< drift, world pixels per frame
  Colour colour{0, 0, 0};    ///< opaque kinds
  float strength = 0.3f;     ///< shadow: darkening, glare: brightening, in [0, 1]
  float softness = 0.0f;     ///< blur of the edge, pixels

  /// Whether it hides what is behind it (and so takes pixels from masks).
  bool opaque() const { return kind != DistractorKind::shadow && kind != DistractorKind::glare; }
};

/// A random distractor somewhere in the world rectangle [origin, origin + extent] seen by frames
/// of `frame_size`.
Distractor random_distractor(Point origin, Point extent, MaskSize frame_size, Random& random);

/// A straight thick line from `a` to `b` of `width` pixels as one quad.
Contour thick_segment(Point a, Point b, double width);

}  // namespace vmt::synth::randomised
