#include "matcher.h"

#include <torch/torch.h>

#include <vector>

#include "box_ops.h"
#include "hungarian.h"

namespace vmt::train {

namespace {

/// Focal-style class cost [Q, N].
torch::Tensor class_cost(const torch::Tensor& logits, const torch::Tensor& labels,
                         const MatcherWeights& w) {
  const auto p = logits.sigmoid();
  const auto neg = (1 - w.focal_alpha) * p.pow(w.focal_gamma) * (-(1 - p + 1e-8).log());
  const auto pos = w.focal_alpha * (1 - p).pow(w.focal_gamma) * (-(p + 1e-8).log());
  return (pos - neg).index_select(1, labels);
}

/// Box L1 and −GIoU costs [Q, N], averaged over each target's visible frames.
std::pair<torch::Tensor, torch::Tensor> box_costs(const torch::Tensor& boxes,
                                                  const ClipTargets& targets) {
  const auto tgt = targets.boxes.transpose(0, 1);             // [T, N, 4]
  const auto l1 = torch::cdist(boxes, tgt, 1.0);              // [T, Q, N]
  const auto giou = generalized_box_iou(box_cxcywh_to_xyxy(boxes.flatten(0, 1)),
                                        box_cxcywh_to_xyxy(tgt.flatten(0, 1)));
  const auto t = boxes.size(0), q = boxes.size(1), n = tgt.size(1);
  // keep the per-frame blocks only: [T*Q, T*N] → [T, Q, N]
  const auto per_frame = giou.view({t, q, t, n}).diagonal(0, 0, 2).permute({2, 0, 1});
  const auto valid = targets.valid.transpose(0, 1).unsqueeze(1).to(boxes.dtype());  // [T, 1, N]
  const auto count = valid.sum(0).clamp_min(1.0);                                   // [1, N]
  return {(l1 * valid).sum(0) / count, -(per_frame * valid).sum(0) / count};
}

/// Mask BCE and Dice costs [Q, N] over all frames and pixels.
std::pair<torch::Tensor, torch::Tensor> mask_costs(const torch::Tensor& mask_logits,
                                                   const torch::Tensor& masks) {
  const auto x = mask_logits.flatten(1);  // [Q, P]
  const auto t = masks.flatten(1).to(x.dtype());  // [N, P]
  const auto pixels = static_cast<double>(x.size(1));
  const auto bce = (torch::softplus(x).sum(1, true) - x.matmul(t.t())) / pixels;
  const auto p = x.sigmoid();
  const auto dice = 1 - (2 * p.matmul(t.t()) + 1) / (p.sum(1, true) + t.sum(1).unsqueeze(0) + 1);
  return {bce, dice};
}

}  // namespace

torch::Tensor matching_cost(const MatchInputs& inputs, const ClipTargets& targets,
                            const MatcherWeights& weights) {
  torch::NoGradGuard no_grad;
  const auto logits = inputs.logits.to(torch::kFloat32);
  const auto labels = targets.labels.to(logits.device());
  auto cost = weights.cls * class_cost(logits, labels, weights);
  const auto [l1, giou] = box_costs(inputs.boxes.to(torch::kFloat32), targets.to(logits.device()));
  cost = cost + weights.bbox * l1 + weights.giou * giou;
  if (inputs.mask_logits.defined() && (weights.mask != 0 || weights.dice != 0)) {
    const auto [bce, dice] = mask_costs(inputs.mask_logits.to(torch::kFloat32),
                                        targets.masks.to(logits.device()));
    cost = cost + weights.mask * bce + weights.dice * dice;
  }
  return cost.to(torch::kCPU, torch::kFloat64).contiguous();
}

Match hungarian_match(const MatchInputs& inputs, const ClipTargets& targets,
                      const MatcherWeights& weights) {
  const auto n = targets.size();
  if (n == 0) {
    const auto empty = torch::zeros({0}, torch::kInt64);
    return {empty, empty.clone()};
  }
  const auto cost = matching_cost(inputs, targets, weights);
  const auto pairs = linear_sum_assignment(
      std::span<const double>(cost.data_ptr<double>(), static_cast<std::size_t>(cost.numel())),
      cost.size(0), cost.size(1));
  std::vector<std::int64_t> q, t;
  for (const auto& [row, col] : pairs) {
    q.push_back(row);
    t.push_back(col);
  }
  return {torch::tensor(q, torch::kInt64), torch::tensor(t, torch::kInt64)};
}

}  // namespace vmt::train
