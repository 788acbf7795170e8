#include "renderer.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "palette.h"

namespace vmt::overlay {
namespace {

/// An instance's box on the frame: [x0, x1) × [y0, y1), mapped from scene pixels.
struct FrameBox {
  int x0, y0, x1, y1;

  Rect rect() const { return {x0, y0, x1 - x0, y1 - y0}; }
};

FrameBox map_box(const Scene& scene, const Instance& instance, int frame_w, int frame_h) {
  // Clamped to the scene, so a box reaching past it (bad metadata) cannot overflow.
  auto map = [](guint64 v, int frame, guint scene_size) {
    return static_cast<int>(static_cast<gint64>(std::min<guint64>(v, scene_size)) * frame / scene_size);
  };
  return {map(instance.x, frame_w, scene.width), map(instance.y, frame_h, scene.height),
          map(guint64{instance.x} + instance.width, frame_w, scene.width),
          map(guint64{instance.y} + instance.height, frame_h, scene.height)};
}

/// The instance's mask at frame resolution over `cols` × `rows` pixels from the box's corner: a
/// view of the meta's bytes when the scene is the frame's size, else a nearest-neighbour copy.
cv::Mat frame_mask(const Scene& scene, const Instance& instance, const FrameBox& box, int cols,
                   int rows, int frame_w, int frame_h) {
  if (scene.width == static_cast<guint>(frame_w) && scene.height == static_cast<guint>(frame_h)) {
    const cv::Mat whole(static_cast<int>(instance.height), static_cast<int>(instance.width),
                        CV_8UC1, const_cast<guint8*>(instance.mask));
    return whole(cv::Rect(0, 0, cols, rows));
  }
  // Scene pixel of frame pixel v: v × scene / frame, kept inside the box.
  auto source = [](int v, guint scene_size, int frame, guint lo, guint len) {
    const guint64 s = static_cast<guint64>(v) * scene_size / frame;
    return static_cast<int>(std::clamp<guint64>(s, lo, lo + len - 1) - lo);
  };
  std::vector<int> column(cols);
  for (int c = 0; c < cols; ++c)
    column[c] = source(box.x0 + c, scene.width, frame_w, instance.x, instance.width);
  cv::Mat mask(rows, cols, CV_8UC1);
  for (int r = 0; r < rows; ++r) {
    const guint8* in = instance.mask +
                       static_cast<std::size_t>(source(box.y0 + r, scene.height, frame_h,
                                                       instance.y, instance.height)) *
                           instance.width;
    guint8* out = mask.ptr<guint8>(r);
    for (int c = 0; c < cols; ++c) out[c] = in[column[c]];
  }
  return mask;
}

/// Mask fill at `alpha` and the mask's contour: every mask pixel with a 4-neighbour outside the
/// mask, traced by OpenCV's border following (Suzuki-Abe), opaque.
void draw_mask(FrameCanvas& canvas, const Scene& scene, const Instance& instance,
               const FrameBox& box, const Colour& colour, const Style& style,
               std::vector<std::vector<cv::Point>>& contours) {
  // The box as far as it can touch the frame, plus one pixel past the frame's right and bottom
  // edges: a mask pixel on the last column is a contour pixel only where the mask ends there.
  const int cols = std::min(box.x1, canvas.width() + 1) - box.x0;
  const int rows = std::min(box.y1, canvas.height() + 1) - box.y0;
  if (cols <= 0 || rows <= 0) return;
  const cv::Mat mask =
      frame_mask(scene, instance, box, cols, rows, canvas.width(), canvas.height());
  const int alpha = static_cast<int>(std::lround(style.mask_alpha * 256));
  if (style.masks && alpha > 0)
    canvas.blend_mask(mask.data, static_cast<int>(mask.step), cols, rows, box.x0, box.y0, colour,
                      alpha);
  if (style.contours) {
    cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
    for (const auto& contour : contours)
      for (const cv::Point& p : contour) canvas.paint(box.x0 + p.x, box.y0 + p.y, colour);
  }
}

/// The box outline, `line` pixels wide inside the box, as a Cairo path on the layer.
void draw_box(cairo_t* cr, VectorLayer& layer, const FrameBox& box, int line,
              const Colour& colour) {
  const int w = box.x1 - box.x0, h = box.y1 - box.y0;
  cairo_new_path(cr);
  cairo_rectangle(cr, box.x0, box.y0, w, h);
  if (w > 2 * line && h > 2 * line)
    cairo_rectangle(cr, box.x0 + line, box.y0 + line, w - 2 * line, h - 2 * line);
  cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);  // whole pixels: the outline is exactly `line` wide
  set_source_components(cr, colour);
  cairo_fill(cr);
  const int top = std::min(line, h), side = std::min(line, w);
  layer.mark({box.x0, box.y0, w, top});
  layer.mark({box.x0, box.y1 - top, w, top});
  layer.mark({box.x0, box.y0, side, h});
  layer.mark({box.x1 - side, box.y0, side, h});
}

}  // namespace

Renderer::Renderer() = default;
Renderer::~Renderer() = default;

DrawReport Renderer::draw(GstVideoFrame* frame, const Scene& scene, const Style& style) {
  DrawReport report;
  if (scene.width == 0 || scene.height == 0) return report;
  FrameCanvas canvas(frame);
  const int frame_w = canvas.width(), frame_h = canvas.height();
  cairo_t* cr = nullptr;
  if (style.boxes || style.labels) {
    cr = layer_.begin(frame_w, frame_h);
    if (cr == nullptr) {
      report.ok = false;
      return report;
    }
  }

  std::vector<std::vector<cv::Point>> contours;  // reused across instances
  std::vector<CaptionItem> captions;
  for (std::size_t i = 0; i < scene.instances.size(); ++i) {
    const Instance& instance = scene.instances[i];
    if (instance.score < style.min_score) continue;
    const Colour colour = instance_colour(instance, style.colour_by, canvas.yuv());
    const FrameBox box = map_box(scene, instance, frame_w, frame_h);
    if (instance.mask && (style.masks || style.contours))
      draw_mask(canvas, scene, instance, box, colour, style, contours);
    if (style.boxes && box.x1 > box.x0 && box.y1 > box.y0) {
      draw_box(cr, layer_, box, static_cast<int>(style.line_width), colour);
      layer_.composite_onto(canvas);  // now, so later instances' masks cover this box
    }
    if (style.labels) captions.push_back({caption_text(instance), box.rect(), instance.score, colour, i});
  }

  if (style.labels && !captions.empty()) {
    const int font_px = style.font_size ? static_cast<int>(style.font_size) : auto_font_px(frame_h);
    CaptionResult result = captions_.draw(cr, layer_, captions, frame_w, frame_h,
                                          style.font_family, font_px, canvas.yuv());
    layer_.composite_onto(canvas);
    report.captions = std::move(result.placed);
    report.hidden = result.hidden;
    report.counter = result.counter;
  }
  return report;
}

}  // namespace vmt::overlay
