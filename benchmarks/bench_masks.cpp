// Mask primitive speed on 1080p masks: RLE encode / decode in megapixels per second, the time of a
// 30-frame Tube Mask IoU, and a memcpy of the same bytes as the reference ratio.
//
//   build-core/benchmarks/bench-masks
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "vmt/mask.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr vmt::MaskSize kSize{1080, 1920};
constexpr int kTubeFrames = 30;

// An instance-like mask: an ellipse with a wavy outline, moved a little per frame.
vmt::Bitmap instance_mask(int frame, double cx, double cy) {
  vmt::Bitmap mask(kSize);
  cx += 4.0 * frame;
  for (std::uint32_t y = 0; y < kSize.height; ++y)
    for (std::uint32_t x = 0; x < kSize.width; ++x) {
      const double dx = (x - cx) / 420.0, dy = (y - cy) / 300.0;
      const double wobble = 0.05 * std::sin(0.05 * x) * std::cos(0.07 * y);
      mask.set(x, y, dx * dx + dy * dy < 1.0 + wobble);
    }
  return mask;
}

// Seconds per call of `fn`, repeated until at least `min_seconds` have passed.
template <typename Fn>
double seconds_per_call(Fn&& fn, double min_seconds = 0.5) {
  fn();  // warm up
  int calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    fn();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < min_seconds);
  return elapsed / calls;
}

volatile std::uint64_t g_sink = 0;  // keeps results alive so the work is not optimised away

}  // namespace

int main() {
  std::vector<vmt::Bitmap> tube_a, tube_b;
  for (int f = 0; f < kTubeFrames; ++f) {
    tube_a.push_back(instance_mask(f, 800, 500));
    tube_b.push_back(instance_mask(f, 860, 540));
  }
  std::vector<vmt::Rle> rle_a, rle_b;
  for (int f = 0; f < kTubeFrames; ++f) {
    rle_a.push_back(vmt::rle_encode(tube_a[f].view()));
    rle_b.push_back(vmt::rle_encode(tube_b[f].view()));
  }
  const double megapixels = static_cast<double>(kSize.pixels()) / 1e6;

  std::vector<std::uint8_t> copy(kSize.pixels());
  const double t_memcpy = seconds_per_call([&] {
    std::memcpy(copy.data(), tube_a[0].data().data(), copy.size());
    g_sink = g_sink + copy[copy.size() / 2];
  });
  const double t_encode = seconds_per_call([&] {
    g_sink = g_sink + vmt::rle_encode(tube_a[0].view()).counts.size();
  });
  std::vector<std::uint8_t> decoded(kSize.pixels());
  const double t_decode = seconds_per_call([&] {
    vmt::rle_decode_into(rle_a[0], decoded);
    g_sink = g_sink + decoded[decoded.size() / 2];
  });
  double iou = 0;
  const double t_tube = seconds_per_call([&] { iou = vmt::rle_tube_iou(rle_a, rle_b); });
  const double t_band = seconds_per_call([&] {
    g_sink = g_sink + vmt::boundary_band(tube_a[0].view()).data()[0];
  });

  std::printf("1080p masks (%ux%u), %zu runs per mask\n", kSize.width, kSize.height,
              rle_a[0].counts.size());
  std::printf("memcpy of the mask bytes   %9.1f MP/s  (%.3f ms)\n", megapixels / t_memcpy,
              t_memcpy * 1e3);
  std::printf("RLE encode (row-major)     %9.1f MP/s  (%.3f ms, %.2fx memcpy time)\n",
              megapixels / t_encode, t_encode * 1e3, t_encode / t_memcpy);
  std::printf("RLE decode (row-major)     %9.1f MP/s  (%.3f ms, %.2fx memcpy time)\n",
              megapixels / t_decode, t_decode * 1e3, t_decode / t_memcpy);
  std::printf("tube IoU, %d frames         %9.3f ms  (IoU %.4f, %.2fx one-frame memcpy)\n",
              kTubeFrames, t_tube * 1e3, iou, t_tube / t_memcpy);
  std::printf("boundary band (d = %u)      %9.3f ms\n", vmt::boundary_dilation(kSize),
              t_band * 1e3);
  return g_sink == 42 ? 1 : 0;
}
