// Multi-scale deformable attention on CUDA: the own kernel (fp32, fp16) against the CPU op in
// float64, which tests/runtime checks against an independent loop and the grid_sample reference.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gpu_test_support.h"
#include "model/ops/ms_deform_attn.h"
#include "ms_deform_attn.h"  // cuda/: the torch-free launcher
#include "vmt/error.h"

namespace {

// Skips unless both the CUDA runtime and LibTorch see a device.
#define VMT_REQUIRE_TORCH_GPU()                                                           \
  do {                                                                                    \
    VMT_REQUIRE_GPU();                                                                    \
    if (!torch::cuda::is_available())                                                     \
      GTEST_SKIP() << "the CUDA runtime sees a GPU but LibTorch does not (driver/build)"; \
  } while (0)

using Level = std::pair<std::int64_t, std::int64_t>;  // (H, W)

struct Config {
  std::int64_t N, Lq, M, D;
  std::vector<Level> levels;
  std::int64_t P;
};

// D = 32 / 6 / 5 exercise the kernel's 4-, 2- and 1-channel vector paths; 1x1 and one-row levels.
const std::vector<Config> kConfigs = {
    {1, 1, 1, 1, {{1, 1}}, 1},
    {2, 7, 3, 5, {{4, 6}, {1, 1}, {3, 2}}, 3},
    {2, 50, 8, 32, {{12, 20}, {6, 10}, {3, 5}, {1, 1}}, 4},
    {3, 10, 2, 6, {{1, 1}, {1, 1}}, 2},
    {2, 5, 4, 3, {{7, 1}, {1, 9}}, 5},
    // VMT r50 encoder at 360p, one frame: every pixel of the four levels is a query.
    {1, 45 * 80 + 23 * 40 + 12 * 20 + 6 * 10, 8, 32, {{45, 80}, {23, 40}, {12, 20}, {6, 10}}, 4},
};

/// value [N, S, M, D], shapes [L, 2], starts [L], locations [N, Lq, M, L, P, 2],
/// weights [N, Lq, M, L, P]; on the CPU in `dtype`, locations in [-0.3, 1.3).
struct Inputs {
  at::Tensor value, shapes, starts, locations, weights;

  Inputs to(at::Device device, at::ScalarType dtype) const {
    return {value.to(device, dtype), shapes.to(device), starts.to(device),
            locations.to(device, dtype), weights.to(device, dtype)};
  }
};

Inputs random_inputs(const Config& c, at::ScalarType dtype, std::uint64_t seed) {
  at::manual_seed(seed);
  std::vector<std::int64_t> shapes, starts;
  std::int64_t S = 0;
  for (const auto& [h, w] : c.levels) {
    shapes.insert(shapes.end(), {h, w});
    starts.push_back(S);
    S += h * w;
  }
  const auto L = static_cast<std::int64_t>(c.levels.size());
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  return Inputs{(at::rand({c.N, S, c.M, c.D}, f64) * 2 - 1),
                at::tensor(shapes, at::kLong).view({L, 2}), at::tensor(starts, at::kLong),
                at::rand({c.N, c.Lq, c.M, L, c.P, 2}, f64) * 1.6 - 0.3,
                at::rand({c.N, c.Lq, c.M, L, c.P}, f64)}
      .to(at::kCPU, dtype);
}

at::Tensor run(const Inputs& in) {
  return vmt::ops::ms_deform_attn(in.value, in.shapes, in.starts, in.locations, in.weights);
}

/// max |got - expected| / (1 + |expected|), in float64 on the CPU.
double worst_error(const at::Tensor& got, const at::Tensor& expected) {
  const at::Tensor e = expected.to(at::kCPU, at::kDouble);
  return ((got.to(at::kCPU, at::kDouble) - e).abs() / (e.abs() + 1)).max().item<double>();
}

std::string name(const Config& c) {
  return "N=" + std::to_string(c.N) + " Lq=" + std::to_string(c.Lq) + " M=" + std::to_string(c.M) +
         " D=" + std::to_string(c.D) + " L=" + std::to_string(c.levels.size()) +
         " P=" + std::to_string(c.P);
}

/// The kernel in `dtype` against the CPU op in float64 on the very same (rounded) inputs.
void check_against_cpu(at::ScalarType dtype, double tolerance) {
  std::uint64_t seed = 100;
  for (const Config& c : kConfigs) {
    const Inputs cpu = random_inputs(c, dtype, seed++);
    const at::Tensor expected = run(cpu.to(at::kCPU, at::kDouble));
    const at::Tensor got = run(cpu.to(at::kCUDA, dtype));
    ASSERT_TRUE(got.is_cuda());
    EXPECT_EQ(got.scalar_type(), dtype);
    EXPECT_EQ(got.sizes(), expected.sizes());
    EXPECT_LE(worst_error(got, expected), tolerance) << name(c);
  }
}

}  // namespace

// fp32 kernel == float64 CPU op up to float rounding. The pixel coordinate loc * W - 0.5 is
// itself a float (as in the official kernel): on an 80-pixel-wide level it is off by up to
// ~4e-6 px, times a slope of up to 2 per pixel, over 16 points, hence 2e-5 (7.7e-6 seen on H200).
TEST(MsDeformAttnGpu, Float32MatchesFloat64Cpu) {
  VMT_REQUIRE_TORCH_GPU();
  check_against_cpu(at::kFloat, 2e-5);
}

// fp16 kernel (float accumulation) == float64 CPU op on the same half inputs, up to the final
// rounding to half (2^-11 relative) plus float error.
TEST(MsDeformAttnGpu, Float16MatchesFloat64Cpu) {
  VMT_REQUIRE_TORCH_GPU();
  check_against_cpu(at::kHalf, 1e-3);
}

// The kernel also equals the grid_sample reference computed by LibTorch on the GPU.
TEST(MsDeformAttnGpu, MatchesGridSampleReferenceOnGpu) {
  VMT_REQUIRE_TORCH_GPU();
  const Inputs in = random_inputs(kConfigs[2], at::kFloat, 7).to(at::kCUDA, at::kFloat);
  const at::Tensor reference =
      vmt::ops::ms_deform_attn_reference(in.value, in.shapes, in.locations, in.weights);
  EXPECT_LE(worst_error(run(in), reference), 2e-5);
}

// A value tensor at an odd element offset (not vector-aligned) takes the scalar path, same result.
TEST(MsDeformAttnGpu, UnalignedValueGivesSameResult) {
  VMT_REQUIRE_TORCH_GPU();
  for (const at::ScalarType dtype : {at::kFloat, at::kHalf}) {
    const Inputs in = random_inputs(kConfigs[2], dtype, 8).to(at::kCUDA, dtype);
    Inputs shifted = in;
    shifted.value = at::empty({in.value.numel() + 1}, in.value.options())
                        .narrow(0, 1, in.value.numel())
                        .view(in.value.sizes());
    shifted.value.copy_(in.value);
    ASSERT_TRUE(shifted.value.is_contiguous());
    EXPECT_EQ(worst_error(run(shifted), run(in)), 0.0) << at::toString(dtype);
  }
}

// No queries give an empty output of the right shape without a launch.
TEST(MsDeformAttnGpu, EmptyQueriesGiveEmptyOutput) {
  VMT_REQUIRE_TORCH_GPU();
  const Config c{2, 0, 2, 4, {{3, 3}}, 2};
  const at::Tensor out = run(random_inputs(c, at::kFloat, 1).to(at::kCUDA, at::kFloat));
  EXPECT_EQ(out.sizes(), (at::IntArrayRef{2, 0, 8}));
}

// float64 on CUDA and inputs split across devices are InvalidArgument errors.
TEST(MsDeformAttnGpu, RejectsFloat64AndMixedDevices) {
  VMT_REQUIRE_TORCH_GPU();
  const Inputs cpu = random_inputs(kConfigs[1], at::kFloat, 2);
  auto expect_invalid = [](const Inputs& in, const std::string& mentions) {
    try {
      run(in);
      ADD_FAILURE() << "accepted inputs; expected an error mentioning " << mentions;
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::InvalidArgument);
      EXPECT_NE(std::string(error.what()).find(mentions), std::string::npos) << error.what();
    }
  };
  expect_invalid(cpu.to(at::kCUDA, at::kDouble), "float32 or float16");
  Inputs mixed = cpu.to(at::kCUDA, at::kFloat);
  mixed.shapes = cpu.shapes;
  expect_invalid(mixed, "spatial_shapes is on cpu");
}

// The launcher refuses bad sizes and null pointers before touching the GPU (no device needed),
// and does nothing for an empty batch.
TEST(MsDeformAttnLauncher, ValidatesArguments) {
  float dummy = 0;
  const std::int64_t shapes[2] = {1, 1};
  const std::int64_t starts[1] = {0};
  const vmt::cuda::MsDeformAttnDims good{1, 1, 1, 1, 1, 1, 1};
  auto launch = [&](const vmt::cuda::MsDeformAttnDims& dims, const float* value) {
    return vmt::cuda::ms_deform_attn_forward(dims, value, shapes, starts, &dummy, &dummy, &dummy,
                                             nullptr);
  };
  const std::pair<const char*, int vmt::cuda::MsDeformAttnDims::*> sizes[] = {
      {"value_length", &vmt::cuda::MsDeformAttnDims::value_length},
      {"num_heads", &vmt::cuda::MsDeformAttnDims::num_heads},
      {"head_dim", &vmt::cuda::MsDeformAttnDims::head_dim},
      {"num_levels", &vmt::cuda::MsDeformAttnDims::num_levels},
      {"num_points", &vmt::cuda::MsDeformAttnDims::num_points},
      {"batch", &vmt::cuda::MsDeformAttnDims::batch},
      {"num_queries", &vmt::cuda::MsDeformAttnDims::num_queries}};
  for (const auto& [what, size] : sizes) {
    vmt::cuda::MsDeformAttnDims bad = good;
    bad.*size = -1;
    EXPECT_EQ(launch(bad, &dummy), cudaErrorInvalidValue) << what << " = -1";
    if (size != &vmt::cuda::MsDeformAttnDims::batch &&
        size != &vmt::cuda::MsDeformAttnDims::num_queries) {
      bad.*size = 0;
      EXPECT_EQ(launch(bad, &dummy), cudaErrorInvalidValue) << what << " = 0";
    }
  }
  EXPECT_EQ(launch(good, nullptr), cudaErrorInvalidValue);
  vmt::cuda::MsDeformAttnDims empty = good;
  empty.batch = 0;
  EXPECT_EQ(launch(empty, nullptr), cudaSuccess);
}
