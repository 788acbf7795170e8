// One training clip and its ground truth, as tensors (what the dataset reader makes and the
// criterion reads). Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace vmt::train {

/// The ground-truth tracks of a clip of T frames of size H × W (N instances).
struct ClipTargets {
  torch::Tensor labels;  ///< [N] int64 category ids (= class logit index)
  torch::Tensor boxes;   ///< [N, T, 4] float (cx, cy, w, h) normalised; 0 where absent
  torch::Tensor masks;   ///< [N, T, H, W] float {0, 1}
  torch::Tensor valid;   ///< [N, T] bool: the instance is visible on the frame

  /// Number of instances N.
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  /// The same on `device`.
  ClipTargets to(const torch::Device& device) const;
};

/// A clip ready for the detector.
struct Clip {
  torch::Tensor frames;  ///< [T, 3, H, W] float, ImageNet-normalised RGB
  ClipTargets targets;

  /// The same on `device`.
  Clip to(const torch::Device& device) const;
};

/// Targets built from masks alone: boxes are the masks' tight boxes (normalised cx, cy, w, h of
/// the pixel extent [x0, x1 + 1)), valid where a mask has a pixel.
/// labels [N] int64, masks [N, T, H, W] float {0, 1}.
ClipTargets targets_from_masks(const torch::Tensor& labels, const torch::Tensor& masks);

}  // namespace vmt::train
