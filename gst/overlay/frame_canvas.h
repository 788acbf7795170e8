// A mapped video frame seen as three 8-bit components (R,G,B or Y,U,V) with their subsampling,
// and the three ways vmtoverlay changes its pixels: blending a colour through a mask, painting
// single pixels, and compositing a premultiplied ARGB layer. A subsampled chroma sample is taken
// from the top-left pixel it covers, so masks and contours look the same in every format.
#pragma once

#include <gst/video/video.h>

#include <cstdint>

#include "caption_layout.h"
#include "palette.h"

namespace vmt::overlay {

class FrameCanvas {
 public:
  explicit FrameCanvas(GstVideoFrame* frame);

  int width() const { return width_; }
  int height() const { return height_; }
  bool yuv() const { return yuv_; }

  /// Blends `colour` with `alpha` (0..256, 256 = opaque) over every pixel (x0 + c, y0 + r) whose
  /// `mask` byte mask[r * mask_stride + c] is nonzero, for r < rows, c < cols.
  void blend_mask(const guint8* mask, int mask_stride, int cols, int rows, int x0, int y0,
                  const Colour& colour, int alpha);

  /// Paints pixel (x, y) with `colour`, opaque; pixels outside the frame are ignored.
  void paint(int x, int y, const Colour& colour);

  /// Composites the pixels of `rect` of a frame-sized layer (premultiplied ARGB32, native
  /// endian, the frame's components in R, G and B) over the frame: out = layer + frame × (1 - a).
  void composite(const std::uint32_t* layer, int layer_stride_bytes, const Rect& rect);

 private:
  struct Component {
    guint8* data;
    int stride, pstride, w_sub, h_sub;
  };
  /// Whether the three components share one plane without subsampling (RGB, RGBA, BGRx, …):
  /// then a mask is blended in one pass over the pixels instead of one per component.
  bool packed() const;
  void blend_mask_packed(const guint8* mask, int mask_stride, int x0, int y0, int px0, int px1,
                         int py0, int py1, const Colour& colour, int alpha);

  int width_, height_;
  bool yuv_;
  Component comp_[3];
};

}  // namespace vmt::overlay
