// Sine position encoding of a feature map (official models/position_encoding.py,
// PositionEmbeddingSine). Internal to vmt-core.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace vmt::model {

/// The "Attention is all you need" sine/cosine encoding over (y, x), generalised to images.
/// With normalize (the official setting), the cumulative row/column index of the unpadded pixels
/// is shifted by -0.5, divided by the last value (+1e-6) and multiplied by `scale` (2π); the
/// frequency of channel pair k is temperature^(2k / num_pos_feats). No parameters.
struct PositionEmbeddingSineImpl : torch::nn::Module {
  /// num_pos_feats: channels per axis (hidden_dim / 2, the official N_steps).
  PositionEmbeddingSineImpl(std::int64_t num_pos_feats, double temperature, bool normalize,
                            double scale);

  /// mask: [N, H, W] bool, true on padded pixels. Returns [N, 2 * num_pos_feats, H, W] float32:
  /// the y encoding (sin/cos interleaved) first, then the x encoding.
  torch::Tensor forward(const torch::Tensor& mask) const;

  std::int64_t num_pos_feats;
  double temperature;
  bool normalize;
  double scale;
};
TORCH_MODULE(PositionEmbeddingSine);

}  // namespace vmt::model
