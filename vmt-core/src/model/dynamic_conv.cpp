#include "dynamic_conv.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/conv.h>

#include <ATen/ops/arange.h>
#include <ATen/ops/meshgrid.h>
#include <ATen/ops/stack.h>

namespace vmt::model {

namespace F = torch::nn::functional;

// --- DynamicConvLayout (dynamic_conv_layout.h) -------------------------------------------------

std::vector<std::int64_t> DynamicConvLayout::split_sizes() const {
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(2 * layers));
  for (std::int64_t l = 0; l < layers; ++l) {
    sizes[static_cast<std::size_t>(l)] = layer_in(l) * layer_out(l);
    sizes[static_cast<std::size_t>(layers + l)] = layer_out(l);
  }
  return sizes;
}

std::int64_t DynamicConvLayout::num_params() const {
  std::int64_t total = 0;
  for (const auto n : split_sizes()) total += n;
  return total;
}

torch::Tensor dynamic_convs(torch::Tensor x, const torch::Tensor& params,
                            const DynamicConvLayout& layout) {
  const auto k = params.size(0);
  const auto splits = params.split_with_sizes(layout.split_sizes(), 1);
  for (std::int64_t l = 0; l < layout.layers; ++l) {
    const auto out = layout.layer_out(l);
    const auto weight = splits[static_cast<std::size_t>(l)].reshape({k * out, -1, 1, 1});
    const auto bias = splits[static_cast<std::size_t>(layout.layers + l)].reshape({k * out});
    x = F::conv2d(x, weight, F::Conv2dFuncOptions().bias(bias).groups(k));
    if (l < layout.layers - 1) x = F::relu(x);
  }
  return x;
}

torch::Tensor compute_locations(std::int64_t h, std::int64_t w, std::int64_t stride,
                                const torch::TensorOptions& options) {
  const auto opts = options.dtype(torch::kFloat32);
  const auto grid = at::meshgrid({at::arange(0, h * stride, stride, opts),
                                  at::arange(0, w * stride, stride, opts)},
                                 "ij");
  return at::stack({grid[1].reshape(-1), grid[0].reshape(-1)}, 1) + stride / 2;
}

torch::Tensor relative_coords(const torch::Tensor& ref, std::int64_t h, std::int64_t w,
                              std::int64_t stride, torch::ScalarType dtype) {
  const auto b = ref.size(0), k = ref.size(1);
  const auto locations = compute_locations(h, w, stride, ref.options());
  return (ref.to(torch::kFloat32).reshape({b, k, 1, 1, 2}) - locations.reshape({1, 1, h, w, 2}))
      .to(dtype)
      .permute({0, 1, 4, 2, 3});
}

}  // namespace vmt::model
