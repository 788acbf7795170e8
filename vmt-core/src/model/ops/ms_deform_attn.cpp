#include "ms_deform_attn.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vmt/error.h"

#if defined(VMT_WITH_CUDA) && defined(VMT_TORCH_HAS_CUDA) && VMT_TORCH_HAS_CUDA
#define VMT_MSDA_CUDA 1
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

// cuda/ms_deform_attn.h, the kernel launcher (angle brackets: not this folder's namesake header).
#include <ms_deform_attn.h>
#endif

namespace vmt::ops {

namespace {

/// Sizes of one call, letters as in the Deformable DETR code.
struct Dims {
  std::int64_t N, S, M, D, L, Lq, P;
};

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorCode::InvalidArgument, "ms_deform_attn: " + message);
}

std::string describe(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << tensor.sizes() << " " << tensor.scalar_type() << " on " << tensor.device();
  return out.str();
}

/// Checks ranks, sizes, dtypes and devices of the five inputs (shapes as in the header) and
/// returns the sizes. Contents of spatial_shapes / level_start_index are checked separately.
Dims check_inputs(const torch::Tensor& value, const torch::Tensor& spatial_shapes,
                  const torch::Tensor& level_start_index, const torch::Tensor& sampling_locations,
                  const torch::Tensor& attention_weights) {
  const std::pair<const char*, const torch::Tensor*> all[] = {
      {"value", &value},
      {"spatial_shapes", &spatial_shapes},
      {"level_start_index", &level_start_index},
      {"sampling_locations", &sampling_locations},
      {"attention_weights", &attention_weights}};
  for (const auto& [name, tensor] : all)
    if (!tensor->defined()) invalid(std::string(name) + " is an undefined tensor");

  if (value.dim() != 4) invalid("value must be [N, S, M, D], got " + describe(value));
  if (spatial_shapes.dim() != 2 || spatial_shapes.size(1) != 2 || spatial_shapes.size(0) < 1)
    invalid("spatial_shapes must be [L, 2] with L >= 1, got " + describe(spatial_shapes));
  if (sampling_locations.dim() != 6)
    invalid("sampling_locations must be [N, Lq, M, L, P, 2], got " + describe(sampling_locations));
  const Dims d{value.size(0),
               value.size(1),
               value.size(2),
               value.size(3),
               spatial_shapes.size(0),
               sampling_locations.size(1),
               sampling_locations.size(4)};
  if (d.M < 1 || d.D < 1)
    invalid("value needs M >= 1 heads and D >= 1 channels, got " + describe(value));
  if (level_start_index.dim() != 1 || level_start_index.size(0) != d.L)
    invalid("level_start_index must be [L] = [" + std::to_string(d.L) + "], got " +
            describe(level_start_index));
  if (sampling_locations.size(0) != d.N || sampling_locations.size(2) != d.M ||
      sampling_locations.size(3) != d.L || sampling_locations.size(5) != 2 || d.P < 1) {
    std::ostringstream expected;
    expected << "[N, Lq, M, L, P, 2] = [" << d.N << ", Lq, " << d.M << ", " << d.L << ", P>=1, 2]";
    invalid("sampling_locations must be " + expected.str() + ", got " +
            describe(sampling_locations));
  }
  if (attention_weights.dim() != 5 ||
      attention_weights.sizes() != sampling_locations.sizes().slice(0, 5)) {
    std::ostringstream expected;
    expected << sampling_locations.sizes().slice(0, 5);
    invalid("attention_weights must be [N, Lq, M, L, P] = " + expected.str() + ", got " +
            describe(attention_weights));
  }

  for (const auto& [name, tensor] : all)
    if (tensor->device() != value.device())
      invalid(std::string(name) + " is on " + tensor->device().str() + " but value is on " +
              value.device().str() + " (all inputs must share one device)");
  for (const auto* tensor : {&spatial_shapes, &level_start_index})
    if (tensor->scalar_type() != torch::kInt64)
      invalid((tensor == &spatial_shapes ? "spatial_shapes" : "level_start_index") +
              std::string(" must be int64, got ") + describe(*tensor));
  if (!at::isFloatingType(value.scalar_type()))
    invalid("value must be a floating-point tensor, got " + describe(value));
  for (const auto* tensor : {&sampling_locations, &attention_weights})
    if (tensor->scalar_type() != value.scalar_type())
      invalid((tensor == &sampling_locations ? "sampling_locations" : "attention_weights") +
              std::string(" must have value's dtype (") + c10::toString(value.scalar_type()) +
              "), got " + describe(*tensor));
  return d;
}

/// Requires level l to hold H_l * W_l >= 1 pixels starting at the prefix sum of the levels before
/// it, and the levels to fill S exactly. shapes: [L, 2], starts: [L], contiguous int64 on the CPU.
void check_levels(const Dims& d, const std::int64_t* shapes, const std::int64_t* starts) {
  std::int64_t expected_start = 0;
  for (std::int64_t l = 0; l < d.L; ++l) {
    const std::int64_t height = shapes[2 * l], width = shapes[2 * l + 1];
    if (height < 1 || width < 1 || height > INT_MAX || width > INT_MAX)
      invalid("spatial_shapes[" + std::to_string(l) + "] = (" + std::to_string(height) + ", " +
              std::to_string(width) + ") is not a valid (H, W)");
    if (starts[l] != expected_start)
      invalid("level_start_index[" + std::to_string(l) + "] = " + std::to_string(starts[l]) +
              ", expected " + std::to_string(expected_start) +
              " (the sum of H * W over the levels before it)");
    expected_start += height * width;
  }
  if (expected_start != d.S)
    invalid("the levels hold " + std::to_string(expected_start) +
            " pixels (sum of H * W) but value has S = " + std::to_string(d.S));
}

/// Runs body(begin, end) over chunks of [0, size) on up to at::get_num_threads() threads.
/// With ATen's OpenMP backend, at::parallel_for is an inline `#pragma omp` loop that runs serially
/// unless the calling file is compiled with -fopenmp; without that, plain threads do the split.
template <typename Body>
void parallel_for(std::int64_t size, std::int64_t grain, const Body& body) {
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
  const std::int64_t threads =
      std::min<std::int64_t>(at::get_num_threads(), (size + grain - 1) / grain);
  if (threads <= 1 || at::in_parallel_region()) {
    body(std::int64_t{0}, size);
    return;
  }
  const std::int64_t chunk = (size + threads - 1) / threads;
  std::vector<std::jthread> workers;  // joined on scope exit
  for (std::int64_t begin = chunk; begin < size; begin += chunk)
    workers.emplace_back([&body, begin, end = std::min(size, begin + chunk)] { body(begin, end); });
  body(std::int64_t{0}, std::min(size, chunk));
#else
  at::parallel_for(0, size, grain, body);
#endif
}

/// out[0..D) += weight * channels[0..D). kD > 0 fixes D at compile time (lets -O2 vectorise).
template <typename T, int kD>
inline void add_scaled(T* __restrict__ out, const T* __restrict__ channels, T weight,
                       std::int64_t D) {
  const std::int64_t n = kD > 0 ? kD : D;
  for (std::int64_t c = 0; c < n; ++c) out[c] += weight * channels[c];
}

/// out[0..D) += the four weighted corners (all inside the level).
template <typename T, int kD>
inline void add_bilinear(T* __restrict__ out, const T* __restrict__ v00, const T* __restrict__ v01,
                         const T* __restrict__ v10, const T* __restrict__ v11, T w00, T w01, T w10,
                         T w11, std::int64_t D) {
  const std::int64_t n = kD > 0 ? kD : D;
  for (std::int64_t c = 0; c < n; ++c)
    out[c] += w00 * v00[c] + w01 * v01[c] + w10 * v10[c] + w11 * v11[c];
}

/// The CPU forward over contiguous buffers: value [N, S, M, D], shapes [L, 2], starts [L],
/// locations [N, Lq, M, L, P, 2], weights [N, Lq, M, L, P] -> output [N, Lq, M, D]. Accumulates
/// in T, in the official kernel's order (levels, then points). kD: D if fixed at compile time,
/// else 0.
template <typename T, int kD>
void forward_cpu(const Dims& d, const T* value, const std::int64_t* shapes,
                 const std::int64_t* starts, const T* locations, const T* weights, T* output) {
  const std::int64_t pixel_stride = d.M * d.D;
  const std::int64_t points = d.L * d.P;
  const std::int64_t grain =
      std::max<std::int64_t>(1, (std::int64_t{1} << 16) / (d.M * points * d.D));
  parallel_for(d.N * d.Lq, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nq = begin; nq < end; ++nq) {
      const std::int64_t n = nq / d.Lq;
      for (std::int64_t m = 0; m < d.M; ++m) {
        const std::int64_t sample = nq * d.M + m;
        T* out = output + sample * d.D;
        std::fill_n(out, d.D, T(0));
        const T* weight = weights + sample * points;
        const T* location = locations + 2 * sample * points;
        const T* value_nm = value + n * d.S * pixel_stride + m * d.D;
        for (std::int64_t l = 0; l < d.L; ++l) {
          const std::int64_t height = shapes[2 * l], width = shapes[2 * l + 1];
          const T h = static_cast<T>(height), w = static_cast<T>(width);
          const T* level = value_nm + starts[l] * pixel_stride;
          const std::int64_t row_stride = width * pixel_stride;
          for (std::int64_t p = 0; p < d.P; ++p, ++weight, location += 2) {
            const T x = location[0] * w - T(0.5);
            const T y = location[1] * h - T(0.5);
            if (!(x > T(-1) && y > T(-1) && x < w && y < h)) continue;  // no corner inside
            const T a = *weight;
            const T x_floor = std::floor(x), y_floor = std::floor(y);
            const auto x0 = static_cast<std::int64_t>(x_floor);
            const auto y0 = static_cast<std::int64_t>(y_floor);
            const T lx = x - x_floor, ly = y - y_floor;
            const T hx = T(1) - lx, hy = T(1) - ly;
            const bool left = x0 >= 0, right = x0 + 1 < width, top = y0 >= 0,
                       bottom = y0 + 1 < height;
            // Signed: negative for a corner above or left of the level, only used when inside.
            const std::int64_t offset = y0 * row_stride + x0 * pixel_stride;
            if (top && left && right && bottom) {
              const T* v00 = level + offset;
              add_bilinear<T, kD>(out, v00, v00 + pixel_stride, v00 + row_stride,
                                  v00 + row_stride + pixel_stride, hy * hx * a, hy * lx * a,
                                  ly * hx * a, ly * lx * a, d.D);
              continue;
            }
            if (top && left) add_scaled<T, kD>(out, level + offset, hy * hx * a, d.D);
            if (top && right)
              add_scaled<T, kD>(out, level + offset + pixel_stride, hy * lx * a, d.D);
            if (bottom && left)
              add_scaled<T, kD>(out, level + offset + row_stride, ly * hx * a, d.D);
            if (bottom && right)
              add_scaled<T, kD>(out, level + offset + row_stride + pixel_stride, ly * lx * a, d.D);
          }
        }
      }
    }
  });
}

torch::Tensor ms_deform_attn_cpu(const Dims& d, const torch::Tensor& value,
                                 const torch::Tensor& spatial_shapes,
                                 const torch::Tensor& level_start_index,
                                 const torch::Tensor& sampling_locations,
                                 const torch::Tensor& attention_weights) {
  const auto type = value.scalar_type();
  if (type != torch::kFloat32 && type != torch::kFloat64)
    invalid("on the CPU value must be float32 or float64, got " + describe(value) +
            " (convert with .to(torch::kFloat32))");
  const torch::Tensor shapes = spatial_shapes.contiguous();
  const torch::Tensor starts = level_start_index.contiguous();
  check_levels(d, shapes.data_ptr<std::int64_t>(), starts.data_ptr<std::int64_t>());

  const torch::Tensor v = value.contiguous();
  const torch::Tensor locations = sampling_locations.contiguous();
  const torch::Tensor weights = attention_weights.contiguous();
  torch::Tensor output = torch::empty({d.N, d.Lq, d.M * d.D}, value.options());
  const auto run = [&](auto zero) {
    using T = decltype(zero);
    const auto forward = d.D == 32 ? forward_cpu<T, 32> : forward_cpu<T, 0>;  // 32: VMT's heads
    forward(d, v.data_ptr<T>(), shapes.data_ptr<std::int64_t>(), starts.data_ptr<std::int64_t>(),
            locations.data_ptr<T>(), weights.data_ptr<T>(), output.data_ptr<T>());
  };
  if (type == torch::kFloat32)
    run(0.0f);
  else
    run(0.0);
  return output;
}

#ifdef VMT_MSDA_CUDA
/// The CUDA path: the own kernel on the current stream of value's device. The contents of
/// spatial_shapes / level_start_index stay unchecked (reading them would synchronise); the kernel
/// skips a level whose range falls outside S instead of reading out of bounds.
torch::Tensor ms_deform_attn_cuda(const Dims& d, const torch::Tensor& value,
                                  const torch::Tensor& spatial_shapes,
                                  const torch::Tensor& level_start_index,
                                  const torch::Tensor& sampling_locations,
                                  const torch::Tensor& attention_weights) {
  const auto type = value.scalar_type();
  if (type != torch::kFloat32 && type != torch::kFloat16)
    invalid("on CUDA value must be float32 or float16, got " + describe(value));
  for (const std::int64_t size : {d.N, d.S, d.M, d.D, d.L, d.Lq, d.P})
    if (size > INT_MAX)
      invalid("a dimension exceeds the CUDA kernel's int range: " + describe(value));

  const c10::cuda::CUDAGuard guard(value.device());
  const torch::Tensor shapes = spatial_shapes.contiguous();
  const torch::Tensor starts = level_start_index.contiguous();
  const torch::Tensor v = value.contiguous();
  const torch::Tensor locations = sampling_locations.contiguous();
  const torch::Tensor weights = attention_weights.contiguous();
  torch::Tensor output = torch::empty({d.N, d.Lq, d.M * d.D}, value.options());

  const cuda::MsDeformAttnDims dims{
      static_cast<int>(d.N), static_cast<int>(d.S),  static_cast<int>(d.M), static_cast<int>(d.D),
      static_cast<int>(d.L), static_cast<int>(d.Lq), static_cast<int>(d.P)};
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(value.device().index()).stream();
  cudaError_t status;
  if (type == torch::kFloat32) {
    status = cuda::ms_deform_attn_forward(
        dims, v.data_ptr<float>(), shapes.data_ptr<std::int64_t>(), starts.data_ptr<std::int64_t>(),
        locations.data_ptr<float>(), weights.data_ptr<float>(), output.data_ptr<float>(), stream);
  } else {
    // at::Half and __half are both one IEEE binary16.
    status = cuda::ms_deform_attn_forward(
        dims, reinterpret_cast<const __half*>(v.data_ptr<at::Half>()),
        shapes.data_ptr<std::int64_t>(), starts.data_ptr<std::int64_t>(),
        reinterpret_cast<const __half*>(locations.data_ptr<at::Half>()),
        reinterpret_cast<const __half*>(weights.data_ptr<at::Half>()),
        reinterpret_cast<__half*>(output.data_ptr<at::Half>()), stream);
  }
  if (status != cudaSuccess)
    throw Error(ErrorCode::Internal, std::string("ms_deform_attn: CUDA kernel launch failed: ") +
                                         cudaGetErrorString(status));
  return output;
}
#endif

}  // namespace

torch::Tensor ms_deform_attn(const torch::Tensor& value, const torch::Tensor& spatial_shapes,
                             const torch::Tensor& level_start_index,
                             const torch::Tensor& sampling_locations,
                             const torch::Tensor& attention_weights) {
  const Dims d =
      check_inputs(value, spatial_shapes, level_start_index, sampling_locations, attention_weights);
  if (value.device().is_cpu()) {
    if (const auto type = value.scalar_type(); type == torch::kBFloat16 || type == torch::kHalf) {
      // bf16 (CPU autocast) and fp16 (a half model checked on the CPU) run through the fp32
      // loop: exact widening, the result rounded back.
      return ms_deform_attn_cpu(d, value.to(torch::kFloat32), spatial_shapes, level_start_index,
                                sampling_locations.to(torch::kFloat32),
                                attention_weights.to(torch::kFloat32))
          .to(type);
    }
    return ms_deform_attn_cpu(d, value, spatial_shapes, level_start_index, sampling_locations,
                              attention_weights);
  }
  if (value.device().is_cuda()) {
#ifdef VMT_MSDA_CUDA
    if (value.scalar_type() == torch::kBFloat16) {
      // No bf16 kernel: bf16 inputs run through the fp32 kernel (exact widening).
      return ms_deform_attn_cuda(d, value.to(torch::kFloat32), spatial_shapes, level_start_index,
                                 sampling_locations.to(torch::kFloat32),
                                 attention_weights.to(torch::kFloat32))
          .to(torch::kBFloat16);
    }
    return ms_deform_attn_cuda(d, value, spatial_shapes, level_start_index, sampling_locations,
                               attention_weights);
#else
    throw Error(ErrorCode::Unavailable,
                "ms_deform_attn: value is on " + value.device().str() +
                    " but this build has no CUDA kernels (built without nvcc or without LibTorch "
                    "CUDA); move the inputs to the CPU");
#endif
  }
  invalid("unsupported device " + value.device().str() + " (expected cpu or cuda)");
}

torch::Tensor ms_deform_attn_reference(const torch::Tensor& value,
                                       const torch::Tensor& spatial_shapes,
                                       const torch::Tensor& sampling_locations,
                                       const torch::Tensor& attention_weights) {
  const std::int64_t N = value.size(0), M = value.size(2), D = value.size(3);
  const std::int64_t Lq = sampling_locations.size(1), L = sampling_locations.size(3),
                     P = sampling_locations.size(4);
  const torch::Tensor shapes = spatial_shapes.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor grids = sampling_locations * 2 - 1;  // grid_sample's [-1, 1] convention
  std::vector<torch::Tensor> sampled;
  std::int64_t start = 0;
  for (std::int64_t l = 0; l < L; ++l) {
    const std::int64_t H = shapes[l][0].item<std::int64_t>(), W = shapes[l][1].item<std::int64_t>();
    // [N, H*W, M, D] -> [N, M*D, H*W] -> [N*M, D, H, W]
    const torch::Tensor level =
        value.narrow(1, start, H * W).flatten(2).transpose(1, 2).reshape({N * M, D, H, W});
    // [N, Lq, M, P, 2] -> [N, M, Lq, P, 2] -> [N*M, Lq, P, 2]
    const torch::Tensor grid = grids.select(3, l).transpose(1, 2).flatten(0, 1);
    sampled.push_back(at::grid_sampler(level, grid, /*bilinear*/ 0, /*zeros*/ 0,
                                       /*align_corners=*/false));  // [N*M, D, Lq, P]
    start += H * W;
  }
  // [N, Lq, M, L, P] -> [N, M, Lq, L, P] -> [N*M, 1, Lq, L*P]
  const torch::Tensor weights = attention_weights.transpose(1, 2).reshape({N * M, 1, Lq, L * P});
  return (torch::stack(sampled, -2).flatten(-2) * weights)
      .sum(-1)
      .view({N, M * D, Lq})
      .transpose(1, 2)
      .contiguous();
}

}  // namespace vmt::ops
