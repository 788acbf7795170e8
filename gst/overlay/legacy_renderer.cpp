#include "legacy_renderer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "palette.h"

namespace vmt::overlay {
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
  Placed(const Scene& scene, const Instance* instance, int frame_w, int frame_h)
      : instance_(instance), meta_w_(scene.width), meta_h_(scene.height), frame_w_(frame_w),
        frame_h_(frame_h) {
    x0 = static_cast<int>(static_cast<gint64>(instance->x) * frame_w / meta_w_);
    y0 = static_cast<int>(static_cast<gint64>(instance->y) * frame_h / meta_h_);
    x1 = static_cast<int>(static_cast<gint64>(instance->x + instance->width) * frame_w / meta_w_);
    y1 = static_cast<int>(static_cast<gint64>(instance->y + instance->height) * frame_h / meta_h_);
    pixels_ = instance->mask;
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
  const Instance* instance_;
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

void draw_instance(Canvas& canvas, const Scene& scene, const Instance* instance,
                   const Style& settings) {
  const Colour colour = instance_colour(*instance, settings.colour_by, canvas.yuv());
  const Placed placed(scene, instance, canvas.width(), canvas.height());

  if (placed.has_mask() && (settings.masks || settings.contours)) {
    const int alpha = static_cast<int>(std::lround(settings.mask_alpha * 256));
    for (int y = std::max(placed.y0, 0); y < std::min(placed.y1, canvas.height()); ++y) {
      for (int x = std::max(placed.x0, 0); x < std::min(placed.x1, canvas.width()); ++x) {
        if (!placed.inside(x, y)) continue;
        const bool edge = !placed.inside(x - 1, y) || !placed.inside(x + 1, y) ||
                          !placed.inside(x, y - 1) || !placed.inside(x, y + 1);
        if (settings.contours && edge)
          canvas.blend(x, y, colour, 256);
        else if (settings.masks && alpha > 0)
          canvas.blend(x, y, colour, alpha);
      }
    }
  }

  const int line = static_cast<int>(settings.line_width);
  if (settings.boxes && placed.x1 > placed.x0 && placed.y1 > placed.y0) {
    canvas.fill_rect(placed.x0, placed.y0, placed.x1, placed.y0 + line, colour);
    canvas.fill_rect(placed.x0, placed.y1 - line, placed.x1, placed.y1, colour);
    canvas.fill_rect(placed.x0, placed.y0, placed.x0 + line, placed.y1, colour);
    canvas.fill_rect(placed.x1 - line, placed.y0, placed.x1, placed.y1, colour);
  }

  if (settings.labels) {
    const std::string text = caption_text(*instance);
    const int scale = std::max(1, canvas.height() / 360);
    const int text_w = static_cast<int>(text.size()) * (kGlyphWidth + 1) * scale + scale;
    const int text_h = (kGlyphHeight + 2) * scale;
    int tx = std::clamp(placed.x0, 0, std::max(0, canvas.width() - text_w));
    int ty = placed.y0 - text_h;
    if (ty < 0) ty = std::min(placed.y0, std::max(0, canvas.height() - text_h));
    canvas.fill_rect(tx, ty, tx + text_w, ty + text_h, colour);
    const Colour ink = ink_for(colour, canvas.yuv());
    draw_text(canvas, tx + scale, ty + scale, text, scale, ink);
  }
}

}  // namespace

void draw_legacy(GstVideoFrame* frame, const Scene& scene, const Style& style) {
  if (scene.width == 0 || scene.height == 0) return;
  Canvas canvas(frame);
  for (const Instance& instance : scene.instances) {
    if (instance.score < style.min_score) continue;
    draw_instance(canvas, scene, &instance, style);
  }
}

}  // namespace vmt::overlay
