// Box helpers of the official util/box_ops.py. Internal to vmt-core.
#pragma once

#include <torch/types.h>

namespace vmt::train {

/// [..., 4] (cx, cy, w, h) → [..., 4] (x0, y0, x1, y1).
torch::Tensor box_cxcywh_to_xyxy(const torch::Tensor& boxes);

/// Pairwise generalised IoU of xyxy boxes a [N, 4] and b [M, 4] → [N, M].
torch::Tensor generalized_box_iou(const torch::Tensor& a, const torch::Tensor& b);

/// Element-wise generalised IoU of xyxy boxes a [N, 4] and b [N, 4] → [N] (the diagonal of the
/// pairwise matrix, without computing the rest).
torch::Tensor generalized_box_iou_aligned(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace vmt::train
