// Probability-map resize: torch bilinear (align_corners=False), then > 0.5.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "mask_test_support.h"
#include "vmt/error.h"
#include "vmt/mask.h"

using vmt::Bitmap;
using vmt::MaskSize;

namespace {

std::vector<float> random_map(MaskSize size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> p(size.pixels());
  for (auto& v : p) v = u(rng);
  return p;
}

// The align_corners=False mapping written out in double: source = (dst + 0.5) · in/out − 0.5,
// clamped at 0, neighbours clamped at the last index.
double reference_value(const std::vector<float>& p, MaskSize in, MaskSize out, std::uint32_t x,
                       std::uint32_t y) {
  auto axis = [](std::uint32_t o, std::uint32_t n_in, std::uint32_t n_out, std::uint32_t& i0,
                 std::uint32_t& i1) {
    const double src = std::max(0.0, (o + 0.5) * n_in / n_out - 0.5);
    i0 = std::min(static_cast<std::uint32_t>(src), n_in - 1);
    i1 = std::min(i0 + 1, n_in - 1);
    return std::min(1.0, src - i0);
  };
  std::uint32_t y0, y1, x0, x1;
  const double ly = axis(y, in.height, out.height, y0, y1);
  const double lx = axis(x, in.width, out.width, x0, x1);
  auto at = [&](std::uint32_t yy, std::uint32_t xx) { return double{p[yy * in.width + xx]}; };
  return (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
         ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
}

}  // namespace

// Up- and downscaling agree with the bilinear formula except where it is within rounding of 0.5.
TEST(Resize, MatchesBilinearReference) {
  const MaskSize in{13, 17};
  const auto p = random_map(in, 5);
  for (MaskSize out : {MaskSize{13, 17}, MaskSize{40, 50}, MaskSize{5, 7}, MaskSize{1, 1},
                       MaskSize{27, 9}}) {
    const Bitmap got = vmt::resize_probabilities(p, in, out);
    for (std::uint32_t y = 0; y < out.height; ++y)
      for (std::uint32_t x = 0; x < out.width; ++x) {
        const double v = reference_value(p, in, out, x, y);
        if (std::abs(v - 0.5) < 1e-5) continue;
        EXPECT_EQ(got.at(x, y), v > 0.5 ? 1 : 0) << out.height << "x" << out.width << " " << x
                                                 << "," << y;
      }
  }
}

// Doubling [0, 1] gives [0, 0.25, 0.75, 1] (half-pixel centres), so the right half is set.
TEST(Resize, UsesHalfPixelCentres) {
  const std::vector<float> p{0.f, 1.f};
  const Bitmap got = vmt::resize_probabilities(p, {1, 2}, {1, 4});
  const std::vector<std::uint8_t> expected{0, 0, 1, 1};
  EXPECT_TRUE(std::equal(got.data().begin(), got.data().end(), expected.begin()));
}

// The threshold is strict: exactly 0.5 is background.
TEST(Resize, ThresholdIsStrict) {
  const std::vector<float> p(12, 0.5f);
  EXPECT_EQ(vmt::test::pixel_count(vmt::resize_probabilities(p, {3, 4}, {6, 8})), 0u);
}

// A 1×1 map fills a 3840×2160 frame with its own decision.
TEST(Resize, OneByOneToUltraHd) {
  const std::vector<float> high{0.7f}, low{0.3f};
  const MaskSize uhd{2160, 3840};
  EXPECT_EQ(vmt::test::pixel_count(vmt::resize_probabilities(high, {1, 1}, uhd)), uhd.pixels());
  EXPECT_EQ(vmt::test::pixel_count(vmt::resize_probabilities(low, {1, 1}, uhd)), 0u);
}

// A map whose length does not match its size, or an empty input, is rejected.
TEST(Resize, RejectsBadInput) {
  const std::vector<float> p(5);
  EXPECT_THROW(vmt::resize_probabilities(p, {2, 2}, {4, 4}), vmt::Error);
  EXPECT_THROW(vmt::resize_probabilities({}, {0, 0}, {4, 4}), vmt::Error);
}
