// Frames and scenes for the overlay renderer tests: a mapped video frame of any format with a
// deterministic background, and scenes that own their masks and labels (random, seeded).
#pragma once

#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "scene.h"

namespace vmt::test {

/// A frame of `format`, width × height, mapped for writing while the object lives. Component c of
/// pixel (x, y) starts as a smooth pattern, so blending and compositing have something to mix.
class TestFrame {
 public:
  TestFrame(GstVideoFormat format, int width, int height) {
    gst_video_info_set_format(&info_, format, width, height);
    buffer_ = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info_), nullptr);
    gst_video_frame_map(&frame_, &info_, buffer_, GST_MAP_READWRITE);
    for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(&info_); ++c)
      for (int y = 0; y < comp_height(c); ++y)
        for (int x = 0; x < comp_width(c); ++x)
          *at(c, x, y) = c == 3 ? static_cast<guint8>(200 + (x + y) % 50)  // alpha: not uniform
                                : static_cast<guint8>(40 + (x * (c + 2) + y * (3 - c)) % 170);
  }
  ~TestFrame() {
    gst_video_frame_unmap(&frame_);
    gst_buffer_unref(buffer_);
  }
  TestFrame(const TestFrame&) = delete;
  TestFrame& operator=(const TestFrame&) = delete;

  GstVideoFrame* frame() { return &frame_; }
  int width() const { return GST_VIDEO_INFO_WIDTH(&info_); }
  int height() const { return GST_VIDEO_INFO_HEIGHT(&info_); }
  guint n_components() const { return GST_VIDEO_INFO_N_COMPONENTS(&info_); }
  int comp_width(guint c) const { return GST_VIDEO_INFO_COMP_WIDTH(&info_, c); }
  int comp_height(guint c) const { return GST_VIDEO_INFO_COMP_HEIGHT(&info_, c); }
  int w_sub(guint c) const { return GST_VIDEO_FORMAT_INFO_W_SUB(info_.finfo, c); }
  int h_sub(guint c) const { return GST_VIDEO_FORMAT_INFO_H_SUB(info_.finfo, c); }

  /// Component c's sample (x, y) (sample coordinates, subsampled for chroma).
  guint8* at(guint c, int x, int y) {
    return static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(&frame_, c)) +
           y * GST_VIDEO_FRAME_COMP_STRIDE(&frame_, c) + x * GST_VIDEO_FRAME_COMP_PSTRIDE(&frame_, c);
  }
  guint8 get(guint c, int x, int y) const { return *const_cast<TestFrame*>(this)->at(c, x, y); }

 private:
  GstVideoInfo info_;
  GstBuffer* buffer_;
  GstVideoFrame frame_;
};

/// A Scene with the masks and labels it points to.
struct OwnedScene {
  overlay::Scene scene;
  std::vector<std::vector<guint8>> masks;
  std::vector<std::string> labels;

  OwnedScene() = default;
  OwnedScene(const OwnedScene&) = delete;
  OwnedScene& operator=(const OwnedScene&) = delete;

  /// Adds an instance; `mask` is w × h bytes (empty = no mask). Pointers are fixed up in done().
  void add(guint64 track, gint class_id, const std::string& label, float score, guint x, guint y,
           guint w, guint h, std::vector<guint8> mask) {
    overlay::Instance instance;
    instance.track_id = track;
    instance.class_id = class_id;
    instance.score = score;
    instance.x = x, instance.y = y, instance.width = w, instance.height = h;
    scene.instances.push_back(instance);
    masks.push_back(std::move(mask));
    labels.push_back(label);
  }

  /// Points the instances at their masks and labels (call after the last add).
  void done() {
    for (std::size_t i = 0; i < scene.instances.size(); ++i) {
      scene.instances[i].mask = masks[i].empty() ? nullptr : masks[i].data();
      scene.instances[i].label = labels[i].empty() ? nullptr : labels[i].c_str();
    }
  }
};

enum class MaskKind { kEllipse, kRing, kNoise, kFull };

/// A w × h mask of `kind`; noise masks are seeded by `rng`.
inline std::vector<guint8> make_test_mask(MaskKind kind, guint w, guint h, std::mt19937& rng) {
  std::vector<guint8> mask(std::size_t{w} * h);
  std::bernoulli_distribution coin(0.55);
  for (guint y = 0; y < h; ++y)
    for (guint x = 0; x < w; ++x) {
      const double dx = (x + 0.5) / w * 2 - 1, dy = (y + 0.5) / h * 2 - 1;
      const double r = dx * dx + dy * dy;
      bool inside = false;
      switch (kind) {
        case MaskKind::kEllipse: inside = r < 1.0; break;
        case MaskKind::kRing: inside = r < 1.0 && r > 0.3; break;
        case MaskKind::kNoise: inside = coin(rng); break;
        case MaskKind::kFull: inside = true; break;
      }
      mask[std::size_t{y} * w + x] = inside ? 1 : 0;
    }
  return mask;
}

/// `n` instances with random boxes inside a scene_w × scene_h scene, masks of every kind (and a
/// few without a mask), scores in (0, 1), labels from a short list including non-ASCII ones.
inline void fill_random_scene(OwnedScene& out, std::uint32_t seed, guint scene_w, guint scene_h,
                              int n) {
  static const char* const kLabels[] = {"car", "pedestrian", "piéton", "Fußgänger", "велосипед",
                                        "αυτοκίνητο", "truck", ""};
  std::mt19937 rng(seed);
  out.scene.width = scene_w;
  out.scene.height = scene_h;
  for (int i = 0; i < n; ++i) {
    const guint w = std::uniform_int_distribution<guint>(2, std::max(3u, scene_w / 3))(rng);
    const guint h = std::uniform_int_distribution<guint>(2, std::max(3u, scene_h / 3))(rng);
    const guint x = std::uniform_int_distribution<guint>(0, scene_w - w)(rng);
    const guint y = std::uniform_int_distribution<guint>(0, scene_h - h)(rng);
    const auto kind = static_cast<MaskKind>(i % 4);
    std::vector<guint8> mask = i % 7 == 6 ? std::vector<guint8>{} : make_test_mask(kind, w, h, rng);
    const float score = std::uniform_real_distribution<float>(0.01f, 0.99f)(rng);
    out.add(100 + i, 1 + i % 5, kLabels[i % 8], score, x, y, w, h, std::move(mask));
  }
  out.done();
}

}  // namespace vmt::test
