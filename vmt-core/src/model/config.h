// The sizes of the VMT video detector (SeqFormer-style deformable DETR + dynamic mask head), as
// one plain struct. Presets reproduce the official SysCV/vmt argument defaults used for the
// released YTVIS checkpoints (tools/inference.py with --masks; dataset YoutubeVIS → 42 classes).
// Internal to vmt-core (not a public header).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmt::model {

struct ModelConfig {
  // --- backbone (official backbone.py: torchvision ResNet with FrozenBatchNorm2d) ---
  std::string backbone = "resnet50";   ///< "resnet50" or "resnet101"
  bool dilation = false;               ///< DC5: dilation instead of stride in layer4
  double frozen_bn_eps = 1e-5;         ///< FrozenBatchNorm2d eps (added before rsqrt)

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
  std::vector<std::int64_t> backbone_channels() const { return {512, 1024, 2048}; }
  /// Blocks per ResNet stage ({3,4,6,3} for resnet50, {3,4,23,3} for resnet101).
  std::vector<std::int64_t> resnet_blocks() const;
  /// Input channels of the dynamic mask head: hidden_dim / 32.
  std::int64_t mask_feat_channels() const { return hidden_dim / 32; }
  /// Number of parameters the controller emits per instance (169 for the presets).
  std::int64_t num_dynamic_params() const;

  /// Throws vmt::Error(InvalidArgument) naming the first inconsistent field.
  void validate() const;
};

/// The official ResNet-50 model (checkpoint_r50_final.pth).
ModelConfig vmt_r50();
/// The official ResNet-101 model (checkpoint_r101_final.pth).
ModelConfig vmt_r101();
/// Official structure (ResNet-50, d_model 256 which the refinement head hard-codes, 4 levels),
/// with 1 encoder layer, 2 decoder layers, FFN 256 and 16 queries: fast on a CPU, for tests and
/// the demo model.
ModelConfig tiny();
/// The preset called `name` ("vmt_r50", "vmt_r101", "tiny"); throws vmt::Error(InvalidArgument).
ModelConfig preset(std::string_view name);

}  // namespace vmt::model
