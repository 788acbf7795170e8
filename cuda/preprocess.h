// Frame preprocessing on the GPU: packed 8-bit RGB(A) pixels to the planar, normalised float input
// the backbone expects ((value / 255 - mean[c]) / std[c], channels first).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace vmt::cuda {

struct PackedImage {
  const std::uint8_t* pixels;  ///< device pointer to the first row
  int height;
  int width;
  int row_stride;              ///< bytes from one row to the next (>= width * channels)
  int channels;                ///< 3 (RGB) or 4 (RGBA/RGBx: the fourth byte is ignored)
};

struct Normalisation {
  float mean[3];
  float std[3];
};

/// Writes `output[c * height * width + y * width + x]` for c in {R, G, B}, as float (fp32) or
/// __half when `half_output` is true. Asynchronous on `stream`; returns the launch status.
cudaError_t normalise_to_planar(const PackedImage& input, const Normalisation& normalisation,
                                void* output, bool half_output, cudaStream_t stream);

}  // namespace vmt::cuda
