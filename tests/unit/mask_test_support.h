// Helpers shared by the mask tests: random and shaped masks, and pixel-level references.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "vmt/mask.h"

namespace vmt::test {

/// A mask whose pixels are foreground with probability `density`.
inline Bitmap random_bitmap(MaskSize size, double density, std::uint32_t seed) {
  Bitmap mask(size);
  std::mt19937 rng(seed);
  std::bernoulli_distribution fg(density);
  for (auto& p : mask.data()) p = fg(rng) ? 1 : 0;
  return mask;
}

/// A mask of random axis-aligned blocks: long runs, like real instance masks.
inline Bitmap blocky_bitmap(MaskSize size, int blocks, std::uint32_t seed) {
  Bitmap mask(size);
  if (size.pixels() == 0) return mask;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> ys(0, size.height - 1), xs(0, size.width - 1);
  for (int b = 0; b < blocks; ++b) {
    std::uint32_t y0 = ys(rng), y1 = ys(rng), x0 = xs(rng), x1 = xs(rng);
    if (y0 > y1) std::swap(y0, y1);
    if (x0 > x1) std::swap(x0, x1);
    for (std::uint32_t y = y0; y <= y1; ++y)
      for (std::uint32_t x = x0; x <= x1; ++x) mask.set(x, y, true);
  }
  return mask;
}

/// A filled rectangle [x0, x1) × [y0, y1).
inline Bitmap rect_bitmap(MaskSize size, std::uint32_t x0, std::uint32_t y0, std::uint32_t x1,
                          std::uint32_t y1) {
  Bitmap mask(size);
  for (std::uint32_t y = y0; y < y1; ++y)
    for (std::uint32_t x = x0; x < x1; ++x) mask.set(x, y, true);
  return mask;
}

/// The COCO counts by definition: scan pixels column by column, count alternating runs.
inline std::vector<std::uint32_t> reference_counts(const Bitmap& mask) {
  std::vector<std::uint32_t> counts;
  std::uint8_t value = 0;
  std::uint32_t run = 0;
  for (std::uint32_t x = 0; x < mask.size().width; ++x) {
    for (std::uint32_t y = 0; y < mask.size().height; ++y) {
      if (mask.at(x, y) != value) {
        counts.push_back(run);
        run = 0;
        value = mask.at(x, y);
      }
      ++run;
    }
  }
  counts.push_back(run);
  return counts;
}

/// Number of foreground pixels.
inline std::uint64_t pixel_count(const Bitmap& mask) {
  std::uint64_t n = 0;
  for (auto p : mask.data()) n += p;
  return n;
}

}  // namespace vmt::test
