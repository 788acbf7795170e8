// The point transformer of VMT's refinement head (official models/segmentation.py
// TransformerEncoder / TransformerEncoderLayer, attribute `encoder` of VMT): post-norm
// self-attention layers over the incoherent points of one frame. Internal to vmt-core.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace vmt::model {

/// Multi-head self-attention with the official nn.MultiheadAttention parameters:
/// `in_proj_weight` [3d, d] (q, k, v rows), `in_proj_bias` [3d], `out_proj` (Linear d → d).
struct PointSelfAttentionImpl : torch::nn::Module {
  PointSelfAttentionImpl(std::int64_t d_model, std::int64_t nheads);
  /// qk (queries = keys input), v: [P, d] → [P, d]. keys (optional, [P] bool): the points
  /// that may be attended to (padding rows false); every row then attends only to those.
  torch::Tensor forward(const torch::Tensor& qk, const torch::Tensor& v,
                        const torch::Tensor& keys = {});

  std::int64_t d_model, nheads;
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};
};
TORCH_MODULE(PointSelfAttention);

/// One post-norm encoder layer (d = 64, 4 heads, FFN 2048, ReLU; dropout off at inference):
///   x = norm1(x + attn(q = k = x + pos, v = x));  x = norm2(x + linear2(relu(linear1(x)))).
struct PointEncoderLayerImpl : torch::nn::Module {
  PointEncoderLayerImpl(std::int64_t d_model, std::int64_t nheads, std::int64_t dim_feedforward);
  /// x, pos: [P, d] → [P, d] (attention over all P points, or over `keys` where given).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& pos,
                        const torch::Tensor& keys = {});

  PointSelfAttention self_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
};
TORCH_MODULE(PointEncoderLayer);

/// `layers` = num_layers PointEncoderLayers applied in turn (no final norm).
struct PointTransformerImpl : torch::nn::Module {
  PointTransformerImpl(std::int64_t d_model = 64, std::int64_t nheads = 4,
                       std::int64_t num_layers = 3, std::int64_t dim_feedforward = 2048);
  /// x, pos: [P, d] → [P, d]; P = 0 returns x. keys (optional, [P] bool): the real points of
  /// a padded set; rows of the others come out as garbage (NaN when no point is real).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& pos,
                        const torch::Tensor& keys = {});

  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(PointTransformer);

}  // namespace vmt::model
