#include "box_ops.h"

#include <torch/torch.h>

namespace vmt::train {

torch::Tensor box_cxcywh_to_xyxy(const torch::Tensor& boxes) {
  const auto c = boxes.unbind(-1);
  return torch::stack({c[0] - 0.5 * c[2], c[1] - 0.5 * c[3], c[0] + 0.5 * c[2], c[1] + 0.5 * c[3]},
                      -1);
}

namespace {

/// Area of xyxy boxes [..., 4] → [...].
torch::Tensor box_area(const torch::Tensor& b) {
  return (b.select(-1, 2) - b.select(-1, 0)) * (b.select(-1, 3) - b.select(-1, 1));
}

/// GIoU from broadcastable a [..., 4] and b [..., 4].
torch::Tensor giou_broadcast(const torch::Tensor& a, const torch::Tensor& b) {
  const auto area_a = box_area(a), area_b = box_area(b);
  const auto lt = torch::max(a.narrow(-1, 0, 2), b.narrow(-1, 0, 2));
  const auto rb = torch::min(a.narrow(-1, 2, 2), b.narrow(-1, 2, 2));
  const auto wh = (rb - lt).clamp_min(0);
  const auto inter = wh.select(-1, 0) * wh.select(-1, 1);
  const auto uni = area_a + area_b - inter;
  const auto iou = inter / uni.clamp_min(1e-7);
  const auto lt_c = torch::min(a.narrow(-1, 0, 2), b.narrow(-1, 0, 2));
  const auto rb_c = torch::max(a.narrow(-1, 2, 2), b.narrow(-1, 2, 2));
  const auto wh_c = (rb_c - lt_c).clamp_min(0);
  const auto enclosing = (wh_c.select(-1, 0) * wh_c.select(-1, 1)).clamp_min(1e-7);
  return iou - (enclosing - uni) / enclosing;
}

}  // namespace

torch::Tensor generalized_box_iou(const torch::Tensor& a, const torch::Tensor& b) {
  return giou_broadcast(a.unsqueeze(1), b.unsqueeze(0));
}

torch::Tensor generalized_box_iou_aligned(const torch::Tensor& a, const torch::Tensor& b) {
  return giou_broadcast(a, b);
}

}  // namespace vmt::train
