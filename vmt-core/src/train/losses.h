// The training losses of VMT (official models/segmentation.py dice_loss / sigmoid_focal_loss and
// the SeqFormer SetCriterion): focal class loss, box L1 + GIoU, mask BCE + Dice on the coarse
// masks, for the queries the Hungarian matcher assigned. Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

#include "../model/refinement_head.h"
#include "matcher.h"
#include "targets.h"

namespace vmt::train {

/// Loss coefficients (official defaults: cls_loss_coef 2, bbox_loss_coef 5, giou_loss_coef 2,
/// mask_loss_coef 2, dice_loss_coef 5) and the focal parameters.
struct LossWeights {
  double cls = 2.0;
  double bbox = 5.0;
  double giou = 2.0;
  double mask = 2.0;
  double dice = 5.0;
  double focal_alpha = 0.25;
  double focal_gamma = 2.0;
};

/// The official sigmoid_focal_loss summed over all elements and divided by `normaliser`.
/// logits, targets: same shape, targets in {0, 1}.
torch::Tensor sigmoid_focal_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                                 double normaliser, double alpha = 0.25, double gamma = 2.0);

/// The official dice_loss: Σ_rows (1 − (2 Σ p t + 1) / (Σ p + Σ t + 1)) / normaliser, with
/// p = sigmoid(logits). logits, targets: [R, ...] (flattened per row).
torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                        double normaliser);

/// The predictions the criterion reads for one clip (Q queries, T frames, C classes).
struct Predictions {
  torch::Tensor logits;       ///< [Q, C]
  torch::Tensor boxes;        ///< [T, Q, 4]
  torch::Tensor mask_logits;  ///< [Q, T, H/4, W/4] coarse mask logits of every query
};

/// Loss terms, unweighted ("cls", "bbox", "giou", "mask", "dice") and "total" (weighted sum),
/// each a scalar tensor (the total carries the graph).
using LossTerms = std::map<std::string, torch::Tensor>;

/// The targets' masks at the coarse mask resolution: the official subsampling
/// masks[..., s/2::s, s/2::s] for stride s. masks [N, T, H, W] → [N, T, ⌈(H−s/2)/s⌉, ...].
torch::Tensor subsample_masks(const torch::Tensor& masks, std::int64_t stride);

/// Weights of the refinement-head losses. The supplement (§3) names Dice + L1 between the
/// refined predictions of the QSG-sampled incoherent points and their labels (`point_*`). The
/// incoherent-level masks (stride 4) and the whole refined map (stride 2) also get BCE + Dice:
/// the official training code is unreleased, and inference here (as officially) reads the whole
/// refined map, so pixels away from the incoherent points must be right too.
struct RefineLossWeights {
  double point_l1 = 1.0;
  double point_dice = 1.0;
  double inc_mask = 1.0;
  double inc_dice = 1.0;
  double refined_mask = 1.0;
  double refined_dice = 1.0;
};

/// The refinement losses of the matched instances. trace: from refine_masks on the matched
/// queries (inc_s4, refined_s2, point_indices filled); target_masks: [K, T, H, W] {0, 1} at the
/// input size, row k the target of the trace's query k. Targets are subsampled with the
/// official rule (subsample_masks) to stride 4 and 2; a point (row-major index into the stride-2
/// grid) takes the subsampled target there. Normalisers: K for the point losses (each
/// instance's points of the whole clip form one Dice / one mean L1), K × T for the map losses.
/// Returns "point_l1", "point_dice", "inc_mask", "inc_dice", "refined_mask", "refined_dice"
/// (unweighted) and "refine_total" (weighted sum).
LossTerms refinement_losses(const model::RefinementTrace& trace, const torch::Tensor& target_masks,
                            const RefineLossWeights& weights);

/// Matches and computes the losses of one clip. targets.masks are at the input size (H × W);
/// they are subsampled to the coarse size here. Normalisers: the class loss by the number of
/// instances N (≥ 1, official num_boxes), the box losses by the number of visible (instance,
/// frame) pairs, the mask losses by N × T (absent frames have empty targets, as officially).
/// `match_out`, when given, receives the assignment.
LossTerms compute_losses(const Predictions& pred, const ClipTargets& targets,
                         const LossWeights& weights, const MatcherWeights& matcher,
                         Match* match_out = nullptr);

}  // namespace vmt::train
