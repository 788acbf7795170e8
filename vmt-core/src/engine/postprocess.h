// The official post-processing of tools/inference.py, on controlled inputs (internal to vmt-core,
// tested in tests/runtime/test_engine_rules.cpp):
//   - the top K of all Q × num_classes sigmoid scores (torch.topk over the flattened [Q, C]);
//   - the queries of those pairs, in order of first appearance; per query the masks are the mask
//     logits resized bilinearly (align_corners = false) to the frame size, sigmoid > 0.5; a query
//     whose masks are empty on every frame is skipped (the official 'skip');
//   - one instance per (query, class) pair: score = sigmoid(logit), category = class index (the
//     YTVIS ids are the logit indices, 1-based; index 0 and indices past the labels are no class
//     and are dropped, as the official evaluation ignores them); scores below the threshold are
//     dropped (the official code writes no mask for them).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "vmt/identity.h"
#include "vmt/mask.h"

namespace vmt::engine {

/// One of the top-K (query, class) pairs.
struct Pick {
  std::int64_t query = 0;
  std::int64_t cls = 0;
  float score = 0.f;
};

/// The top `k` (query, class) pairs of sigmoid(logits), logits [Q, C] (any device), highest
/// first (torch.topk order).
std::vector<Pick> top_pairs(const torch::Tensor& logits, std::int64_t k);

/// The distinct queries of `picks` in order of first appearance.
std::vector<std::int64_t> distinct_queries(const std::vector<Pick>& picks);

/// Frame masks of one query: logits [T, h, w] → T RLEs of frame_height × frame_width
/// (bilinear resize, align_corners = false, sigmoid > 0.5).
std::vector<Rle> masks_to_rle(const torch::Tensor& logits, std::int64_t frame_height,
                              std::int64_t frame_width);

/// Assembles the instances: `picks` from top_pairs, `queries` = distinct_queries(picks),
/// `mask_logits` [queries.size(), T, h, w] in the order of `queries`.
std::vector<TubeInstance> assemble_instances(const std::vector<Pick>& picks,
                                             const std::vector<std::int64_t>& queries,
                                             const torch::Tensor& mask_logits,
                                             std::int64_t frame_height, std::int64_t frame_width,
                                             float score_threshold, std::int64_t num_labels);

}  // namespace vmt::engine
