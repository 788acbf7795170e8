// Multi-scale deformable attention on the CPU: the loop implementation and the grid_sample
// reference against an independent float64 loop written here, plus the input checks.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/ops/ms_deform_attn.h"
#include "vmt/error.h"

namespace {

using Level = std::pair<std::int64_t, std::int64_t>;  // (H, W)

struct Config {
  std::int64_t N, Lq, M, D;
  std::vector<Level> levels;
  std::int64_t P;
};

/// The five op inputs: value [N, S, M, D], spatial_shapes [L, 2], level_start_index [L],
/// sampling_locations [N, Lq, M, L, P, 2], attention_weights [N, Lq, M, L, P].
struct Inputs {
  at::Tensor value, shapes, starts, locations, weights;
};

// Shapes seen in practice and corner cases: 1x1 levels, one-row / one-column levels, D = 1,
// odd sizes, the VMT head layout (M = 8, D = 32, P = 4).
const std::vector<Config> kConfigs = {
    {1, 1, 1, 1, {{1, 1}}, 1},
    {2, 7, 3, 5, {{4, 6}, {1, 1}, {3, 2}}, 3},
    {1, 33, 8, 32, {{12, 20}, {6, 10}, {3, 5}, {1, 1}}, 4},
    {3, 10, 2, 8, {{1, 1}, {1, 1}}, 2},
    {2, 5, 4, 3, {{7, 1}, {1, 9}}, 5},
};

/// Random inputs in float64, then cast to `dtype`: values in [-1, 1), weights in [0, 1), and
/// locations in [-0.3, 1.3) so that many points fall partly or wholly outside their level.
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
  Inputs in;
  in.value = (at::rand({c.N, S, c.M, c.D}, f64) * 2 - 1).to(dtype);
  in.shapes = at::tensor(shapes, at::kLong).view({L, 2});
  in.starts = at::tensor(starts, at::kLong);
  in.locations = (at::rand({c.N, c.Lq, c.M, L, c.P, 2}, f64) * 1.6 - 0.3).to(dtype);
  in.weights = at::rand({c.N, c.Lq, c.M, L, c.P}, f64).to(dtype);
  return in;
}

/// Independent float64 loop in grid_sample's own terms: grid = 2 * loc - 1, unnormalised as
/// ((grid + 1) * size - 1) / 2, bilinear over the four neighbours with zeros outside.
/// Level offsets come from the shapes, not from level_start_index. Returns [N, Lq, M * D].
at::Tensor loop_reference(const Inputs& in) {
  const at::Tensor value = in.value.to(at::kDouble).contiguous();
  const at::Tensor locations = in.locations.to(at::kDouble).contiguous();
  const at::Tensor weights = in.weights.to(at::kDouble).contiguous();
  const auto v = value.accessor<double, 4>();
  const auto loc = locations.accessor<double, 6>();
  const auto att = weights.accessor<double, 5>();
  const auto shapes = in.shapes.accessor<std::int64_t, 2>();
  const std::int64_t N = value.size(0), M = value.size(2), D = value.size(3);
  const std::int64_t Lq = locations.size(1), L = locations.size(3), P = locations.size(4);
  at::Tensor out = at::zeros({N, Lq, M, D}, at::kDouble);
  auto o = out.accessor<double, 4>();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t q = 0; q < Lq; ++q)
      for (std::int64_t m = 0; m < M; ++m) {
        std::int64_t start = 0;
        for (std::int64_t l = 0; l < L; ++l) {
          const std::int64_t H = shapes[l][0], W = shapes[l][1];
          for (std::int64_t p = 0; p < P; ++p) {
            const double ix = ((2 * loc[n][q][m][l][p][0] - 1 + 1) * W - 1) / 2;
            const double iy = ((2 * loc[n][q][m][l][p][1] - 1 + 1) * H - 1) / 2;
            const double fx = std::floor(ix), fy = std::floor(iy);
            const auto x0 = static_cast<std::int64_t>(fx), y0 = static_cast<std::int64_t>(fy);
            const double tx = ix - fx, ty = iy - fy;
            const std::pair<std::int64_t, std::int64_t> corner[4] = {
                {y0, x0}, {y0, x0 + 1}, {y0 + 1, x0}, {y0 + 1, x0 + 1}};
            const double corner_weight[4] = {(1 - ty) * (1 - tx), (1 - ty) * tx, ty * (1 - tx),
                                             ty * tx};
            for (int k = 0; k < 4; ++k) {
              const auto [y, x] = corner[k];
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              const double scale = att[n][q][m][l][p] * corner_weight[k];
              for (std::int64_t d = 0; d < D; ++d)
                o[n][q][m][d] += scale * v[n][start + y * W + x][m][d];
            }
          }
          start += H * W;
        }
      }
  return out.view({N, Lq, M * D});
}

/// max |got - expected| / (1 + |expected|), both compared in float64.
double worst_error(const at::Tensor& got, const at::Tensor& expected) {
  const at::Tensor e = expected.to(at::kDouble);
  return ((got.to(at::kDouble) - e).abs() / (e.abs() + 1)).max().item<double>();
}

at::Tensor run(const Inputs& in) {
  return vmt::ops::ms_deform_attn(in.value, in.shapes, in.starts, in.locations, in.weights);
}

at::Tensor run_reference(const Inputs& in) {
  return vmt::ops::ms_deform_attn_reference(in.value, in.shapes, in.locations, in.weights);
}

std::string name(const Config& c) {
  std::string levels;
  for (const auto& [h, w] : c.levels) levels += std::to_string(h) + "x" + std::to_string(w) + " ";
  return "N=" + std::to_string(c.N) + " Lq=" + std::to_string(c.Lq) + " M=" + std::to_string(c.M) +
         " D=" + std::to_string(c.D) + " P=" + std::to_string(c.P) + " levels " + levels;
}

}  // namespace

// float64: the op equals the independent loop to rounding, for every config.
TEST(MsDeformAttnCpu, Float64MatchesLoopReference) {
  std::uint64_t seed = 1;
  for (const Config& c : kConfigs) {
    const Inputs in = random_inputs(c, at::kDouble, seed++);
    const at::Tensor out = run(in);
    EXPECT_EQ(out.sizes(), (at::IntArrayRef{c.N, c.Lq, c.M * c.D})) << name(c);
    EXPECT_EQ(out.scalar_type(), at::kDouble);
    EXPECT_LE(worst_error(out, loop_reference(in)), 1e-12) << name(c);
  }
}

// float32: the op equals the float64 loop run on the same (float32) inputs, to float rounding.
TEST(MsDeformAttnCpu, Float32MatchesLoopReference) {
  std::uint64_t seed = 11;
  for (const Config& c : kConfigs) {
    const Inputs in = random_inputs(c, at::kFloat, seed++);
    const at::Tensor out = run(in);
    EXPECT_EQ(out.scalar_type(), at::kFloat);
    // At most L*P = 20 terms of magnitude <= 1, each a few float ulps off.
    EXPECT_LE(worst_error(out, loop_reference(in)), 2e-6) << name(c);
  }
}

// bfloat16 (CPU autocast) and float16 (a half model checked on the CPU): computed in float32
// from the reduced-precision inputs, returned in their type — within one rounding of the result
// (8-bit mantissa: 2^-8, 11-bit: 2^-11 of its magnitude; worst_error is relative) of the float64
// loop on the same inputs.
TEST(MsDeformAttnCpu, ReducedPrecisionRunsInFloat32) {
  std::uint64_t seed = 31;
  for (const auto& [type, rounding] : {std::pair{at::kBFloat16, 1.0 / 256},
                                       std::pair{at::kHalf, 1.0 / 2048}}) {
    for (const Config& c : kConfigs) {
      const Inputs in = random_inputs(c, type, seed++);
      const at::Tensor out = run(in);
      EXPECT_EQ(out.scalar_type(), type);
      EXPECT_LE(worst_error(out, loop_reference(in)), rounding + 1e-5) << name(c) << " " << type;
    }
  }
}

// The grid_sample reference agrees with the independent loop (so it is a valid yardstick) and
// with the op, in float64 and float32.
TEST(MsDeformAttnCpu, MatchesGridSampleReference) {
  std::uint64_t seed = 21;
  for (const Config& c : kConfigs) {
    const Inputs in64 = random_inputs(c, at::kDouble, seed);
    const at::Tensor reference64 = run_reference(in64);
    EXPECT_LE(worst_error(reference64, loop_reference(in64)), 1e-12) << name(c);
    EXPECT_LE(worst_error(run(in64), reference64), 1e-12) << name(c);

    const Inputs in32 = random_inputs(c, at::kFloat, seed++);
    EXPECT_LE(worst_error(run(in32), run_reference(in32)), 2e-6) << name(c);
  }
}

// A point at a pixel centre reads that pixel; half a pixel past the border it reads half of it
// (zero padding); a 1x1 level behaves like the same rules on a single pixel.
TEST(MsDeformAttnCpu, SamplesLikeGridSampleAlignCornersFalse) {
  // One level of 2 rows x 3 columns, M = 1, D = 1, values 1..6 row by row; then a 1x1 level (7).
  const at::Tensor value = at::tensor({1., 2., 3., 4., 5., 6., 7.}, at::kDouble).view({1, 7, 1, 1});
  const at::Tensor shapes = at::tensor({2, 3, 1, 1}, at::kLong).view({2, 2});
  const at::Tensor starts = at::tensor({0, 6}, at::kLong);
  struct Probe {
    int level;
    double x, y, expected;
  };
  const Probe probes[] = {
      {0, 0.5 / 3, 0.5 / 2, 1.0},    // centre of pixel (0, 0)
      {0, 2.5 / 3, 1.5 / 2, 6.0},    // centre of pixel (1, 2)
      {0, 1.0 / 3, 0.5 / 2, 1.5},    // between pixels (0, 0) and (0, 1)
      {0, 0.0, 0.5 / 2, 0.5},        // left image edge: half pixel (0, 0), half zero
      {0, 0.5, 0.5, (2. + 5.) / 2},  // image centre
      {0, 1.0, 1.0, 6.0 / 4},        // bottom-right corner: a quarter of pixel (1, 2)
      {0, -0.5 / 3, 0.5 / 2, 0.0},   // x = -1 (to rounding): nothing inside
      {0, 1.2, 0.5, 0.0},            // wholly outside
      {1, 0.5, 0.5, 7.0},            // 1x1 level: its centre
      {1, 0.25, 0.5, 0.75 * 7.0},    // 1x1: a quarter pixel left of the centre
      {1, 0.0, 0.0, 0.25 * 7.0},     // 1x1: its top-left corner
      {1, -0.1, 0.5, 0.4 * 7.0},     // 1x1: x = -0.6, still 0.4 of the pixel
      {1, -0.6, 0.5, 0.0},           // 1x1: x = -1.1, outside
  };
  for (const Probe& probe : probes) {
    at::Tensor locations = at::full({1, 1, 1, 2, 1, 2}, -5.0, at::kDouble);  // other level: outside
    locations[0][0][0][probe.level][0][0] = probe.x;
    locations[0][0][0][probe.level][0][1] = probe.y;
    const at::Tensor weights = at::ones({1, 1, 1, 2, 1}, at::kDouble);
    const double got =
        vmt::ops::ms_deform_attn(value, shapes, starts, locations, weights).item<double>();
    EXPECT_NEAR(got, probe.expected, 1e-12)
        << "level " << probe.level << " at (" << probe.x << ", " << probe.y << ")";
    const double reference =
        vmt::ops::ms_deform_attn_reference(value, shapes, locations, weights).item<double>();
    EXPECT_NEAR(reference, probe.expected, 1e-12)
        << "reference at (" << probe.x << ", " << probe.y << ")";
  }
}

// Points far outside every level give exact zeros, whatever their weights.
TEST(MsDeformAttnCpu, PointsOutsideGiveZero) {
  Inputs in = random_inputs(kConfigs[2], at::kFloat, 5);
  in.locations = at::where(in.locations < 0.5, in.locations - 2.0, in.locations + 2.0);
  EXPECT_EQ(run(in).abs().max().item<float>(), 0.0f);
}

// Strided views give the same result as their contiguous copies.
TEST(MsDeformAttnCpu, AcceptsNonContiguousInputs) {
  const Config& c = kConfigs[1];
  const Inputs in = random_inputs(c, at::kFloat, 9);
  Inputs strided = in;
  strided.value = in.value.transpose(2, 3).contiguous().transpose(2, 3);
  strided.locations = in.locations.flip(-1).contiguous().flip(-1);
  strided.weights = in.weights.transpose(0, 1).contiguous().transpose(0, 1);
  ASSERT_FALSE(strided.value.is_contiguous());
  EXPECT_TRUE(run(strided).equal(run(in)));
}

// No queries (or an empty batch) give an empty output of the right shape.
TEST(MsDeformAttnCpu, EmptyQueriesGiveEmptyOutput) {
  for (const auto& [N, Lq] : {std::pair<std::int64_t, std::int64_t>{2, 0}, {0, 4}}) {
    const Config c{N, Lq, 2, 4, {{3, 3}, {1, 1}}, 2};
    const at::Tensor out = run(random_inputs(c, at::kFloat, 3));
    EXPECT_EQ(out.sizes(), (at::IntArrayRef{N, Lq, 8}));
  }
}

// Malformed inputs are InvalidArgument errors that name the offending argument.
TEST(MsDeformAttnCpu, RejectsMalformedInputs) {
  const Inputs good = random_inputs(kConfigs[1], at::kFloat, 4);  // levels 4x6, 1x1, 3x2: S = 31
  struct Case {
    const char* what;
    std::function<void(Inputs&)> mutate;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {"undefined value", [](Inputs& in) { in.value = at::Tensor(); }, "value"},
      {"value of rank 3", [](Inputs& in) { in.value = in.value.flatten(2); }, "value"},
      {"spatial_shapes [L, 3]",
       [](Inputs& in) {
         in.shapes = at::cat({in.shapes, in.shapes.narrow(1, 0, 1)}, 1);
       },
       "spatial_shapes"},
      {"spatial_shapes int32", [](Inputs& in) { in.shapes = in.shapes.to(at::kInt); },
       "spatial_shapes"},
      {"a level of height 0",
       [](Inputs& in) {
         in.shapes = at::tensor({0, 6, 1, 1, 3, 2}, at::kLong).view({3, 2});
       },
       "spatial_shapes[0]"},
      {"levels not summing to S",
       [](Inputs& in) {
         in.shapes = at::tensor({4, 6, 1, 1, 3, 3}, at::kLong).view({3, 2});
       },
       "S = 31"},
      {"level_start_index too short", [](Inputs& in) { in.starts = in.starts.narrow(0, 0, 2); },
       "level_start_index"},
      {"level_start_index not the prefix sum",
       [](Inputs& in) {
         in.starts = at::tensor({0, 24, 26}, at::kLong);
       },
       "level_start_index[2]"},
      {"locations with 3 coordinates",
       [](Inputs& in) {
         in.locations = at::cat({in.locations, in.locations.narrow(-1, 0, 1)}, -1);
       },
       "sampling_locations"},
      {"locations with another L", [](Inputs& in) { in.locations = in.locations.narrow(3, 0, 2); },
       "sampling_locations"},
      {"locations with another M", [](Inputs& in) { in.locations = in.locations.narrow(2, 0, 1); },
       "sampling_locations"},
      {"weights with another P", [](Inputs& in) { in.weights = in.weights.narrow(4, 0, 1); },
       "attention_weights"},
      {"weights in float64", [](Inputs& in) { in.weights = in.weights.to(at::kDouble); },
       "attention_weights"},
      {"locations in float64", [](Inputs& in) { in.locations = in.locations.to(at::kDouble); },
       "sampling_locations"},
      {"integer value", [](Inputs& in) { in.value = in.value.to(at::kInt); }, "value"},
  };
  for (const Case& c : cases) {
    Inputs in = good;
    c.mutate(in);
    try {
      run(in);
      ADD_FAILURE() << "accepted " << c.what;
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::InvalidArgument) << c.what;
      EXPECT_NE(std::string(error.what()).find(c.mentions), std::string::npos)
          << c.what << ": " << error.what();
    }
  }
}
