// Multi-scale deformable attention (Deformable DETR, SeqFormer, VMT): the sampling core of
// MSDeformAttn, forward only. Internal to vmt-core (not a public header).
#pragma once

#include <torch/types.h>

namespace vmt::ops {

/// The MSDA forward op, with the semantics of the official MultiScaleDeformableAttention kernel:
///   output[n, q, m*D + d] = sum over l, p of attention_weights[n, q, m, l, p] *
///     bilinear(level l of value[n, :, m, d]) at sampling_locations[n, q, m, l, p]
/// where a normalised (x, y) maps to pixel (x * W_l - 0.5, y * H_l - 0.5) and pixels outside the
/// level read as zero (grid_sample: bilinear, padding zeros, align_corners=False).
///
///   value               [N, S, M, D]            S = sum over levels of H_l * W_l
///   spatial_shapes      [L, 2] int64            (H_l, W_l) per level
///   level_start_index   [L] int64               offset of level l along S
///   sampling_locations  [N, Lq, M, L, P, 2]     normalised (x, y), may lie outside [0, 1]
///   attention_weights   [N, Lq, M, L, P]
///   returns             [N, Lq, M * D], dtype and device of value
///
/// Runs where value lives: on the CPU for float32/float64, on CUDA (own kernel, current stream)
/// for float32/float16. All tensors must share value's device; value, locations and weights its
/// dtype. Non-contiguous inputs are accepted (copied). Throws vmt::Error(InvalidArgument) for
/// malformed inputs and vmt::Error(Unavailable) for CUDA tensors in a build without CUDA kernels.
torch::Tensor ms_deform_attn(const torch::Tensor& value, const torch::Tensor& spatial_shapes,
                             const torch::Tensor& level_start_index,
                             const torch::Tensor& sampling_locations,
                             const torch::Tensor& attention_weights);

/// Pure-tensor reference built from grid_sample, like ms_deform_attn_core_pytorch in the official
/// code (slow; for tests). Levels are split off value by their sizes H_l * W_l in order, so no
/// level_start_index is taken. Shapes as for ms_deform_attn; any device and floating dtype that
/// grid_sample supports. Returns [N, Lq, M * D].
torch::Tensor ms_deform_attn_reference(const torch::Tensor& value,
                                       const torch::Tensor& spatial_shapes,
                                       const torch::Tensor& sampling_locations,
                                       const torch::Tensor& attention_weights);

}  // namespace vmt::ops
