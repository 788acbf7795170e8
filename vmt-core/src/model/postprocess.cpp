#include "postprocess.h"

#include <ATen/ops/tensor.h>
#include <ATen/ops/floor_divide.h>
#include <ATen/ops/topk.h>

#include <algorithm>
#include <tuple>

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

DeviceSelection select_on_device(const torch::Tensor& logits, InstanceSelection rule,
                                 std::int64_t k, std::int64_t num_labels, float min_score) {
  DeviceSelection s;
  s.all_scores = logits.to(torch::kFloat32).sigmoid();
  const auto classes = logits.size(1);
  if (rule == InstanceSelection::PerObject) {
    const auto labels = std::min(num_labels, classes - 1);
    if (labels <= 0) {
      s.queries = s.classes = logits.new_empty({0}, torch::kInt64);
      s.scores = logits.new_empty({0}, torch::kFloat32);
      s.valid = logits.new_empty({0}, torch::kBool);
      return s;
    }
    const auto [best, best_class] = s.all_scores.narrow(1, 1, labels).max(1);  // [Q]
    std::tie(s.scores, s.queries) = at::topk(best, std::min<std::int64_t>(k, best.numel()));
    s.classes = best_class.index_select(0, s.queries) + 1;
  } else {
    const auto flat = s.all_scores.flatten();
    torch::Tensor indices;
    std::tie(s.scores, indices) = at::topk(flat, std::min<std::int64_t>(k, flat.numel()));
    s.queries = at::floor_divide(indices, classes);
    s.classes = indices - s.queries * classes;
  }
  s.valid = s.scores >= min_score;
  return s;
}

Selection DeviceSelection::to_host(std::vector<std::int64_t>& rows) const {
  Selection s;
  s.scores = all_scores.cpu().contiguous();
  const auto q = queries.cpu(), c = classes.cpu(), v = scores.cpu();
  const auto qa = q.accessor<std::int64_t, 1>();
  const auto ca = c.accessor<std::int64_t, 1>();
  const auto va = v.accessor<float, 1>();
  const auto wanted = valid.cpu();
  const auto wa = wanted.accessor<bool, 1>();
  rows.clear();
  for (std::int64_t n = 0; n < q.size(0); ++n) {
    s.picks.push_back({qa[n], ca[n], va[n]});
    if (wa[n] && std::find(s.queries.begin(), s.queries.end(), qa[n]) == s.queries.end()) {
      s.queries.push_back(qa[n]);
      rows.push_back(n);
    }
  }
  return s;
}

Selection select(const torch::Tensor& logits, InstanceSelection rule, std::int64_t k,
                 std::int64_t num_labels, float min_score) {
  return rule == InstanceSelection::PerObject ? select_objects(logits, k, num_labels, min_score)
                                              : select_instances(logits, k, min_score);
}

}  // namespace vmt::model
