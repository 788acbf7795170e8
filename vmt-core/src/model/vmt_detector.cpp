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

#include "dynamic_conv.h"
#include "stage_clock.h"
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

// --- VmtDetector -----------------------------------------------------------------------------

VmtDetectorImpl::VmtDetectorImpl(const ModelConfig& c) : config(c) {
  config.validate();
  if (c.num_feature_levels != 4) {
    throw Error(ErrorCode::InvalidArgument,
                "ModelConfig: the VMT mask head needs num_feature_levels = 4");
  }
  detr = register_module("detr", DeformableDETR(c));
  controller = register_module("controller",
                               MLP(c.hidden_dim, c.hidden_dim, c.mask_head_layout().num_params(), 3));
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
  auto inputs = feats.unsqueeze(1).expand({t, k, cm, h, w});
  if (config.rel_coord) {
    const auto ref = out.reference_points[0].index_select(1, idx);  // [T, K, 2]
    inputs = at::cat({relative_coords(ref, h, w, mask_feat_stride, feats.scalar_type()), inputs}, 2);
  }
  const auto params = out.mask_head_params[0].index_select(0, idx);  // [K, P]
  const auto x = dynamic_convs(inputs.reshape({t, -1, h, w}), params, config.mask_head_layout());
  return x.permute({1, 0, 2, 3});  // [T, K, H, W] → [K, T, H, W]
}

// --- per-frame and tube stages (the engine's feature cache) ----------------------------------

DetectorOutput DetectorOutput::frames(std::int64_t begin, std::int64_t end) const {
  DetectorOutput f;
  f.pred_logits = pred_logits;
  f.hs = hs;
  f.mask_head_params = mask_head_params;
  f.spatial_shapes = spatial_shapes;
  f.input_height = input_height;
  f.input_width = input_width;
  auto per_frame = [&](const torch::Tensor& x, std::int64_t dim) {
    return x.defined() ? x.slice(dim, begin, end) : x;
  };
  f.pred_boxes = per_frame(pred_boxes, 1);
  f.hs_box = per_frame(hs_box, 1);
  f.reference = per_frame(reference, 1);
  f.reference_points = per_frame(reference_points, 1);
  f.memory = per_frame(memory, 1);
  f.mask_feats = per_frame(mask_feats, 0);
  f.mask_feats_c = per_frame(mask_feats_c, 0);
  f.c1 = per_frame(c1, 0);
  f.layer1 = per_frame(layer1, 0);
  return f;
}

FrameFeatures FrameFeatures::slice(std::int64_t begin, std::int64_t end) const {
  FrameFeatures f = *this;
  auto frames = [&](const torch::Tensor& x, std::int64_t dim) {
    return x.defined() ? x.slice(dim, begin, end) : x;
  };
  f.memory = frames(memory, 1);
  f.mask_flatten = frames(mask_flatten, 1);
  f.mask_feats = frames(mask_feats, 0);
  f.mask_feats_c = frames(mask_feats_c, 0);
  f.c1 = frames(c1, 0);
  f.layer1 = frames(layer1, 0);
  for (auto& v : f.decoder_values) v = v.slice(1, begin, end);
  return f;
}

FrameFeatures FrameFeatures::cat(const std::vector<FrameFeatures>& parts) {
  if (parts.empty()) throw Error(ErrorCode::Internal, "FrameFeatures::cat: no frames");
  if (parts.size() == 1) return parts.front();
  // a field some part lacks (a cached frame keeps only what later tubes read) is left out
  auto gather = [&](torch::Tensor FrameFeatures::*field, std::int64_t dim) {
    std::vector<torch::Tensor> list;
    list.reserve(parts.size());
    for (const auto& p : parts) {
      if (!(p.*field).defined()) return torch::Tensor();
      list.push_back(p.*field);
    }
    return at::cat(list, dim);
  };
  FrameFeatures f = parts.front();  // shapes, spatial_shapes, valid_ratios of the first frame
  f.memory = gather(&FrameFeatures::memory, 1);
  f.mask_flatten = gather(&FrameFeatures::mask_flatten, 1);
  f.mask_feats = gather(&FrameFeatures::mask_feats, 0);
  f.mask_feats_c = gather(&FrameFeatures::mask_feats_c, 0);
  f.c1 = gather(&FrameFeatures::c1, 0);
  f.layer1 = gather(&FrameFeatures::layer1, 0);
  for (std::size_t l = 0; l < f.decoder_values.size(); ++l) {
    std::vector<torch::Tensor> list;
    list.reserve(parts.size());
    for (const auto& p : parts) list.push_back(p.decoder_values.at(l));
    f.decoder_values[l] = at::cat(list, 1);
  }
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

  f.decoder_values = detr->transformer->decoder->project_values(f.memory);
  std::tie(f.mask_feats, f.mask_feats_c) = mask_features(f.memory, f.shapes);
  clock.mark(&StageTimes::heads_ms);
  return f;
}

DetectorOutput VmtDetectorImpl::decode_tube(const FrameFeatures& f, StageTimes* times) {
  StageClock clock(times, f.mask_feats.device());
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
  // With the value projections given, the decoder reads only the shape of the memory: a cached
  // tube may keep the projections alone.
  state.memory = f.memory.defined() || f.decoder_values.empty() ? f.memory : f.decoder_values[0];
  state.mask_flatten = f.mask_flatten;
  state.spatial_shapes = f.spatial_shapes;
  state.level_start_index = f.level_start_index;
  state.valid_ratios = f.valid_ratios;
  state.shapes = f.shapes;
  const auto dec = detr->transformer->decode(state, detr->query_embed->weight, f.decoder_values);
  clock.mark(&StageTimes::decoder_ms);
  out.decoder_layers = dec.layers;
  apply_heads(dec.layers.back(), dec.layers.size() - 1, out);  // as in forward
  clock.mark(&StageTimes::heads_ms);
  return out;
}

}  // namespace vmt::model
