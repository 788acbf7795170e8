#include "postprocess.h"

#include <ATen/ops/tensor.h>
#include <ATen/ops/topk.h>

#include <algorithm>

namespace vmt::model {

torch::Tensor Selection::query_tensor(const torch::Device& device) const {
  return at::tensor(queries, torch::TensorOptions().dtype(torch::kInt64)).to(device);
}

namespace {

/// Appends `pick` and, when it scores at least `min_score`, its query (once).
void add_pick(Selection& s, const Pick& pick, float min_score) {
  s.picks.push_back(pick);
  if (pick.score >= min_score &&
      std::find(s.queries.begin(), s.queries.end(), pick.query) == s.queries.end()) {
    s.queries.push_back(pick.query);
  }
}

}  // namespace

Selection select_instances(const torch::Tensor& logits, std::int64_t k, float min_score) {
  Selection s;
  s.scores = logits.to(torch::kFloat32).sigmoid().cpu().contiguous();
  const auto flat = s.scores.flatten();
  const auto classes = logits.size(1);
  const auto [values, indices] = at::topk(flat, std::min<std::int64_t>(k, flat.numel()));
  const auto v = values.accessor<float, 1>();
  const auto i = indices.accessor<std::int64_t, 1>();
  for (std::int64_t n = 0; n < v.size(0); ++n) {
    add_pick(s, {i[n] / classes, i[n] % classes, v[n]}, min_score);
  }
  return s;
}

Selection select_objects(const torch::Tensor& logits, std::int64_t k, std::int64_t num_labels,
                         float min_score) {
  Selection s;
  s.scores = logits.to(torch::kFloat32).sigmoid().cpu().contiguous();
  const auto labels = std::min(num_labels, s.scores.size(1) - 1);
  if (labels <= 0) return s;
  const auto [best, best_class] = s.scores.narrow(1, 1, labels).max(1);  // [Q]
  const auto [values, queries] = at::topk(best, std::min<std::int64_t>(k, best.numel()));
  const auto v = values.accessor<float, 1>();
  const auto q = queries.accessor<std::int64_t, 1>();
  const auto c = best_class.accessor<std::int64_t, 1>();
  for (std::int64_t n = 0; n < v.size(0); ++n) add_pick(s, {q[n], c[q[n]] + 1, v[n]}, min_score);
  return s;
}

Selection select(const torch::Tensor& logits, InstanceSelection rule, std::int64_t k,
                 std::int64_t num_labels, float min_score) {
  return rule == InstanceSelection::PerObject ? select_objects(logits, k, num_labels, min_score)
                                              : select_instances(logits, k, min_score);
}

}  // namespace vmt::model
