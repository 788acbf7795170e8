#include "refinement_head.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/modules/activation.h>

#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/floor_divide.h>
#include <ATen/ops/meshgrid.h>
#include <ATen/ops/nonzero.h>
#include <ATen/ops/nonzero_static.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/randperm.h>
#include <ATen/ops/sort.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/where.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "dynamic_conv.h"
#include "parallel_tasks.h"
#include "vmt/error.h"

namespace vmt::model {

namespace F = torch::nn::functional;

namespace {

// point features / transformer width: conv1's channels (c1), added to them at the points
constexpr std::int64_t kPointDim = ModelConfig::stem_channels;

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel,
                       std::int64_t dilation = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .padding(kernel == 3 ? dilation : 0)
                               .dilation(dilation));
}

/// Sequential(conv 3×3 (dilated), ReLU, conv 1×1, ReLU, conv 1×1, ReLU): official indices 0..5.
torch::nn::Sequential conv_relu_stack(std::int64_t in, std::int64_t mid, std::int64_t out2,
                                      std::int64_t out3, std::int64_t dilation) {
  return torch::nn::Sequential(conv(in, mid, 3, dilation), torch::nn::ReLU(),
                               conv(mid, out2, 1), torch::nn::ReLU(), conv(out2, out3, 1),
                               torch::nn::ReLU());
}

torch::Tensor nearest(const torch::Tensor& x, std::int64_t h, std::int64_t w) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<std::int64_t>{h, w})
                               .mode(torch::kNearest));
}

/// The official pos_embed of an all-valid [*, C, h, w] map (no −0.5 offset): [h * w, C],
/// row-major, channels y then x, each interleaving sin / cos; computed in float32, returned in
/// options' dtype.
torch::Tensor point_positions(std::int64_t h, std::int64_t w, std::int64_t channels,
                              const torch::TensorOptions& options) {
  const auto opts = options.dtype(torch::kFloat32);
  constexpr double scale = 6.283185307179586, eps = 1e-6, temperature = 10000.0;
  const auto npf = channels / 2;
  auto y = at::arange(1, h + 1, opts);
  auto x = at::arange(1, w + 1, opts);
  y = y / (y.slice(0, h - 1, h) + eps) * scale;
  x = x / (x.slice(0, w - 1, w) + eps) * scale;
  auto dim_t = at::arange(npf, opts);
  dim_t = at::pow(temperature, at::floor_divide(dim_t, 2) * 2 / static_cast<double>(npf));
  auto encode = [&](const torch::Tensor& v) {  // [n] → [n, npf]
    const auto p = v.unsqueeze(1) / dim_t;
    return at::stack({p.slice(1, 0, npf, 2).sin(),
                      p.slice(1, 1, npf, 2).cos()},
                     2)
        .flatten(1);
  };
  const auto py = encode(y).unsqueeze(1).expand({h, w, npf});
  const auto px = encode(x).unsqueeze(0).expand({h, w, npf});
  return at::cat({py, px}, 2).reshape({h * w, channels}).to(options.dtype());
}

/// The official box masks of dynamic_mask_with_coords_inc_super: boxes [T, K, 4] (cx, cy, w, h,
/// normalised) scaled to an h × w map, corners truncated to int, then used as Python slices
/// [y0:y1, x0:x1] (negative ends count from the end). Returns [T, K, h, w] float {0, 1}.
torch::Tensor box_masks(const torch::Tensor& boxes, std::int64_t h, std::int64_t w) {
  const auto fw = static_cast<double>(w), fh = static_cast<double>(h);
  const auto cx = boxes.select(2, 0) * fw, cy = boxes.select(2, 1) * fh;
  const auto bw = boxes.select(2, 2) * fw, bh = boxes.select(2, 3) * fh;
  const auto x0 = cx - bw * 0.5, y0 = cy - bh * 0.5;
  const auto x1 = bw + x0, y1 = bh + y0;
  auto slice_end = [](const torch::Tensor& v, std::int64_t n) {  // Python slice index → [0, n]
    const auto i = v.to(torch::kInt32).to(torch::kInt64);
    return at::where(i < 0, i + n, i).clamp(0, n).unsqueeze(-1);
  };
  const auto opts = boxes.options().dtype(torch::kInt64);
  const auto cols = at::arange(w, opts), rows = at::arange(h, opts);
  const auto in_x = (cols >= slice_end(x0, w)) & (cols < slice_end(x1, w));  // [T, K, w]
  const auto in_y = (rows >= slice_end(y0, h)) & (rows < slice_end(y1, h));  // [T, K, h]
  return (in_y.unsqueeze(-1) & in_x.unsqueeze(-2)).to(boxes.scalar_type());
}

/// The official incoherent-region detection: Laplacian (dilation 3) of the union of the
/// instance masks, non-zero responses set to 1, twice. masks [T, 1, h, w] {0, 1}.
torch::Tensor incoherent_regions(const torch::Tensor& masks) {
  const auto kernel =
      at::tensor({-1.f, -1.f, -1.f, -1.f, 8.f, -1.f, -1.f, -1.f, -1.f})  // fp32 on the CPU:
          .to(masks.options())                                         // no fp16 CPU factory
          .reshape({1, 1, 3, 3});
  auto b = masks;
  for (int i = 0; i < 2; ++i) {
    b = F::conv2d(b, kernel, F::Conv2dFuncOptions().padding(3).dilation(3));
    b = b.masked_fill((b > 0.5) | (b <= -0.5), 1.0);
  }
  return b;
}

}  // namespace

// --- VmtModel --------------------------------------------------------------------------------

VmtModelImpl::VmtModelImpl(const ModelConfig& c) : config(c) {
  config.validate();
  if (c.layer1_channels() != c.hidden_dim || !c.rel_coord) {
    throw Error(ErrorCode::InvalidArgument,
                "ModelConfig: the VMT refinement head needs rel_coord and layer1's channels (4 × "
                "resnet_planes[0] = " + std::to_string(c.layer1_channels()) +
                    ") equal to hidden_dim (" + std::to_string(c.hidden_dim) +
                    "): it adds lay_hr1's output to layer1");
  }
  if (c.refine_queries < 0 || c.refine_point_limit < 1) {
    throw Error(ErrorCode::InvalidArgument,
                "ModelConfig: refine_queries must be >= 0 and refine_point_limit >= 1");
  }
  detector = VmtDetector(c);
  register_module("detr", detector->detr);
  register_module("controller", detector->controller);
  register_module("mask_head", detector->mask_head);

  const auto d = c.hidden_dim, p = c.refine_head_layout().num_params();
  controller_inc = register_module("controller_inc", MLP(d, d, p, 3));
  controller_refine = register_module("controller_refine", MLP(d, d, p, 3));
  lay_hr1 = register_module("lay_hr1", conv(d, d, 3));
  lay1_h = register_module("lay1_h", conv(d, d / 4, 3));
  lay2_h = register_module("lay2_h", conv(d / 4, c.mask_feat_channels(), 3));
  lay_hr1_c = register_module("lay_hr1_c", conv(d / 4, kPointDim, 1));
  conv_norm_relus_fuse_img =
      register_module("conv_norm_relus_fuse_img", conv_relu_stack(3, 32, 64, kPointDim, 1));
  // inputs: point features, sigmoid(inc), sigmoid(coarse), box mask, relative coordinates
  const std::int64_t fuse_in = kPointDim + 3 + 2;
  const std::int64_t dilations[] = {3, 5, 7, 1};
  torch::nn::Sequential* fuse[] = {&conv_norm_relus_fuse_all_1, &conv_norm_relus_fuse_all_2,
                                   &conv_norm_relus_fuse_all_3, &conv_norm_relus_fuse_all_4};
  // the fusion's output is the input of controller_refine's dynamic convolutions
  const auto fuse_out = c.refine_head_layout().in_channels, width = c.fuse_channels;
  for (int i = 0; i < 4; ++i) {
    *fuse[i] = register_module("conv_norm_relus_fuse_all_" + std::to_string(i + 1),
                               conv_relu_stack(fuse_in, width, width, fuse_out, dilations[i]));
  }
  encoder = register_module("encoder", PointTransformer(kPointDim, 4, 3, c.point_feedforward));
}

// --- refinement ------------------------------------------------------------------------------

torch::Tensor select_points(const torch::Tensor& boundary, std::int64_t limit) {
  const auto points = at::nonzero(boundary.reshape({-1})).reshape({-1});  // ascending
  const auto p = points.size(0);
  if (p <= limit) return points;
  const auto keep = at::floor_divide(at::arange(limit, points.options()) * p, limit);
  return points.index_select(0, keep);
}

PaddedPoints select_points_padded(const torch::Tensor& boundary, std::int64_t limit) {
  const auto flat = (boundary.reshape({-1}) != 0).to(torch::kInt64);
  const auto grid = flat.size(0);
  const auto rank = flat.cumsum(0) - flat;  // of each incoherent pixel among them, from 0
  const auto total = flat.sum().clamp_min(1);  // P (1 when there is none: nothing is kept then)
  const auto first_i = at::floor_divide(rank * limit + total - 1, total);  // ⌈r · limit / P⌉
  const auto kept = flat.to(torch::kBool) & (first_i * total < (rank + 1) * limit);
  PaddedPoints out;
  out.indices = at::nonzero_static(kept, limit, grid).reshape({-1});
  out.real = out.indices < grid;
  return out;
}

std::vector<torch::Tensor> sample_points_qsg(const torch::Tensor& boundary, std::int64_t budget,
                                             std::uint64_t seed) {
  const auto t = boundary.size(0), per_frame = boundary.size(1) * boundary.size(2);
  const auto points = at::nonzero(boundary.reshape({-1})).reshape({-1}).to(torch::kCPU);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto order = at::randperm(points.size(0), generator, torch::kInt64);
  const auto kept = std::get<0>(
      points.index_select(0, order.narrow(0, 0, std::min(budget, points.size(0)))).sort());
  const auto frame_of = at::floor_divide(kept, per_frame);
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(t));
  for (std::int64_t f = 0; f < t; ++f) {
    out.push_back((kept.masked_select(frame_of == f) - f * per_frame).to(boundary.device()));
  }
  return out;
}

torch::Tensor final_masks(const torch::Tensor& logits, std::int64_t frame_height,
                          std::int64_t frame_width) {
  return F::interpolate(logits, F::InterpolateFuncOptions()
                                    .size(std::vector<std::int64_t>{frame_height, frame_width})
                                    .mode(torch::kBilinear)
                                    .align_corners(false))
             .sigmoid() > 0.5;
}

namespace {

/// Step 1: the stride-4 features of every frame from the mask head's merged features and
/// backbone layer1: {x_c [T, 64, H/4, W/4], features [T, 8, H/4, W/4]}.
std::pair<torch::Tensor, torch::Tensor> stride4_features(VmtModelImpl& m, const DetectorOutput& det) {
  auto x = F::relu(m.lay_hr1->forward(det.mask_feats_c));
  x = det.layer1 + nearest(x, det.layer1.size(2), det.layer1.size(3));
  auto x_c = F::relu(m.lay1_h->forward(x));
  auto feats4 = F::relu(m.lay2_h->forward(x_c));
  return {std::move(x_c), std::move(feats4)};
}

/// Step 4b: the point transformer over each frame's incoherent points, added back at the points.
/// hr [T, 64, H2, W2] point features, boundary [T, 1, H2, W2]. Returns [T, 64, H2, W2].
torch::Tensor transform_points(VmtModelImpl& m, const torch::Tensor& hr, const torch::Tensor& boundary,
                               std::int64_t point_limit, const PointSampling& sampling,
                               RefinementTrace* trace) {
  const auto t = hr.size(0), h2 = hr.size(2), w2 = hr.size(3);
  const auto pos = point_positions(h2, w2, kPointDim, hr.options());  // [H2*W2, 64]
  if (trace) {
    trace->points.clear();
    trace->point_indices.clear();
  }
  const auto qsg_points = sampling.qsg_budget > 0
                              ? sample_points_qsg(boundary.squeeze(1), sampling.qsg_budget,
                                                  sampling.qsg_seed)
                              : std::vector<torch::Tensor>{};
  std::vector<torch::Tensor> frames;
  frames.reserve(static_cast<std::size_t>(t));
  for (std::int64_t f = 0; f < t; ++f) {
    auto feat = hr[f].reshape({kPointDim, h2 * w2}).t();  // [H2*W2, 64]
    const auto points = sampling.qsg_budget > 0 ? qsg_points[static_cast<std::size_t>(f)]
                                                : select_points(boundary[f][0], point_limit);
    if (trace) {
      trace->points.push_back(points.size(0));
      trace->point_indices.push_back(points);
    }
    if (points.size(0) > 0) {
      const auto encoded =
          m.encoder->forward(feat.index_select(0, points), pos.index_select(0, points));
      feat = feat.index_add(0, points, encoded);
    }
    frames.push_back(feat.t().reshape({kPointDim, h2, w2}));
  }
  return at::stack(frames);
}

/// transform_points with padded points (PointSampling::padded): one extra zero row at the grid's
/// end takes the unused rows' gathers and their (discarded) results.
torch::Tensor transform_points_padded(VmtModelImpl& m, const torch::Tensor& hr,
                                      const torch::Tensor& boundary, std::int64_t point_limit,
                                      RefinementTrace* trace) {
  const auto t = hr.size(0), h2 = hr.size(2), w2 = hr.size(3), grid = h2 * w2;
  const auto pos = at::cat({point_positions(h2, w2, kPointDim, hr.options()),
                            hr.new_zeros({1, kPointDim})});  // [grid + 1, 64]
  if (trace) {
    trace->points.clear();
    trace->point_indices.clear();
  }
  std::vector<torch::Tensor> frames;
  frames.reserve(static_cast<std::size_t>(t));
  // more rows than the grid has pixels would all be padding (the limit keeps every point then)
  const auto rows = std::min(point_limit, grid);
  for (std::int64_t f = 0; f < t; ++f) {
    const auto [indices, real] = select_points_padded(boundary[f][0], rows);
    if (trace) {  // the diagnostics read the count (a synchronisation the hot path does not make)
      const auto points = indices.masked_select(real);
      trace->points.push_back(points.size(0));
      trace->point_indices.push_back(points);
    }
    auto feat = at::cat({hr[f].reshape({kPointDim, grid}).t(), hr.new_zeros({1, kPointDim})});
    const auto encoded =
        m.encoder->forward(feat.index_select(0, indices), pos.index_select(0, indices), real);
    feat = feat.index_add(0, indices, encoded).narrow(0, 0, grid);
    frames.push_back(feat.t().reshape({kPointDim, h2, w2}));
  }
  return at::stack(frames);
}

/// The fusion branches' inputs in the layout their convolutions run fastest in: on the CPU in
/// fp32 channels-last, where oneDNN runs its direct kernels; these 3×3 convolutions with few
/// channels (dilated up to 7) otherwise go through im2col and a GEMM, about 3× slower for the
/// shared halves and 6× for the own ones at the demo model's sizes (a micro-benchmark of LibTorch
/// 2.11 on the 2-core machine). The branches then stay in that layout to their end (the sum of
/// their halves and their 1×1 convolutions follow their inputs' layout), so each input is
/// converted once and only the branches' sum goes back; the values equal the default layout's to
/// fp32 rounding. Elsewhere (CUDA, fp16, bf16) the tensor as it is.
torch::Tensor in_fusion_layout(const torch::Tensor& x) {
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32 ||
      at::autocast::is_autocast_enabled(at::kCPU)) {
    return x;
  }
  return x.contiguous(at::MemoryFormat::ChannelsLast);
}

/// A fusion convolution on an input from in_fusion_layout; the result is in the input's layout.
torch::Tensor fusion_conv(const torch::Tensor& x, const torch::Tensor& weight,
                          const F::Conv2dFuncOptions& options) {
  return F::conv2d(x, weight.contiguous(x.suggest_memory_format()), options);
}

/// Step 5a: the four dilated fusion branches conv_norm_relus_fuse_all_{1..4}, summed, on
/// [shared (64 channels, the same for every instance), own (5 channels per instance)]:
/// shared [T, 64, H, W], own [T, K, 5, H, W] → [T · K, 11, H, W] (official sizes). Each branch's
/// first convolution is linear in its input, so it runs on the shared channels once per frame and
/// on the own channels once per instance, instead of on all 69 channels K times (the same sums,
/// in another order: equal to fp32 rounding). The two halves are independent (the shared one
/// waits for the point transformer, the own one does not), and so are the branches: on the CPU
/// they run side by side (refine_masks), and the branches are summed in their order afterwards.
struct FusionBranches {
  static constexpr int kCount = 4;
  torch::nn::Sequential* branch[kCount];

  explicit FusionBranches(VmtModelImpl& m)
      : branch{&m.conv_norm_relus_fuse_all_1, &m.conv_norm_relus_fuse_all_2,
               &m.conv_norm_relus_fuse_all_3, &m.conv_norm_relus_fuse_all_4} {}

  torch::nn::Conv2dImpl& layer(int i, int index) const {
    return (*branch[i])->at<torch::nn::Conv2dImpl>(static_cast<std::size_t>(index));
  }
  F::Conv2dFuncOptions first_options(int i) const {
    const auto dilation = (*layer(i, 0).options.dilation())[0];
    return F::Conv2dFuncOptions().padding(dilation).dilation(dilation);
  }
  /// Branch i's first convolution on the shared channels (in_fusion_layout), with its bias:
  /// [T, 32, H, W].
  torch::Tensor on_shared(int i, const torch::Tensor& shared) const {
    const auto& first = layer(i, 0);
    return fusion_conv(shared, first.weight.narrow(1, 0, shared.size(1)),
                       first_options(i).bias(first.bias));
  }
  /// Branch i's first convolution on the own channels (in_fusion_layout): [T · K, 32, H, W].
  torch::Tensor on_own(int i, const torch::Tensor& own_flat, std::int64_t shared_channels) const {
    const auto& weight = layer(i, 0).weight;  // [32, 69, 3, 3] (official sizes)
    return fusion_conv(own_flat,
                       weight.narrow(1, shared_channels, weight.size(1) - shared_channels),
                       first_options(i));
  }
  /// The rest of branch i (official indices 1 … 5): ReLU of the two halves' sum, 1×1 conv, ReLU,
  /// 1×1 conv, ReLU.
  torch::Tensor rest(int i, const torch::Tensor& on_shared, const torch::Tensor& on_own,
                     std::int64_t t, std::int64_t k) const {
    const auto h = on_own.size(2), w = on_own.size(3);
    auto x = F::relu(on_own.view({t, k, -1, h, w}) + on_shared.unsqueeze(1))
                 .view({t * k, -1, h, w});
    x = F::relu(layer(i, 2).forward(x));
    return F::relu(layer(i, 4).forward(x));
  }
};

}  // namespace

torch::Tensor refine_masks(VmtModel& model, const DetectorOutput& det,
                           const torch::Tensor& images, const torch::Tensor& query_indices,
                           RefinementTrace* trace, const PointSampling& sampling,
                           int cpu_workers) {
  auto& m = *model;
  const auto& c = m.config;
  const auto idx = query_indices.to(det.hs.device(), torch::kInt64);
  const auto k = idx.size(0);
  const auto t = det.c1.size(0), h2 = det.c1.size(2), w2 = det.c1.size(3);
  const auto h4 = det.layer1.size(2), w4 = det.layer1.size(3);
  if (images.dim() != 4 || images.size(0) != t || images.size(1) != 3) {
    throw Error(ErrorCode::InvalidArgument, "refine_masks: images must be [T, 3, H, W]");
  }
  if (sampling.point_limit < 0) {
    throw Error(ErrorCode::InvalidArgument, "refine_masks: point_limit must be >= 0");
  }
  if (k == 0) return det.c1.new_zeros({0, t, 2 * h2, 2 * w2});
  const auto point_limit = sampling.point_limit > 0
                               ? std::min(sampling.point_limit, c.refine_point_limit)
                               : c.refine_point_limit;

  // per-instance inputs (frames first below: [T, K, ...])
  const auto coarse = m.detector->coarse_mask_logits_s8(det, idx).transpose(0, 1);
  const auto ref = det.reference_points[0].index_select(1, idx);  // [T, K, 2]
  const auto boxes = det.pred_boxes[0].index_select(1, idx);      // [T, K, 4]
  const auto hs = det.hs[0].index_select(0, idx);                 // [K, C]
  const auto params_inc = m.controller_inc->forward(hs);
  const auto params_refine = m.controller_refine->forward(hs);
  const auto layout = c.refine_head_layout();

  // Steps that do not wait for each other run side by side on the CPU (run_tasks; the same
  // bits in any order): the RGB features beside steps 1–3, the instances' own fusion inputs
  // beside the point transformer, then the fusion branches.
  const int workers = det.c1.device().is_cpu() ? std::max(1, cpu_workers) : 1;
  const FusionBranches fusion(m);
  torch::Tensor x_c, inc, boundary, img;
  run_tasks(2, workers, [&](std::int64_t task) {
    if (task == 1) {  // the RGB encoding of the frames at stride 2
      img = m.conv_norm_relus_fuse_img->forward(nearest(images, h2, w2));
      return;
    }
    // 1. stride-4 features
    torch::Tensor feats4;
    std::tie(x_c, feats4) = stride4_features(m, det);  // [T, 64 | 8, H/4, W/4]

    // 2. incoherent-level logits at stride 4: [rel. coords, sigmoid(coarse), features]
    const auto cm = feats4.size(1);
    const auto inc_in = at::cat({relative_coords(ref, h4, w4, 4, feats4.scalar_type()),
                                 nearest(coarse.sigmoid(), h4, w4).unsqueeze(2),
                                 feats4.unsqueeze(1).expand({t, k, cm, h4, w4})},
                                2);
    inc = dynamic_convs(inc_in.reshape({t, -1, h4, w4}), params_inc, layout);

    // 3. incoherent points at stride 2 (union of the instance masks)
    auto in_masks = nearest(inc.sigmoid(), h2, w2) > 0.5;  // [T, K, H/2, W/2]
    if (sampling.in_union.defined()) in_masks = in_masks & sampling.in_union.view({1, k, 1, 1});
    auto masks_hr = in_masks.to(inc.scalar_type()).sum(1, true);
    masks_hr = masks_hr.clamp_max(1.0);
    boundary = incoherent_regions(masks_hr);  // [T, 1, H/2, W/2]
  });

  // 4. point features: lay_hr1_c features everywhere, + conv1 and RGB features on the points,
  //    then the point transformer over each frame's points, and the fusion's shared halves on
  //    them; beside it, 5. the per-instance inputs [sigmoid(inc), sigmoid(coarse), box mask,
  //    rel. coords] and the fusion's own halves
  std::vector<torch::Tensor> on_shared, on_own;
  run_tasks(2, workers, [&](std::int64_t task) {
    if (task == 1) {
      const auto own = at::cat({nearest(inc.sigmoid(), h2, w2).unsqueeze(2),
                                nearest(coarse.sigmoid(), h2, w2).unsqueeze(2),
                                box_masks(boxes, h2, w2).unsqueeze(2),
                                relative_coords(ref, h2, w2, 2, inc.scalar_type())},
                               2);  // [T, K, 5, H/2, W/2]
      const auto own_flat = in_fusion_layout(own.reshape({t * k, own.size(2), h2, w2}));
      for (int i = 0; i < FusionBranches::kCount; ++i)
        on_own.push_back(fusion.on_own(i, own_flat, kPointDim));
      return;
    }
    const auto hr =
        nearest(F::relu(m.lay_hr1_c->forward(x_c)), h2, w2) + boundary * (det.c1 + img);
    const auto points_hr = sampling.padded && sampling.qsg_budget == 0
                               ? transform_points_padded(m, hr, boundary, point_limit, trace)
                               : transform_points(m, hr, boundary, point_limit, sampling, trace);
    const auto points_fusion = in_fusion_layout(points_hr);
    for (int i = 0; i < FusionBranches::kCount; ++i)
      on_shared.push_back(fusion.on_shared(i, points_fusion));
  });

  // 5a. the rest of the four fusion branches, summed in order; controller_refine's dynamic
  //     convs, ×2
  std::vector<torch::Tensor> branch_out(FusionBranches::kCount);
  run_tasks(FusionBranches::kCount, workers, [&](std::int64_t i) {
    const auto b = static_cast<std::size_t>(i);
    branch_out[b] = fusion.rest(static_cast<int>(i), on_shared[b], on_own[b], t, k);
  });
  auto fused = branch_out[0];  // [T*K, 11, H/2, W/2]
  for (std::size_t i = 1; i < branch_out.size(); ++i) fused = fused + branch_out[i];
  fused = fused.contiguous();  // back from the fusion's layout
  const auto refined = dynamic_convs(fused.view({t, -1, h2, w2}), params_refine, layout);
  const auto up = aligned_bilinear(refined.reshape({t * k, 1, h2, w2}), 2);

  if (trace) {
    trace->coarse_s8 = coarse.transpose(0, 1);
    trace->inc_s4 = inc.transpose(0, 1);
    trace->refined_s2 = refined.transpose(0, 1);
    const auto inc_up = aligned_bilinear(inc.reshape({t * k, 1, h4, w4}), 2);
    trace->inc_logits = inc_up.reshape({t, k, inc_up.size(2), inc_up.size(3)}).transpose(0, 1);
    trace->boundary = boundary.squeeze(1);
  }
  return up.reshape({t, k, up.size(2), up.size(3)}).transpose(0, 1).contiguous();
}

}  // namespace vmt::model
