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
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/randperm.h>
#include <ATen/ops/sort.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/where.h>

#include <string>
#include <vector>

#include "vmt/error.h"

namespace vmt::model {

namespace F = torch::nn::functional;

namespace {

constexpr std::int64_t kPointDim = 64;      // point features / transformer width
constexpr std::int64_t kFuseChannels = 11;  // fusion output = inputs of controller_refine's convs

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

/// Number of dynamic parameters of controller_inc / controller_refine: layers of
/// (in_channels + 3) → ch → … → 1 with biases (177 for the presets).
std::int64_t num_inc_params(const ModelConfig& c) {
  const auto in = c.mask_feat_channels() + 3, ch = c.dynamic_mask_channels;
  std::int64_t total = 0;
  for (std::int64_t l = 0; l < c.controller_layers; ++l) {
    const auto in_l = l == 0 ? in : ch;
    const auto out_l = l == c.controller_layers - 1 ? 1 : ch;
    total += in_l * out_l + out_l;
  }
  return total;
}

/// The official mask_heads_forward with parse_dynamic_params(weight_nums_inc): per-instance 1×1
/// convolutions. x: [T, K * in, H, W] (instance-major channels), params [K, P] → [T, K, H, W].
torch::Tensor dynamic_convs(torch::Tensor x, const torch::Tensor& params, const ModelConfig& c) {
  const auto k = params.size(0), layers = c.controller_layers, ch = c.dynamic_mask_channels;
  const auto in = x.size(1) / k;
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(2 * layers));
  for (std::int64_t l = 0; l < layers; ++l) {
    const auto in_l = l == 0 ? in : ch;
    const auto out_l = l == layers - 1 ? 1 : ch;
    sizes[static_cast<std::size_t>(l)] = in_l * out_l;
    sizes[static_cast<std::size_t>(layers + l)] = out_l;
  }
  const auto splits = params.split_with_sizes(sizes, 1);
  for (std::int64_t l = 0; l < layers; ++l) {
    const auto out_l = l == layers - 1 ? 1 : ch;
    const auto weight = splits[static_cast<std::size_t>(l)].reshape({k * out_l, -1, 1, 1});
    const auto bias = splits[static_cast<std::size_t>(layers + l)].reshape({k * out_l});
    x = F::conv2d(x, weight, F::Conv2dFuncOptions().bias(bias).groups(k));
    if (l < layers - 1) x = F::relu(x);
  }
  return x;  // [T, K, H, W]
}

/// ref [T, K, 2] (x, y pixels) minus the pixel centres of an h × w map of `stride`:
/// [T, K, 2, h, w] (the official relative_coords).
torch::Tensor relative_coords(const torch::Tensor& ref, std::int64_t h, std::int64_t w,
                              std::int64_t stride) {
  const auto t = ref.size(0), k = ref.size(1);
  const auto locations = compute_locations(h, w, stride, ref.options());
  return (ref.reshape({t, k, 1, 1, 2}) - locations.reshape({1, 1, h, w, 2}))
      .to(torch::kFloat32)
      .permute({0, 1, 4, 2, 3});
}

/// The official pos_embed of an all-valid [*, C, h, w] map (no −0.5 offset): [h * w, C],
/// row-major, channels y then x, each interleaving sin / cos.
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
  return at::cat({py, px}, 2).reshape({h * w, channels});
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
  if (c.hidden_dim != 256 || !c.rel_coord) {
    throw Error(ErrorCode::InvalidArgument,
                "ModelConfig: the VMT refinement head needs hidden_dim = 256 and rel_coord");
  }
  if (c.refine_queries < 0 || c.refine_point_limit < 1) {
    throw Error(ErrorCode::InvalidArgument,
                "ModelConfig: refine_queries must be >= 0 and refine_point_limit >= 1");
  }
  detector = VmtDetector(c);
  register_module("detr", detector->detr);
  register_module("controller", detector->controller);
  register_module("mask_head", detector->mask_head);

  const auto d = c.hidden_dim, p = num_inc_params(c);
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
  for (int i = 0; i < 4; ++i) {
    *fuse[i] = register_module("conv_norm_relus_fuse_all_" + std::to_string(i + 1),
                               conv_relu_stack(fuse_in, 32, 32, kFuseChannels, dilations[i]));
  }
  encoder = register_module("encoder", PointTransformer(kPointDim, 4, 3, 2048));
}

// --- refinement ------------------------------------------------------------------------------

torch::Tensor select_points(const torch::Tensor& boundary, std::int64_t limit) {
  const auto points = at::nonzero(boundary.reshape({-1})).reshape({-1});  // ascending
  const auto p = points.size(0);
  if (p <= limit) return points;
  const auto keep = at::floor_divide(at::arange(limit, points.options()) * p, limit);
  return points.index_select(0, keep);
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

torch::Tensor refine_masks(VmtModel& model, const DetectorOutput& det,
                           const torch::Tensor& images, const torch::Tensor& query_indices,
                           RefinementTrace* trace, const PointSampling& sampling) {
  auto& m = *model;
  const auto& c = m.config;
  const auto idx = query_indices.to(det.hs.device(), torch::kInt64);
  const auto k = idx.size(0);
  const auto t = det.c1.size(0), h2 = det.c1.size(2), w2 = det.c1.size(3);
  const auto h4 = det.layer1.size(2), w4 = det.layer1.size(3);
  if (images.dim() != 4 || images.size(0) != t || images.size(1) != 3) {
    throw Error(ErrorCode::InvalidArgument, "refine_masks: images must be [T, 3, H, W]");
  }
  if (k == 0) return det.c1.new_zeros({0, t, 2 * h2, 2 * w2});

  // per-instance inputs (frames first below: [T, K, ...])
  const auto coarse = m.detector->coarse_mask_logits_s8(det, idx).transpose(0, 1);
  const auto ref = det.reference_points[0].index_select(1, idx);  // [T, K, 2]
  const auto boxes = det.pred_boxes[0].index_select(1, idx);      // [T, K, 4]
  const auto hs = det.hs[0].index_select(0, idx);                 // [K, C]
  const auto params_inc = m.controller_inc->forward(hs);
  const auto params_refine = m.controller_refine->forward(hs);

  // 1. stride-4 features from the mask head's merged features and backbone layer1
  auto x = F::relu(m.lay_hr1->forward(det.mask_feats_c));
  x = det.layer1 + nearest(x, h4, w4);
  const auto x_c = F::relu(m.lay1_h->forward(x));    // [T, 64, H/4, W/4]
  const auto feats4 = F::relu(m.lay2_h->forward(x_c));  // [T, 8, H/4, W/4]

  // 2. incoherent-level logits at stride 4: [rel. coords, sigmoid(coarse), features]
  const auto cm = feats4.size(1);
  const auto inc_in = at::cat({relative_coords(ref, h4, w4, 4),
                               nearest(coarse.sigmoid(), h4, w4).unsqueeze(2),
                               feats4.unsqueeze(1).expand({t, k, cm, h4, w4})},
                              2);
  const auto inc = dynamic_convs(inc_in.reshape({t, -1, h4, w4}), params_inc, c);  // [T,K,h4,w4]

  // 3. incoherent points at stride 2 (union of the instance masks)
  auto masks_hr = (nearest(inc.sigmoid(), h2, w2) > 0.5).to(torch::kFloat32).sum(1, true);
  masks_hr = masks_hr.clamp_max(1.0);
  const auto boundary = incoherent_regions(masks_hr);  // [T, 1, H/2, W/2]

  // 4. point features: lay_hr1_c features everywhere, + conv1 and RGB features on the points,
  //    then the point transformer over each frame's points
  const auto img = m.conv_norm_relus_fuse_img->forward(nearest(images, h2, w2));
  const auto hr =
      nearest(F::relu(m.lay_hr1_c->forward(x_c)), h2, w2) + boundary * (det.c1 + img);
  const auto pos = point_positions(h2, w2, kPointDim, hr.options());  // [H2*W2, 64]
  std::vector<torch::Tensor> frames;
  if (trace) {
    trace->points.clear();
    trace->point_indices.clear();
  }
  const auto qsg_points = sampling.qsg_budget > 0
                              ? sample_points_qsg(boundary.squeeze(1), sampling.qsg_budget,
                                                  sampling.qsg_seed)
                              : std::vector<torch::Tensor>{};
  for (std::int64_t f = 0; f < t; ++f) {
    auto feat = hr[f].reshape({kPointDim, h2 * w2}).t();  // [H2*W2, 64]
    const auto points = sampling.qsg_budget > 0
                            ? qsg_points[static_cast<std::size_t>(f)]
                            : select_points(boundary[f][0], c.refine_point_limit);
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
  const auto points_hr = at::stack(frames);  // [T, 64, H/2, W/2]

  // 5. per instance: fusion branches, controller_refine's dynamic convs, ×2
  const auto fuse_in =
      at::cat({points_hr.unsqueeze(1).expand({t, k, kPointDim, h2, w2}),
               nearest(inc.sigmoid(), h2, w2).unsqueeze(2),
               nearest(coarse.sigmoid(), h2, w2).unsqueeze(2),
               box_masks(boxes, h2, w2).unsqueeze(2), relative_coords(ref, h2, w2, 2)},
              2)
          .reshape({t * k, -1, h2, w2});
  const auto fused = m.conv_norm_relus_fuse_all_1->forward(fuse_in) +
                     m.conv_norm_relus_fuse_all_2->forward(fuse_in) +
                     m.conv_norm_relus_fuse_all_3->forward(fuse_in) +
                     m.conv_norm_relus_fuse_all_4->forward(fuse_in);  // [T*K, 11, H/2, W/2]
  const auto refined = dynamic_convs(fused.reshape({t, -1, h2, w2}), params_refine, c);
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
