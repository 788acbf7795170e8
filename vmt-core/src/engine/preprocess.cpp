#include "preprocess.h"

#include <torch/nn/functional/upsampling.h>

#include <ATen/ops/empty.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/tensor.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "vmt/error.h"

namespace vmt::engine {

namespace F = torch::nn::functional;

namespace {

/// Bytes per pixel of plane 0 for packed formats.
int packed_bytes(PixelFormat format) {
  switch (format) {
    case PixelFormat::RGB: return 3;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx:
    case PixelFormat::BGRx:
    case PixelFormat::BGRA: return 4;
    default: return 0;
  }
}

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCode::InvalidArgument, "invalid frame: " + what);
}

std::uint8_t clamp_round(float v) {
  return static_cast<std::uint8_t>(std::clamp(std::nearbyint(v), 0.f, 255.f));
}

/// BT.601 limited range YUV → RGB of one pixel.
void yuv_to_rgb(int y, int u, int v, std::uint8_t* rgb) {
  const float yy = 1.164383f * static_cast<float>(y - 16);
  const float uu = static_cast<float>(u - 128), vv = static_cast<float>(v - 128);
  rgb[0] = clamp_round(yy + 1.596027f * vv);
  rgb[1] = clamp_round(yy - 0.391762f * uu - 0.812968f * vv);
  rgb[2] = clamp_round(yy + 2.017232f * uu);
}

void packed_to_rgb(const ImageView& im, std::uint8_t* out) {
  const int bpp = packed_bytes(im.format);
  const bool bgr = im.format == PixelFormat::BGRx || im.format == PixelFormat::BGRA;
  for (int y = 0; y < im.height; ++y) {
    const std::uint8_t* row = im.planes[0] + static_cast<std::ptrdiff_t>(y) * im.strides[0];
    std::uint8_t* dst = out + static_cast<std::ptrdiff_t>(y) * im.width * 3;
    for (int x = 0; x < im.width; ++x, row += bpp, dst += 3) {
      dst[0] = bgr ? row[2] : row[0];
      dst[1] = row[1];
      dst[2] = bgr ? row[0] : row[2];
    }
  }
}

void yuv_planes_to_rgb(const ImageView& im, std::uint8_t* out) {
  const bool nv12 = im.format == PixelFormat::NV12;
  for (int y = 0; y < im.height; ++y) {
    const std::uint8_t* luma = im.planes[0] + static_cast<std::ptrdiff_t>(y) * im.strides[0];
    const std::uint8_t* c1 = im.planes[1] + static_cast<std::ptrdiff_t>(y / 2) * im.strides[1];
    const std::uint8_t* c2 =
        nv12 ? nullptr : im.planes[2] + static_cast<std::ptrdiff_t>(y / 2) * im.strides[2];
    std::uint8_t* dst = out + static_cast<std::ptrdiff_t>(y) * im.width * 3;
    for (int x = 0; x < im.width; ++x, dst += 3) {
      const int cx = x / 2;
      const int u = nv12 ? c1[2 * cx] : c1[cx];
      const int v = nv12 ? c1[2 * cx + 1] : c2[cx];
      yuv_to_rgb(luma[x], u, v, dst);
    }
  }
}

}  // namespace

void validate_image(const ImageView& im) {
  require(im.width > 0 && im.height > 0, "width and height must be positive (got " +
                                             std::to_string(im.width) + "x" +
                                             std::to_string(im.height) + ")");
  const int bpp = packed_bytes(im.format);
  if (bpp > 0) {
    require(im.planes[0] != nullptr, "plane 0 is null");
    require(im.strides[0] >= im.width * bpp, "plane 0 stride is smaller than a row");
    return;
  }
  const int cw = (im.width + 1) / 2;
  require(im.planes[0] != nullptr && im.planes[1] != nullptr, "a YUV plane is null");
  require(im.strides[0] >= im.width, "Y stride is smaller than a row");
  if (im.format == PixelFormat::NV12) {
    require(im.strides[1] >= 2 * cw, "UV stride is smaller than a row");
  } else {
    require(im.planes[2] != nullptr, "the V plane is null");
    require(im.strides[1] >= cw && im.strides[2] >= cw, "a chroma stride is smaller than a row");
  }
}

torch::Tensor to_rgb(const ImageView& image) {
  validate_image(image);
  auto rgb = at::empty({image.height, image.width, 3}, torch::TensorOptions().dtype(torch::kUInt8));
  if (packed_bytes(image.format) > 0) {
    packed_to_rgb(image, rgb.data_ptr<std::uint8_t>());
  } else {
    yuv_planes_to_rgb(image, rgb.data_ptr<std::uint8_t>());
  }
  return rgb;
}

std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t h, std::int64_t w, int size,
                                                   int max_long) {
  // torchvision _compute_resized_output_size: int(size * long / short), in Python floats, then
  // the longer edge capped at max_size
  const bool portrait = w <= h;
  const auto short_in = portrait ? w : h, long_in = portrait ? h : w;
  auto new_short = size > 0 ? static_cast<std::int64_t>(size) : short_in;
  auto new_long = size > 0 ? static_cast<std::int64_t>(static_cast<double>(size) * long_in / short_in)
                           : long_in;
  if (max_long > 0 && new_long > max_long) {
    new_short = static_cast<std::int64_t>(static_cast<double>(max_long) * new_short / new_long);
    new_long = max_long;
  }
  return portrait ? std::pair{new_long, new_short} : std::pair{new_short, new_long};
}

std::pair<std::int64_t, std::int64_t> model_input_size(std::int64_t h, std::int64_t w, int size) {
  constexpr int kMaxAspect = 4, kMaxNativeEdge = 4096, kMinEdge = 32;
  const auto [rh, rw] = resized_size(h, w, size, size > 0 ? kMaxAspect * size : kMaxNativeEdge);
  // Only the cap on the longer edge can make the shorter one smaller than asked; below 32 pixels
  // (the backbone's stride) such a frame has nothing left to segment.
  const std::int64_t asked_short = size > 0 ? size : std::min(h, w);
  if (std::min(rh, rw) < std::min<std::int64_t>(asked_short, kMinEdge)) {
    const std::string cap = size > 0 ? std::to_string(kMaxAspect) + " times the input size (" +
                                           std::to_string(kMaxAspect * size) + ")"
                                     : std::to_string(kMaxNativeEdge) + " pixels";
    throw Error(ErrorCode::InvalidArgument,
                "frames of " + std::to_string(w) + "x" + std::to_string(h) +
                    " are too elongated for the model: with the longer edge capped at " + cap +
                    ", the shorter edge is " + std::to_string(std::min(rh, rw)) +
                    " pixels, below the " + std::to_string(std::min<std::int64_t>(asked_short, kMinEdge)) +
                    " it needs (crop or pad the video first)");
  }
  return {rh, rw};
}

torch::Tensor preprocess(std::span<const ImageView> frames, int size, const torch::Device& device,
                         torch::ScalarType dtype) {
  std::vector<torch::Tensor> rgb;
  rgb.reserve(frames.size());
  for (const auto& f : frames) rgb.push_back(to_rgb(f));
  auto x = at::stack(rgb).permute({0, 3, 1, 2}).to(device).contiguous();  // [T, 3, H, W] uint8
  const auto [h, w] = model_input_size(x.size(2), x.size(3), size);
  if (h != x.size(2) || w != x.size(3)) {
    const auto options = F::InterpolateFuncOptions()
                             .size(std::vector<std::int64_t>{h, w})
                             .mode(torch::kBilinear)
                             .align_corners(false)
                             .antialias(true);
    if (device.is_cpu()) {
      x = F::interpolate(x, options);  // uint8 in, uint8 out (rounded as PIL)
    } else {
      x = F::interpolate(x.to(torch::kFloat32), options).round_().clamp_(0, 255);
    }
  }
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto mean = at::tensor({0.485f, 0.456f, 0.406f}, opts).view({1, 3, 1, 1});
  const auto stdev = at::tensor({0.229f, 0.224f, 0.225f}, opts).view({1, 3, 1, 1});
  return ((x.to(torch::kFloat32) / 255.0f - mean) / stdev).to(dtype).contiguous();
}

}  // namespace vmt::engine
