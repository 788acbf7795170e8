/**
 * SECTION:element-vmtoverlay
 * @title: vmtoverlay
 *
 * Draws the instances of each frame's #GstVmtFrameMeta onto the video, in place: masks filled
 * with a translucent colour, mask contours, boxes and a "label id score" caption in a built-in
 * 5×7 bitmap font. Colours are stable per track id (or per class, #GstVmtOverlay:color-by).
 * Instances scoring below #GstVmtOverlay:min-score are not drawn; frames without metadata pass
 * with their pixels untouched.
 *
 * The metadata comes from vmtsegment (or any element or application that attaches
 * #GstVmtFrameMeta). Without it, this pipeline runs and draws nothing:
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! video/x-raw,width=128,height=96 ! vmtsegment device=cpu input-size=96 ! vmtoverlay mask-alpha=0.4 ! videoconvert ! fakesink
 * ]|
 */
#include "gstvmtoverlay.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "vmt.h"

GST_DEBUG_CATEGORY_STATIC(gst_vmt_overlay_debug);
#define GST_CAT_DEFAULT gst_vmt_overlay_debug

#define DEFAULT_DRAW_MASKS TRUE
#define DEFAULT_DRAW_CONTOURS TRUE
#define DEFAULT_DRAW_BOXES TRUE
#define DEFAULT_DRAW_LABELS TRUE
#define DEFAULT_MASK_ALPHA 0.5
#define DEFAULT_MIN_SCORE 0.0
#define DEFAULT_COLOR_BY GST_VMT_OVERLAY_COLOR_BY_TRACK
#define DEFAULT_LINE_WIDTH 2
#define MAX_LINE_WIDTH 16

enum {
  PROP_0,
  PROP_DRAW_MASKS,
  PROP_DRAW_CONTOURS,
  PROP_DRAW_BOXES,
  PROP_DRAW_LABELS,
  PROP_MASK_ALPHA,
  PROP_MIN_SCORE,
  PROP_COLOR_BY,
  PROP_LINE_WIDTH,
};

namespace {

/* What to draw; a snapshot of the properties taken once per frame. */
struct Settings {
  gboolean draw_masks = DEFAULT_DRAW_MASKS;
  gboolean draw_contours = DEFAULT_DRAW_CONTOURS;
  gboolean draw_boxes = DEFAULT_DRAW_BOXES;
  gboolean draw_labels = DEFAULT_DRAW_LABELS;
  gdouble mask_alpha = DEFAULT_MASK_ALPHA;
  gdouble min_score = DEFAULT_MIN_SCORE;
  GstVmtOverlayColorBy color_by = DEFAULT_COLOR_BY;
  guint line_width = DEFAULT_LINE_WIDTH;
};

}  // namespace

struct _GstVmtOverlay {
  GstVideoFilter parent;

  /* Protected by the object lock: written by set_property, copied once per frame in
   * transform_frame_ip. */
  Settings settings;
};

#define VMT_OVERLAY_CAPS GST_VIDEO_CAPS_MAKE("{ RGBA, BGRA, RGBx, BGRx, RGB, I420, NV12 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_OVERLAY_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_OVERLAY_CAPS));

#define gst_vmt_overlay_parent_class parent_class
G_DEFINE_TYPE(GstVmtOverlay, gst_vmt_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(vmtoverlay, "vmtoverlay", GST_RANK_NONE, GST_TYPE_VMT_OVERLAY);

GType gst_vmt_overlay_color_by_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VMT_OVERLAY_COLOR_BY_TRACK, "One colour per track id", "track"},
      {GST_VMT_OVERLAY_COLOR_BY_CLASS, "One colour per class id", "class"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType registered = g_enum_register_static("GstVmtOverlayColorBy", values);
    g_once_init_leave(&type, registered);
  }
  return type;
}

namespace {

/* --- a 5×7 bitmap font, ASCII 32..126, one byte per column, bit 0 = top row ----------------- */
constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 7;
constexpr guint8 kFont[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x5F, 0x00, 0x00}, {0x00, 0x07, 0x00, 0x07, 0x00},
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, {0x24, 0x2A, 0x7F, 0x2A, 0x12}, {0x23, 0x13, 0x08, 0x64, 0x62},
    {0x36, 0x49, 0x55, 0x22, 0x50}, {0x00, 0x05, 0x03, 0x00, 0x00}, {0x00, 0x1C, 0x22, 0x41, 0x00},
    {0x00, 0x41, 0x22, 0x1C, 0x00}, {0x08, 0x2A, 0x1C, 0x2A, 0x08}, {0x08, 0x08, 0x3E, 0x08, 0x08},
    {0x00, 0x50, 0x30, 0x00, 0x00}, {0x08, 0x08, 0x08, 0x08, 0x08}, {0x00, 0x60, 0x60, 0x00, 0x00},
    {0x20, 0x10, 0x08, 0x04, 0x02}, {0x3E, 0x51, 0x49, 0x45, 0x3E}, {0x00, 0x42, 0x7F, 0x40, 0x00},
    {0x42, 0x61, 0x51, 0x49, 0x46}, {0x21, 0x41, 0x45, 0x4B, 0x31}, {0x18, 0x14, 0x12, 0x7F, 0x10},
    {0x27, 0x45, 0x45, 0x45, 0x39}, {0x3C, 0x4A, 0x49, 0x49, 0x30}, {0x01, 0x71, 0x09, 0x05, 0x03},
    {0x36, 0x49, 0x49, 0x49, 0x36}, {0x06, 0x49, 0x49, 0x29, 0x1E}, {0x00, 0x36, 0x36, 0x00, 0x00},
    {0x00, 0x56, 0x36, 0x00, 0x00}, {0x08, 0x14, 0x22, 0x41, 0x00}, {0x14, 0x14, 0x14, 0x14, 0x14},
    {0x00, 0x41, 0x22, 0x14, 0x08}, {0x02, 0x01, 0x51, 0x09, 0x06}, {0x32, 0x49, 0x79, 0x41, 0x3E},
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, {0x7F, 0x49, 0x49, 0x49, 0x36}, {0x3E, 0x41, 0x41, 0x41, 0x22},
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, {0x7F, 0x49, 0x49, 0x49, 0x41}, {0x7F, 0x09, 0x09, 0x01, 0x01},
    {0x3E, 0x41, 0x41, 0x51, 0x32}, {0x7F, 0x08, 0x08, 0x08, 0x7F}, {0x00, 0x41, 0x7F, 0x41, 0x00},
    {0x20, 0x40, 0x41, 0x3F, 0x01}, {0x7F, 0x08, 0x14, 0x22, 0x41}, {0x7F, 0x40, 0x40, 0x40, 0x40},
    {0x7F, 0x02, 0x04, 0x02, 0x7F}, {0x7F, 0x04, 0x08, 0x10, 0x7F}, {0x3E, 0x41, 0x41, 0x41, 0x3E},
    {0x7F, 0x09, 0x09, 0x09, 0x06}, {0x3E, 0x41, 0x51, 0x21, 0x5E}, {0x7F, 0x09, 0x19, 0x29, 0x46},
    {0x46, 0x49, 0x49, 0x49, 0x31}, {0x01, 0x01, 0x7F, 0x01, 0x01}, {0x3F, 0x40, 0x40, 0x40, 0x3F},
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, {0x7F, 0x20, 0x18, 0x20, 0x7F}, {0x63, 0x14, 0x08, 0x14, 0x63},
    {0x03, 0x04, 0x78, 0x04, 0x03}, {0x61, 0x51, 0x49, 0x45, 0x43}, {0x00, 0x7F, 0x41, 0x41, 0x00},
    {0x02, 0x04, 0x08, 0x10, 0x20}, {0x00, 0x41, 0x41, 0x7F, 0x00}, {0x04, 0x02, 0x01, 0x02, 0x04},
    {0x40, 0x40, 0x40, 0x40, 0x40}, {0x00, 0x01, 0x02, 0x04, 0x00}, {0x20, 0x54, 0x54, 0x54, 0x78},
    {0x7F, 0x48, 0x44, 0x44, 0x38}, {0x38, 0x44, 0x44, 0x44, 0x20}, {0x38, 0x44, 0x44, 0x48, 0x7F},
    {0x38, 0x54, 0x54, 0x54, 0x18}, {0x08, 0x7E, 0x09, 0x01, 0x02}, {0x08, 0x14, 0x54, 0x54, 0x3C},
    {0x7F, 0x08, 0x04, 0x04, 0x78}, {0x00, 0x44, 0x7D, 0x40, 0x00}, {0x20, 0x40, 0x44, 0x3D, 0x00},
    {0x00, 0x7F, 0x10, 0x28, 0x44}, {0x00, 0x41, 0x7F, 0x40, 0x00}, {0x7C, 0x04, 0x18, 0x04, 0x78},
    {0x7C, 0x08, 0x04, 0x04, 0x78}, {0x38, 0x44, 0x44, 0x44, 0x38}, {0x7C, 0x14, 0x14, 0x14, 0x08},
    {0x08, 0x14, 0x14, 0x18, 0x7C}, {0x7C, 0x08, 0x04, 0x04, 0x08}, {0x48, 0x54, 0x54, 0x54, 0x20},
    {0x04, 0x3F, 0x44, 0x40, 0x20}, {0x3C, 0x40, 0x40, 0x20, 0x7C}, {0x1C, 0x20, 0x40, 0x20, 0x1C},
    {0x3C, 0x40, 0x30, 0x40, 0x3C}, {0x44, 0x28, 0x10, 0x28, 0x44}, {0x0C, 0x50, 0x50, 0x50, 0x3C},
    {0x44, 0x64, 0x54, 0x4C, 0x44}, {0x00, 0x08, 0x36, 0x41, 0x00}, {0x00, 0x00, 0x7F, 0x00, 0x00},
    {0x00, 0x41, 0x36, 0x08, 0x00}, {0x08, 0x04, 0x08, 0x10, 0x08},
};

/* An sRGB colour and the same colour as the frame's three components (R,G,B or Y,U,V). */
struct Colour {
  guint8 r, g, b;
  guint8 comp[3];
};

Colour make_colour(guint8 r, guint8 g, guint8 b, bool yuv) {
  Colour colour{r, g, b, {r, g, b}};
  if (yuv) { /* BT.601, limited range */
    colour.comp[0] = static_cast<guint8>(std::lround(16 + 0.257 * r + 0.504 * g + 0.098 * b));
    colour.comp[1] = static_cast<guint8>(std::lround(128 - 0.148 * r - 0.291 * g + 0.439 * b));
    colour.comp[2] = static_cast<guint8>(std::lround(128 + 0.439 * r - 0.368 * g - 0.071 * b));
  }
  return colour;
}

/* A saturated colour from a golden-ratio walk over the hue circle: stable for an id. */
Colour colour_for_id(guint64 id, bool yuv) {
  const double hue = std::fmod(static_cast<double>(id % 100003) * 0.618033988749895 + 0.1, 1.0) * 6;
  const double s = 0.8, v = 0.95;
  const int sector = static_cast<int>(hue) % 6;
  const double f = hue - std::floor(hue);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = 0, g = 0, b = 0;
  switch (sector) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
  return make_colour(static_cast<guint8>(r * 255), static_cast<guint8>(g * 255),
                     static_cast<guint8>(b * 255), yuv);
}

/* A mapped video frame seen as three 8-bit components with their subsampling. */
class Canvas {
 public:
  explicit Canvas(GstVideoFrame* frame)
      : width_(GST_VIDEO_FRAME_WIDTH(frame)),
        height_(GST_VIDEO_FRAME_HEIGHT(frame)),
        yuv_(GST_VIDEO_INFO_IS_YUV(&frame->info)) {
    for (int c = 0; c < 3; ++c) {
      comp_[c].data = static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(frame, c));
      comp_[c].stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
      comp_[c].pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c);
      comp_[c].w_sub = GST_VIDEO_FORMAT_INFO_W_SUB(frame->info.finfo, c);
      comp_[c].h_sub = GST_VIDEO_FORMAT_INFO_H_SUB(frame->info.finfo, c);
    }
  }

  int width() const { return width_; }
  int height() const { return height_; }
  bool yuv() const { return yuv_; }

  /* Blends @colour over pixel (x, y) with @alpha in 0..256 (256 = opaque). A subsampled chroma
   * sample is blended once, from the top-left pixel it covers. */
  void blend(int x, int y, const Colour& colour, int alpha) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
    for (int c = 0; c < 3; ++c) {
      const Component& k = comp_[c];
      if (((x & ((1 << k.w_sub) - 1)) | (y & ((1 << k.h_sub) - 1))) != 0) continue;
      guint8* p = k.data + (y >> k.h_sub) * k.stride + (x >> k.w_sub) * k.pstride;
      *p = static_cast<guint8>((*p * (256 - alpha) + colour.comp[c] * alpha) >> 8);
    }
  }

  void fill_rect(int x0, int y0, int x1, int y1, const Colour& colour) {
    for (int y = std::max(y0, 0); y < std::min(y1, height_); ++y)
      for (int x = std::max(x0, 0); x < std::min(x1, width_); ++x) blend(x, y, colour, 256);
  }

 private:
  struct Component {
    guint8* data;
    int stride, pstride, w_sub, h_sub;
  };
  int width_, height_;
  bool yuv_;
  Component comp_[3];
};

/* One instance placed on the frame: its box in frame pixels and a lookup into its mask, with
 * nearest-neighbour mapping when the meta describes another resolution than the frame's. */
class Placed {
 public:
  Placed(const GstVmtFrameMeta* meta, const GstVmtInstance* instance, int frame_w, int frame_h)
      : instance_(instance), meta_w_(meta->width), meta_h_(meta->height), frame_w_(frame_w),
        frame_h_(frame_h) {
    x0 = static_cast<int>(static_cast<gint64>(instance->x) * frame_w / meta_w_);
    y0 = static_cast<int>(static_cast<gint64>(instance->y) * frame_h / meta_h_);
    x1 = static_cast<int>(static_cast<gint64>(instance->x + instance->width) * frame_w / meta_w_);
    y1 = static_cast<int>(static_cast<gint64>(instance->y + instance->height) * frame_h / meta_h_);
    if (instance->mask) pixels_ = gst_vmt_mask_get_data(instance->mask, nullptr);
  }

  bool has_mask() const { return pixels_ != nullptr; }

  /* Whether frame pixel (x, y) is inside the mask. */
  bool inside(int x, int y) const {
    if (x < x0 || y < y0 || x >= x1 || y >= y1 || pixels_ == nullptr) return false;
    const guint64 mx = std::clamp<guint64>(static_cast<guint64>(x) * meta_w_ / frame_w_,
                                           instance_->x, instance_->x + instance_->width - 1);
    const guint64 my = std::clamp<guint64>(static_cast<guint64>(y) * meta_h_ / frame_h_,
                                           instance_->y, instance_->y + instance_->height - 1);
    return pixels_[(my - instance_->y) * instance_->width + (mx - instance_->x)] != 0;
  }

  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;

 private:
  const GstVmtInstance* instance_;
  const guint8* pixels_ = nullptr;
  guint meta_w_, meta_h_;
  int frame_w_, frame_h_;
};

void draw_text(Canvas& canvas, int x, int y, const std::string& text, int scale,
               const Colour& colour) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    const guint8* glyph = kFont[(ch >= 32 && ch <= 126) ? ch - 32 : '?' - 32];
    for (int col = 0; col < kGlyphWidth; ++col)
      for (int row = 0; row < kGlyphHeight; ++row)
        if (glyph[col] & (1 << row))
          canvas.fill_rect(x + (static_cast<int>(i) * (kGlyphWidth + 1) + col) * scale,
                           y + row * scale,
                           x + (static_cast<int>(i) * (kGlyphWidth + 1) + col + 1) * scale,
                           y + (row + 1) * scale, colour);
  }
}

void draw_instance(Canvas& canvas, const GstVmtFrameMeta* meta, const GstVmtInstance* instance,
                   const Settings& settings) {
  const guint64 id = settings.color_by == GST_VMT_OVERLAY_COLOR_BY_CLASS
                         ? static_cast<guint64>(static_cast<guint32>(instance->class_id))
                         : instance->track_id;
  const Colour colour = colour_for_id(id, canvas.yuv());
  const Placed placed(meta, instance, canvas.width(), canvas.height());

  if (placed.has_mask() && (settings.draw_masks || settings.draw_contours)) {
    const int alpha = static_cast<int>(std::lround(settings.mask_alpha * 256));
    for (int y = std::max(placed.y0, 0); y < std::min(placed.y1, canvas.height()); ++y) {
      for (int x = std::max(placed.x0, 0); x < std::min(placed.x1, canvas.width()); ++x) {
        if (!placed.inside(x, y)) continue;
        const bool edge = !placed.inside(x - 1, y) || !placed.inside(x + 1, y) ||
                          !placed.inside(x, y - 1) || !placed.inside(x, y + 1);
        if (settings.draw_contours && edge)
          canvas.blend(x, y, colour, 256);
        else if (settings.draw_masks && alpha > 0)
          canvas.blend(x, y, colour, alpha);
      }
    }
  }

  const int line = static_cast<int>(settings.line_width);
  if (settings.draw_boxes && placed.x1 > placed.x0 && placed.y1 > placed.y0) {
    canvas.fill_rect(placed.x0, placed.y0, placed.x1, placed.y0 + line, colour);
    canvas.fill_rect(placed.x0, placed.y1 - line, placed.x1, placed.y1, colour);
    canvas.fill_rect(placed.x0, placed.y0, placed.x0 + line, placed.y1, colour);
    canvas.fill_rect(placed.x1 - line, placed.y0, placed.x1, placed.y1, colour);
  }

  if (settings.draw_labels) {
    char score[16];
    g_snprintf(score, sizeof score, "%.2f", instance->score);
    const std::string text =
        (instance->label ? std::string(instance->label) : "class" + std::to_string(instance->class_id)) +
        " " + std::to_string(instance->track_id) + " " + score;
    const int scale = std::max(1, canvas.height() / 360);
    const int text_w = static_cast<int>(text.size()) * (kGlyphWidth + 1) * scale + scale;
    const int text_h = (kGlyphHeight + 2) * scale;
    int tx = std::clamp(placed.x0, 0, std::max(0, canvas.width() - text_w));
    int ty = placed.y0 - text_h;
    if (ty < 0) ty = std::min(placed.y0, std::max(0, canvas.height() - text_h));
    canvas.fill_rect(tx, ty, tx + text_w, ty + text_h, colour);
    const bool light = 0.299 * colour.r + 0.587 * colour.g + 0.114 * colour.b > 140;
    const Colour ink = light ? make_colour(0, 0, 0, canvas.yuv()) : make_colour(255, 255, 255, canvas.yuv());
    draw_text(canvas, tx + scale, ty + scale, text, scale, ink);
  }
}

}  // namespace

static GstFlowReturn gst_vmt_overlay_transform_frame_ip(GstVideoFilter* filter,
                                                        GstVideoFrame* frame) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(filter);
  // The frame's GstVmtFrameMeta, or one read from its standard analytics metas (kept by holder).
  g_autoptr(GstBuffer) holder = nullptr;
  const GstVmtFrameMeta* meta = gst_buffer_find_vmt_frame_meta(
      frame->buffer, GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame), &holder);
  if (meta == nullptr || meta->width == 0 || meta->height == 0) {
    GST_TRACE_OBJECT(self, "no VMT metadata on this frame");
    return GST_FLOW_OK;
  }

  GST_OBJECT_LOCK(self);
  const Settings settings = self->settings;
  GST_OBJECT_UNLOCK(self);

  Canvas canvas(frame);
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  GST_TRACE_OBJECT(self, "drawing %u instances", n);
  for (guint i = 0; i < n; ++i) {
    const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, i);
    if (instance->score < settings.min_score) continue;
    draw_instance(canvas, meta, instance, settings);
  }
  return GST_FLOW_OK;
}

static void gst_vmt_overlay_set_property(GObject* object, guint prop_id, const GValue* value,
                                         GParamSpec* pspec) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->settings;
  switch (prop_id) {
    case PROP_DRAW_MASKS: s.draw_masks = g_value_get_boolean(value); break;
    case PROP_DRAW_CONTOURS: s.draw_contours = g_value_get_boolean(value); break;
    case PROP_DRAW_BOXES: s.draw_boxes = g_value_get_boolean(value); break;
    case PROP_DRAW_LABELS: s.draw_labels = g_value_get_boolean(value); break;
    case PROP_MASK_ALPHA: s.mask_alpha = g_value_get_double(value); break;
    case PROP_MIN_SCORE: s.min_score = g_value_get_double(value); break;
    case PROP_COLOR_BY: s.color_by = static_cast<GstVmtOverlayColorBy>(g_value_get_enum(value)); break;
    case PROP_LINE_WIDTH: s.line_width = g_value_get_uint(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vmt_overlay_get_property(GObject* object, guint prop_id, GValue* value,
                                         GParamSpec* pspec) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->settings;
  switch (prop_id) {
    case PROP_DRAW_MASKS: g_value_set_boolean(value, s.draw_masks); break;
    case PROP_DRAW_CONTOURS: g_value_set_boolean(value, s.draw_contours); break;
    case PROP_DRAW_BOXES: g_value_set_boolean(value, s.draw_boxes); break;
    case PROP_DRAW_LABELS: g_value_set_boolean(value, s.draw_labels); break;
    case PROP_MASK_ALPHA: g_value_set_double(value, s.mask_alpha); break;
    case PROP_MIN_SCORE: g_value_set_double(value, s.min_score); break;
    case PROP_COLOR_BY: g_value_set_enum(value, s.color_by); break;
    case PROP_LINE_WIDTH: g_value_set_uint(value, s.line_width); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void install_boolean(GObjectClass* klass, guint id, const char* name, const char* nick,
                            const char* blurb, gboolean default_value) {
  g_object_class_install_property(
      klass, id,
      g_param_spec_boolean(name, nick, blurb, default_value,
                           static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_PLAYING)));
}

static void gst_vmt_overlay_class_init(GstVmtOverlayClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = gst_vmt_overlay_set_property;
  gobject_class->get_property = gst_vmt_overlay_get_property;

  /**
   * GstVmtOverlay:draw-masks:
   *
   * Fill each instance's mask with its colour at #GstVmtOverlay:mask-alpha.
   */
  install_boolean(gobject_class, PROP_DRAW_MASKS, "draw-masks", "Draw masks",
                  "Fill instance masks with a translucent colour", DEFAULT_DRAW_MASKS);
  /**
   * GstVmtOverlay:draw-contours:
   *
   * Draw the outline of each mask, opaque, one pixel wide.
   */
  install_boolean(gobject_class, PROP_DRAW_CONTOURS, "draw-contours", "Draw contours",
                  "Draw mask outlines", DEFAULT_DRAW_CONTOURS);
  /**
   * GstVmtOverlay:draw-boxes:
   *
   * Draw each instance's box, #GstVmtOverlay:line-width pixels wide, inside the box.
   */
  install_boolean(gobject_class, PROP_DRAW_BOXES, "draw-boxes", "Draw boxes",
                  "Draw instance boxes", DEFAULT_DRAW_BOXES);
  /**
   * GstVmtOverlay:draw-labels:
   *
   * Write "label track-id score" above each box (inside it at the top of the frame).
   */
  install_boolean(gobject_class, PROP_DRAW_LABELS, "draw-labels", "Draw labels",
                  "Write \"label track-id score\" above each box", DEFAULT_DRAW_LABELS);
  /**
   * GstVmtOverlay:mask-alpha:
   *
   * Opacity of the mask fill: 0 leaves the pixels as they are, 1 paints the colour.
   */
  g_object_class_install_property(
      gobject_class, PROP_MASK_ALPHA,
      g_param_spec_double("mask-alpha", "Mask alpha", "Opacity of the mask fill (0 to 1)", 0.0, 1.0,
                          DEFAULT_MASK_ALPHA, flags));
  /**
   * GstVmtOverlay:min-score:
   *
   * Instances scoring below this are not drawn.
   */
  g_object_class_install_property(
      gobject_class, PROP_MIN_SCORE,
      g_param_spec_double("min-score", "Minimum score",
                          "Instances scoring below this are not drawn (0 to 1)", 0.0, 1.0,
                          DEFAULT_MIN_SCORE, flags));
  /**
   * GstVmtOverlay:color-by:
   *
   * Whether colours follow track ids or class ids.
   */
  g_object_class_install_property(
      gobject_class, PROP_COLOR_BY,
      g_param_spec_enum("color-by", "Colour by", "What picks an instance's colour",
                        GST_TYPE_VMT_OVERLAY_COLOR_BY, DEFAULT_COLOR_BY, flags));
  /**
   * GstVmtOverlay:line-width:
   *
   * Width of box lines in pixels.
   */
  g_object_class_install_property(
      gobject_class, PROP_LINE_WIDTH,
      g_param_spec_uint("line-width", "Line width", "Width of box lines in pixels", 1,
                        MAX_LINE_WIDTH, DEFAULT_LINE_WIDTH, flags));

  gst_element_class_set_static_metadata(
      element_class, "VMT instance overlay", "Filter/Effect/Video",
      "Draws VMT instance masks, contours, boxes and labels onto video", "vmt-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_vmt_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_VMT_OVERLAY_COLOR_BY, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_vmt_overlay_debug, "vmtoverlay", 0, "VMT instance overlay");
}

static void gst_vmt_overlay_init(GstVmtOverlay* self) {
  self->settings = Settings{};
}
