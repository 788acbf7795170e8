#include <algorithm>
#include <cstdint>

#include "ms_deform_attn.h"

namespace vmt::cuda {

namespace {

constexpr int kBlockSize = 256;

__device__ __forceinline__ float to_float(float value) { return value; }
__device__ __forceinline__ float to_float(__half value) { return __half2float(value); }

/// acc[0..VEC) += weight * channels[0..VEC), one vector load (the caller guarantees alignment).
template <int VEC>
__device__ __forceinline__ void add_weighted(float (&acc)[VEC], const float* channels,
                                             float weight) {
  if constexpr (VEC == 4) {
    const float4 v = *reinterpret_cast<const float4*>(channels);
    acc[0] = fmaf(weight, v.x, acc[0]);
    acc[1] = fmaf(weight, v.y, acc[1]);
    acc[2] = fmaf(weight, v.z, acc[2]);
    acc[3] = fmaf(weight, v.w, acc[3]);
  } else if constexpr (VEC == 2) {
    const float2 v = *reinterpret_cast<const float2*>(channels);
    acc[0] = fmaf(weight, v.x, acc[0]);
    acc[1] = fmaf(weight, v.y, acc[1]);
  } else {
    acc[0] = fmaf(weight, *channels, acc[0]);
  }
}

template <int VEC>
__device__ __forceinline__ void add_weighted(float (&acc)[VEC], const __half* channels,
                                             float weight) {
  if constexpr (VEC == 4) {
    // Four halves in one 8-byte load, split into two half2.
    const float2 raw = *reinterpret_cast<const float2*>(channels);
    const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&raw.x));
    const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&raw.y));
    acc[0] = fmaf(weight, a.x, acc[0]);
    acc[1] = fmaf(weight, a.y, acc[1]);
    acc[2] = fmaf(weight, b.x, acc[2]);
    acc[3] = fmaf(weight, b.y, acc[3]);
  } else if constexpr (VEC == 2) {
    const float2 v = __half22float2(*reinterpret_cast<const __half2*>(channels));
    acc[0] = fmaf(weight, v.x, acc[0]);
    acc[1] = fmaf(weight, v.y, acc[1]);
  } else {
    acc[0] = fmaf(weight, __half2float(*channels), acc[0]);
  }
}

template <int VEC>
__device__ __forceinline__ void store(float* out, const float (&acc)[VEC]) {
#pragma unroll
  for (int i = 0; i < VEC; ++i) out[i] = acc[i];
}

template <int VEC>
__device__ __forceinline__ void store(__half* out, const float (&acc)[VEC]) {
  if constexpr (VEC % 2 == 0) {
#pragma unroll
    for (int i = 0; i < VEC; i += 2)
      *reinterpret_cast<__half2*>(out + i) = __floats2half2_rn(acc[i], acc[i + 1]);
  } else {
    out[0] = __float2half_rn(acc[0]);
  }
}

// One thread per (n, q, m, group of VEC channels): channels of a head are adjacent threads, so the
// four corner reads of a warp are contiguous and the location/weight reads are broadcasts.
template <typename T, int VEC>
__global__ void __launch_bounds__(kBlockSize)
    ms_deform_attn_kernel(MsDeformAttnDims dims, const T* __restrict__ value,
                          const std::int64_t* __restrict__ spatial_shapes,
                          const std::int64_t* __restrict__ level_start_index,
                          const T* __restrict__ sampling_locations,
                          const T* __restrict__ attention_weights, T* __restrict__ output,
                          long long total) {
  const int groups = dims.head_dim / VEC;
  const long long pixel_stride = static_cast<long long>(dims.num_heads) * dims.head_dim;
  const long long points_per_sample = static_cast<long long>(dims.num_levels) * dims.num_points;
  for (long long index = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
       index < total; index += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int group = static_cast<int>(index % groups);
    const long long sample = index / groups;  // (n * Lq + q) * M + m
    const int m = static_cast<int>(sample % dims.num_heads);
    const long long n = sample / dims.num_heads / dims.num_queries;
    const T* value_nm =
        value + n * dims.value_length * pixel_stride + m * dims.head_dim + group * VEC;
    const T* weight = attention_weights + sample * points_per_sample;
    const T* location = sampling_locations + 2 * sample * points_per_sample;

    float acc[VEC] = {};
    for (int l = 0; l < dims.num_levels;
         ++l, weight += dims.num_points, location += 2 * dims.num_points) {
      const long long height = spatial_shapes[2 * l];
      const long long width = spatial_shapes[2 * l + 1];
      const long long start = level_start_index[l];
      if (height <= 0 || width <= 0 || start < 0 || start + height * width > dims.value_length)
        continue;
      const float h = static_cast<float>(height);
      const float w = static_cast<float>(width);
      const T* level = value_nm + start * pixel_stride;
      const long long row_stride = width * pixel_stride;
      for (int p = 0; p < dims.num_points; ++p) {
        const float x = fmaf(to_float(location[2 * p]), w, -0.5f);
        const float y = fmaf(to_float(location[2 * p + 1]), h, -0.5f);
        if (!(x > -1.0f && y > -1.0f && x < w && y < h)) continue;  // all four corners outside
        const float a = to_float(weight[p]);
        const float x_floor = floorf(x);
        const float y_floor = floorf(y);
        const long long x0 = static_cast<long long>(x_floor);
        const long long y0 = static_cast<long long>(y_floor);
        const float lx = x - x_floor, ly = y - y_floor;
        const float hx = 1.0f - lx, hy = 1.0f - ly;
        const bool left = x0 >= 0, right = x0 + 1 < width, top = y0 >= 0, bottom = y0 + 1 < height;
        const long long offset = y0 * row_stride + x0 * pixel_stride;
        if (top && left) add_weighted<VEC>(acc, level + offset, hy * hx * a);
        if (top && right) add_weighted<VEC>(acc, level + offset + pixel_stride, hy * lx * a);
        if (bottom && left) add_weighted<VEC>(acc, level + offset + row_stride, ly * hx * a);
        if (bottom && right)
          add_weighted<VEC>(acc, level + offset + row_stride + pixel_stride, ly * lx * a);
      }
    }
    store<VEC>(output + sample * dims.head_dim + group * VEC, acc);
  }
}

bool aligned(const void* pointer, std::size_t bytes) {
  return reinterpret_cast<std::uintptr_t>(pointer) % bytes == 0;
}

template <typename T>
cudaError_t launch(const MsDeformAttnDims& dims, const T* value, const std::int64_t* spatial_shapes,
                   const std::int64_t* level_start_index, const T* sampling_locations,
                   const T* attention_weights, T* output, cudaStream_t stream) {
  if (dims.batch < 0 || dims.num_queries < 0 || dims.value_length <= 0 || dims.num_heads <= 0 ||
      dims.head_dim <= 0 || dims.num_levels <= 0 || dims.num_points <= 0)
    return cudaErrorInvalidValue;
  const long long samples = static_cast<long long>(dims.batch) * dims.num_queries * dims.num_heads;
  if (samples == 0) return cudaSuccess;
  if (value == nullptr || spatial_shapes == nullptr || level_start_index == nullptr ||
      sampling_locations == nullptr || attention_weights == nullptr || output == nullptr)
    return cudaErrorInvalidValue;

  // Widest channel vector that divides D and that both channel arrays are aligned for.
  int vec = 1;
  for (const int candidate : {4, 2}) {
    const std::size_t bytes = candidate * sizeof(T);
    if (dims.head_dim % candidate == 0 && aligned(value, bytes) && aligned(output, bytes)) {
      vec = candidate;
      break;
    }
  }
  const long long total = samples * (dims.head_dim / vec);
  const long long blocks = std::min<long long>((total + kBlockSize - 1) / kBlockSize, 1LL << 30);
  const dim3 grid(static_cast<unsigned>(blocks));
  switch (vec) {
    case 4:
      ms_deform_attn_kernel<T, 4>
          <<<grid, kBlockSize, 0, stream>>>(dims, value, spatial_shapes, level_start_index,
                                            sampling_locations, attention_weights, output, total);
      break;
    case 2:
      ms_deform_attn_kernel<T, 2>
          <<<grid, kBlockSize, 0, stream>>>(dims, value, spatial_shapes, level_start_index,
                                            sampling_locations, attention_weights, output, total);
      break;
    default:
      ms_deform_attn_kernel<T, 1>
          <<<grid, kBlockSize, 0, stream>>>(dims, value, spatial_shapes, level_start_index,
                                            sampling_locations, attention_weights, output, total);
      break;
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t ms_deform_attn_forward(const MsDeformAttnDims& dims, const float* value,
                                   const std::int64_t* spatial_shapes,
                                   const std::int64_t* level_start_index,
                                   const float* sampling_locations, const float* attention_weights,
                                   float* output, cudaStream_t stream) {
  return launch(dims, value, spatial_shapes, level_start_index, sampling_locations,
                attention_weights, output, stream);
}

cudaError_t ms_deform_attn_forward(const MsDeformAttnDims& dims, const __half* value,
                                   const std::int64_t* spatial_shapes,
                                   const std::int64_t* level_start_index,
                                   const __half* sampling_locations,
                                   const __half* attention_weights, __half* output,
                                   cudaStream_t stream) {
  return launch(dims, value, spatial_shapes, level_start_index, sampling_locations,
                attention_weights, output, stream);
}

}  // namespace vmt::cuda
