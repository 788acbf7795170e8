// The sizes of the VMT video detector (SeqFormer-style deformable DETR + dynamic mask head), as
// one plain struct. Presets reproduce the official SysCV/vmt argument defaults used for the
// released YTVIS checkpoints (tools/inference.py with --masks; dataset YoutubeVIS → 42 classes).
// Internal to vmt-core (not a public header).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dynamic_conv_layout.h"

namespace vmt::model {

struct ModelConfig {
  /// The preset this configuration came from ("vmt_r50", "small", ...); "" for a custom one.
  /// Informational (stored in model files); it does not change the architecture.
  std::string preset;

  // --- backbone (official backbone.py: torchvision ResNet with FrozenBatchNorm2d) ---
  std::string backbone = "resnet50";   ///< "resnet50" or "resnet101"
  bool dilation = false;               ///< DC5: dilation instead of stride in layer4
  double frozen_bn_eps = 1e-5;         ///< FrozenBatchNorm2d eps (added before rsqrt)
  /// Bottleneck widths ("planes") of layer1..layer4; each stage outputs 4× its width.
  /// torchvision / official: {64, 128, 256, 512}. Narrower stages only for the `small` and
  /// `fast` presets (layer1's 4 × planes[0] channels must equal hidden_dim: the refinement head
  /// adds its lay_hr1 output to layer1).
  std::vector<std::int64_t> resnet_planes{64, 128, 256, 512};
  /// Blocks per stage; empty = the standard depths of `backbone`.
  std::vector<std::int64_t> resnet_depths{};

  // --- position encoding (PositionEmbeddingSine, N_steps = hidden_dim / 2) ---
  double position_temperature = 10000.0;
  bool position_normalize = true;
  double position_scale = 6.283185307179586;  ///< 2π

  // --- deformable transformer ---
  std::int64_t hidden_dim = 256;
  std::int64_t nheads = 8;
  std::int64_t enc_layers = 6;
  std::int64_t dec_layers = 6;
  std::int64_t dim_feedforward = 1024;
  std::int64_t num_feature_levels = 4;
  std::int64_t enc_n_points = 4;
  std::int64_t dec_n_points = 4;
  std::int64_t num_queries = 300;
  bool with_box_refine = true;        ///< iterative box refinement (one head per decoder layer)

  // --- heads ---
  std::int64_t num_classes = 42;      ///< YTVIS checkpoints: 42 logits
  std::int64_t dynamic_mask_channels = 8;
  std::int64_t controller_layers = 3; ///< dynamic conv layers generated per instance
  std::int64_t mask_out_stride = 4;   ///< coarse mask logits are at 1/4 of the input
  bool rel_coord = true;              ///< relative coordinates as dynamic-head input

  /// Output channels of the backbone stages the input projections read (layer2..layer4).
  /// ({512, 1024, 2048} for ResNet-50/101: 4 × resnet_planes[1..3]).
  std::vector<std::int64_t> backbone_channels() const {
    return {4 * resnet_planes.at(1), 4 * resnet_planes.at(2), 4 * resnet_planes.at(3)};
  }
  /// Output channels of conv1 (c1): fixed at 64, the refinement head's point features.
  static constexpr std::int64_t stem_channels = 64;
  /// Output channels of layer1 (4 × resnet_planes[0]; 256 for ResNet-50/101).
  std::int64_t layer1_channels() const { return 4 * resnet_planes.at(0); }
  /// Blocks per ResNet stage: resnet_depths if set, else {3,4,6,3} for resnet50,
  /// {3,4,23,3} for resnet101.
  std::vector<std::int64_t> resnet_blocks() const;
  /// Input channels of the dynamic mask head: hidden_dim / 32.
  std::int64_t mask_feat_channels() const { return hidden_dim / 32; }
  /// The coarse mask head's dynamic convolutions (`controller`): mask features and, with
  /// rel_coord, 2 relative coordinates in; its num_params() is what the controller emits (169
  /// for the presets).
  DynamicConvLayout mask_head_layout() const {
    return {mask_feat_channels() + (rel_coord ? 2 : 0), dynamic_mask_channels, controller_layers};
  }
  /// The incoherent-level and refinement heads' (`controller_inc`, `controller_refine`): mask
  /// features + 3 channels in (177 parameters for the presets).
  DynamicConvLayout refine_head_layout() const {
    return {mask_feat_channels() + 3, dynamic_mask_channels, controller_layers};
  }

  /// Throws vmt::Error(InvalidArgument) naming the first inconsistent field.
  void validate() const;

  // --- refinement head (official VMT.inference; model/refinement_head.h) ---
  std::int64_t refine_queries = 10;        ///< queries refined: those of the top-10 scores
  std::int64_t refine_point_limit = 12000; ///< incoherent points per frame (official point_limit)
  /// Feed-forward width of the point transformer's layers (official nn.TransformerEncoderLayer
  /// default 2048).
  std::int64_t point_feedforward = 2048;
  /// Width of the four dilated fusion branches conv_norm_relus_fuse_all_* (official 32).
  std::int64_t fuse_channels = 32;
  /// false for a model whose refinement head was not trained (e.g. the demo model): the engine
  /// then returns the coarse masks of the dynamic mask head instead of the refined ones.
  bool use_refinement = true;
};

/// The official ResNet-50 model (checkpoint_r50_final.pth).
ModelConfig vmt_r50();
/// The official ResNet-101 model (checkpoint_r101_final.pth).
ModelConfig vmt_r101();
/// Official structure (ResNet-50, d_model 256, 4 levels) with 1 encoder layer, 2 decoder layers,
/// FFN 256 and 16 queries: fast on a CPU, for the parity tests.
ModelConfig tiny();
/// `tiny`'s transformer (1 decoder layer, FFN 128, 16 queries) on a narrow, one-block-per-stage
/// bottleneck ResNet (planes {64, 32, 48, 64}; c1 and layer1 keep 64 / 256 channels for the
/// refinement head): a model file of a few MB, for tests and the demo model. No official
/// counterpart (the official backbone is always a torchvision ResNet-50/101).
ModelConfig small();
/// The demo model's architecture for real time on 2 CPU cores: `small`'s transformer depth on
/// hidden_dim 64 (layer1 planes 16), a point transformer with FFN 128 and fusion branches of 16
/// channels; about a fifth of `small`'s multiply-adds per frame, half its time on 2 CPU cores
/// (docs/benchmarks.md). No official counterpart.
ModelConfig fast();
/// The preset called `name` ("vmt_r50", "vmt_r101", "tiny", "small", "fast"); throws
/// vmt::Error(InvalidArgument).
ModelConfig preset(std::string_view name);
/// The names preset() accepts.
std::vector<std::string> preset_names();

/// The configuration as a JSON object text (every field, plus "preset"): the `vmt.config`
/// metadata of model files.
std::string config_to_json(const ModelConfig& config);
/// Parses config_to_json's text. Missing fields keep ModelConfig's defaults (vmt_r50); unknown
/// fields, wrong types or malformed JSON throw vmt::Error(CorruptData); the result is validated
/// (vmt::Error(InvalidArgument) naming the field).
ModelConfig config_from_json(std::string_view text);

}  // namespace vmt::model
