// Frames in, model input out: every vmt::PixelFormat to RGB, the official resize
// (torchvision T.Resize(size) on a PIL image: shorter edge to `size`, bilinear with PIL's
// antialiasing) and ImageNet normalisation (T.ToTensor + T.Normalize). Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <span>
#include <utility>

#include "vmt/image.h"

namespace vmt::engine {

/// Checks `image` (positive size, planes present, strides large enough for the format); throws
/// vmt::Error(InvalidArgument) naming the problem.
void validate_image(const ImageView& image);

/// One frame as RGB bytes: [H, W, 3] uint8 on the CPU. YUV (I420, NV12) is BT.601 limited range
/// with nearest chroma upsampling; alpha and padding bytes are ignored.
torch::Tensor to_rgb(const ImageView& image);

/// The (height, width) torchvision's Resize(size) gives for an h × w image: the shorter edge
/// becomes `size`, the longer int(size · long / short) (truncated); size 0 = unchanged.
/// With `max_long` > 0 the longer edge is capped there and the shorter one scaled with it
/// (torchvision's max_size: int(max_long · short / long)).
std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t h, std::int64_t w, int size,
                                                   int max_long = 0);

/// The model input size of an h × w frame at shorter edge `size` (0 = native): resized_size with
/// the longer edge capped at 4 × size (4096 for native frames), so that no aspect ratio or frame
/// size makes the input unbounded. Throws vmt::Error(InvalidArgument) naming the frame size when
/// the shorter edge would then fall below the 32 pixels the model needs (an aspect ratio far
/// beyond 4:1).
std::pair<std::int64_t, std::int64_t> model_input_size(std::int64_t h, std::int64_t w, int size);

/// The model input of a tube: [T, 3, h, w] with (h, w) = model_input_size, ImageNet-normalised,
/// `dtype` on `device`. The resize is antialiased bilinear on 8-bit values rounded back to 8 bits
/// (PIL's arithmetic; LibTorch's uint8 path on the CPU, float then round on CUDA).
torch::Tensor preprocess(std::span<const ImageView> frames, int size, const torch::Device& device,
                         torch::ScalarType dtype);

}  // namespace vmt::engine
