// The Boundary IoU band, as the official HQ-YTVIS evaluator computes it.
#include <gtest/gtest.h>

#include <cmath>

#include "mask_test_support.h"
#include "vmt/error.h"
#include "vmt/mask.h"

using vmt::Bitmap;
using vmt::MaskSize;

namespace {

// The evaluator's steps taken literally: pad by one zero pixel, erode with a 3×3 ones kernel
// `d` times (pixels outside the padded image do not erode), crop, subtract.
Bitmap reference_band(const Bitmap& mask, std::uint32_t d) {
  const int h = static_cast<int>(mask.size().height), w = static_cast<int>(mask.size().width);
  const int ph = h + 2, pw = w + 2;
  std::vector<std::uint8_t> padded(static_cast<std::size_t>(ph) * pw, 0), next;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) padded[(y + 1) * pw + x + 1] = mask.at(x, y);
  for (std::uint32_t it = 0; it < d; ++it) {
    next = padded;
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x) {
        std::uint8_t v = 1;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int yy = y + dy, xx = x + dx;
            if (yy >= 0 && yy < ph && xx >= 0 && xx < pw) v &= padded[yy * pw + xx];
          }
        next[y * pw + x] = v;
      }
    padded.swap(next);
  }
  Bitmap band(mask.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      band.set(x, y, mask.at(x, y) && !padded[(y + 1) * pw + x + 1]);
  return band;
}

}  // namespace

// The erosion count is max(1, round(ratio × diagonal)) with Python's half-to-even round.
TEST(Boundary, DilationRoundsHalfToEvenWithMinimumOne) {
  const MaskSize three_four{3, 4};  // diagonal 5
  EXPECT_EQ(vmt::boundary_dilation(three_four, 0.5), 2u);  // round(2.5) = 2
  EXPECT_EQ(vmt::boundary_dilation(three_four, 0.3), 2u);  // round(1.5) = 2
  EXPECT_EQ(vmt::boundary_dilation(three_four, 0.7), 4u);  // round(3.5) = 4
  EXPECT_EQ(vmt::boundary_dilation(three_four, 0.1), 1u);  // round(0.5) = 0, raised to 1
  EXPECT_EQ(vmt::boundary_dilation({1, 1}, 0.02), 1u);
  const double uhd = 0.02 * std::sqrt(3840.0 * 3840.0 + 2160.0 * 2160.0);
  EXPECT_EQ(vmt::boundary_dilation({2160, 3840}), static_cast<std::uint32_t>(std::lround(uhd)));
}

// The band equals the literal pad / iterated-erode / subtract of the evaluator.
TEST(Boundary, MatchesIteratedErosionReference) {
  for (MaskSize size : {MaskSize{1, 1}, MaskSize{2, 5}, MaskSize{7, 3}, MaskSize{40, 60},
                        MaskSize{64, 33}}) {
    for (double ratio : {0.02, 0.05, 0.1}) {
      for (std::uint32_t seed = 0; seed < 3; ++seed) {
        const Bitmap mask = seed == 0 ? vmt::test::random_bitmap(size, 0.8, seed)
                                      : vmt::test::blocky_bitmap(size, 3, seed);
        SCOPED_TRACE(::testing::Message() << size.height << "x" << size.width << " ratio "
                                          << ratio << " seed " << seed);
        EXPECT_EQ(vmt::boundary_band(mask.view(), ratio),
                  reference_band(mask, vmt::boundary_dilation(size, ratio)));
      }
    }
  }
}

// A mask cut by the image border has its border pixels in the band (zero padding).
TEST(Boundary, MaskTouchingBorderIsBoundaryAtTheBorder) {
  const MaskSize size{50, 50};  // diagonal 70.7 → d = 1
  Bitmap full(size);
  for (auto& p : full.data()) p = 1;
  const Bitmap band = vmt::boundary_band(full.view());
  for (std::uint32_t y = 0; y < size.height; ++y)
    for (std::uint32_t x = 0; x < size.width; ++x) {
      const bool ring = x == 0 || y == 0 || x == size.width - 1 || y == size.height - 1;
      EXPECT_EQ(band.at(x, y), ring ? 1 : 0) << x << "," << y;
    }
}

// An empty mask has an empty band.
TEST(Boundary, EmptyMaskHasEmptyBand) {
  const Bitmap band = vmt::boundary_band(Bitmap(MaskSize{30, 20}).view());
  EXPECT_EQ(vmt::test::pixel_count(band), 0u);
}

// A rectangle in a 3840×2160 frame keeps the d-pixel ring inside its edges as its band.
TEST(Boundary, UltraHdRectangleBandIsRing) {
  const MaskSize size{2160, 3840};
  const std::uint32_t d = vmt::boundary_dilation(size);
  const std::uint32_t x0 = 1000, y0 = 500, x1 = 3000, y1 = 1700;
  const Bitmap mask = vmt::test::rect_bitmap(size, x0, y0, x1, y1);
  const Bitmap band = vmt::boundary_band(mask.view());
  const std::uint64_t inner = std::uint64_t{x1 - x0 - 2 * d} * (y1 - y0 - 2 * d);
  EXPECT_EQ(vmt::test::pixel_count(band), vmt::test::pixel_count(mask) - inner);
  EXPECT_EQ(band.at(x0 + d - 1, y0 + d), 1);
  EXPECT_EQ(band.at(x0 + d, y0 + d), 0);
  EXPECT_EQ(band.at(x1 - d, y1 - d - 1), 1);
  EXPECT_EQ(band.at(x1 - d - 1, y1 - d - 1), 0);
}

// Data that does not match the declared size is rejected.
TEST(Boundary, RejectsSizeMismatch) {
  std::vector<std::uint8_t> bytes(5);
  EXPECT_THROW(vmt::boundary_band({bytes, MaskSize{2, 2}}), vmt::Error);
}
