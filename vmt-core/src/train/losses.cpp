#include "losses.h"

#include <torch/torch.h>

#include <algorithm>

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

}  // namespace

LossTerms compute_losses(const Predictions& pred, const ClipTargets& targets,
                         const LossWeights& weights, const MatcherWeights& matcher,
                         Match* match_out) {
  const auto device = pred.logits.device();
  const auto coarse_stride = targets.masks.size(2) / std::max<std::int64_t>(1, pred.mask_logits.size(2));
  ClipTargets small = targets;
  small.masks = subsample_masks(targets.masks, coarse_stride);
  // The subsampled size can exceed the logits by one where H/4 is not an integer; crop.
  small.masks = small.masks.narrow(2, 0, std::min(small.masks.size(2), pred.mask_logits.size(2)))
                    .narrow(3, 0, std::min(small.masks.size(3), pred.mask_logits.size(3)));
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
    const auto tgt_m = small.masks.index_select(0, t).flatten(0, 1).to(src_m.dtype());
    const double mask_norm = static_cast<double>(src_m.size(0));
    terms["mask"] = torch::binary_cross_entropy_with_logits(src_m, tgt_m, {}, {},
                                                            at::Reduction::None)
                        .flatten(1).mean(1).sum() / mask_norm;
    terms["dice"] = dice_loss(src_m, tgt_m, mask_norm);
  }
  terms["total"] = weights.cls * terms["cls"] + weights.bbox * terms["bbox"] +
                   weights.giou * terms["giou"] + weights.mask * terms["mask"] +
                   weights.dice * terms["dice"];
  return terms;
}

}  // namespace vmt::train
