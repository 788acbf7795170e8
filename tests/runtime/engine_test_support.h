// Shared helpers of the engine tests: model files made at test time through the real save path,
// synthetic frames in every pixel format.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/utils.h>

#include "engine/model_file.h"
#include "vmt/engine.h"
#include "vmt/image.h"

namespace vmt_test {

/// Added to the refined masks' final bias of the test models (see make_model_file).
inline constexpr float kMaskBiasShift = 3.0f;

/// A fresh model file of `preset` (seed, labels a, b, c) in the temp folder; made once per name.
inline std::string make_model_file(const std::string& preset, std::uint64_t seed = 1) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("vmt-engine-test-" + preset + "-" + std::to_string(seed) + "-" +
                     std::to_string(::getpid()) + ".safetensors");
  if (!std::filesystem::exists(path)) {
    vmt::engine::ModelHeader header;
    header.config = vmt::model::preset(preset);
    header.labels = {"a", "b", "c"};
    header.config.num_classes = 5;
    header.name = "test_" + preset;
    auto model = vmt::engine::init_model(header.config, seed);
    // Random refinement weights give all-negative refined logits (every query skipped): shift
    // the last dynamic convolution's bias so that the test models output masks.
    {
      torch::NoGradGuard no_grad;
      for (auto& item : model->named_parameters()) {
        if (item.key() == "controller_refine.layers.2.bias") item.value()[-1].add_(kMaskBiasShift);
      }
    }
    vmt::engine::save_model(model, header, path);
  }
  return path.string();
}

/// Owning storage of one frame and its view.
struct Frame {
  std::vector<std::uint8_t> p0, p1, p2;
  vmt::ImageView view;
};

/// A smooth RGB test picture that changes with `t` (a moving bright blob on gradients).
inline std::vector<std::uint8_t> rgb_picture(int w, int h, int t) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double dx = x - (w / 3.0 + 1.5 * t), dy = y - h / 2.0;
      const double blob = 150.0 * std::exp(-(dx * dx + dy * dy) / (2.0 * (w / 8.0) * (w / 8.0)));
      auto* p = &rgb[(static_cast<std::size_t>(y) * w + x) * 3];
      p[0] = static_cast<std::uint8_t>(std::clamp(40.0 + 120.0 * x / w + blob, 0.0, 255.0));
      p[1] = static_cast<std::uint8_t>(std::clamp(60.0 + 100.0 * y / h, 0.0, 255.0));
      p[2] = static_cast<std::uint8_t>(std::clamp(200.0 - blob * 0.8, 0.0, 255.0));
    }
  }
  return rgb;
}

/// `rgb` (w × h × 3) in `format`; YUV by the BT.601 limited-range forward transform, chroma
/// averaged over 2 × 2 blocks.
inline Frame make_frame(const std::vector<std::uint8_t>& rgb, int w, int h,
                        vmt::PixelFormat format) {
  using vmt::PixelFormat;
  Frame f;
  f.view.format = format;
  f.view.width = w;
  f.view.height = h;
  auto px = [&](int x, int y, int c) { return rgb[(static_cast<std::size_t>(y) * w + x) * 3 + c]; };
  if (format == PixelFormat::RGB) {
    f.p0 = rgb;
    f.view.strides = {w * 3, 0, 0};
  } else if (format == PixelFormat::I420 || format == PixelFormat::NV12) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    f.p0.resize(static_cast<std::size_t>(w) * h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const double r = px(x, y, 0), g = px(x, y, 1), b = px(x, y, 2);
        f.p0[static_cast<std::size_t>(y) * w + x] = static_cast<std::uint8_t>(
            std::lround(16 + 0.256788 * r + 0.504129 * g + 0.097906 * b));
      }
    }
    std::vector<std::uint8_t> u(static_cast<std::size_t>(cw) * ch), v(u.size());
    for (int y = 0; y < ch; ++y) {
      for (int x = 0; x < cw; ++x) {
        double r = 0, g = 0, b = 0;
        int n = 0;
        for (int yy = 2 * y; yy < std::min(h, 2 * y + 2); ++yy) {
          for (int xx = 2 * x; xx < std::min(w, 2 * x + 2); ++xx, ++n) {
            r += px(xx, yy, 0), g += px(xx, yy, 1), b += px(xx, yy, 2);
          }
        }
        r /= n, g /= n, b /= n;
        u[static_cast<std::size_t>(y) * cw + x] =
            static_cast<std::uint8_t>(std::lround(128 - 0.148223 * r - 0.290993 * g + 0.439216 * b));
        v[static_cast<std::size_t>(y) * cw + x] =
            static_cast<std::uint8_t>(std::lround(128 + 0.439216 * r - 0.367788 * g - 0.071427 * b));
      }
    }
    if (format == PixelFormat::I420) {
      f.p1 = u, f.p2 = v;
      f.view.strides = {w, cw, cw};
    } else {
      f.p1.resize(u.size() * 2);
      for (std::size_t i = 0; i < u.size(); ++i) f.p1[2 * i] = u[i], f.p1[2 * i + 1] = v[i];
      f.view.strides = {w, 2 * cw, 0};
    }
  } else {  // 4-byte packed, with a row padding of 8 bytes
    const bool bgr = format == PixelFormat::BGRx || format == PixelFormat::BGRA;
    const int stride = w * 4 + 8;
    f.p0.assign(static_cast<std::size_t>(stride) * h, 77);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        auto* d = &f.p0[static_cast<std::size_t>(y) * stride + x * 4];
        d[0] = px(x, y, bgr ? 2 : 0);
        d[1] = px(x, y, 1);
        d[2] = px(x, y, bgr ? 0 : 2);
        d[3] = 255;
      }
    }
    f.view.strides = {stride, 0, 0};
  }
  f.view.planes = {f.p0.data(), f.p1.empty() ? nullptr : f.p1.data(),
                   f.p2.empty() ? nullptr : f.p2.data()};
  return f;
}

/// `count` frames of a moving picture in `format`.
inline std::vector<Frame> make_clip(int count, int w, int h, vmt::PixelFormat format,
                                    int first = 0) {
  std::vector<Frame> frames;
  frames.reserve(static_cast<std::size_t>(count));
  for (int t = 0; t < count; ++t) frames.push_back(make_frame(rgb_picture(w, h, first + t), w, h, format));
  return frames;
}

inline std::vector<vmt::ImageView> views(const std::vector<Frame>& frames) {
  std::vector<vmt::ImageView> out;
  for (const auto& f : frames) out.push_back(f.view);
  return out;
}

}  // namespace vmt_test
