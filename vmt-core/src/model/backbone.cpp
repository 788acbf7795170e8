#include "backbone.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>

#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>

#include <string>

namespace vmt::model {

namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride = 1,
                       std::int64_t padding = 0, std::int64_t dilation = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                               .stride(stride)
                               .padding(padding)
                               .dilation(dilation)
                               .bias(false));
}

}  // namespace

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(std::int64_t n, double eps_) : eps(eps_) {
  weight = register_buffer("weight", at::ones({n}));
  bias = register_buffer("bias", at::zeros({n}));
  running_mean = register_buffer("running_mean", at::zeros({n}));
  running_var = register_buffer("running_var", at::ones({n}));
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  const auto w = weight.reshape({1, -1, 1, 1});
  const auto b = bias.reshape({1, -1, 1, 1});
  const auto rv = running_var.reshape({1, -1, 1, 1});
  const auto rm = running_mean.reshape({1, -1, 1, 1});
  const auto scale = w * (rv + eps).rsqrt();
  const auto shift = b - rm * scale;
  return x * scale + shift;
}

BottleneckImpl::BottleneckImpl(std::int64_t inplanes, std::int64_t planes, std::int64_t stride,
                               std::int64_t dilation, bool with_downsample, double eps) {
  constexpr std::int64_t expansion = 4;
  conv1 = register_module("conv1", conv(inplanes, planes, 1));
  bn1 = register_module("bn1", FrozenBatchNorm2d(planes, eps));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride, dilation, dilation));
  bn2 = register_module("bn2", FrozenBatchNorm2d(planes, eps));
  conv3 = register_module("conv3", conv(planes, planes * expansion, 1));
  bn3 = register_module("bn3", FrozenBatchNorm2d(planes * expansion, eps));
  if (with_downsample) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(conv(inplanes, planes * expansion, 1, stride),
                                            FrozenBatchNorm2d(planes * expansion, eps)));
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = F::relu(bn1->forward(conv1->forward(x)));
  out = F::relu(bn2->forward(conv2->forward(out)));
  out = bn3->forward(conv3->forward(out));
  const auto identity = downsample ? downsample->forward(x) : x;
  return F::relu(out + identity);
}

ResNetBodyImpl::ResNetBodyImpl(const ModelConfig& config) {
  const double eps = config.frozen_bn_eps;
  const auto blocks = config.resnet_blocks();
  const auto& planes = config.resnet_planes;
  conv1 = register_module("conv1", conv(3, ModelConfig::stem_channels, 7, 2, 3));
  bn1 = register_module("bn1", FrozenBatchNorm2d(ModelConfig::stem_channels, eps));

  // torchvision ResNet._make_layer, with replace_stride_with_dilation = {false, false, dilation}.
  std::int64_t inplanes = ModelConfig::stem_channels;
  std::int64_t cur_dilation = 1;
  auto make_layer = [&](std::int64_t planes, std::int64_t count, std::int64_t stride,
                        bool dilate) {
    const std::int64_t previous_dilation = cur_dilation;
    if (dilate) {
      cur_dilation *= stride;
      stride = 1;
    }
    torch::nn::Sequential layer;
    const bool with_downsample = stride != 1 || inplanes != planes * 4;
    layer->push_back(Bottleneck(inplanes, planes, stride, previous_dilation, with_downsample, eps));
    inplanes = planes * 4;
    for (std::int64_t i = 1; i < count; ++i) {
      layer->push_back(Bottleneck(inplanes, planes, 1, cur_dilation, false, eps));
    }
    return layer;
  };
  layer1 = register_module("layer1", make_layer(planes[0], blocks[0], 1, false));
  layer2 = register_module("layer2", make_layer(planes[1], blocks[1], 2, false));
  layer3 = register_module("layer3", make_layer(planes[2], blocks[2], 2, false));
  layer4 = register_module("layer4", make_layer(planes[3], blocks[3], 2, config.dilation));
}

BackboneFeatures ResNetBodyImpl::forward(const torch::Tensor& x) {
  BackboneFeatures f;
  f.c1 = conv1->forward(x);
  auto y = F::relu(bn1->forward(f.c1));
  y = F::max_pool2d(y, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  f.layer1 = layer1->forward(y);
  f.layer2 = layer2->forward(f.layer1);
  f.layer3 = layer3->forward(f.layer2);
  f.layer4 = layer4->forward(f.layer3);
  return f;
}

BackboneImpl::BackboneImpl(const ModelConfig& config) {
  body = register_module("body", ResNetBody(config));
  num_channels = config.backbone_channels();
  if (config.dilation) strides.back() /= 2;
}

JoinerImpl::JoinerImpl(const ModelConfig& config) {
  backbone = register_module("0", Backbone(config));
  position_embedding = register_module(
      "1", PositionEmbeddingSine(config.hidden_dim / 2, config.position_temperature,
                                 config.position_normalize, config.position_scale));
}

torch::Tensor JoinerImpl::resize_mask(const torch::Tensor& mask, std::int64_t h, std::int64_t w) {
  return F::interpolate(mask.unsqueeze(0).to(torch::kFloat32),
                        F::InterpolateFuncOptions()
                            .size(std::vector<std::int64_t>{h, w})
                            .mode(torch::kNearest))
      .to(torch::kBool)
      .squeeze(0);
}

JoinedFeatures JoinerImpl::forward(const torch::Tensor& frames, const torch::Tensor& mask) {
  JoinedFeatures out;
  out.features = backbone->forward(frames);
  const auto& f = out.features;
  for (const auto* x : {&f.layer2, &f.layer3, &f.layer4}) {
    auto m = resize_mask(mask, x->size(2), x->size(3));
    out.pos.push_back(position_embedding->forward(m).to(x->scalar_type()));
    out.masks.push_back(std::move(m));
  }
  return out;
}

}  // namespace vmt::model
