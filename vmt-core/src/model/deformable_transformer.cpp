#include "deformable_transformer.h"

#include <torch/nn/functional/activation.h>

#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/linspace.h>
#include <ATen/ops/meshgrid.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/tensor.h>

#include "ops/ms_deform_attn.h"

namespace vmt::model {

namespace F = torch::nn::functional;
using torch::indexing::None;
using torch::indexing::Slice;

torch::Tensor inverse_sigmoid(const torch::Tensor& x, double eps) {
  const auto y = x.clamp(0, 1);
  const auto x1 = y.clamp_min(eps);
  const auto x2 = (1 - y).clamp_min(eps);
  return (x1 / x2).log();
}

namespace {

/// (W_l, H_l) per level as [L, 2], what sampling offsets in pixels are divided by.
torch::Tensor offset_normalizer(const torch::Tensor& spatial_shapes) {
  return at::stack({spatial_shapes.select(1, 1), spatial_shapes.select(1, 0)}, -1);
}

torch::nn::LayerNorm layer_norm(std::int64_t d) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}));
}

torch::nn::MultiheadAttention multihead(std::int64_t d, std::int64_t heads) {
  return torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(d, heads).dropout(0.0));
}

/// nn.MultiheadAttention on batch-first tensors [B, Q, C]: query = key = x + pos, value = x.
torch::Tensor self_attention(torch::nn::MultiheadAttention& attn, const torch::Tensor& x,
                             const torch::Tensor& pos) {
  const auto q = (x + pos).transpose(0, 1);
  return std::get<0>(attn->forward(q, q, x.transpose(0, 1), {}, /*need_weights=*/false))
      .transpose(0, 1);
}

}  // namespace

// --- MLP -------------------------------------------------------------------------------------

MLPImpl::MLPImpl(std::int64_t input_dim, std::int64_t hidden_dim, std::int64_t output_dim,
                 std::int64_t num_layers) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < num_layers; ++i) {
    layers->push_back(torch::nn::Linear(i == 0 ? input_dim : hidden_dim,
                                        i == num_layers - 1 ? output_dim : hidden_dim));
  }
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  auto y = x;
  const auto n = layers->size();
  for (std::size_t i = 0; i < n; ++i) {
    y = layers[i]->as<torch::nn::Linear>()->forward(y);
    if (i + 1 < n) y = F::relu(y);
  }
  return y;
}

// --- MSDeformAttn ----------------------------------------------------------------------------

MSDeformAttnImpl::MSDeformAttnImpl(std::int64_t d_model_, std::int64_t n_levels_,
                                   std::int64_t n_heads_, std::int64_t n_points_)
    : d_model(d_model_), n_levels(n_levels_), n_heads(n_heads_), n_points(n_points_) {
  sampling_offsets = register_module(
      "sampling_offsets", torch::nn::Linear(d_model, n_heads * n_levels * n_points * 2));
  attention_weights = register_module("attention_weights",
                                      torch::nn::Linear(d_model, n_heads * n_levels * n_points));
  value_proj = register_module("value_proj", torch::nn::Linear(d_model, d_model));
  output_proj = register_module("output_proj", torch::nn::Linear(d_model, d_model));
  output_proj_box = register_module("output_proj_box", torch::nn::Linear(d_model, d_model));
}

torch::Tensor MSDeformAttnImpl::project_value(const torch::Tensor& input,
                                              const torch::Tensor& padding_mask) {
  auto value = value_proj->forward(input);
  if (padding_mask.defined()) value = value.masked_fill(padding_mask.unsqueeze(-1), 0.0);
  return value;
}

torch::Tensor MSDeformAttnImpl::encode(const torch::Tensor& query,
                                       const torch::Tensor& reference_points,
                                       const torch::Tensor& input,
                                       const torch::Tensor& spatial_shapes,
                                       const torch::Tensor& level_start_index,
                                       const torch::Tensor& padding_mask) {
  const auto n = query.size(0), t = query.size(1), lq = query.size(2);
  const auto value =
      project_value(input, padding_mask).reshape({n * t, input.size(2), n_heads, d_model / n_heads});
  const auto offsets =
      sampling_offsets->forward(query).view({n, t, lq, n_heads, n_levels, n_points, 2});
  auto weights = attention_weights->forward(query).view({n, t, lq, n_heads, n_levels * n_points});
  weights = F::softmax(weights, F::SoftmaxFuncOptions(-1))
                .view({n * t, lq, n_heads, n_levels, n_points});
  // [N, 1, Lq, 1, L, 1, 2] + [N, T, Lq, M, L, P, 2] / [L, 1, 2]
  const auto locations =
      reference_points.unsqueeze(1).unsqueeze(3).unsqueeze(5) +
      offsets / offset_normalizer(spatial_shapes).unsqueeze(1);
  const auto out = vmt::ops::ms_deform_attn(
      value, spatial_shapes, level_start_index,
      // Reference points stay fp32 under fp16/bf16 inference; the op takes value's dtype.
      locations.reshape({n * t, lq, n_heads, n_levels, n_points, 2}).to(value.scalar_type()),
      weights.to(value.scalar_type()));
  return output_proj->forward(out.view({n, t, lq, d_model}));
}

std::pair<torch::Tensor, torch::Tensor> MSDeformAttnImpl::decode(
    const torch::Tensor& query_box, const torch::Tensor& reference_points,
    const torch::Tensor& input, const torch::Tensor& spatial_shapes,
    const torch::Tensor& level_start_index, const torch::Tensor& padding_mask,
    const torch::Tensor& projected) {
  const auto n = input.size(0), t = input.size(1);
  const bool shared = query_box.dim() == 3;  // first layer: one box query for all frames
  const auto lq = shared ? query_box.size(1) : query_box.size(2);
  const auto qt = shared ? 1 : t;
  const auto value = (projected.defined() ? projected : project_value(input, padding_mask))
                         .reshape({n * t, input.size(2), n_heads, d_model / n_heads});
  const auto offsets =
      sampling_offsets->forward(query_box).view({n, qt, lq, n_heads, n_levels, n_points, 2});
  auto weights =
      attention_weights->forward(query_box).view({n, qt, lq, n_heads, n_levels * n_points});
  weights = F::softmax(weights, F::SoftmaxFuncOptions(-1))
                .view({n, qt, lq, n_heads, n_levels, n_points})
                .expand({n, t, lq, n_heads, n_levels, n_points});
  // reference_points [N, T, Q, L, 2|4] → [N, T, Q, 1, L, 1, 2|4]
  const auto ref = reference_points.unsqueeze(3).unsqueeze(5);
  torch::Tensor locations;
  if (reference_points.size(-1) == 2) {
    locations = ref + offsets / offset_normalizer(spatial_shapes).unsqueeze(1);
  } else {
    locations = ref.index({"...", Slice(None, 2)}) +
                offsets / static_cast<double>(n_points) * ref.index({"...", Slice(2, None)}) * 0.5;
  }
  const auto out = vmt::ops::ms_deform_attn(
      value, spatial_shapes, level_start_index,
      locations.expand({n, t, lq, n_heads, n_levels, n_points, 2})
          .reshape({n * t, lq, n_heads, n_levels, n_points, 2})
          .to(value.scalar_type()),
      weights.reshape({n * t, lq, n_heads, n_levels, n_points}).to(value.scalar_type()));
  const auto sampled = out.view({n, t, lq, d_model});
  return {output_proj->forward(sampled), output_proj_box->forward(sampled)};
}

// --- encoder ---------------------------------------------------------------------------------

DeformableTransformerEncoderLayerImpl::DeformableTransformerEncoderLayerImpl(
    std::int64_t d_model, std::int64_t d_ffn, std::int64_t n_levels, std::int64_t n_heads,
    std::int64_t n_points) {
  self_attn = register_module("self_attn", MSDeformAttn(d_model, n_levels, n_heads, n_points));
  norm1 = register_module("norm1", layer_norm(d_model));
  linear1 = register_module("linear1", torch::nn::Linear(d_model, d_ffn));
  linear2 = register_module("linear2", torch::nn::Linear(d_ffn, d_model));
  norm2 = register_module("norm2", layer_norm(d_model));
}

torch::Tensor DeformableTransformerEncoderLayerImpl::forward(
    const torch::Tensor& src, const torch::Tensor& pos, const torch::Tensor& reference_points,
    const torch::Tensor& spatial_shapes, const torch::Tensor& level_start_index,
    const torch::Tensor& padding_mask) {
  auto x = norm1->forward(src + self_attn->encode(src + pos, reference_points, src, spatial_shapes,
                                                  level_start_index, padding_mask));
  return norm2->forward(x + linear2->forward(F::relu(linear1->forward(x))));
}

DeformableTransformerEncoderImpl::DeformableTransformerEncoderImpl(const ModelConfig& c) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.enc_layers; ++i) {
    layers->push_back(DeformableTransformerEncoderLayer(
        c.hidden_dim, c.dim_feedforward, c.num_feature_levels, c.nheads, c.enc_n_points));
  }
}

torch::Tensor DeformableTransformerEncoderImpl::reference_points(
    const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes,
    const torch::Tensor& valid_ratios) {
  const auto opts = valid_ratios.options().dtype(torch::kFloat32);
  std::vector<torch::Tensor> per_level;
  for (std::int64_t l = 0; l < static_cast<std::int64_t>(shapes.size()); ++l) {
    const auto [h, w] = shapes[static_cast<std::size_t>(l)];
    const auto grid = at::meshgrid({at::linspace(0.5, h - 0.5, h, opts),
                                    at::linspace(0.5, w - 0.5, w, opts)},
                                   "ij");
    const auto ref_y = grid[0].reshape(-1).unsqueeze(0) /
                       (valid_ratios.index({Slice(), None, l, 1}) * static_cast<double>(h));
    const auto ref_x = grid[1].reshape(-1).unsqueeze(0) /
                       (valid_ratios.index({Slice(), None, l, 0}) * static_cast<double>(w));
    per_level.push_back(at::stack({ref_x, ref_y}, -1));
  }
  return at::cat(per_level, 1).unsqueeze(2) * valid_ratios.unsqueeze(1);
}

torch::Tensor DeformableTransformerEncoderImpl::forward(
    const torch::Tensor& src, const torch::Tensor& spatial_shapes,
    const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes,
    const torch::Tensor& level_start_index, const torch::Tensor& valid_ratios,
    const torch::Tensor& pos, const torch::Tensor& padding_mask) {
  const auto ref = reference_points(shapes, valid_ratios);
  auto out = src;
  for (const auto& layer : *layers) {
    out = layer->as<DeformableTransformerEncoderLayer>()->forward(
        out, pos, ref, spatial_shapes, level_start_index, padding_mask);
  }
  return out;
}

// --- decoder ---------------------------------------------------------------------------------

DeformableTransformerDecoderLayerImpl::DeformableTransformerDecoderLayerImpl(
    std::int64_t d_model, std::int64_t d_ffn, std::int64_t n_levels, std::int64_t n_heads,
    std::int64_t n_points) {
  cross_attn = register_module("cross_attn", MSDeformAttn(d_model, n_levels, n_heads, n_points));
  norm1 = register_module("norm1", layer_norm(d_model));
  norm1_box = register_module("norm1_box", layer_norm(d_model));
  self_attn = register_module("self_attn", multihead(d_model, n_heads));
  norm2 = register_module("norm2", layer_norm(d_model));
  self_attn_box = register_module("self_attn_box", multihead(d_model, n_heads));
  norm2_box = register_module("norm2_box", layer_norm(d_model));
  linear1 = register_module("linear1", torch::nn::Linear(d_model, d_ffn));
  linear2 = register_module("linear2", torch::nn::Linear(d_ffn, d_model));
  norm3 = register_module("norm3", layer_norm(d_model));
  linear1_box = register_module("linear1_box", torch::nn::Linear(d_model, d_ffn));
  linear2_box = register_module("linear2_box", torch::nn::Linear(d_ffn, d_model));
  norm3_box = register_module("norm3_box", layer_norm(d_model));
  time_attention_weights = register_module("time_attention_weights", torch::nn::Linear(d_model, 1));
}

std::pair<torch::Tensor, torch::Tensor> DeformableTransformerDecoderLayerImpl::forward(
    const torch::Tensor& tgt_in, const torch::Tensor& tgt_box_in, const torch::Tensor& query_pos,
    const torch::Tensor& reference_points, const torch::Tensor& src,
    const torch::Tensor& spatial_shapes, const torch::Tensor& level_start_index,
    const torch::Tensor& padding_mask, const torch::Tensor& value) {
  // instance-query self attention
  auto tgt = norm2->forward(tgt_in + self_attention(self_attn, tgt_in, query_pos));

  // box-query self attention, per frame once the box queries are per frame
  torch::Tensor tgt_box, query_box;
  if (tgt_box_in.dim() == 3) {
    tgt_box = norm2_box->forward(tgt_box_in + self_attention(self_attn_box, tgt_box_in, query_pos));
    query_box = tgt_box + query_pos;
  } else {
    const auto n = tgt_box_in.size(0), t = tgt_box_in.size(1), q = tgt_box_in.size(2),
               c = tgt_box_in.size(3);
    const auto flat = tgt_box_in.reshape({n * t, q, c});
    const auto pos = query_pos.unsqueeze(1).expand({n, t, q, c}).reshape({n * t, q, c});
    tgt_box = norm2_box->forward(flat + self_attention(self_attn_box, flat, pos))
                  .view({n, t, q, c});
    query_box = tgt_box + query_pos.unsqueeze(1);
  }

  // deformable cross attention of the box queries (the instance query's own input is unused)
  auto [tgt2, tgt2_box] = cross_attn->decode(query_box, reference_points, src, spatial_shapes,
                                             level_start_index, padding_mask, value);
  tgt_box = norm1_box->forward((tgt_box.dim() == 3 ? tgt_box.unsqueeze(1) : tgt_box) + tgt2_box);
  tgt_box = norm3_box->forward(
      tgt_box + linear2_box->forward(F::relu(linear1_box->forward(tgt_box))));

  // pool the frames into the instance query
  const auto time_weight =
      F::softmax(time_attention_weights->forward(tgt_box), F::SoftmaxFuncOptions(1));
  tgt = norm1->forward(tgt + (tgt2 * time_weight).sum(1));
  tgt = norm3->forward(tgt + linear2->forward(F::relu(linear1->forward(tgt))));
  return {tgt, tgt_box};
}

DeformableTransformerDecoderImpl::DeformableTransformerDecoderImpl(const ModelConfig& c) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.dec_layers; ++i) {
    layers->push_back(DeformableTransformerDecoderLayer(
        c.hidden_dim, c.dim_feedforward, c.num_feature_levels, c.nheads, c.dec_n_points));
  }
}

std::vector<torch::Tensor> DeformableTransformerDecoderImpl::project_values(
    const torch::Tensor& src) {
  std::vector<torch::Tensor> values;
  values.reserve(layers->size());
  for (const auto& layer : *layers) {
    values.push_back(
        layer->as<DeformableTransformerDecoderLayer>()->cross_attn->project_value(src, {}));
  }
  return values;
}

void DeformableTransformerDecoderImpl::set_bbox_embed(torch::nn::ModuleList heads) {
  bbox_embed = register_module("bbox_embed", std::move(heads));
}

DecoderOutput DeformableTransformerDecoderImpl::forward(
    const torch::Tensor& tgt, const torch::Tensor& reference_points_in, const torch::Tensor& src,
    const torch::Tensor& spatial_shapes, const torch::Tensor& level_start_index,
    const torch::Tensor& valid_ratios, const torch::Tensor& query_pos,
    const torch::Tensor& padding_mask, const std::vector<torch::Tensor>& values) {
  DecoderOutput out;
  auto output = tgt;
  auto output_box = tgt;  // [N, Q, C] until the first layer makes it [N, T, Q, C]
  auto reference = reference_points_in;
  for (std::size_t lid = 0; lid < layers->size(); ++lid) {
    const auto ratios = reference.size(-1) == 4 ? at::cat({valid_ratios, valid_ratios}, -1)
                                                : valid_ratios;
    const auto reference_input = reference.unsqueeze(3) * ratios.unsqueeze(1).unsqueeze(1);
    std::tie(output, output_box) = layers[lid]->as<DeformableTransformerDecoderLayer>()->forward(
        output, output_box, query_pos, reference_input, src, spatial_shapes, level_start_index,
        padding_mask, values.empty() ? torch::Tensor() : values[lid]);
    out.last_reference = reference;
    out.layers.push_back({output, output_box, reference});
    if (bbox_embed) {  // iterative box refinement
      const auto tmp = bbox_embed[lid]->as<MLP>()->forward(output_box);
      if (reference.size(-1) == 4) {
        reference = (tmp + inverse_sigmoid(reference)).sigmoid();
      } else {
        reference = at::cat({tmp.index({"...", Slice(None, 2)}) + inverse_sigmoid(reference),
                             tmp.index({"...", Slice(2, None)})},
                            -1)
                        .sigmoid();
      }
    }
  }
  out.hs = output;
  out.hs_box = output_box;
  out.final_reference = reference;
  return out;
}

// --- transformer -----------------------------------------------------------------------------

DeformableTransformerImpl::DeformableTransformerImpl(const ModelConfig& c)
    : d_model(c.hidden_dim), nhead(c.nheads), num_feature_levels(c.num_feature_levels) {
  level_embed = register_parameter("level_embed", at::empty({num_feature_levels, d_model}));
  encoder = register_module("encoder", DeformableTransformerEncoder(c));
  decoder = register_module("decoder", DeformableTransformerDecoder(c));
  reference_points = register_module("reference_points", torch::nn::Linear(d_model, 2));
}

EncoderState DeformableTransformerImpl::encode(const std::vector<torch::Tensor>& srcs,
                                               const std::vector<torch::Tensor>& masks,
                                               const std::vector<torch::Tensor>& pos_embeds) {
  EncoderState state;
  std::vector<torch::Tensor> src_flat, mask_flat, pos_flat, ratios;
  std::vector<std::int64_t> shape_values;
  for (std::size_t l = 0; l < srcs.size(); ++l) {
    const auto h = srcs[l].size(3), w = srcs[l].size(4);
    state.shapes.emplace_back(h, w);
    shape_values.push_back(h);
    shape_values.push_back(w);
    src_flat.push_back(srcs[l].flatten(3).transpose(2, 3));
    mask_flat.push_back(masks[l].flatten(2));
    pos_flat.push_back(pos_embeds[l].flatten(3).transpose(2, 3) +
                       level_embed[static_cast<std::int64_t>(l)].view({1, 1, 1, -1}));
    // valid ratio (w, h) of frame 0's mask
    const auto m = masks[l].select(1, 0).logical_not();
    const auto valid_h = m.select(2, 0).sum(1).to(torch::kFloat32) / static_cast<double>(h);
    const auto valid_w = m.select(1, 0).sum(1).to(torch::kFloat32) / static_cast<double>(w);
    ratios.push_back(at::stack({valid_w, valid_h}, -1));
  }
  const auto device = srcs.front().device();
  state.spatial_shapes =
      at::tensor(shape_values, torch::TensorOptions().dtype(torch::kInt64))
          .view({-1, 2})
          .to(device);
  state.level_start_index = at::cat({state.spatial_shapes.new_zeros({1}),
                                     state.spatial_shapes.prod(1).cumsum(0).slice(0, 0, -1)});
  state.valid_ratios = at::stack(ratios, 1);
  state.mask_flatten = at::cat(mask_flat, 2);
  const auto src = at::cat(src_flat, 2);
  const auto pos = at::cat(pos_flat, 2);
  state.memory = encoder->forward(src, state.spatial_shapes, state.shapes,
                                  state.level_start_index, state.valid_ratios, pos,
                                  state.mask_flatten);
  return state;
}

DecoderOutput DeformableTransformerImpl::decode(const EncoderState& state,
                                                const torch::Tensor& query_embed,
                                                const std::vector<torch::Tensor>& values) {
  const auto n = state.memory.size(0), t = state.memory.size(1);
  const auto parts = query_embed.split(d_model, 1);
  const auto query_pos = parts[0].unsqueeze(0).expand({n, -1, -1});
  const auto tgt = parts[1].unsqueeze(0).expand({n, -1, -1});
  const auto reference = reference_points->forward(query_pos).sigmoid().unsqueeze(1).repeat(
      {1, t, 1, 1});
  return decoder->forward(tgt, reference, state.memory, state.spatial_shapes,
                          state.level_start_index, state.valid_ratios, query_pos,
                          state.mask_flatten, values);
}

}  // namespace vmt::model
