// The SeqFormer-style deformable transformer of VMT (official models/deformable_transformer.py
// and models/ops/modules/ms_deform_attn.py): a per-frame multi-scale deformable encoder and a
// decoder whose instance queries are shared by all frames of the tube while each frame keeps its
// own box query and box reference. Shapes: N clips (1 at inference), T frames, S = sum of
// H_l * W_l over the L levels, Q queries, C = d_model, M heads, P points. Internal to vmt-core.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "config.h"

namespace vmt::model {

/// inverse_sigmoid of the official util/misc.py: log(x / (1 - x)) with both clamped to >= 1e-5.
torch::Tensor inverse_sigmoid(const torch::Tensor& x, double eps = 1e-5);

/// The official MLP ("FFN"): `layers`, a ModuleList of num_layers Linear layers, ReLU between.
struct MLPImpl : torch::nn::Module {
  MLPImpl(std::int64_t input_dim, std::int64_t hidden_dim, std::int64_t output_dim,
          std::int64_t num_layers);
  /// x: [..., input_dim] → [..., output_dim]
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(MLP);

/// Multi-scale deformable attention (MSDeformAttn) in the official two modes. Sub-modules:
/// sampling_offsets, attention_weights, value_proj, output_proj, output_proj_box (the last one
/// exists, unused, in the encoder's copies too, as in the official checkpoints).
struct MSDeformAttnImpl : torch::nn::Module {
  MSDeformAttnImpl(std::int64_t d_model, std::int64_t n_levels, std::int64_t n_heads,
                   std::int64_t n_points);

  /// Encoder mode: every frame attends to its own feature pyramid.
  ///   query             [N, T, S, C]   (features + position + level embedding)
  ///   reference_points  [N, S, L, 2]   normalised (x, y), shared by the frames
  ///   input             [N, T, S, C]
  ///   spatial_shapes    [L, 2] int64, level_start_index [L] int64
  ///   padding_mask      [N, T, S] bool (true = padding) or undefined
  ///   returns           [N, T, S, C]
  torch::Tensor encode(const torch::Tensor& query, const torch::Tensor& reference_points,
                       const torch::Tensor& input, const torch::Tensor& spatial_shapes,
                       const torch::Tensor& level_start_index, const torch::Tensor& padding_mask);

  /// Decoder mode: offsets and weights come from the box query (shared by the frames in the
  /// first layer, [N, Q, C]; per frame afterwards, [N, T, Q, C]); each frame samples its own
  /// memory around its own reference.
  ///   reference_points  [N, T, Q, L, 2] (x, y) or [N, T, Q, L, 4] (cx, cy, w, h), normalised
  ///   input             [N, T, S, C];  padding_mask [N, T, S] bool or undefined
  ///   value             value_proj(input) [N, T, S, C] computed beforehand (a frame's own,
  ///                     cacheable: see project_value) or undefined (computed from `input`)
  ///   returns           {output_proj(out), output_proj_box(out)}, both [N, T, Q, C]
  std::pair<torch::Tensor, torch::Tensor> decode(const torch::Tensor& query_box,
                                                 const torch::Tensor& reference_points,
                                                 const torch::Tensor& input,
                                                 const torch::Tensor& spatial_shapes,
                                                 const torch::Tensor& level_start_index,
                                                 const torch::Tensor& padding_mask,
                                                 const torch::Tensor& value = {});

  /// value_proj(input) zeroed at padding: [N, T, S, C]. Each frame's rows depend on that frame
  /// alone, so the values of cached frames can be kept (the decoder's largest per-frame cost).
  torch::Tensor project_value(const torch::Tensor& input, const torch::Tensor& padding_mask);

  std::int64_t d_model, n_levels, n_heads, n_points;
  torch::nn::Linear sampling_offsets{nullptr}, attention_weights{nullptr}, value_proj{nullptr},
      output_proj{nullptr}, output_proj_box{nullptr};

};
TORCH_MODULE(MSDeformAttn);

/// One encoder layer: deformable self-attention + add & LayerNorm (norm1), FFN (linear1, ReLU,
/// linear2) + add & LayerNorm (norm2). Dropout is the identity at inference.
struct DeformableTransformerEncoderLayerImpl : torch::nn::Module {
  DeformableTransformerEncoderLayerImpl(std::int64_t d_model, std::int64_t d_ffn,
                                        std::int64_t n_levels, std::int64_t n_heads,
                                        std::int64_t n_points);
  /// src, pos: [N, T, S, C]; reference_points [N, S, L, 2]; padding_mask [N, T, S] or undefined.
  /// Returns [N, T, S, C].
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& pos,
                        const torch::Tensor& reference_points, const torch::Tensor& spatial_shapes,
                        const torch::Tensor& level_start_index, const torch::Tensor& padding_mask);

  MSDeformAttn self_attn{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
};
TORCH_MODULE(DeformableTransformerEncoderLayer);

/// The encoder: `layers` (a ModuleList of encoder layers).
struct DeformableTransformerEncoderImpl : torch::nn::Module {
  DeformableTransformerEncoderImpl(const ModelConfig& config);
  /// Pixel centres of every level, normalised by the valid size and rescaled to each level:
  /// shapes (H_l, W_l) on the host (reading a device tensor's values would synchronise),
  /// valid_ratios [N, L, 2] (w, h) → [N, S, L, 2].
  static torch::Tensor reference_points(
      const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes,
      const torch::Tensor& valid_ratios);
  /// src, pos [N, T, S, C]; spatial_shapes [L, 2] int64 holding `shapes`, the same (H_l, W_l) on
  /// the host; valid_ratios [N, L, 2]; padding_mask [N, T, S]. Returns [N, T, S, C].
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& spatial_shapes,
                        const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes,
                        const torch::Tensor& level_start_index, const torch::Tensor& valid_ratios,
                        const torch::Tensor& pos, const torch::Tensor& padding_mask);

  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(DeformableTransformerEncoder);

/// One decoder layer with two streams: the instance query `tgt` [N, Q, C] (one per tube) and the
/// box query `tgt_box` ([N, Q, C] before the first layer, [N, T, Q, C] after). Each stream has
/// self-attention (self_attn / self_attn_box, nn.MultiheadAttention), the deformable cross
/// attention (cross_attn, shared) and an FFN; the per-frame results are pooled into the instance
/// query with softmax-over-frames weights from time_attention_weights.
struct DeformableTransformerDecoderLayerImpl : torch::nn::Module {
  DeformableTransformerDecoderLayerImpl(std::int64_t d_model, std::int64_t d_ffn,
                                        std::int64_t n_levels, std::int64_t n_heads,
                                        std::int64_t n_points);
  /// tgt [N, Q, C]; tgt_box [N, Q, C] or [N, T, Q, C]; query_pos [N, Q, C];
  /// reference_points [N, T, Q, L, 2|4]; src [N, T, S, C]; padding_mask [N, T, S] or undefined.
  /// Returns {tgt [N, Q, C], tgt_box [N, T, Q, C]}.
  /// `value`: cross_attn's projection of src, computed beforehand, or undefined.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& tgt,
                                                  const torch::Tensor& tgt_box,
                                                  const torch::Tensor& query_pos,
                                                  const torch::Tensor& reference_points,
                                                  const torch::Tensor& src,
                                                  const torch::Tensor& spatial_shapes,
                                                  const torch::Tensor& level_start_index,
                                                  const torch::Tensor& padding_mask,
                                                  const torch::Tensor& value = {});

  MSDeformAttn cross_attn{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm1_box{nullptr};
  torch::nn::MultiheadAttention self_attn{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  torch::nn::MultiheadAttention self_attn_box{nullptr};
  torch::nn::LayerNorm norm2_box{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm3{nullptr};
  torch::nn::Linear linear1_box{nullptr}, linear2_box{nullptr};
  torch::nn::LayerNorm norm3_box{nullptr};
  torch::nn::Linear time_attention_weights{nullptr};
};
TORCH_MODULE(DeformableTransformerDecoderLayer);

/// One decoder layer's outputs: what a layer's heads read.
struct DecoderLayerOutput {
  torch::Tensor hs;               ///< [N, Q, C]     instance queries after the layer
  torch::Tensor hs_box;           ///< [N, T, Q, C]  box queries after the layer
  torch::Tensor reference;        ///< [N, T, Q, 4|2] reference the layer started from
                                  ///<   (sigmoid space; 2 only for the first layer)
};

/// What the decoder hands to the heads (the official inference reads only the last layer; the
/// training criterion also reads the others: auxiliary losses).
struct DecoderOutput {
  torch::Tensor hs;               ///< [N, Q, C]     instance queries after the last layer
  torch::Tensor hs_box;           ///< [N, T, Q, C]  box queries after the last layer
  torch::Tensor last_reference;   ///< [N, T, Q, 4|2] reference the last layer started from
                                  ///<   (sigmoid space; 2 only with a single layer)
  torch::Tensor final_reference;  ///< [N, T, Q, 4]  reference refined by the last layer
  std::vector<DecoderLayerOutput> layers;  ///< every layer's outputs, first to last (views)
};

/// The decoder: `layers`, and `bbox_embed` (the detector's per-layer box MLPs, registered here
/// too as in the official code, for iterative box refinement).
struct DeformableTransformerDecoderImpl : torch::nn::Module {
  DeformableTransformerDecoderImpl(const ModelConfig& config);
  /// Registers the detector's box heads (a ModuleList of MLPs, one per layer) as "bbox_embed".
  void set_bbox_embed(torch::nn::ModuleList heads);
  /// tgt, query_pos [N, Q, C]; reference_points [N, T, Q, 2]; src [N, T, S, C];
  /// valid_ratios [N, L, 2]; padding_mask [N, T, S] or undefined.
  /// `values`: per layer, its cross attention's projection of src (project_values), or empty.
  DecoderOutput forward(const torch::Tensor& tgt, const torch::Tensor& reference_points,
                        const torch::Tensor& src, const torch::Tensor& spatial_shapes,
                        const torch::Tensor& level_start_index, const torch::Tensor& valid_ratios,
                        const torch::Tensor& query_pos, const torch::Tensor& padding_mask,
                        const std::vector<torch::Tensor>& values = {});
  /// Every layer's cross-attention value projection of an unpadded src [N, T, S, C].
  std::vector<torch::Tensor> project_values(const torch::Tensor& src);

  torch::nn::ModuleList layers{nullptr};
  torch::nn::ModuleList bbox_embed{nullptr};
};
TORCH_MODULE(DeformableTransformerDecoder);

/// The flattened multi-level, multi-frame input of the encoder, and its output.
struct EncoderState {
  torch::Tensor memory;             ///< [N, T, S, C] encoder output
  torch::Tensor mask_flatten;       ///< [N, T, S] bool
  torch::Tensor spatial_shapes;     ///< [L, 2] int64 (H_l, W_l)
  torch::Tensor level_start_index;  ///< [L] int64
  torch::Tensor valid_ratios;       ///< [N, L, 2] (w, h) valid fraction of frame 0's padding mask
  std::vector<std::pair<std::int64_t, std::int64_t>> shapes;  ///< (H_l, W_l) on the host
};

/// DeformableTransformer: level_embed [L, C], encoder, decoder, reference_points (Linear C → 2).
struct DeformableTransformerImpl : torch::nn::Module {
  explicit DeformableTransformerImpl(const ModelConfig& config);
  /// srcs, pos_embeds: L × [N, T, C, H_l, W_l]; masks: L × [N, T, H_l, W_l] bool.
  EncoderState encode(const std::vector<torch::Tensor>& srcs,
                      const std::vector<torch::Tensor>& masks,
                      const std::vector<torch::Tensor>& pos_embeds);
  /// query_embed [Q, 2C] (query position, then target). `values`: the decoder layers' value
  /// projections of state.memory (DeformableTransformerDecoder::project_values) or empty.
  DecoderOutput decode(const EncoderState& state, const torch::Tensor& query_embed,
                       const std::vector<torch::Tensor>& values = {});

  std::int64_t d_model, nhead, num_feature_levels;
  torch::Tensor level_embed;
  DeformableTransformerEncoder encoder{nullptr};
  DeformableTransformerDecoder decoder{nullptr};
  torch::nn::Linear reference_points{nullptr};
};
TORCH_MODULE(DeformableTransformer);

}  // namespace vmt::model
