#include "position_encoding.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/stack.h>

namespace vmt::model {

PositionEmbeddingSineImpl::PositionEmbeddingSineImpl(std::int64_t num_pos_feats_,
                                                     double temperature_, bool normalize_,
                                                     double scale_)
    : num_pos_feats(num_pos_feats_),
      temperature(temperature_),
      normalize(normalize_),
      scale(scale_) {}

torch::Tensor PositionEmbeddingSineImpl::forward(const torch::Tensor& mask) const {
  using torch::indexing::None;
  using torch::indexing::Slice;
  const auto not_mask = mask.logical_not();
  auto y_embed = not_mask.cumsum(1, torch::kFloat32);
  auto x_embed = not_mask.cumsum(2, torch::kFloat32);
  if (normalize) {
    constexpr double eps = 1e-6;
    y_embed = (y_embed - 0.5) / (y_embed.index({Slice(), Slice(-1, None), Slice()}) + eps) * scale;
    x_embed = (x_embed - 0.5) / (x_embed.index({Slice(), Slice(), Slice(-1, None)}) + eps) * scale;
  }
  auto dim_t = at::arange(num_pos_feats, mask.options().dtype(torch::kFloat32));
  dim_t = at::pow(temperature, 2 * dim_t.div(2, "floor") / static_cast<double>(num_pos_feats));

  auto encode = [&](const torch::Tensor& embed) {
    const auto p = embed.unsqueeze(-1) / dim_t;  // [N, H, W, F]
    return at::stack({p.index({"...", Slice(0, None, 2)}).sin(),
                      p.index({"...", Slice(1, None, 2)}).cos()},
                     4)
        .flatten(3);
  };
  return at::cat({encode(y_embed), encode(x_embed)}, 3).permute({0, 3, 1, 2});
}

}  // namespace vmt::model
