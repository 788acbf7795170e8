#include "postprocess.h"

#include <ATen/ops/tensor.h>
#include <ATen/ops/topk.h>

#include <algorithm>

namespace vmt::model {

torch::Tensor Selection::query_tensor(const torch::Device& device) const {
  return at::tensor(queries, torch::TensorOptions().dtype(torch::kInt64)).to(device);
}

Selection select_instances(const torch::Tensor& logits, std::int64_t k, float min_score) {
  const auto scores = logits.to(torch::kFloat32).sigmoid().flatten().cpu();
  const auto classes = logits.size(1);
  const auto [values, indices] = at::topk(scores, std::min<std::int64_t>(k, scores.numel()));
  Selection s;
  const auto v = values.accessor<float, 1>();
  const auto i = indices.accessor<std::int64_t, 1>();
  for (std::int64_t n = 0; n < v.size(0); ++n) {
    const Pick pick{i[n] / classes, i[n] % classes, v[n]};
    s.picks.push_back(pick);
    if (pick.score >= min_score &&
        std::find(s.queries.begin(), s.queries.end(), pick.query) == s.queries.end()) {
      s.queries.push_back(pick.query);
    }
  }
  return s;
}

}  // namespace vmt::model
