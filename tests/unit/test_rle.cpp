// COCO RLE encode/decode and the pycocotools string form.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "mask_test_support.h"
#include "vmt/error.h"
#include "vmt/mask.h"

using vmt::Bitmap;
using vmt::MaskSize;
using vmt::Rle;

namespace {

// Builds the mask a fixture line describes (see tests/fixtures/rle/make_rle_fixtures.py).
Bitmap fixture_mask(const std::string& kind, MaskSize size, std::istringstream& in) {
  Bitmap mask(size);
  const auto h = static_cast<std::int64_t>(size.height), w = static_cast<std::int64_t>(size.width);
  auto fill = [&](auto&& inside) {
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        mask.set(static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y), inside(y, x));
  };
  if (kind == "bits") {
    std::string bits;
    in >> bits;
    fill([&](std::int64_t y, std::int64_t x) { return bits.at(y * w + x) == '1'; });
  } else if (kind == "rect") {
    std::int64_t y0, x0, y1, x1;
    in >> y0 >> x0 >> y1 >> x1;
    fill([&](std::int64_t y, std::int64_t x) { return y >= y0 && y < y1 && x >= x0 && x < x1; });
  } else if (kind == "disc") {
    std::int64_t cy, cx, r;
    in >> cy >> cx >> r;
    fill([&](std::int64_t y, std::int64_t x) {
      return (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r;
    });
  } else if (kind == "stripes") {
    std::int64_t period;
    in >> period;
    fill([&](std::int64_t y, std::int64_t x) { return (31 * x + 17 * y) % period < period / 3; });
  } else {
    ADD_FAILURE() << "unknown fixture kind " << kind;
  }
  return mask;
}

}  // namespace

// Our strings, areas and boxes equal those pycocotools made for the committed fixture masks.
TEST(Rle, MatchesPycocotoolsFixtures) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  if (root == nullptr) GTEST_SKIP() << "VMT_SOURCE_ROOT not set (run through meson test)";
  std::ifstream file(std::string(root) + "/tests/fixtures/rle/rle_fixtures.txt");
  ASSERT_TRUE(file) << "missing tests/fixtures/rle/rle_fixtures.txt";
  int checked = 0;
  for (std::string line; std::getline(file, line);) {
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string kind;
    MaskSize size;
    in >> kind >> size.height >> size.width;
    const Bitmap mask = fixture_mask(kind, size, in);
    std::string counts;
    std::uint64_t area;
    vmt::BoundingBox box;
    in >> counts >> area >> box.x >> box.y >> box.width >> box.height;
    SCOPED_TRACE(line.substr(0, 60));
    const Rle rle = vmt::rle_encode(mask.view());
    EXPECT_EQ(vmt::rle_to_string(rle), counts);
    EXPECT_EQ(vmt::rle_area(rle), area);
    EXPECT_EQ(vmt::rle_bbox(rle), box);
    EXPECT_EQ(vmt::rle_decode(vmt::rle_from_string(counts, size)), mask);
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

// Row-major and column-major input give the same runs, and both match the definition.
TEST(Rle, EncodeMatchesColumnScanDefinition) {
  for (MaskSize size : {MaskSize{1, 1}, MaskSize{3, 5}, MaskSize{17, 63}, MaskSize{9, 64},
                        MaskSize{31, 65}, MaskSize{100, 130}, MaskSize{2, 257}}) {
    for (double density : {0.05, 0.5, 0.95}) {
      const Bitmap mask = vmt::test::random_bitmap(size, density, size.width * 7 + size.height);
      const Rle rle = vmt::rle_encode(mask.view());
      EXPECT_EQ(rle.counts, vmt::test::reference_counts(mask));
      std::vector<std::uint8_t> column_major(size.pixels());
      for (std::uint32_t x = 0; x < size.width; ++x)
        for (std::uint32_t y = 0; y < size.height; ++y)
          column_major[std::size_t{x} * size.height + y] = mask.at(x, y);
      EXPECT_EQ(vmt::rle_encode_column_major(column_major, size), rle);
    }
  }
}

// Decoding an encoded mask gives the mask back, across strip boundaries and odd sizes.
TEST(Rle, DecodeInvertsEncode) {
  for (MaskSize size : {MaskSize{1, 1}, MaskSize{64, 64}, MaskSize{65, 129}, MaskSize{720, 1296}}) {
    const Bitmap mask = vmt::test::blocky_bitmap(size, 6, 11);
    EXPECT_EQ(vmt::rle_decode(vmt::rle_encode(mask.view())), mask);
    const Bitmap noise = vmt::test::random_bitmap(size, 0.4, 12);
    EXPECT_EQ(vmt::rle_decode(vmt::rle_encode(noise.view())), noise);
  }
}

// The compressed string parses back to the same counts (including negative differences).
TEST(Rle, StringRoundTrips) {
  for (std::uint32_t seed = 0; seed < 20; ++seed) {
    const Bitmap mask = vmt::test::random_bitmap({23, 41}, 0.1 + 0.04 * seed, seed);
    const Rle rle = vmt::rle_encode(mask.view());
    EXPECT_EQ(vmt::rle_from_string(vmt::rle_to_string(rle), rle.size), rle);
  }
  const Rle big{{2160, 3840}, {100, 8000000, 294300}};
  EXPECT_EQ(vmt::rle_from_string(vmt::rle_to_string(big), big.size), big);
}

// An empty mask is one run of zeros: no foreground, an all-zero box.
TEST(Rle, EmptyMaskIsOneZeroRun) {
  const Bitmap mask(MaskSize{4, 6});
  const Rle rle = vmt::rle_encode(mask.view());
  EXPECT_EQ(rle.counts, std::vector<std::uint32_t>{24});
  EXPECT_EQ(rle, vmt::rle_empty({4, 6}));
  EXPECT_EQ(vmt::rle_area(rle), 0u);
  EXPECT_EQ(vmt::rle_bbox(rle), vmt::BoundingBox{});
  EXPECT_EQ(vmt::rle_decode(rle), mask);
}

// A full mask starts with an empty run of zeros, as pycocotools writes it.
TEST(Rle, FullMaskStartsWithEmptyZeroRun) {
  Bitmap mask(MaskSize{3, 3});
  for (auto& p : mask.data()) p = 1;
  EXPECT_EQ(vmt::rle_encode(mask.view()).counts, (std::vector<std::uint32_t>{0, 9}));
}

// A mask with no pixels encodes to a single zero count and decodes to nothing.
TEST(Rle, ZeroSizedMask) {
  const Rle rle = vmt::rle_encode(Bitmap(MaskSize{0, 5}).view());
  EXPECT_EQ(rle.counts, std::vector<std::uint32_t>{0});
  EXPECT_EQ(vmt::rle_decode(rle).data().size(), 0u);
  EXPECT_EQ(vmt::rle_from_string(vmt::rle_to_string(rle), rle.size), rle);
}

// Single-pixel frames encode both values.
TEST(Rle, OneByOneFrame) {
  Bitmap on(MaskSize{1, 1});
  on.set(0, 0, true);
  EXPECT_EQ(vmt::rle_encode(on.view()).counts, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(vmt::rle_encode(Bitmap(MaskSize{1, 1}).view()).counts, std::vector<std::uint32_t>{1});
  EXPECT_EQ(vmt::rle_decode(vmt::rle_encode(on.view())), on);
}

// Any nonzero byte is foreground (e.g. 255 from an 8-bit mask).
TEST(Rle, NonzeroBytesAreForeground) {
  const Bitmap ones = vmt::test::random_bitmap({37, 70}, 0.5, 3);
  std::vector<std::uint8_t> bytes(ones.data().begin(), ones.data().end());
  for (auto& b : bytes) b = b ? (b * 255) : 0;
  bytes[5] = bytes[5] ? 7 : 0;
  EXPECT_EQ(vmt::rle_encode({bytes, ones.size()}), vmt::rle_encode(ones.view()));
}

// A 3840×2160 frame round-trips and its area equals the pixel count.
TEST(Rle, UltraHdFrameRoundTrips) {
  const MaskSize size{2160, 3840};
  const Bitmap mask = vmt::test::blocky_bitmap(size, 5, 99);
  const Rle rle = vmt::rle_encode(mask.view());
  EXPECT_EQ(vmt::rle_area(rle), vmt::test::pixel_count(mask));
  EXPECT_EQ(vmt::rle_decode(rle), mask);
}

// Masks touching every border keep their border pixels.
TEST(Rle, MaskTouchingTheBorderRoundTrips) {
  const MaskSize size{30, 40};
  Bitmap mask(size);
  for (std::uint32_t x = 0; x < size.width; ++x) {
    mask.set(x, 0, true);
    mask.set(x, size.height - 1, true);
  }
  for (std::uint32_t y = 0; y < size.height; ++y) mask.set(size.width - 1, y, true);
  const Rle rle = vmt::rle_encode(mask.view());
  EXPECT_EQ(vmt::rle_decode(rle), mask);
  EXPECT_EQ(vmt::rle_bbox(rle), (vmt::BoundingBox{0, 0, 40, 30}));
}

// Strings with characters outside '0'..'o' are rejected as corrupt.
TEST(Rle, FromStringRejectsInvalidCharacter) {
  try {
    vmt::rle_from_string("12 3", {2, 3});
    FAIL() << "no error";
  } catch (const vmt::Error& e) {
    EXPECT_EQ(e.code(), vmt::ErrorCode::CorruptData);
  }
}

// A string ending inside a multi-character number is rejected.
TEST(Rle, FromStringRejectsTruncatedNumber) {
  const Rle rle{{100, 100}, {5000, 5000}};
  std::string s = vmt::rle_to_string(rle);
  s.pop_back();
  EXPECT_THROW(vmt::rle_from_string(s, rle.size), vmt::Error);
}

// Runs that do not cover the mask exactly are rejected by the parser and the decoder.
TEST(Rle, RejectsRunsNotSummingToMaskSize) {
  EXPECT_THROW(vmt::rle_from_string(vmt::rle_to_string(Rle{{2, 3}, {5}}), {2, 3}), vmt::Error);
  EXPECT_THROW(vmt::rle_decode(Rle{{2, 3}, {2, 3}}), vmt::Error);
}

// Data spans that do not match the declared size are rejected.
TEST(Rle, EncodeRejectsSizeMismatch) {
  std::vector<std::uint8_t> bytes(10, 0);
  EXPECT_THROW(vmt::rle_encode({bytes, MaskSize{3, 3}}), vmt::Error);
  EXPECT_THROW(vmt::rle_encode_column_major(bytes, MaskSize{4, 3}), vmt::Error);
  std::vector<std::uint8_t> out(5);
  EXPECT_THROW(vmt::rle_decode_into(vmt::rle_empty({2, 3}), out), vmt::Error);
}

// --- CroppedMask ---------------------------------------------------------------------------

// Cropping keeps the tight box and its pixels; its RLE is the whole frame's, byte for byte.
TEST(CroppedMask, CropAndEncodeEqualTheWholeFrame) {
  const MaskSize sizes[] = {{1, 1}, {7, 13}, {64, 48}, {33, 200}};
  std::uint32_t seed = 1;
  for (const auto size : sizes) {
    for (int blocks : {0, 1, 3}) {
      const Bitmap mask = vmt::test::blocky_bitmap(size, blocks, seed++);
      const auto cropped = vmt::crop_to_box(mask.view());
      const Rle whole = vmt::rle_encode(mask.view());
      EXPECT_EQ(cropped.frame, size);
      EXPECT_EQ(cropped.box, vmt::rle_bbox(whole));
      EXPECT_EQ(vmt::cropped_area(cropped), vmt::rle_area(whole));
      EXPECT_EQ(cropped.empty(), vmt::rle_area(whole) == 0);
      EXPECT_EQ(vmt::rle_encode(cropped), whole) << size.height << "x" << size.width;
      for (std::uint32_t y = 0; y < cropped.box.height; ++y)
        for (std::uint32_t x = 0; x < cropped.box.width; ++x)
          ASSERT_EQ(cropped.pixels[y * cropped.box.width + x],
                    mask.at(cropped.box.x + x, cropped.box.y + y));
    }
  }
  // noise, foreground touching every border
  const Bitmap noisy = vmt::test::random_bitmap({31, 17}, 0.5, 9);
  EXPECT_EQ(vmt::rle_encode(vmt::crop_to_box(noisy.view())), vmt::rle_encode(noisy.view()));
}

// Nonzero bytes count as foreground and are stored as 1.
TEST(CroppedMask, NormalisesNonzeroBytes) {
  std::vector<std::uint8_t> pixels(4 * 5, 0);
  pixels[1 * 5 + 2] = 255;
  pixels[2 * 5 + 3] = 7;
  const auto cropped = vmt::crop_to_box({pixels, {4, 5}});
  EXPECT_EQ(cropped.box, (vmt::BoundingBox{2, 1, 2, 2}));
  EXPECT_EQ(cropped.pixels, (std::vector<std::uint8_t>{1, 0, 0, 1}));
}

// A box outside its frame or pixels that do not fill it are refused.
TEST(CroppedMask, InconsistentMasksAreRefused) {
  vmt::CroppedMask bad{{10, 10}, {8, 0, 4, 2}, std::vector<std::uint8_t>(8, 1)};
  EXPECT_THROW(vmt::rle_encode(bad), vmt::Error);
  bad.box = {0, 0, 4, 2};
  bad.pixels.resize(7);
  EXPECT_THROW(vmt::rle_encode(bad), vmt::Error);
  EXPECT_THROW(vmt::crop_to_box({std::vector<std::uint8_t>(5), {2, 3}}), vmt::Error);
}
