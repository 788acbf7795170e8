// The convolutional backbone of VMT (official models/backbone.py): a torchvision-layout ResNet
// with FrozenBatchNorm2d, returning conv1 (C1, before its norm), layer1..layer4, plus the sine
// position encoding of each (the official Joiner). Internal to vmt-core.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "config.h"
#include "position_encoding.h"

namespace vmt::model {

/// BatchNorm2d with fixed statistics and affine parameters, eps added before the rsqrt.
/// Buffers (not parameters, as in the official code): weight, bias, running_mean, running_var.
struct FrozenBatchNorm2dImpl : torch::nn::Module {
  FrozenBatchNorm2dImpl(std::int64_t num_features, double eps);
  /// x: [N, C, H, W] → [N, C, H, W]
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight, bias, running_mean, running_var;
  double eps;
};
TORCH_MODULE(FrozenBatchNorm2d);

/// torchvision's ResNet v1.5 bottleneck (stride on the 3x3 conv): conv1/bn1 (1x1),
/// conv2/bn2 (3x3, stride, dilation), conv3/bn3 (1x1, expansion 4), optional downsample
/// (Sequential of a 1x1 conv "0" and a FrozenBatchNorm2d "1").
struct BottleneckImpl : torch::nn::Module {
  BottleneckImpl(std::int64_t inplanes, std::int64_t planes, std::int64_t stride,
                 std::int64_t dilation, bool with_downsample, double eps);
  /// x: [N, inplanes, H, W] → [N, 4 * planes, H / stride, W / stride]
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  FrozenBatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

/// The stages of one batch of frames. Channels are those of ResNet-50/101 (layer2..4 are
/// 4 × config.resnet_planes[1..3] in general).
struct BackboneFeatures {
  torch::Tensor c1;       ///< [N, 64, H/2, W/2]   output of conv1 (before bn1), stride 2
  torch::Tensor layer1;   ///< [N, 256, H/4, W/4]
  torch::Tensor layer2;   ///< [N, 512, H/8, W/8]
  torch::Tensor layer3;   ///< [N, 1024, H/16, W/16]
  torch::Tensor layer4;   ///< [N, 2048, H/32, W/32] (H/16 with dilation)
};

/// The ResNet trunk up to layer4 (torchvision names: conv1, bn1, layer1..layer4; the official
/// IntermediateLayerGetter drops avgpool and fc). Registered as "body" of BackboneBase.
struct ResNetBodyImpl : torch::nn::Module {
  explicit ResNetBodyImpl(const ModelConfig& config);
  /// x: [N, 3, H, W] normalised frames → the five stages.
  BackboneFeatures forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr};
  FrozenBatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNetBody);

/// The official Backbone/BackboneBase: holds the trunk as "body".
struct BackboneImpl : torch::nn::Module {
  explicit BackboneImpl(const ModelConfig& config);
  /// x: [N, 3, H, W] → the five stages.
  BackboneFeatures forward(const torch::Tensor& x) { return body->forward(x); }

  ResNetBody body{nullptr};
  std::vector<std::int64_t> strides{8, 16, 32};             ///< of layer2..layer4
  std::vector<std::int64_t> num_channels{512, 1024, 2048};  ///< of layer2..layer4 (from config)
};
TORCH_MODULE(Backbone);

/// The stages and their position encodings, with padding masks resized to each stage.
struct JoinedFeatures {
  BackboneFeatures features;
  /// layer2..layer4 (the transformer's inputs; the official Joiner also encodes layer1 and c1,
  /// which nothing reads): [N, Hl, Wl] bool, true = padding.
  std::vector<torch::Tensor> masks;
  std::vector<torch::Tensor> pos;    ///< layer2..layer4: [N, hidden_dim, Hl, Wl]
};

/// The official Joiner (an nn.Sequential): child "0" is the Backbone, child "1" the
/// PositionEmbeddingSine.
struct JoinerImpl : torch::nn::Module {
  explicit JoinerImpl(const ModelConfig& config);
  /// frames: [N, 3, H, W]; mask: [N, H, W] bool (true on padded pixels).
  JoinedFeatures forward(const torch::Tensor& frames, const torch::Tensor& mask);
  /// Nearest-resize of `mask` [N, H, W] to (h, w), as F.interpolate on the float mask.
  static torch::Tensor resize_mask(const torch::Tensor& mask, std::int64_t h, std::int64_t w);

  Backbone backbone{nullptr};
  PositionEmbeddingSine position_embedding{nullptr};
};
TORCH_MODULE(Joiner);

}  // namespace vmt::model
