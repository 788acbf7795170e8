// vmtoverlay's drawing time per 1080p frame, the legacy renderer (5×7 bitmap font, per-pixel
// loops; gst/overlay/legacy_renderer.cpp) against the current one (OpenCV contours, Cairo boxes,
// Pango captions; gst/overlay/renderer.cpp), side by side in one run: 10 and 50 instances with
// masks, contours, boxes and captions (the element's defaults), in I420 and BGRx.
//
// Also times mask contours two ways on the same masks: OpenCV's border following painted
// straight into the frame (what the renderer does) against the same contours as Cairo paths
// stroked on a layer and composited (the alternative issue #17 asked to measure).
//
//   build/benchmarks/bench-overlay [repeats]     (default 7; prints median and minimum)
#include <cairo.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "legacy_renderer.h"
#include "palette.h"
#include "renderer.h"

namespace {

using Clock = std::chrono::steady_clock;
using vmt::overlay::Instance;
using vmt::overlay::Scene;
using vmt::overlay::Style;

constexpr int kWidth = 1920, kHeight = 1080;

/// A scene with `n` instances sized like people and cars at 1080p: wobbly ellipse masks.
struct BenchScene {
  Scene scene;
  std::vector<std::vector<guint8>> masks;
  std::vector<std::string> labels;
};

BenchScene make_scene(int n, std::uint32_t seed) {
  static const char* const kLabels[] = {"person", "car", "bicycle", "motorcycle", "truck", "dog"};
  std::mt19937 rng(seed);
  BenchScene out;
  out.scene.width = kWidth;
  out.scene.height = kHeight;
  const int max_w = n <= 10 ? 450 : 250, max_h = n <= 10 ? 600 : 350;
  for (int i = 0; i < n; ++i) {
    const int w = std::uniform_int_distribution<int>(max_w / 2, max_w)(rng);
    const int h = std::uniform_int_distribution<int>(max_h / 2, max_h)(rng);
    Instance instance;
    instance.track_id = 1 + i;
    instance.class_id = 1 + i % 6;
    instance.score = std::uniform_real_distribution<float>(0.3f, 0.99f)(rng);
    instance.x = std::uniform_int_distribution<guint>(0, kWidth - w)(rng);
    instance.y = std::uniform_int_distribution<guint>(0, kHeight - h)(rng);
    instance.width = w;
    instance.height = h;
    std::vector<guint8> mask(static_cast<std::size_t>(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double dx = (x + 0.5) / w * 2 - 1, dy = (y + 0.5) / h * 2 - 1;
        const double wobble = 0.08 * std::sin(0.09 * x + i) * std::cos(0.07 * y);
        mask[static_cast<std::size_t>(y) * w + x] = dx * dx + dy * dy < 0.9 + wobble;
      }
    out.masks.push_back(std::move(mask));
    out.labels.push_back(kLabels[i % 6]);
    out.scene.instances.push_back(instance);
  }
  for (std::size_t i = 0; i < out.scene.instances.size(); ++i) {
    out.scene.instances[i].mask = out.masks[i].data();
    out.scene.instances[i].label = out.labels[i].c_str();
  }
  return out;
}

/// A mapped 1080p frame of `format` with a grey gradient.
struct BenchFrame {
  GstVideoInfo info;
  GstBuffer* buffer;
  GstVideoFrame frame;

  explicit BenchFrame(GstVideoFormat format) {
    gst_video_info_set_format(&info, format, kWidth, kHeight);
    buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<guint8>(60 + i % 97);
    gst_buffer_unmap(buffer, &map);
    gst_video_frame_map(&frame, &info, buffer, GST_MAP_READWRITE);
  }
  ~BenchFrame() {
    gst_video_frame_unmap(&frame);
    gst_buffer_unref(buffer);
  }
};

/// Milliseconds per call of `fn` over `repeats` timed runs of `calls` calls each (after one
/// warm-up call): every run's mean.
std::vector<double> time_runs(const std::function<void()>& fn, int repeats, int calls) {
  fn();
  std::vector<double> runs;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    for (int c = 0; c < calls; ++c) fn();
    runs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count() / calls);
  }
  return runs;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
double minimum(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

/// Contours as Cairo paths: OpenCV's contour points (simple chains) stroked one pixel wide on an
/// A8 surface the size of the box, then the colour blended through that coverage.
void contours_as_cairo_paths(GstVideoFrame* frame, const Scene& scene) {
  const bool yuv = GST_VIDEO_INFO_IS_YUV(&frame->info);
  std::vector<std::vector<cv::Point>> contours;
  for (const Instance& instance : scene.instances) {
    const cv::Mat mask(instance.height, instance.width, CV_8UC1, const_cast<guint8*>(instance.mask));
    cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
    cairo_surface_t* surface =
        cairo_image_surface_create(CAIRO_FORMAT_A8, instance.width, instance.height);
    cairo_t* cr = cairo_create(surface);
    cairo_set_line_width(cr, 1.0);
    for (const auto& contour : contours) {
      cairo_move_to(cr, contour[0].x + 0.5, contour[0].y + 0.5);
      for (const cv::Point& p : contour) cairo_line_to(cr, p.x + 0.5, p.y + 0.5);
      cairo_close_path(cr);
    }
    cairo_stroke(cr);
    cairo_surface_flush(surface);
    const vmt::overlay::Colour colour = vmt::overlay::colour_for_id(instance.track_id, yuv);
    const guint8* coverage = cairo_image_surface_get_data(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    for (int c = 0; c < 3; ++c) {
      guint8* data = static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(frame, c));
      const int cstride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
      const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c);
      const int ws = GST_VIDEO_FORMAT_INFO_W_SUB(frame->info.finfo, c);
      const int hs = GST_VIDEO_FORMAT_INFO_H_SUB(frame->info.finfo, c);
      for (guint y = 0; y < instance.height; y += 1u << hs)
        for (guint x = 0; x < instance.width; x += 1u << ws) {
          const unsigned a = coverage[y * stride + x];
          if (a == 0) continue;
          guint8* p = data + ((instance.y + y) >> hs) * cstride + ((instance.x + x) >> ws) * pstride;
          *p = static_cast<guint8>((*p * (255 - a) + colour.comp[c] * a) / 255);
        }
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
  }
}

void print_row(const char* what, const std::vector<double>& runs, const std::vector<double>* base) {
  std::printf("  %-34s median %8.3f ms  min %8.3f ms", what, median(runs), minimum(runs));
  if (base)
    std::printf("   new/legacy: median %.2fx, min %.2fx", median(runs) / median(*base),
                minimum(runs) / minimum(*base));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  vmt::overlay::Renderer renderer;
  std::printf("vmtoverlay drawing, %dx%d, %d runs per row (median and minimum of the runs' ms per frame)\n"
              "target (issue #17): new at most 1.5x legacy with 10 instances\n",
              kWidth, kHeight, repeats);
  for (int n : {10, 50}) {
    const BenchScene bench = make_scene(n, 17 + n);
    for (GstVideoFormat format : {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_BGRx}) {
      BenchFrame frame(format);
      std::printf("%d instances, %s\n", n, gst_video_format_to_string(format));
      const Style all;  // the element's defaults: masks, contours, boxes, captions
      Style no_captions = all;
      no_captions.labels = false;
      const int calls = 3;
      // Interleaved, so both renderers see the same machine load.
      std::vector<double> legacy, current, current_shapes;
      for (int r = 0; r < repeats; ++r) {
        auto one = [&](const std::function<void()>& fn) { return time_runs(fn, 1, calls)[0]; };
        legacy.push_back(one([&] { vmt::overlay::draw_legacy(&frame.frame, bench.scene, all); }));
        current.push_back(one([&] { renderer.draw(&frame.frame, bench.scene, all); }));
        current_shapes.push_back(one([&] { renderer.draw(&frame.frame, bench.scene, no_captions); }));
      }
      print_row("legacy (bitmap font, per pixel)", legacy, nullptr);
      print_row("new (OpenCV, Cairo, Pango)", current, &legacy);
      print_row("new without captions", current_shapes, nullptr);
    }
  }

  // Contours only: the renderer's way against Cairo paths, 50 instances, I420.
  const BenchScene bench = make_scene(50, 67);
  BenchFrame frame(GST_VIDEO_FORMAT_I420);
  Style contours_only;
  contours_only.masks = contours_only.boxes = contours_only.labels = false;
  std::vector<double> traced, paths;
  for (int r = 0; r < repeats; ++r) {
    traced.push_back(time_runs([&] { renderer.draw(&frame.frame, bench.scene, contours_only); }, 1, 3)[0]);
    paths.push_back(time_runs([&] { contours_as_cairo_paths(&frame.frame, bench.scene); }, 1, 3)[0]);
  }
  std::printf("contours only, 50 instances, I420\n");
  print_row("OpenCV border pixels into the frame", traced, nullptr);
  print_row("Cairo paths on a layer, composited", paths, nullptr);
  return 0;
}
