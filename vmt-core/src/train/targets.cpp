#include "targets.h"

#include <torch/torch.h>

namespace vmt::train {

ClipTargets ClipTargets::to(const torch::Device& device) const {
  return {labels.to(device), boxes.to(device), masks.to(device), valid.to(device)};
}

Clip Clip::to(const torch::Device& device) const { return {frames.to(device), targets.to(device)}; }

ClipTargets targets_from_masks(const torch::Tensor& labels, const torch::Tensor& masks) {
  const auto n = masks.size(0), t = masks.size(1), h = masks.size(2), w = masks.size(3);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(masks.device());
  const auto rows = masks.amax(3) > 0.5;  // [N, T, H]
  const auto cols = masks.amax(2) > 0.5;  // [N, T, W]
  const auto valid = rows.any(2);
  // First / last occupied index along an axis: argmax on a ramp masked by occupancy.
  auto extent = [&](const torch::Tensor& occ, std::int64_t len) {
    const auto ramp = torch::arange(len, opts);
    const auto hi = torch::where(occ, ramp, torch::full({}, -1.0, opts)).amax(-1);
    const auto lo = torch::where(occ, ramp, torch::full({}, static_cast<double>(len), opts)).amin(-1);
    return std::pair{lo, hi + 1};
  };
  const auto [y0, y1] = extent(rows, h);
  const auto [x0, x1] = extent(cols, w);
  auto boxes = torch::stack({(x0 + x1) / (2.0 * w), (y0 + y1) / (2.0 * h), (x1 - x0) / w,
                             (y1 - y0) / h}, -1);
  boxes = torch::where(valid.unsqueeze(-1), boxes, torch::zeros({}, opts));
  (void)n;
  (void)t;
  return {labels.to(torch::kInt64), boxes, masks.to(torch::kFloat32), valid};
}

}  // namespace vmt::train
