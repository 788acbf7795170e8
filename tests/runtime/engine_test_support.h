// Shared helpers of the engine tests: model files made at test time through the real save path,
// synthetic frames in every pixel format.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <torch/utils.h>

#include "engine/model_file.h"
#include "vmt/engine.h"
#include "vmt/error.h"
#include "vmt/image.h"
#include "vmt/mask.h"

namespace vmt_test {

/// Runs `fn`, expecting a vmt::Error with `code` whose message contains `text`.
template <typename Fn>
void expect_error(Fn&& fn, vmt::ErrorCode code, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing '" << text << "'";
  } catch (const vmt::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

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

/// Tube mask IoU of two instances' frame masks (frames without one count as empty).
inline double frame_mask_tube_iou(const vmt::TubeInstance& a, const vmt::TubeInstance& b) {
  std::vector<vmt::Rle> ra, rb;
  for (std::size_t f = 0; f < a.frame_masks.size() && f < b.frame_masks.size(); ++f) {
    if (a.frame_masks[f].frame.pixels() == 0 || b.frame_masks[f].frame.pixels() == 0) continue;
    ra.push_back(vmt::rle_encode(a.frame_masks[f]));
    rb.push_back(vmt::rle_encode(b.frame_masks[f]));
  }
  return vmt::rle_tube_iou(ra, rb);
}

/// How two engines' results for the same frames compare.
struct Comparison {
  int steps_compared = 0, frames_compared = 0;
  int mismatches = 0;        ///< frames whose instances are not bit-identical
  int count_mismatches = 0;  ///< frames with a different number of instances
  double max_score_difference = 0;
  double min_mask_iou = 1;
  long instances = 0;        ///< instances compared
  std::size_t max_cached_frames = 0;
  std::string first_mismatch;
};

/// The instances present on tube slot `slot` (non-empty frame mask), in result order.
inline std::vector<const vmt::TubeInstance*> present_on(const vmt::TubeResult& r, std::size_t slot) {
  std::vector<const vmt::TubeInstance*> out;
  for (const auto& inst : r.instances) {
    if (slot < inst.frame_masks.size() && !inst.frame_masks[slot].empty()) out.push_back(&inst);
  }
  return out;
}

/// Compares frame `slot` of `a` and `b` into `c` (`where` names it in the first mismatch).
inline void compare_frame(const vmt::TubeResult& a, const vmt::TubeResult& b, std::size_t slot_a,
                          std::size_t slot_b, const std::string& where, Comparison& c) {
  const auto pa = present_on(a, slot_a), pb = present_on(b, slot_b);
  ++c.frames_compared;
  auto note = [&](const std::string& what) {
    if (c.first_mismatch.empty()) c.first_mismatch = where + ": " + what;
  };
  bool identical = pa.size() == pb.size();
  if (pa.size() != pb.size()) {
    ++c.count_mismatches;
    note(std::to_string(pa.size()) + " instances against " + std::to_string(pb.size()));
  }
  for (std::size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    const auto& ma = pa[i]->frame_masks[slot_a];
    const auto& mb = pb[i]->frame_masks[slot_b];
    c.max_score_difference = std::max(c.max_score_difference,
                                      static_cast<double>(std::abs(pa[i]->score - pb[i]->score)));
    c.min_mask_iou = std::min(c.min_mask_iou, vmt::rle_iou(vmt::rle_encode(ma), vmt::rle_encode(mb)));
    if (pa[i]->score != pb[i]->score || pa[i]->category != pb[i]->category || !(ma == mb)) {
      if (identical) note("instance " + std::to_string(i) + " differs");
      identical = false;
    }
    ++c.instances;
  }
  if (!identical) ++c.mismatches;
}

/// Online steps (tube = the last `tube` frames, the newest emitted) of two CPU engines on the
/// same moving picture: `a` with `scope_a` and the feature cache, `b` with `scope_b` and the
/// cache only if `same_cache`. Compares the emitted frame of every step.
inline Comparison compare_online(const std::string& model, int tube, int steps,
                                 vmt::MaskScope scope_a, vmt::MaskScope scope_b, bool same_cache) {
  vmt::EngineOptions o;
  o.model_path = model;
  o.device = vmt::parse_device("cpu");
  o.input_size = 0;
  o.max_instances = 5;
  o.mask_scope = scope_a;
  vmt::Engine a(o);
  o.mask_scope = scope_b;
  o.feature_cache = same_cache;
  vmt::Engine b(o);
  const auto clip = make_clip(steps, 48, 40, vmt::PixelFormat::RGB);
  const auto all = views(clip);
  Comparison c;
  for (int step = 0; step < steps; ++step) {
    const int begin = std::max(0, step - tube + 1);
    const auto frames = std::span(all).subspan(static_cast<std::size_t>(begin),
                                               static_cast<std::size_t>(step - begin + 1));
    const vmt::TubeInput input{begin, frames, {step, step + 1}};
    const auto ra = a.run_tube(input);
    const auto rb = b.run_tube(input);
    c.max_cached_frames = std::max(c.max_cached_frames, a.cached_frames());
    const auto slot = static_cast<std::size_t>(step - begin);
    compare_frame(ra, rb, slot, slot, "step " + std::to_string(step), c);
    ++c.steps_compared;
  }
  return c;
}

/// Offline clips of `clip` frames overlapping by `overlap` over `frames` frames: an engine that
/// computes final masks for each clip's new frames only, against one that computes them for
/// every frame of every clip. Compares every emitted frame.
inline Comparison compare_clips(const std::string& model, int clip, int overlap, int frames) {
  vmt::EngineOptions o;
  o.model_path = model;
  o.device = vmt::parse_device("cpu");
  o.input_size = 0;
  o.max_instances = 5;
  vmt::Engine emitted(o);
  o.mask_scope = vmt::MaskScope::AllFrames;
  vmt::Engine whole(o);
  const auto pictures = make_clip(frames, 48, 40, vmt::PixelFormat::RGB);
  const auto all = views(pictures);
  Comparison c;
  int emitted_end = 0;
  for (int begin = 0; emitted_end < frames; begin += clip - overlap) {
    const int end = std::min(frames, begin + clip);
    const auto span = std::span(all).subspan(static_cast<std::size_t>(begin),
                                             static_cast<std::size_t>(end - begin));
    const vmt::TubeInput input{begin, span, {emitted_end, end}};
    const auto ra = emitted.run_tube(input);
    const auto rb = whole.run_tube(vmt::TubeInput{begin, span, {}});
    for (int f = emitted_end; f < end; ++f) {
      const auto slot = static_cast<std::size_t>(f - begin);
      compare_frame(ra, rb, slot, slot, "frame " + std::to_string(f), c);
    }
    emitted_end = end;
    ++c.steps_compared;
  }
  return c;
}

}  // namespace vmt_test
