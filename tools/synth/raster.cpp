#include "raster.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vmt::synth {
namespace {

/// Vertical extent of all contours, in pixel rows whose centre may be inside; empty if none.
struct RowRange {
  std::int64_t first = 0;
  std::int64_t end = 0;
};

RowRange covered_rows(std::span<const Contour> contours, MaskSize size) {
  double top = std::numeric_limits<double>::infinity();
  double bottom = -std::numeric_limits<double>::infinity();
  for (const Contour& contour : contours)
    for (const Point& p : contour) {
      top = std::min(top, p.y);
      bottom = std::max(bottom, p.y);
    }
  if (!(top <= bottom)) return {};
  // Row y is sampled at y + 0.5.
  const auto first = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(top - 0.5)));
  const auto end = std::min<std::int64_t>(size.height,
                                          static_cast<std::int64_t>(std::ceil(bottom + 0.5)) + 1);
  return {first, std::max(first, end)};
}

/// X coordinates where the horizontal line `y_centre` crosses the contours' edges.
void edge_crossings(std::span<const Contour> contours, double y_centre, std::vector<double>& xs) {
  xs.clear();
  for (const Contour& contour : contours) {
    const std::size_t n = contour.size();
    for (std::size_t i = 0; i < n; ++i) {
      const Point& a = contour[i];
      const Point& b = contour[(i + 1) % n];
      // Half-open test: horizontal edges never cross, shared vertices count once.
      if ((a.y <= y_centre) == (b.y <= y_centre)) continue;
      xs.push_back(a.x + (y_centre - a.y) * (b.x - a.x) / (b.y - a.y));
    }
  }
  std::sort(xs.begin(), xs.end());
}

/// First column whose centre is at or right of `x` (clamped to [0, width]).
std::uint32_t first_column_at_or_after(double x, std::uint32_t width) {
  const double column = std::ceil(x - 0.5);
  if (column <= 0.0) return 0;
  if (column >= static_cast<double>(width)) return width;
  return static_cast<std::uint32_t>(column);
}

}  // namespace

void rasterize_even_odd(std::span<const Contour> contours, MaskSize size, const RunSink& emit) {
  const RowRange rows = covered_rows(contours, size);
  std::vector<double> xs;
  for (std::int64_t y = rows.first; y < rows.end; ++y) {
    edge_crossings(contours, static_cast<double>(y) + 0.5, xs);
    for (std::size_t i = 0; i + 1 < xs.size(); i += 2) {
      const std::uint32_t begin = first_column_at_or_after(xs[i], size.width);
      const std::uint32_t end = first_column_at_or_after(xs[i + 1], size.width);
      if (begin < end) emit(static_cast<std::uint32_t>(y), begin, end);
    }
  }
}

}  // namespace vmt::synth
