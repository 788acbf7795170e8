// Multi-scale deformable attention (Deformable DETR / SeqFormer / VMT), forward only, on the GPU.
// Torch-free: the caller passes device pointers to contiguous tensors and a stream.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace vmt::cuda {

/// Sizes of one ms_deform_attn call (letters as in the Deformable DETR code).
struct MsDeformAttnDims {
  int batch;         ///< N
  int value_length;  ///< S = sum over levels of H_l * W_l
  int num_heads;     ///< M
  int head_dim;      ///< D (channels per head)
  int num_levels;    ///< L
  int num_queries;   ///< Lq
  int num_points;    ///< P (sampling points per head, level and query)
};

/// output[n, q, m*D + d] = sum over l, p of attention_weights[n, q, m, l, p] *
///   bilinear(value level l of batch n, head m, channel d) at sampling_locations[n, q, m, l, p],
/// sampled as grid_sample(bilinear, padding zeros, align_corners=False): the normalised (x, y)
/// maps to pixel (x * W_l - 0.5, y * H_l - 0.5) and pixels outside the level read as zero.
///
/// Device pointers, all contiguous (row-major):
///   value               [N, S, M, D]
///   spatial_shapes      [L, 2] int64, (H_l, W_l)
///   level_start_index   [L] int64, offset of level l along S
///   sampling_locations  [N, Lq, M, L, P, 2], (x, y) normalised to [0, 1], may lie outside
///   attention_weights   [N, Lq, M, L, P]
///   output              [N, Lq, M * D] (every element is written)
/// Accumulates in float for both element types. A level whose [start, start + H*W) range does not
/// fit in S is skipped (contributes zero) rather than read out of bounds. Asynchronous on `stream`;
/// returns cudaErrorInvalidValue for bad sizes or null pointers, else the launch status.
cudaError_t ms_deform_attn_forward(const MsDeformAttnDims& dims, const float* value,
                                   const std::int64_t* spatial_shapes,
                                   const std::int64_t* level_start_index,
                                   const float* sampling_locations, const float* attention_weights,
                                   float* output, cudaStream_t stream);

/// The same for half-precision value, locations, weights and output (float accumulation).
cudaError_t ms_deform_attn_forward(const MsDeformAttnDims& dims, const __half* value,
                                   const std::int64_t* spatial_shapes,
                                   const std::int64_t* level_start_index,
                                   const __half* sampling_locations,
                                   const __half* attention_weights, __half* output,
                                   cudaStream_t stream);

}  // namespace vmt::cuda
