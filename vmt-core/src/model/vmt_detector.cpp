#include "vmt_detector.h"

#include <torch/cuda.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/normalization.h>

#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/meshgrid.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/topk.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "vmt/error.h"

namespace vmt::model {

namespace F = torch::nn::functional;
using torch::indexing::None;
using torch::indexing::Slice;

namespace {

torch::nn::Conv2d conv3x3(std::int64_t in, std::int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

torch::Tensor nearest_to(const torch::Tensor& x, const torch::Tensor& like) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<std::int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kNearest));
}

class StageClock {
 public:
  StageClock(StageTimes* times, const torch::Device& device) : times_(times), device_(device) {
    if (times_) start_ = now();
  }
  /// Adds the time since the previous mark to `slot`.
  void mark(double StageTimes::*slot) {
    if (!times_) return;
    const auto t = now();
    times_->*slot += std::chrono::duration<double, std::milli>(t - start_).count();
    start_ = t;
  }

 private:
  std::chrono::steady_clock::time_point now() const {
    if (device_.is_cuda()) torch::cuda::synchronize(device_.index() < 0 ? 0 : device_.index());
    return std::chrono::steady_clock::now();
  }
  StageTimes* times_;
  torch::Device device_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

// --- DeformableDETR --------------------------------------------------------------------------

DeformableDETRImpl::DeformableDETRImpl(const ModelConfig& c) : config(c) {
  config.validate();
  const auto d = c.hidden_dim;
  transformer = register_module("transformer", DeformableTransformer(c));
  class_embed = register_module("class_embed", torch::nn::ModuleList());
  bbox_embed = register_module("bbox_embed", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.dec_layers; ++i) {
    class_embed->push_back(torch::nn::Linear(d, c.num_classes));
    bbox_embed->push_back(MLP(d, d, 4, 3));
  }
  transformer->decoder->set_bbox_embed(bbox_embed);  // iterative box refinement
  query_embed = register_module("query_embed", torch::nn::Embedding(c.num_queries, 2 * d));
  input_proj = register_module("input_proj", torch::nn::ModuleList());
  const auto channels = c.backbone_channels();
  std::int64_t in = 0;
  for (const auto ch : channels) {
    input_proj->push_back(torch::nn::Sequential(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(ch, d, 1)),
        torch::nn::GroupNorm(torch::nn::GroupNormOptions(32, d))));
    in = ch;
  }
  for (auto l = static_cast<std::int64_t>(channels.size()); l < c.num_feature_levels; ++l) {
    input_proj->push_back(torch::nn::Sequential(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, d, 3).stride(2).padding(1)),
        torch::nn::GroupNorm(torch::nn::GroupNormOptions(32, d))));
    in = d;
  }
  backbone = register_module("backbone", Joiner(c));
}

LevelInputs DeformableDETRImpl::project(const JoinedFeatures& joined, const torch::Tensor& mask) {
  LevelInputs in;
  const auto& f = joined.features;
  const std::vector<const torch::Tensor*> stages{&f.layer2, &f.layer3, &f.layer4};
  for (std::size_t l = 0; l < stages.size(); ++l) {
    in.srcs.push_back(input_proj[l]->as<torch::nn::Sequential>()->forward(*stages[l]).unsqueeze(0));
    in.masks.push_back(joined.masks[l].unsqueeze(0));
    in.pos.push_back(joined.pos[l].unsqueeze(0));
  }
  // extra levels: stride-2 convs on layer4, then on the previous extra level
  auto src = f.layer4;
  for (auto l = stages.size(); l < input_proj->size(); ++l) {
    src = input_proj[l]->as<torch::nn::Sequential>()->forward(src);
    const auto m = JoinerImpl::resize_mask(mask, src.size(2), src.size(3));
    in.pos.push_back(backbone->position_embedding->forward(m).to(src.scalar_type()).unsqueeze(0));
    in.masks.push_back(m.unsqueeze(0));
    in.srcs.push_back(src.unsqueeze(0));
  }
  return in;
}

// --- MaskHeadSmallConv -----------------------------------------------------------------------

MaskHeadSmallConvImpl::MaskHeadSmallConvImpl(std::int64_t dim, std::int64_t context_dim) {
  lay1 = register_module("lay1", conv3x3(dim, dim / 4));
  lay2 = register_module("lay2", conv3x3(dim / 4, dim / 32));
  lay3 = register_module("lay3", conv3x3(context_dim, context_dim));
  lay4 = register_module("lay4", conv3x3(context_dim, context_dim));
  dcn = register_module("dcn", conv3x3(context_dim, context_dim));
}

std::pair<torch::Tensor, torch::Tensor> MaskHeadSmallConvImpl::forward(
    const std::vector<torch::Tensor>& x) {
  const auto n = x.size();
  auto fused = F::relu(lay3->forward(x[n - 1]));
  fused = F::relu(lay4->forward(x[n - 2] + nearest_to(fused, x[n - 2])));
  fused = x[n - 3] + nearest_to(fused, x[n - 3]);
  auto out = F::relu(dcn->forward(fused));
  out = F::relu(lay1->forward(out));
  out = F::relu(lay2->forward(out));
  return {out, fused};
}

// --- helpers of the dynamic mask head --------------------------------------------------------

torch::Tensor aligned_bilinear(const torch::Tensor& x, std::int64_t factor) {
  if (factor == 1) return x;
  const auto h = x.size(2), w = x.size(3);
  auto y = F::pad(x, F::PadFuncOptions({0, 1, 0, 1}).mode(torch::kReplicate));
  const auto oh = factor * h + 1, ow = factor * w + 1;
  y = F::interpolate(y, F::InterpolateFuncOptions()
                            .size(std::vector<std::int64_t>{oh, ow})
                            .mode(torch::kBilinear)
                            .align_corners(true));
  y = F::pad(y, F::PadFuncOptions({factor / 2, 0, factor / 2, 0}).mode(torch::kReplicate));
  return y.index({Slice(), Slice(), Slice(None, oh - 1), Slice(None, ow - 1)});
}

torch::Tensor compute_locations(std::int64_t h, std::int64_t w, std::int64_t stride,
                                const torch::TensorOptions& options) {
  const auto opts = options.dtype(torch::kFloat32);
  const auto grid = at::meshgrid({at::arange(0, h * stride, stride, opts),
                                  at::arange(0, w * stride, stride, opts)},
                                 "ij");
  return at::stack({grid[1].reshape(-1), grid[0].reshape(-1)}, 1) + stride / 2;
}

// --- VmtDetector -----------------------------------------------------------------------------

VmtDetectorImpl::VmtDetectorImpl(const ModelConfig& c) : config(c) {
  config.validate();
  if (c.num_feature_levels != 4) {
    throw Error(ErrorCode::InvalidArgument,
                "ModelConfig: the VMT mask head needs num_feature_levels = 4");
  }
  detr = register_module("detr", DeformableDETR(c));
  controller = register_module("controller",
                               MLP(c.hidden_dim, c.hidden_dim, c.num_dynamic_params(), 3));
  mask_head = register_module("mask_head", MaskHeadSmallConv(c.hidden_dim, c.hidden_dim));
}

DetectorOutput VmtDetectorImpl::forward(const torch::Tensor& frames, const torch::Tensor& mask_in,
                                        StageTimes* times) {
  if (frames.dim() != 4 || frames.size(1) != 3) {
    throw Error(ErrorCode::InvalidArgument, "VmtDetector: frames must be [T, 3, H, W]");
  }
  const auto t = frames.size(0);
  const auto mask = mask_in.defined()
                        ? mask_in
                        : at::zeros({t, frames.size(2), frames.size(3)},
                                    frames.options().dtype(torch::kBool));
  StageClock clock(times, frames.device());
  DetectorOutput out;
  out.input_height = frames.size(2);
  out.input_width = frames.size(3);

  // backbone and input projections
  const auto joined = detr->backbone->forward(frames, mask);
  const auto levels = detr->project(joined, mask);
  out.c1 = joined.features.c1;
  out.layer1 = joined.features.layer1;
  clock.mark(&StageTimes::backbone_ms);

  // encoder
  const auto state = detr->transformer->encode(levels.srcs, levels.masks, levels.pos);
  out.memory = state.memory;
  out.spatial_shapes = state.shapes;
  clock.mark(&StageTimes::encoder_ms);

  // decoder, then the heads of its last layer
  const auto dec = detr->transformer->decode(state, detr->query_embed->weight);
  clock.mark(&StageTimes::decoder_ms);
  out.decoder_layers = dec.layers;
  apply_heads(dec.layers.back(), dec.layers.size() - 1, out);
  std::tie(out.mask_feats, out.mask_feats_c) = mask_features(out.memory, state.shapes);
  clock.mark(&StageTimes::heads_ms);
  return out;
}

void VmtDetectorImpl::apply_heads(const DecoderLayerOutput& layer_out, std::size_t layer,
                                  DetectorOutput& out) {
  out.hs = layer_out.hs;
  out.hs_box = layer_out.hs_box;
  out.reference = inverse_sigmoid(layer_out.reference);
  out.pred_logits = detr->class_embed[layer]->as<torch::nn::Linear>()->forward(layer_out.hs);
  auto tmp = detr->bbox_embed[layer]->as<MLP>()->forward(layer_out.hs_box);
  if (out.reference.size(-1) == 4) {
    tmp = tmp + out.reference;
  } else {
    tmp = at::cat({tmp.index({"...", Slice(None, 2)}) + out.reference,
                   tmp.index({"...", Slice(2, None)})},
                  -1);
  }
  out.pred_boxes = tmp.sigmoid();
  out.mask_head_params = controller->forward(layer_out.hs);
  const auto scale =
      at::tensor({static_cast<float>(out.input_width), static_cast<float>(out.input_height)})
          .to(out.reference.options());  // built in fp32 on the CPU, then moved and cast
  out.reference_points = out.reference.index({"...", Slice(None, 2)}).sigmoid() * scale;
}

DetectorOutput VmtDetectorImpl::layer_heads(const DetectorOutput& out, std::size_t layer) {
  if (layer >= out.decoder_layers.size()) {
    throw Error(ErrorCode::InvalidArgument,
                "VmtDetector::layer_heads: layer " + std::to_string(layer) + " of " +
                    std::to_string(out.decoder_layers.size()));
  }
  DetectorOutput copy = out;
  apply_heads(out.decoder_layers[layer], layer, copy);
  return copy;
}

std::pair<torch::Tensor, torch::Tensor> VmtDetectorImpl::mask_features(
    const torch::Tensor& memory, const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes) {
  std::vector<torch::Tensor> mem_levels;
  std::int64_t start = 0;
  const auto t = memory.size(1), c = memory.size(3);
  for (std::int64_t l = 0; l + 1 < config.num_feature_levels; ++l) {
    const auto [h, w] = shapes[static_cast<std::size_t>(l)];
    mem_levels.push_back(
        memory[0].slice(1, start, start + h * w).reshape({t, h, w, c}).permute({0, 3, 1, 2}));
    start += h * w;
  }
  return mask_head->forward(mem_levels);
}

torch::Tensor VmtDetectorImpl::coarse_mask_logits(const DetectorOutput& out,
                                                  const torch::Tensor& query_indices) {
  constexpr std::int64_t mask_feat_stride = 8;
  const auto x = coarse_mask_logits_s8(out, query_indices);  // [K, T, H, W]
  const auto k = x.size(0), t = x.size(1), h = x.size(2), w = x.size(3);
  if (k == 0) return x.new_zeros({0, t, h * 2, w * 2});
  // ×(8 / mask_out_stride), frames first as in the official per-frame loop
  auto up = aligned_bilinear(x.transpose(0, 1).reshape({-1, 1, h, w}),
                             mask_feat_stride / config.mask_out_stride);
  return up.reshape({t, k, up.size(2), up.size(3)}).permute({1, 0, 2, 3});
}

torch::Tensor VmtDetectorImpl::coarse_mask_logits_s8(const DetectorOutput& out,
                                                     const torch::Tensor& query_indices) {
  constexpr std::int64_t mask_feat_stride = 8;
  const auto idx = query_indices.to(out.hs.device(), torch::kInt64);
  const auto k = idx.size(0);
  const auto& feats = out.mask_feats;  // [T, Cm, H, W]
  const auto t = feats.size(0), cm = feats.size(1), h = feats.size(2), w = feats.size(3);
  if (k == 0) return feats.new_zeros({0, t, h, w});

  // inputs per instance: relative coordinates (2) then the shared mask features
  auto inputs = feats.reshape({t, 1, cm, h * w}).expand({t, k, cm, h * w});
  if (config.rel_coord) {
    const auto locations = compute_locations(h, w, mask_feat_stride, feats.options());
    const auto ref = out.reference_points[0].index_select(1, idx);  // [T, K, 2]
    const auto rel = (ref.reshape({t, k, 1, 1, 2}) - locations.reshape({1, 1, h, w, 2}))
                         .to(torch::kFloat32)
                         .permute({0, 1, 4, 2, 3})
                         .flatten(-2, -1);
    inputs = at::cat({rel, inputs}, 2);
  }
  auto x = inputs.reshape({t, -1, h, w});

  // parse_dynamic_params: weights then biases of each layer, per instance
  const auto params = out.mask_head_params[0].index_select(0, idx);  // [K, P]
  const auto ch = config.dynamic_mask_channels;
  const auto in_ch = cm + (config.rel_coord ? 2 : 0);
  const auto layers = config.controller_layers;
  std::vector<std::int64_t> weight_nums, bias_nums;
  for (std::int64_t l = 0; l < layers; ++l) {
    const auto in_l = l == 0 ? in_ch : ch;
    const auto out_l = l == layers - 1 ? 1 : ch;
    weight_nums.push_back(in_l * out_l);
    bias_nums.push_back(out_l);
  }
  std::vector<std::int64_t> sizes = weight_nums;
  sizes.insert(sizes.end(), bias_nums.begin(), bias_nums.end());
  const auto splits = params.split_with_sizes(sizes, 1);
  for (std::int64_t l = 0; l < layers; ++l) {
    const auto out_l = l == layers - 1 ? 1 : ch;
    const auto weight = splits[static_cast<std::size_t>(l)].reshape({k * out_l, -1, 1, 1});
    const auto bias = splits[static_cast<std::size_t>(layers + l)].reshape({k * out_l});
    x = F::conv2d(x, weight, F::Conv2dFuncOptions().bias(bias).groups(k));
    if (l < layers - 1) x = F::relu(x);
  }
  // [T, K, H, W] → [K, T, H, W]
  return x.reshape({t, k, h, w}).permute({1, 0, 2, 3});
}

torch::Tensor VmtDetectorImpl::select_queries(const torch::Tensor& pred_logits, std::int64_t k,
                                              std::int64_t limit) {
  const auto scores = pred_logits[0].sigmoid().flatten().cpu();
  const auto num_classes = pred_logits.size(2);
  const auto top = std::get<1>(at::topk(scores, std::min<std::int64_t>(k, scores.numel())));
  std::set<std::int64_t> queries;
  const auto acc = top.accessor<std::int64_t, 1>();
  for (std::int64_t i = 0; i < acc.size(0); ++i) queries.insert(acc[i] / num_classes);
  std::vector<std::int64_t> chosen(queries.begin(), queries.end());
  if (static_cast<std::int64_t>(chosen.size()) > limit) chosen.resize(static_cast<std::size_t>(limit));
  return at::tensor(chosen, torch::TensorOptions().dtype(torch::kInt64));
}

// --- per-frame and tube stages (the engine's feature cache) ----------------------------------

FrameFeatures FrameFeatures::slice(std::int64_t begin, std::int64_t end) const {
  FrameFeatures f = *this;
  f.memory = memory.slice(1, begin, end);
  f.mask_flatten = mask_flatten.slice(1, begin, end);
  f.mask_feats = mask_feats.slice(0, begin, end);
  f.mask_feats_c = mask_feats_c.slice(0, begin, end);
  f.c1 = c1.slice(0, begin, end);
  f.layer1 = layer1.slice(0, begin, end);
  return f;
}

FrameFeatures FrameFeatures::cat(const std::vector<FrameFeatures>& parts) {
  if (parts.empty()) throw Error(ErrorCode::Internal, "FrameFeatures::cat: no frames");
  if (parts.size() == 1) return parts.front();
  auto gather = [&](torch::Tensor FrameFeatures::*field, std::int64_t dim) {
    std::vector<torch::Tensor> list;
    list.reserve(parts.size());
    for (const auto& p : parts) list.push_back(p.*field);
    return at::cat(list, dim);
  };
  FrameFeatures f = parts.front();  // shapes, spatial_shapes, valid_ratios of the first frame
  f.memory = gather(&FrameFeatures::memory, 1);
  f.mask_flatten = gather(&FrameFeatures::mask_flatten, 1);
  f.mask_feats = gather(&FrameFeatures::mask_feats, 0);
  f.mask_feats_c = gather(&FrameFeatures::mask_feats_c, 0);
  f.c1 = gather(&FrameFeatures::c1, 0);
  f.layer1 = gather(&FrameFeatures::layer1, 0);
  return f;
}

FrameFeatures VmtDetectorImpl::encode_frames(const torch::Tensor& frames, StageTimes* times) {
  if (frames.dim() != 4 || frames.size(1) != 3) {
    throw Error(ErrorCode::InvalidArgument, "VmtDetector: frames must be [T, 3, H, W]");
  }
  const auto t = frames.size(0);
  const auto mask =
      at::zeros({t, frames.size(2), frames.size(3)}, frames.options().dtype(torch::kBool));
  StageClock clock(times, frames.device());
  FrameFeatures f;
  f.input_height = frames.size(2);
  f.input_width = frames.size(3);

  const auto joined = detr->backbone->forward(frames, mask);
  const auto levels = detr->project(joined, mask);
  f.c1 = joined.features.c1;
  f.layer1 = joined.features.layer1;
  clock.mark(&StageTimes::backbone_ms);

  const auto state = detr->transformer->encode(levels.srcs, levels.masks, levels.pos);
  f.memory = state.memory;
  f.mask_flatten = state.mask_flatten;
  f.spatial_shapes = state.spatial_shapes;
  f.level_start_index = state.level_start_index;
  f.valid_ratios = state.valid_ratios;
  f.shapes = state.shapes;
  clock.mark(&StageTimes::encoder_ms);

  std::tie(f.mask_feats, f.mask_feats_c) = mask_features(f.memory, f.shapes);
  clock.mark(&StageTimes::heads_ms);
  return f;
}

DetectorOutput VmtDetectorImpl::decode_tube(const FrameFeatures& f, StageTimes* times) {
  StageClock clock(times, f.memory.device());
  DetectorOutput out;
  out.input_height = f.input_height;
  out.input_width = f.input_width;
  out.c1 = f.c1;
  out.layer1 = f.layer1;
  out.memory = f.memory;
  out.spatial_shapes = f.shapes;
  out.mask_feats = f.mask_feats;
  out.mask_feats_c = f.mask_feats_c;

  EncoderState state;
  state.memory = f.memory;
  state.mask_flatten = f.mask_flatten;
  state.spatial_shapes = f.spatial_shapes;
  state.level_start_index = f.level_start_index;
  state.valid_ratios = f.valid_ratios;
  state.shapes = f.shapes;
  const auto dec = detr->transformer->decode(state, detr->query_embed->weight);
  clock.mark(&StageTimes::decoder_ms);
  out.decoder_layers = dec.layers;
  apply_heads(dec.layers.back(), dec.layers.size() - 1, out);  // as in forward
  clock.mark(&StageTimes::heads_ms);
  return out;
}

}  // namespace vmt::model
