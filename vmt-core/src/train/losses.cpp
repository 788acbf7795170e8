#include "losses.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "box_ops.h"

namespace vmt::train {

torch::Tensor sigmoid_focal_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                                 double normaliser, double alpha, double gamma) {
  const auto prob = logits.sigmoid();
  const auto ce = torch::binary_cross_entropy_with_logits(logits, targets, {}, {},
                                                          at::Reduction::None);
  const auto p_t = prob * targets + (1 - prob) * (1 - targets);
  auto loss = ce * (1 - p_t).pow(gamma);
  if (alpha >= 0) loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss;
  return loss.sum() / normaliser;
}

torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                        double normaliser) {
  const auto p = logits.sigmoid().flatten(1);
  const auto t = targets.flatten(1);
  const auto numerator = 2 * (p * t).sum(1);
  const auto denominator = p.sum(1) + t.sum(1);
  return (1 - (numerator + 1) / (denominator + 1)).sum() / normaliser;
}

torch::Tensor subsample_masks(const torch::Tensor& masks, std::int64_t stride) {
  using torch::indexing::Slice;
  const auto start = stride / 2;
  return masks.index({"...", Slice(start, torch::indexing::None, stride),
                      Slice(start, torch::indexing::None, stride)});
}

namespace {

/// Class loss: focal over all queries × classes against the one-hot of the matched labels.
torch::Tensor class_loss(const Predictions& pred, const ClipTargets& targets, const Match& m,
                         const LossWeights& w, double num_boxes) {
  auto onehot = torch::zeros_like(pred.logits);
  if (m.query_indices.numel() > 0) {
    const auto q = m.query_indices.to(onehot.device());
    const auto labels = targets.labels.index_select(0, m.target_indices.to(onehot.device()));
    onehot.index_put_({q, labels}, 1.0);
  }
  return sigmoid_focal_loss(pred.logits, onehot, num_boxes, w.focal_alpha, w.focal_gamma);
}

/// Targets subsampled to a logits map's stride, cropped to its size (the subsampled size can
/// exceed the logits by one where H / stride is not an integer). masks [N, T, H, W].
torch::Tensor targets_at(const torch::Tensor& masks, const torch::Tensor& logits) {
  const auto ratio = static_cast<double>(masks.size(2)) /
                     static_cast<double>(std::max<std::int64_t>(1, logits.size(-2)));
  const auto stride = std::max<std::int64_t>(1, std::lround(ratio));
  auto small = subsample_masks(masks, stride);
  return small.narrow(2, 0, std::min(small.size(2), logits.size(-2)))
      .narrow(3, 0, std::min(small.size(3), logits.size(-1)));
}

/// BCE (mean per map) and Dice of mask logits [R, h, w] against targets, both / R.
std::pair<torch::Tensor, torch::Tensor> mask_bce_dice(const torch::Tensor& logits,
                                                      const torch::Tensor& targets) {
  const auto t = targets.to(logits.dtype());
  const double rows = static_cast<double>(std::max<std::int64_t>(1, logits.size(0)));
  const auto bce = torch::binary_cross_entropy_with_logits(logits, t, {}, {}, at::Reduction::None)
                       .flatten(1).mean(1).sum() / rows;
  return {bce, dice_loss(logits, t, rows)};
}

}  // namespace

LossTerms refinement_losses(const model::RefinementTrace& trace, const torch::Tensor& target_masks,
                            const RefineLossWeights& w) {
  const auto k = trace.refined_s2.size(0);
  const auto targets = target_masks.to(trace.refined_s2.device());
  LossTerms terms;
  std::tie(terms["inc_mask"], terms["inc_dice"]) =
      mask_bce_dice(trace.inc_s4.flatten(0, 1), targets_at(targets, trace.inc_s4).flatten(0, 1));
  const auto targets_s2 = targets_at(targets, trace.refined_s2);  // [K, T, h2, w2]
  std::tie(terms["refined_mask"], terms["refined_dice"]) =
      mask_bce_dice(trace.refined_s2.flatten(0, 1), targets_s2.flatten(0, 1));

  std::vector<torch::Tensor> logits, labels;
  for (std::size_t f = 0; f < trace.point_indices.size(); ++f) {
    const auto& idx = trace.point_indices[f];
    if (idx.numel() == 0) continue;
    const auto frame = static_cast<std::int64_t>(f);
    logits.push_back(trace.refined_s2.select(1, frame).flatten(1).index_select(1, idx));
    labels.push_back(targets_s2.select(1, frame).flatten(1).index_select(1, idx));
  }
  if (logits.empty() || k == 0) {
    terms["point_l1"] = terms["point_dice"] = torch::zeros({}, trace.refined_s2.options());
  } else {
    const auto point_logits = torch::cat(logits, 1);                            // [K, P]
    const auto point_labels = torch::cat(labels, 1).to(point_logits.dtype());
    terms["point_l1"] = (point_logits.sigmoid() - point_labels).abs().mean(1).sum() / k;
    terms["point_dice"] = dice_loss(point_logits, point_labels, static_cast<double>(k));
  }
  terms["refine_total"] = w.point_l1 * terms["point_l1"] + w.point_dice * terms["point_dice"] +
                          w.inc_mask * terms["inc_mask"] + w.inc_dice * terms["inc_dice"] +
                          w.refined_mask * terms["refined_mask"] +
                          w.refined_dice * terms["refined_dice"];
  return terms;
}

LossTerms compute_losses(const Predictions& pred, const ClipTargets& targets,
                         const LossWeights& weights, const MatcherWeights& matcher,
                         Match* match_out) {
  const auto device = pred.logits.device();
  ClipTargets small = targets;
  small.masks = targets_at(targets.masks, pred.mask_logits);
  const Match m = hungarian_match({pred.logits.detach(), pred.boxes.detach(),
                                   pred.mask_logits.detach()}, small, matcher);
  if (match_out != nullptr) *match_out = m;

  const double num_boxes = std::max<double>(1.0, static_cast<double>(targets.size()));
  LossTerms terms;
  terms["cls"] = class_loss(pred, small, m, weights, num_boxes);
  const auto zero = torch::zeros({}, pred.logits.options());
  if (m.query_indices.numel() == 0) {
    for (const char* k : {"bbox", "giou", "mask", "dice"}) terms[k] = zero;
  } else {
    const auto q = m.query_indices.to(device), t = m.target_indices.to(device);
    // boxes: [T, K, 4] predicted vs [K, T, 4] target, on visible frames
    const auto src = pred.boxes.index_select(1, q).transpose(0, 1);  // [K, T, 4]
    const auto tgt = small.boxes.index_select(0, t);
    const auto valid = small.valid.index_select(0, t);               // [K, T]
    const auto pairs = std::max<double>(1.0, valid.sum().item<double>());
    const auto vf = valid.to(src.dtype());
    terms["bbox"] = ((src - tgt).abs().sum(-1) * vf).sum() / pairs;
    const auto giou = generalized_box_iou_aligned(box_cxcywh_to_xyxy(src.flatten(0, 1)),
                                                  box_cxcywh_to_xyxy(tgt.flatten(0, 1)));
    terms["giou"] = ((1 - giou) * vf.flatten()).sum() / pairs;
    // masks: [K, T, h, w]
    const auto src_m = pred.mask_logits.index_select(0, q).flatten(0, 1);
    const auto tgt_m = small.masks.index_select(0, t).flatten(0, 1);
    std::tie(terms["mask"], terms["dice"]) = mask_bce_dice(src_m, tgt_m);
  }
  terms["total"] = weights.cls * terms["cls"] + weights.bbox * terms["bbox"] +
                   weights.giou * terms["giou"] + weights.mask * terms["mask"] +
                   weights.dice * terms["dice"];
  return terms;
}

}  // namespace vmt::train
