// The parameter layout of VMT's dynamic mask heads (official parse_dynamic_params), torch-free so
// that ModelConfig can count parameters; the convolutions themselves are in dynamic_conv.h.
// Internal to vmt-core.
#pragma once

#include <cstdint>
#include <vector>

namespace vmt::model {

/// The parameter layout of one instance's convolutions: `layers` 1×1 convolutions
/// in_channels → channels → … → channels → 1, each with a bias; the parameter vector holds every
/// layer's weights first (layer 0 … layers−1), then every layer's biases.
struct DynamicConvLayout {
  std::int64_t in_channels = 0;
  std::int64_t channels = 8;
  std::int64_t layers = 3;

  /// Input / output channels of layer `l`.
  std::int64_t layer_in(std::int64_t l) const { return l == 0 ? in_channels : channels; }
  std::int64_t layer_out(std::int64_t l) const { return l == layers - 1 ? 1 : channels; }
  /// Sizes of the 2 · layers chunks of the parameter vector (weights, then biases).
  std::vector<std::int64_t> split_sizes() const;
  /// Total number of parameters per instance (169 for the coarse head of the presets, 177 for
  /// the incoherent and refinement heads).
  std::int64_t num_params() const;
};

}  // namespace vmt::model
