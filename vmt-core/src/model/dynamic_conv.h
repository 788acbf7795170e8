// The dynamic convolutions of VMT's mask heads (official models/segmentation.py: parse_dynamic_params
// and mask_heads_forward): per instance, a controller MLP emits the weights and biases of a stack
// of 1×1 convolutions that run on shared features plus instance-relative coordinates. The coarse
// mask head (controller), the incoherent-level head (controller_inc) and the refinement head
// (controller_refine) all use this one layout and this one evaluation. Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "dynamic_conv_layout.h"

namespace vmt::model {

/// Runs the convolutions of K instances at once (a grouped convolution per layer, ReLU between
/// layers): x [B, K · in_channels, H, W] (instance-major channels), params [K, num_params] →
/// [B, K, H, W] logits.
torch::Tensor dynamic_convs(torch::Tensor x, const torch::Tensor& params,
                            const DynamicConvLayout& layout);

/// Pixel centres of an h × w map of `stride`: [h · w, 2] (x, y), row-major (official
/// compute_locations).
torch::Tensor compute_locations(std::int64_t h, std::int64_t w, std::int64_t stride,
                                const torch::TensorOptions& options);

/// Instance centres `ref` [B, K, 2] (x, y in input pixels) minus the pixel centres of an h × w map
/// of `stride`: [B, K, 2, h, w] (the official relative coordinates), computed in float32 and
/// returned as `dtype`, the features they are concatenated with (the official code casts them
/// to float32; under autocast the convolution that reads them rounds them to its type anyway).
torch::Tensor relative_coords(const torch::Tensor& ref, std::int64_t h, std::int64_t w,
                              std::int64_t stride, torch::ScalarType dtype = torch::kFloat32);

}  // namespace vmt::model
