// Bitmap (row-major binary mask), probability-map resize and the Boundary IoU band.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "vmt/error.h"
#include "vmt/mask.h"

namespace vmt {

namespace {

void check_view(BitmapView view, const char* what) {
  if (view.data.size() != view.size.pixels()) {
    throw Error(ErrorCode::InvalidArgument,
                std::string(what) + ": mask data has " + std::to_string(view.data.size()) +
                    " bytes, expected " + std::to_string(view.size.height) + "x" +
                    std::to_string(view.size.width));
  }
}

// One axis of a bilinear resize: source indices and weights per output index, computed in float
// like torch's CPU kernel (align_corners=False, source index clamped at 0).
struct LinearTaps {
  std::vector<std::uint32_t> i0, i1;
  std::vector<float> w0, w1;
};

LinearTaps linear_taps(std::uint32_t in, std::uint32_t out) {
  LinearTaps taps;
  taps.i0.resize(out);
  taps.i1.resize(out);
  taps.w0.resize(out);
  taps.w1.resize(out);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (std::uint32_t o = 0; o < out; ++o) {
    float src = scale * (static_cast<float>(o) + 0.5f) - 0.5f;
    if (src < 0.f) src = 0.f;
    const auto i0 = std::min<std::uint32_t>(static_cast<std::uint32_t>(std::floor(src)), in - 1);
    const float lambda = std::clamp(src - static_cast<float>(i0), 0.f, 1.f);
    taps.i0[o] = i0;
    taps.i1[o] = i0 < in - 1 ? i0 + 1 : i0;
    taps.w1[o] = lambda;
    taps.w0[o] = 1.f - lambda;
  }
  return taps;
}

// 1 where the whole window [x - d, x + d] of the row is foreground (outside the image is 0).
void erode_row(const std::uint8_t* row, std::uint8_t* out, std::uint32_t width, std::uint32_t d) {
  std::fill(out, out + width, std::uint8_t{0});
  std::uint32_t x = 0;
  while (x < width) {
    while (x < width && row[x] == 0) ++x;
    const std::uint32_t begin = x;
    while (x < width && row[x] != 0) ++x;
    // Run [begin, x): the centres whose window fits are [begin + d, x - d).
    if (std::uint64_t{x} - begin > 2ull * d) {
      std::fill(out + begin + d, out + x - d, std::uint8_t{1});
    }
  }
}

}  // namespace

Bitmap::Bitmap(MaskSize size) : size_(size), pixels_(size.pixels(), 0) {}

Bitmap::Bitmap(BitmapView view) : size_(view.size) {
  check_view(view, "Bitmap");
  pixels_.resize(view.data.size());
  std::transform(view.data.begin(), view.data.end(), pixels_.begin(),
                 [](std::uint8_t v) { return std::uint8_t{v != 0}; });
}

Bitmap resize_probabilities(std::span<const float> probabilities, MaskSize in_size,
                            MaskSize out_size, float threshold) {
  if (probabilities.size() != in_size.pixels()) {
    throw Error(ErrorCode::InvalidArgument,
                "resize_probabilities: " + std::to_string(probabilities.size()) +
                    " values for a " + std::to_string(in_size.height) + "x" +
                    std::to_string(in_size.width) + " map");
  }
  Bitmap out(out_size);
  if (out_size.pixels() == 0) return out;
  if (in_size.pixels() == 0) {
    throw Error(ErrorCode::InvalidArgument, "resize_probabilities: empty input map");
  }
  const LinearTaps rows = linear_taps(in_size.height, out_size.height);
  const LinearTaps cols = linear_taps(in_size.width, out_size.width);
  const float* p = probabilities.data();
  const std::size_t in_w = in_size.width;
  auto dst = out.data();
  for (std::uint32_t y = 0; y < out_size.height; ++y) {
    const float* r0 = p + rows.i0[y] * in_w;
    const float* r1 = p + rows.i1[y] * in_w;
    const float wy0 = rows.w0[y], wy1 = rows.w1[y];
    std::uint8_t* o = dst.data() + std::size_t{y} * out_size.width;
    for (std::uint32_t x = 0; x < out_size.width; ++x) {
      const std::uint32_t a = cols.i0[x], b = cols.i1[x];
      const float wx0 = cols.w0[x], wx1 = cols.w1[x];
      // Same association order as torch: rows outer, columns inner.
      const float top = r0[a] * wx0 + r0[b] * wx1;
      const float bottom = r1[a] * wx0 + r1[b] * wx1;
      o[x] = (top * wy0 + bottom * wy1) > threshold ? 1 : 0;
    }
  }
  return out;
}

std::uint32_t boundary_dilation(MaskSize size, double dilation_ratio) {
  const double h = size.height, w = size.width;
  const double diagonal = std::sqrt(h * h + w * w);
  // std::nearbyint in the default rounding mode rounds half to even, like Python's round().
  const double d = std::nearbyint(dilation_ratio * diagonal);
  return d < 1.0 ? 1u : static_cast<std::uint32_t>(d);
}

Bitmap boundary_band(BitmapView mask, double dilation_ratio) {
  check_view(mask, "boundary_band");
  const std::uint32_t height = mask.size.height, width = mask.size.width;
  Bitmap band(mask.size);
  if (mask.size.pixels() == 0) return band;
  const std::uint32_t d = boundary_dilation(mask.size, dilation_ratio);

  // Iterating a 3×3 erosion d times with zero padding equals one (2d+1)×(2d+1) square erosion
  // with zeros outside the image; the square is separable: rows first, then columns.
  std::vector<std::uint8_t> horizontal(mask.size.pixels());
  for (std::uint32_t y = 0; y < height; ++y) {
    erode_row(mask.data.data() + std::size_t{y} * width, horizontal.data() + std::size_t{y} * width,
              width, d);
  }
  // Column pass as a row sweep: run[x] = length of the vertical run of ones ending at row r.
  // Row r - d is eroded where that run covers rows r - 2d .. r.
  std::vector<std::uint32_t> run(width, 0);
  const std::uint64_t need = 2ull * d + 1;
  auto out = band.data();
  for (std::uint32_t r = 0; r < height; ++r) {
    const std::uint8_t* h_row = horizontal.data() + std::size_t{r} * width;
    for (std::uint32_t x = 0; x < width; ++x) run[x] = h_row[x] ? run[x] + 1 : 0;
    if (r < d) continue;
    const std::size_t y = r - d;
    const std::uint8_t* m_row = mask.data.data() + y * width;
    std::uint8_t* o_row = out.data() + y * width;
    for (std::uint32_t x = 0; x < width; ++x) {
      o_row[x] = (m_row[x] != 0 && run[x] < need) ? 1 : 0;
    }
  }
  // The last d rows (and all rows when d >= height) are never eroded: the band is the mask there.
  const std::uint32_t first_unset = height > d ? height - d : 0;
  for (std::size_t y = first_unset; y < height; ++y) {
    for (std::uint32_t x = 0; x < width; ++x) {
      out[y * width + x] = mask.data[y * width + x] != 0 ? 1 : 0;
    }
  }
  return band;
}

}  // namespace vmt
