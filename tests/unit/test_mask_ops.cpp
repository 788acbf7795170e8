// Area, bounding box, IoU, tube IoU and merge on RLE, checked against pixel-level references.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "mask_test_support.h"
#include "vmt/error.h"
#include "vmt/mask.h"

using vmt::Bitmap;
using vmt::MaskSize;
using vmt::Rle;

namespace {

Rle encode(const Bitmap& m) { return vmt::rle_encode(m.view()); }

std::uint64_t pixel_intersection(const Bitmap& a, const Bitmap& b) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < a.data().size(); ++i) n += a.data()[i] & b.data()[i];
  return n;
}

vmt::BoundingBox pixel_bbox(const Bitmap& m) {
  std::uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
  bool any = false;
  for (std::uint32_t y = 0; y < m.size().height; ++y)
    for (std::uint32_t x = 0; x < m.size().width; ++x)
      if (m.at(x, y)) {
        any = true;
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
  if (!any) return {};
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

}  // namespace

// Area is the number of foreground pixels.
TEST(MaskOps, AreaCountsForegroundPixels) {
  for (std::uint32_t seed = 0; seed < 10; ++seed) {
    const Bitmap m = vmt::test::random_bitmap({31, 47}, 0.1 * seed, seed);
    EXPECT_EQ(vmt::rle_area(encode(m)), vmt::test::pixel_count(m));
  }
}

// The box is the tightest box around the foreground, for sparse and wrapping runs alike.
TEST(MaskOps, BboxIsTightAroundForeground) {
  for (std::uint32_t seed = 0; seed < 30; ++seed) {
    const Bitmap sparse = vmt::test::random_bitmap({40, 25}, 0.002 * (seed + 1), seed);
    EXPECT_EQ(vmt::rle_bbox(encode(sparse)), pixel_bbox(sparse));
    const Bitmap blocks = vmt::test::blocky_bitmap({40, 25}, 2, seed);
    EXPECT_EQ(vmt::rle_bbox(encode(blocks)), pixel_bbox(blocks));
  }
}

// The intersection computed on runs equals the pixel count of the AND.
TEST(MaskOps, IntersectionMatchesPixelAnd) {
  for (std::uint32_t seed = 0; seed < 10; ++seed) {
    const Bitmap a = vmt::test::random_bitmap({50, 70}, 0.3, seed);
    const Bitmap b = vmt::test::blocky_bitmap({50, 70}, 4, seed + 100);
    EXPECT_EQ(vmt::rle_intersection_area(encode(a), encode(b)), pixel_intersection(a, b));
  }
}

// IoU is intersection over union of the pixels.
TEST(MaskOps, IouMatchesPixelRatio) {
  const Bitmap a = vmt::test::blocky_bitmap({60, 80}, 3, 1);
  const Bitmap b = vmt::test::blocky_bitmap({60, 80}, 3, 2);
  const double inter = static_cast<double>(pixel_intersection(a, b));
  const double uni = static_cast<double>(vmt::test::pixel_count(a) + vmt::test::pixel_count(b)) - inter;
  EXPECT_DOUBLE_EQ(vmt::rle_iou(encode(a), encode(b)), inter / uni);
}

// IoU is 1 for identical masks, 0 for disjoint ones and 0 when both are empty.
TEST(MaskOps, IouLimits) {
  const MaskSize size{10, 10};
  const Rle left = encode(vmt::test::rect_bitmap(size, 0, 0, 5, 10));
  const Rle right = encode(vmt::test::rect_bitmap(size, 5, 0, 10, 10));
  EXPECT_DOUBLE_EQ(vmt::rle_iou(left, left), 1.0);
  EXPECT_DOUBLE_EQ(vmt::rle_iou(left, right), 0.0);
  EXPECT_DOUBLE_EQ(vmt::rle_iou(vmt::rle_empty(size), vmt::rle_empty(size)), 0.0);
}

// Masks of different sizes cannot be compared.
TEST(MaskOps, IouRejectsDifferentSizes) {
  EXPECT_THROW(vmt::rle_iou(vmt::rle_empty({4, 4}), vmt::rle_empty({4, 5})), vmt::Error);
}

// Runs of length zero in the middle (non-canonical input) do not change any measure.
TEST(MaskOps, AcceptsZeroLengthRuns) {
  const Rle canonical{{4, 4}, {3, 5, 8}};
  const Rle padded{{4, 4}, {3, 2, 0, 3, 8}};
  EXPECT_EQ(vmt::rle_area(padded), vmt::rle_area(canonical));
  EXPECT_EQ(vmt::rle_bbox(padded), vmt::rle_bbox(canonical));
  EXPECT_DOUBLE_EQ(vmt::rle_iou(padded, canonical), 1.0);
  EXPECT_EQ(vmt::rle_decode(padded), vmt::rle_decode(canonical));
}

// Tube IoU sums intersections and unions over frames (it is not the mean of frame IoUs).
TEST(MaskOps, TubeIouSumsOverFrames) {
  const MaskSize size{20, 20};
  std::vector<Rle> a, b;
  std::uint64_t inter = 0, uni = 0;
  double mean_of_frames = 0;
  for (std::uint32_t f = 0; f < 4; ++f) {
    const Bitmap ma = vmt::test::rect_bitmap(size, 0, 0, 10 + f, 10 + 2 * f);
    const Bitmap mb = vmt::test::rect_bitmap(size, 3 * f, 2, 12, 20);
    a.push_back(encode(ma));
    b.push_back(encode(mb));
    const std::uint64_t in = pixel_intersection(ma, mb);
    inter += in;
    uni += vmt::test::pixel_count(ma) + vmt::test::pixel_count(mb) - in;
    mean_of_frames += vmt::rle_iou(a.back(), b.back()) / 4;
  }
  const double tube = vmt::rle_tube_iou(a, b);
  EXPECT_DOUBLE_EQ(tube, static_cast<double>(inter) / static_cast<double>(uni));
  EXPECT_NE(tube, mean_of_frames);
}

// A frame where one tube is absent (empty mask) adds that frame's other mask to the union only.
TEST(MaskOps, TubeIouAbsentFrameCountsInUnion) {
  const MaskSize size{10, 10};
  const Rle box = encode(vmt::test::rect_bitmap(size, 0, 0, 5, 5));
  const std::vector<Rle> a{box, box};
  const std::vector<Rle> b{box, vmt::rle_empty(size)};
  EXPECT_DOUBLE_EQ(vmt::rle_tube_iou(a, b), 0.5);
}

// Tubes of different lengths cannot be compared.
TEST(MaskOps, TubeIouRejectsLengthMismatch) {
  const std::vector<Rle> one{vmt::rle_empty({2, 2})};
  const std::vector<Rle> two{vmt::rle_empty({2, 2}), vmt::rle_empty({2, 2})};
  EXPECT_THROW(vmt::rle_tube_iou(one, two), vmt::Error);
}

// Merging gives the canonical RLE of the pixel OR / AND of all masks.
TEST(MaskOps, MergeMatchesPixelOrAndAnd) {
  const MaskSize size{33, 45};
  std::vector<Bitmap> masks;
  std::vector<Rle> rles;
  for (std::uint32_t s = 0; s < 3; ++s) {
    masks.push_back(vmt::test::random_bitmap(size, 0.6, s));
    rles.push_back(encode(masks.back()));
  }
  Bitmap any(size), all(size);
  for (std::size_t i = 0; i < size.pixels(); ++i) {
    any.data()[i] = masks[0].data()[i] | masks[1].data()[i] | masks[2].data()[i];
    all.data()[i] = masks[0].data()[i] & masks[1].data()[i] & masks[2].data()[i];
  }
  EXPECT_EQ(vmt::rle_merge(rles), encode(any));
  EXPECT_EQ(vmt::rle_merge(rles, /*intersect=*/true), encode(all));
}

// Merging nothing, or masks of different sizes, is an error.
TEST(MaskOps, MergeRejectsEmptyListAndMixedSizes) {
  EXPECT_THROW(vmt::rle_merge({}), vmt::Error);
  const std::vector<Rle> mixed{vmt::rle_empty({2, 2}), vmt::rle_empty({3, 2})};
  EXPECT_THROW(vmt::rle_merge(mixed), vmt::Error);
}
