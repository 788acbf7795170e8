// Which instances VMT reports for a tube: the one selection code every caller uses (the engine,
// and through it vmt-train predict, the demo-model check and the benchmarks; the parity tests
// check it against the official code). Two rules (vmt::InstanceSelection):
//  - TopPairs, the official tools/inference.py: the top K of all Q × num_classes sigmoid scores
//    (torch.topk over the flattened [Q, C]), one instance per (query, class) pair;
//  - PerObject: each query's best class among the labels, the top K queries, one instance each.
// Masks are computed per distinct query. Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "vmt/engine.h"

namespace vmt::model {

/// One of the top-K (query, class) pairs.
struct Pick {
  std::int64_t query = 0;
  std::int64_t cls = 0;
  float score = 0.f;
};

/// The instances selected for a tube: the pairs, and the distinct queries whose masks they need.
struct Selection {
  std::vector<Pick> picks;            ///< highest score first (torch.topk order)
  /// distinct queries of the picks scoring at least the selection's min_score, in order of first
  /// appearance: the queries whose masks are computed
  std::vector<std::int64_t> queries;
  /// [Q, C] sigmoid scores on the CPU: every query's score for every class.
  torch::Tensor scores;

  /// `queries` as an int64 tensor on `device`.
  torch::Tensor query_tensor(const torch::Device& device) const;
};

/// The top `k` (query, class) pairs of sigmoid(logits), logits [Q, C] (any device, any float
/// type; read in fp32), highest first, and the distinct queries of those scoring at least
/// `min_score` (pairs below it are reported without masks: the official code writes none for
/// scores under 0.001, and an element's score threshold drops them, so their masks are not
/// computed; the refinement's incoherent points then come from the reported instances only).
Selection select_instances(const torch::Tensor& logits, std::int64_t k, float min_score = 0.f);

/// The PerObject rule: per query its best class among categories 1 … num_labels (logit 0 and the
/// logits past the labels are no class), the top `k` queries by that score, highest first; the
/// distinct queries of those scoring at least `min_score`.
Selection select_objects(const torch::Tensor& logits, std::int64_t k, std::int64_t num_labels,
                         float min_score = 0.f);

/// The rule `rule` (TopPairs: select_instances; PerObject: select_objects).
Selection select(const torch::Tensor& logits, InstanceSelection rule, std::int64_t k,
                 std::int64_t num_labels, float min_score);

/// The same selection kept on the logits' device, with static shapes and no host
/// synchronisation (what a CUDA graph needs): the top min(k, candidates) picks in the same order
/// as select(), each pick's own query (TopPairs may repeat one), and which of them score at least
/// min_score. Every pick's masks are computed; to_host() then gives the Selection that select()
/// gives, and the rows of those masks that its queries use.
struct DeviceSelection {
  torch::Tensor queries;  ///< [N] int64: the query of each pick
  torch::Tensor classes;  ///< [N] int64: its category (TopPairs: the logit index)
  torch::Tensor scores;   ///< [N] float32: its score
  torch::Tensor valid;    ///< [N] bool: score >= min_score (its masks are wanted)
  torch::Tensor all_scores;  ///< [Q, C] float32 sigmoid scores, on the device

  /// The host Selection (synchronises: call it once the step's work is queued) and, in `rows`,
  /// the pick row that each of its queries' masks is in.
  Selection to_host(std::vector<std::int64_t>& rows) const;
};

DeviceSelection select_on_device(const torch::Tensor& logits, InstanceSelection rule,
                                 std::int64_t k, std::int64_t num_labels, float min_score);

}  // namespace vmt::model
