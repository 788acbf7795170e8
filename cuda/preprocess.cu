#include "preprocess.h"

#include <cuda_fp16.h>

namespace vmt::cuda {

namespace {

template <typename Out>
__device__ Out convert(float value);
template <>
__device__ float convert<float>(float value) { return value; }
template <>
__device__ __half convert<__half>(float value) { return __float2half_rn(value); }

struct Scale {
  float multiply[3];  // 1 / (255 * std)
  float add[3];       // -mean / std
};

template <typename Out>
__global__ void normalise_kernel(const std::uint8_t* __restrict__ pixels, int height, int width,
                                 int row_stride, int channels, Scale scale,
                                 Out* __restrict__ output) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  const std::uint8_t* pixel = pixels + static_cast<long long>(y) * row_stride + x * channels;
  const long long plane = static_cast<long long>(height) * width;
  const long long offset = static_cast<long long>(y) * width + x;
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    output[c * plane + offset] = convert<Out>(fmaf(pixel[c], scale.multiply[c], scale.add[c]));
  }
}

}  // namespace

cudaError_t normalise_to_planar(const PackedImage& input, const Normalisation& normalisation,
                                void* output, bool half_output, cudaStream_t stream) {
  if (input.channels != 3 && input.channels != 4) return cudaErrorInvalidValue;
  if (input.height <= 0 || input.width <= 0 || input.row_stride < input.width * input.channels)
    return cudaErrorInvalidValue;
  Scale scale{};
  for (int c = 0; c < 3; ++c) {
    scale.multiply[c] = 1.0f / (255.0f * normalisation.std[c]);
    scale.add[c] = -normalisation.mean[c] / normalisation.std[c];
  }
  const dim3 block(32, 8);
  const dim3 grid((input.width + block.x - 1) / block.x, (input.height + block.y - 1) / block.y);
  if (half_output) {
    normalise_kernel<<<grid, block, 0, stream>>>(input.pixels, input.height, input.width,
                                                 input.row_stride, input.channels, scale,
                                                 static_cast<__half*>(output));
  } else {
    normalise_kernel<<<grid, block, 0, stream>>>(input.pixels, input.height, input.width,
                                                 input.row_stride, input.channels, scale,
                                                 static_cast<float*>(output));
  }
  return cudaGetLastError();
}

}  // namespace vmt::cuda
