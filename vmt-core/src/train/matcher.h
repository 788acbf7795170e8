// The Hungarian matcher of the official models/matcher.py (SeqFormer / VMT): a one-to-one
// assignment of ground-truth tracks to queries minimising a weighted cost of class (focal-style),
// box L1 and GIoU over the clip's frames, plus mask costs (BCE and Dice on the coarse masks).
// Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "targets.h"

namespace vmt::train {

/// Weights of the matching cost terms (official defaults set_cost_class 2, set_cost_bbox 5,
/// set_cost_giou 2; the mask terms follow the mask loss coefficients).
struct MatcherWeights {
  double cls = 2.0;
  double bbox = 5.0;
  double giou = 2.0;
  double mask = 2.0;  ///< BCE of the coarse mask logits (0 = no mask cost)
  double dice = 5.0;  ///< Dice of the coarse masks (0 = no dice cost)
  double focal_alpha = 0.25;
  double focal_gamma = 2.0;
};

/// The predictions the matcher reads (Q queries, T frames, C classes).
struct MatchInputs {
  torch::Tensor logits;       ///< [Q, C] class logits
  torch::Tensor boxes;        ///< [T, Q, 4] (cx, cy, w, h) normalised, sigmoid outputs
  torch::Tensor mask_logits;  ///< [Q, T, h, w] coarse mask logits, or undefined (no mask cost)
};

/// Matched pairs: query_indices[k] ↔ target_indices[k], both [K] int64 on the CPU,
/// K = min(Q, N), sorted by query index.
struct Match {
  torch::Tensor query_indices;
  torch::Tensor target_indices;
};

/// The cost matrix [Q, N] (float64, CPU), no gradient. targets.masks must have the size of
/// inputs.mask_logits ([N, T, h, w]) when the mask costs are used (the caller subsamples them).
///  class: α(1−p)^γ(−log p) − (1−α)p^γ(−log(1−p)) at the target's class;
///  bbox:  mean over the target's visible frames of the L1 distance of the boxes
///         (the official code takes the Euclidean distance over all frames' coordinates, absent
///         frames with zero boxes);
///  giou:  −GIoU averaged over the visible frames;
///  mask:  mean pixel BCE of the query's logits against the target over all frames;
///  dice:  1 − (2|p·t| + 1) / (|p| + |t| + 1) over all frames.
torch::Tensor matching_cost(const MatchInputs& inputs, const ClipTargets& targets,
                            const MatcherWeights& weights);

/// The minimum-cost assignment of `matching_cost` (linear_sum_assignment).
Match hungarian_match(const MatchInputs& inputs, const ClipTargets& targets,
                      const MatcherWeights& weights);

}  // namespace vmt::train
