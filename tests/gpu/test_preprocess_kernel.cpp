// The preprocessing kernel against a float64 computation of the same formula.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gpu_test_support.h"
#include "preprocess.h"

namespace {

constexpr vmt::cuda::Normalisation kImageNet{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};

struct Case {
  int height, width, channels, padding;
};

std::vector<std::uint8_t> random_pixels(const Case& c, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> pixels(static_cast<size_t>(c.height) * (c.width * c.channels + c.padding));
  for (auto& p : pixels) p = static_cast<std::uint8_t>(byte(rng));
  return pixels;
}

double expected(const std::vector<std::uint8_t>& pixels, const Case& c, int channel, int y, int x) {
  const int stride = c.width * c.channels + c.padding;
  const double value = pixels[static_cast<size_t>(y) * stride + x * c.channels + channel];
  return (value / 255.0 - kImageNet.mean[channel]) / kImageNet.std[channel];
}

template <typename T>
std::vector<double> run_kernel(const std::vector<std::uint8_t>& pixels, const Case& c, bool half) {
  const int stride = c.width * c.channels + c.padding;
  const size_t count = 3ull * c.height * c.width;
  std::uint8_t* device_pixels = nullptr;
  T* device_output = nullptr;
  EXPECT_EQ(cudaMalloc(&device_pixels, pixels.size()), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&device_output, count * sizeof(T)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(device_pixels, pixels.data(), pixels.size(), cudaMemcpyHostToDevice),
            cudaSuccess);
  const vmt::cuda::PackedImage image{device_pixels, c.height, c.width, stride, c.channels};
  EXPECT_EQ(vmt::cuda::normalise_to_planar(image, kImageNet, device_output, half, nullptr),
            cudaSuccess);
  std::vector<T> host(count);
  EXPECT_EQ(cudaMemcpy(host.data(), device_output, count * sizeof(T), cudaMemcpyDeviceToHost),
            cudaSuccess);
  cudaFree(device_pixels);
  cudaFree(device_output);
  std::vector<double> out(count);
  for (size_t i = 0; i < count; ++i) {
    if constexpr (std::is_same_v<T, __half>)
      out[i] = __half2float(host[i]);
    else
      out[i] = host[i];
  }
  return out;
}

void check_against_reference(bool half) {
  std::mt19937 rng(7);
  for (const Case c : {Case{1, 1, 3, 0}, Case{37, 53, 3, 5}, Case{360, 640, 4, 0}, Case{2, 1000, 4, 12}}) {
    const auto pixels = random_pixels(c, rng);
    const auto output = half ? run_kernel<__half>(pixels, c, true) : run_kernel<float>(pixels, c, false);
    // fp32: a few ulps of values up to ~2.7; fp16: half an ulp at 2.7 is ~1e-3.
    const double tolerance = half ? 2e-3 : 1e-5;
    double worst = 0;
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < c.height; ++y)
        for (int x = 0; x < c.width; ++x) {
          const double got = output[(static_cast<size_t>(ch) * c.height + y) * c.width + x];
          worst = std::max(worst, std::abs(got - expected(pixels, c, ch, y, x)));
        }
    EXPECT_LE(worst, tolerance) << c.height << "x" << c.width << "x" << c.channels;
  }
}

}  // namespace

// fp32 output equals (p/255 - mean)/std computed in float64, for RGB and RGBA, padded rows too.
TEST(PreprocessKernel, Float32MatchesFloat64Reference) {
  VMT_REQUIRE_GPU();
  check_against_reference(false);
}

// fp16 output is the same values rounded to half precision.
TEST(PreprocessKernel, Float16MatchesFloat64Reference) {
  VMT_REQUIRE_GPU();
  check_against_reference(true);
}

// Invalid geometry is refused before any launch (no GPU needed for this check).
TEST(PreprocessKernel, RejectsInvalidGeometry) {
  const vmt::cuda::PackedImage bad_channels{nullptr, 4, 4, 8, 2};
  EXPECT_EQ(vmt::cuda::normalise_to_planar(bad_channels, kImageNet, nullptr, false, nullptr),
            cudaErrorInvalidValue);
  const vmt::cuda::PackedImage short_stride{nullptr, 4, 4, 11, 3};
  EXPECT_EQ(vmt::cuda::normalise_to_planar(short_stride, kImageNet, nullptr, false, nullptr),
            cudaErrorInvalidValue);
}
