#include "frame_canvas.h"

#include <algorithm>
#include <cstdlib>

namespace vmt::overlay {
namespace {

/// round(x / 255) for 0 <= x <= 255 * 255, without a division.
inline unsigned div255(unsigned x) {
  x += 128;
  return ((x >> 8) + x) >> 8;
}

/// The first sample index whose top-left pixel is at or after `pixel`, for subsampling `sub`.
inline int first_sample(int pixel, int sub) { return (pixel + (1 << sub) - 1) >> sub; }

}  // namespace

FrameCanvas::FrameCanvas(GstVideoFrame* frame)
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

void FrameCanvas::blend_mask(const guint8* mask, int mask_stride, int cols, int rows, int x0,
                             int y0, const Colour& colour, int alpha) {
  const int px0 = std::max(x0, 0), px1 = std::min(x0 + cols, width_);
  const int py0 = std::max(y0, 0), py1 = std::min(y0 + rows, height_);
  if (px0 >= px1 || py0 >= py1) return;
  if (packed()) {
    blend_mask_packed(mask, mask_stride, x0, y0, px0, px1, py0, py1, colour, alpha);
    return;
  }
  for (int c = 0; c < 3; ++c) {
    const Component& k = comp_[c];
    const unsigned ink = colour.comp[c] * static_cast<unsigned>(alpha);
    const unsigned keep = 256 - static_cast<unsigned>(alpha);
    const int sx0 = first_sample(px0, k.w_sub), sx1 = first_sample(px1, k.w_sub);
    const int sy0 = first_sample(py0, k.h_sub), sy1 = first_sample(py1, k.h_sub);
    const int mask_step = 1 << k.w_sub;
    for (int sy = sy0; sy < sy1; ++sy) {
      const guint8* m = mask + ((sy << k.h_sub) - y0) * mask_stride + ((sx0 << k.w_sub) - x0);
      guint8* p = k.data + sy * k.stride + sx0 * k.pstride;
      for (int sx = sx0; sx < sx1; ++sx, m += mask_step, p += k.pstride)
        if (*m) *p = static_cast<guint8>((*p * keep + ink) >> 8);
    }
  }
}

bool FrameCanvas::packed() const {
  for (const Component& k : comp_)
    if (k.w_sub || k.h_sub || k.stride != comp_[0].stride || k.pstride != comp_[0].pstride ||
        std::abs(k.data - comp_[0].data) >= k.pstride)
      return false;
  return true;
}

void FrameCanvas::blend_mask_packed(const guint8* mask, int mask_stride, int x0, int y0, int px0,
                                    int px1, int py0, int py1, const Colour& colour, int alpha) {
  const unsigned keep = 256 - static_cast<unsigned>(alpha);
  unsigned ink[3];
  std::ptrdiff_t offset[3];
  for (int c = 0; c < 3; ++c) {
    ink[c] = colour.comp[c] * static_cast<unsigned>(alpha);
    offset[c] = comp_[c].data - comp_[0].data;
  }
  const int stride = comp_[0].stride, pstride = comp_[0].pstride;
  for (int y = py0; y < py1; ++y) {
    const guint8* m = mask + (y - y0) * mask_stride + (px0 - x0);
    guint8* p = comp_[0].data + y * stride + px0 * pstride;
    for (int x = px0; x < px1; ++x, ++m, p += pstride) {
      if (!*m) continue;
      for (int c = 0; c < 3; ++c) p[offset[c]] = static_cast<guint8>((p[offset[c]] * keep + ink[c]) >> 8);
    }
  }
}

void FrameCanvas::paint(int x, int y, const Colour& colour) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  for (int c = 0; c < 3; ++c) {
    const Component& k = comp_[c];
    if (((x & ((1 << k.w_sub) - 1)) | (y & ((1 << k.h_sub) - 1))) != 0) continue;
    k.data[(y >> k.h_sub) * k.stride + (x >> k.w_sub) * k.pstride] = colour.comp[c];
  }
}

void FrameCanvas::composite(const std::uint32_t* layer, int layer_stride_bytes, const Rect& rect) {
  const int px0 = std::max(rect.x, 0), px1 = std::min(rect.right(), width_);
  const int py0 = std::max(rect.y, 0), py1 = std::min(rect.bottom(), height_);
  if (px0 >= px1 || py0 >= py1) return;
  const int layer_stride = layer_stride_bytes / 4;
  for (int c = 0; c < 3; ++c) {
    const Component& k = comp_[c];
    const int shift = 16 - 8 * c;  // component 0 is in R, 1 in G, 2 in B
    const int sx0 = first_sample(px0, k.w_sub), sx1 = first_sample(px1, k.w_sub);
    const int sy0 = first_sample(py0, k.h_sub), sy1 = first_sample(py1, k.h_sub);
    for (int sy = sy0; sy < sy1; ++sy) {
      const std::uint32_t* l = layer + (sy << k.h_sub) * layer_stride + (sx0 << k.w_sub);
      guint8* p = k.data + sy * k.stride + sx0 * k.pstride;
      for (int sx = sx0; sx < sx1; ++sx, l += 1 << k.w_sub, p += k.pstride) {
        const unsigned a = *l >> 24;
        if (a == 0) continue;
        const unsigned s = (*l >> shift) & 0xff;
        *p = static_cast<guint8>(s + div255(*p * (255 - a)));
      }
    }
  }
}

}  // namespace vmt::overlay
