#include "point_transformer.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/scaled_dot_product_attention.h>

#include <optional>

namespace vmt::model {

namespace F = torch::nn::functional;

PointSelfAttentionImpl::PointSelfAttentionImpl(std::int64_t d, std::int64_t heads)
    : d_model(d), nheads(heads) {
  // nn.MultiheadAttention's initialisation (_reset_parameters): Xavier-uniform input
  // projection, zero biases. (A fresh `empty` would leave a new model's weights undefined.)
  in_proj_weight = register_parameter("in_proj_weight", at::empty({3 * d, d}));
  torch::nn::init::xavier_uniform_(in_proj_weight);
  in_proj_bias = register_parameter("in_proj_bias", at::zeros({3 * d}));
  out_proj = register_module("out_proj", torch::nn::Linear(d, d));
  {
    torch::NoGradGuard no_grad;
    out_proj->bias.zero_();
  }
}

torch::Tensor PointSelfAttentionImpl::forward(const torch::Tensor& qk, const torch::Tensor& v,
                                              const torch::Tensor& keys) {
  const auto p = qk.size(0);
  const auto head_dim = d_model / nheads;
  const auto w = in_proj_weight.chunk(3, 0);
  const auto b = in_proj_bias.chunk(3, 0);
  // [P, d] → [1, heads, P, head_dim]; softmax(q kᵀ / √head_dim) v, as nn.MultiheadAttention
  auto heads = [&](const torch::Tensor& x, std::size_t i) {
    return at::linear(x, w[i], b[i]).reshape({p, nheads, head_dim}).transpose(0, 1).unsqueeze(0);
  };
  const auto mask = keys.defined() ? std::optional<at::Tensor>(keys.view({1, 1, 1, p}))
                                    : std::optional<at::Tensor>();
  const auto out =
      at::scaled_dot_product_attention(heads(qk, 0), heads(qk, 1), heads(v, 2), mask);
  return out_proj->forward(out[0].transpose(0, 1).reshape({p, d_model}));
}

PointEncoderLayerImpl::PointEncoderLayerImpl(std::int64_t d, std::int64_t heads, std::int64_t ffn) {
  self_attn = register_module("self_attn", PointSelfAttention(d, heads));
  linear1 = register_module("linear1", torch::nn::Linear(d, ffn));
  linear2 = register_module("linear2", torch::nn::Linear(ffn, d));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

torch::Tensor PointEncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& pos,
                                             const torch::Tensor& keys) {
  auto y = norm1->forward(x + self_attn->forward(x + pos, x, keys));
  return norm2->forward(y + linear2->forward(F::relu(linear1->forward(y))));
}

PointTransformerImpl::PointTransformerImpl(std::int64_t d, std::int64_t heads,
                                           std::int64_t num_layers, std::int64_t ffn) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < num_layers; ++i) layers->push_back(PointEncoderLayer(d, heads, ffn));
}

torch::Tensor PointTransformerImpl::forward(const torch::Tensor& x, const torch::Tensor& pos,
                                           const torch::Tensor& keys) {
  if (x.size(0) == 0) return x;
  auto y = x;
  for (const auto& layer : *layers) y = layer->as<PointEncoderLayer>()->forward(y, pos, keys);
  return y;
}

}  // namespace vmt::model
