// Polygon rasterisation without anti-aliasing: a pixel belongs to a shape exactly when its centre
// lies inside it (even-odd rule). The same runs paint the label map and therefore the masks, so a
// mask is, pixel for pixel, what was drawn.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "vmt/mask.h"

namespace vmt::synth {

/// A point in pixel coordinates: pixel (x, y) covers [x, x+1) × [y, y+1), its centre is (x+.5, y+.5).
struct Point {
  double x = 0.0;
  double y = 0.0;
};

/// A closed polygon (the last vertex joins the first).
using Contour = std::vector<Point>;

/// Receives one horizontal run of covered pixels: row `y`, columns [x_begin, x_end).
using RunSink = std::function<void(std::uint32_t y, std::uint32_t x_begin, std::uint32_t x_end)>;

/// Scan-converts `contours` (even-odd: a contour inside another cuts a hole) clipped to an image
/// of `size`, calling `emit` for each run of pixels whose centre is inside, row by row, left to
/// right. Runs of one row never overlap.
void rasterize_even_odd(std::span<const Contour> contours, MaskSize size, const RunSink& emit);

}  // namespace vmt::synth
