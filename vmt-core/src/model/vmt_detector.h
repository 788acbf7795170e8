// The VMT video detector up to the coarse masks (official models/vmt.py DeformableDETR and the
// coarse branch of models/segmentation.py VMT): backbone, input projections, deformable
// transformer, class / box heads on the last decoder layer, the dynamic mask head's controller
// and the mask feature branch (MaskHeadSmallConv), and the dynamic convolutions that give the
// coarse mask logits at 1/4 resolution. The refinement (incoherent-region) head of VMT is not
// here; DetectorOutput carries everything it reads. Internal to vmt-core.
//
// A clip is T frames of one video: [T, 3, H, W], ImageNet-normalised (N = 1 in the shapes).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "backbone.h"
#include "config.h"
#include "deformable_transformer.h"
#include "stage_clock.h"

namespace vmt::model {

/// The multi-level, per-frame transformer input built from the backbone.
struct LevelInputs {
  std::vector<torch::Tensor> srcs;   ///< L × [1, T, C, H_l, W_l]  input_proj outputs
  std::vector<torch::Tensor> masks;  ///< L × [1, T, H_l, W_l] bool (true = padding)
  std::vector<torch::Tensor> pos;    ///< L × [1, T, C, H_l, W_l] sine encodings
};

/// The official DeformableDETR (attribute `detr` of VMT): transformer, class_embed and bbox_embed
/// (ModuleLists, one head per decoder layer: with_box_refine), query_embed (Embedding Q × 2C),
/// input_proj (per level Sequential(Conv2d, GroupNorm(32, C)); 1x1 convs from layer2..4, then
/// 3x3 stride-2 convs) and backbone (the Joiner).
struct DeformableDETRImpl : torch::nn::Module {
  explicit DeformableDETRImpl(const ModelConfig& config);

  /// The input projections of the backbone stages (official inference, frames folded into N=1).
  /// joined: backbone output of [T, 3, H, W]; mask: [T, H, W] bool padding mask.
  LevelInputs project(const JoinedFeatures& joined, const torch::Tensor& mask);

  ModelConfig config;
  DeformableTransformer transformer{nullptr};
  torch::nn::ModuleList class_embed{nullptr};
  torch::nn::ModuleList bbox_embed{nullptr};
  torch::nn::Embedding query_embed{nullptr};
  torch::nn::ModuleList input_proj{nullptr};
  Joiner backbone{nullptr};
};
TORCH_MODULE(DeformableDETR);

/// The official MaskHeadSmallConv (no FPN adapters): an FPN-style top-down merge of the encoder
/// memory of levels 8/16/32 (lay3, lay4), then dcn (a plain 3x3 conv), lay1 (C → C/4) and
/// lay2 (C/4 → C/32), each followed by ReLU.
struct MaskHeadSmallConvImpl : torch::nn::Module {
  MaskHeadSmallConvImpl(std::int64_t dim, std::int64_t context_dim);
  /// levels: memory of the first three levels as [B, C, H_l, W_l] (strides 8, 16, 32).
  /// Returns {mask features [B, C/32, H/8, W/8], merged features before dcn [B, C, H/8, W/8]}
  /// (the second is what the official refinement head reads through lay_hr1).
  std::pair<torch::Tensor, torch::Tensor> forward(const std::vector<torch::Tensor>& levels);

  torch::nn::Conv2d lay1{nullptr}, lay2{nullptr}, lay3{nullptr}, lay4{nullptr}, dcn{nullptr};
};
TORCH_MODULE(MaskHeadSmallConv);

/// Everything the detector computes for one clip of T frames (Q queries, C channels).
struct DetectorOutput {
  torch::Tensor pred_logits;      ///< [1, Q, num_classes] class logits (sigmoid scores)
  torch::Tensor pred_boxes;       ///< [1, T, Q, 4] (cx, cy, w, h) normalised to the input size
  torch::Tensor hs;               ///< [1, Q, C] instance embeddings of the last decoder layer
  torch::Tensor hs_box;           ///< [1, T, Q, C] per-frame box embeddings of the last layer
  torch::Tensor reference;        ///< [1, T, Q, 4] inverse_sigmoid of the last layer's reference
  torch::Tensor reference_points; ///< [1, T, Q, 2] instance centres in input pixels (x, y)
  torch::Tensor mask_head_params; ///< [1, Q, P] dynamic-conv parameters (controller)
  torch::Tensor memory;           ///< [1, T, S, C] encoder output
  std::vector<std::pair<std::int64_t, std::int64_t>> spatial_shapes;  ///< (H_l, W_l)
  torch::Tensor mask_feats;       ///< [T, C/32, H/8, W/8] MaskHeadSmallConv output
  torch::Tensor mask_feats_c;     ///< [T, C, H/8, W/8] its merged features before dcn
  torch::Tensor c1;               ///< [T, 64, H/2, W/2] backbone conv1 output (refinement input)
  torch::Tensor layer1;           ///< [T, 256, H/4, W/4] backbone layer1 (refinement input)
  std::int64_t input_height = 0, input_width = 0;
  /// Every decoder layer's outputs (the heads above are the last one's); layer_heads() turns an
  /// earlier layer's into predictions for the auxiliary training losses.
  std::vector<DecoderLayerOutput> decoder_layers;

  /// Frames [begin, end) of the clip: the per-frame tensors sliced (views), the per-tube ones
  /// (pred_logits, hs, mask_head_params) kept, decoder_layers dropped. What the mask heads and
  /// the refinement read, for the frames whose masks are wanted.
  DetectorOutput frames(std::int64_t begin, std::int64_t end) const;
};

/// The per-frame part of the detector for T frames: backbone, input projections, encoder and
/// mask-feature branch. Without padding (every engine input) every tensor here is a function of
/// its own frame only — the encoder's deformable attention samples the frame's own pyramid, and
/// the valid ratios are 1 — so the features of a tube are the concatenation of its frames'
/// features (the online feature cache relies on this).
struct FrameFeatures {
  torch::Tensor memory;            ///< [1, T, S, C] encoder output
  torch::Tensor mask_flatten;      ///< [1, T, S] bool (all false)
  torch::Tensor spatial_shapes;    ///< [L, 2] int64 (H_l, W_l)
  torch::Tensor level_start_index; ///< [L] int64
  torch::Tensor valid_ratios;      ///< [1, L, 2] (all 1: no padding)
  std::vector<std::pair<std::int64_t, std::int64_t>> shapes;  ///< (H_l, W_l) on the host
  torch::Tensor mask_feats;        ///< [T, C/32, H/8, W/8]
  torch::Tensor mask_feats_c;      ///< [T, C, H/8, W/8]
  torch::Tensor c1;                ///< [T, 64, H/2, W/2]
  torch::Tensor layer1;            ///< [T, 256, H/4, W/4]
  /// Per decoder layer, its cross attention's value projection of `memory` [1, T, S, C]: the
  /// decoder's largest per-frame cost, so it is computed once per frame too.
  std::vector<torch::Tensor> decoder_values;
  std::int64_t input_height = 0, input_width = 0;

  /// Number of frames T.
  std::int64_t frames() const { return mask_flatten.defined() ? mask_flatten.size(1) : 0; }
  /// Frames [begin, end) (views, no copy); undefined fields stay undefined.
  FrameFeatures slice(std::int64_t begin, std::int64_t end) const;
  /// The frames of `parts` in order (all of one input size); a field that some part lacks is
  /// undefined in the result. Throws on an empty list.
  static FrameFeatures cat(const std::vector<FrameFeatures>& parts);
};


/// The official VMT module's detector part: `detr`, `controller` (MLP C → C → P) and
/// `mask_head`. named_parameters()/named_buffers() use the official state_dict keys (the
/// refinement keys — controller_inc, controller_refine, lay_hr1, lay1_h, lay2_h, lay_hr1_c,
/// conv_norm_relus_fuse_*, encoder — belong to the refinement head).
struct VmtDetectorImpl : torch::nn::Module {
  explicit VmtDetectorImpl(const ModelConfig& config);

  /// frames [T, 3, H, W] float; mask [T, H, W] bool (true = padding) or undefined (no padding).
  /// Computes logits, boxes, embeddings and mask features; no masks (see coarse_mask_logits).
  /// `times`, when given, receives per-stage times (synchronising the device between stages).
  DetectorOutput forward(const torch::Tensor& frames, const torch::Tensor& mask = {},
                         StageTimes* times = nullptr);

  /// The per-frame stage of forward() for unpadded frames [T, 3, H, W]: backbone, input
  /// projections, encoder, mask features. `times` gets backbone_ms, encoder_ms, heads_ms.
  FrameFeatures encode_frames(const torch::Tensor& frames, StageTimes* times = nullptr);
  /// The tube stage: decoder and heads on the features of all the tube's frames. Together,
  /// decode_tube(encode_frames(x)) is forward(x) (the same operations; tested bit-exact).
  /// `times` gets decoder_ms, heads_ms.
  DetectorOutput decode_tube(const FrameFeatures& features, StageTimes* times = nullptr);

  /// The predictions of decoder layer `layer` (0 … dec_layers − 1) of `out`: a copy of `out`
  /// whose heads (pred_logits, pred_boxes, hs, hs_box, reference, reference_points,
  /// mask_head_params) are that layer's (the official aux_outputs; the last layer gives `out`'s
  /// own heads). coarse_mask_logits works on the result.
  DetectorOutput layer_heads(const DetectorOutput& out, std::size_t layer);

  /// Coarse mask logits of the queries `query_indices` ([K] int64): the dynamic convolutions of
  /// the official dynamic_mask_with_coords on the mask features at stride 8 with relative
  /// coordinates, upsampled ×2 (aligned_bilinear). Returns [K, T, H/4, W/4].
  torch::Tensor coarse_mask_logits(const DetectorOutput& out, const torch::Tensor& query_indices);
  /// The same before the upsampling (the official mask_logits_c): [K, T, H/8, W/8].
  torch::Tensor coarse_mask_logits_s8(const DetectorOutput& out,
                                      const torch::Tensor& query_indices);

  ModelConfig config;
  DeformableDETR detr{nullptr};
  MLP controller{nullptr};
  MaskHeadSmallConv mask_head{nullptr};

 private:
  /// Layer `layer`'s class / box heads and mask controller on its decoder outputs, into `out`.
  void apply_heads(const DecoderLayerOutput& layer_out, std::size_t layer,
                   DetectorOutput& out);
  /// The mask head on the encoder memory's levels at strides 8, 16, 32 (frames as the batch).
  std::pair<torch::Tensor, torch::Tensor> mask_features(
      const torch::Tensor& memory,
      const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes);
};
TORCH_MODULE(VmtDetector);

/// The official aligned_bilinear: upsamples [B, C, H, W] by an integer factor keeping pixel
/// centres aligned → [B, C, factor * H, factor * W].
torch::Tensor aligned_bilinear(const torch::Tensor& x, std::int64_t factor);

}  // namespace vmt::model
