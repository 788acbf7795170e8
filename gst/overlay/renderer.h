// vmtoverlay's drawing: masks blended and contours traced with OpenCV straight into the frame,
// boxes and captions drawn with Cairo and Pango on a layer composited over it. Works on every
// format the element accepts (packed RGB with or without alpha, I420, NV12); the frame's alpha
// channel is never written.
//
// Per instance, in the scene's order: mask fill, contour, box. Captions come last, on top of
// everything, laid out together (caption_layout.h).
#pragma once

#include <gst/video/video.h>

#include <memory>

#include "caption_painter.h"
#include "scene.h"
#include "vector_layer.h"

namespace vmt::overlay {

/// What a draw call did with the captions.
struct DrawReport {
  bool ok = true;  ///< false when the drawing layer could not be allocated (nothing drawn)
  std::vector<CaptionBox> captions;
  int hidden = 0;
  std::optional<Rect> counter;
};

/// Holds what drawing reuses from frame to frame (the layer, Pango's fonts). One thread at a time.
class Renderer {
 public:
  Renderer();
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  DrawReport draw(GstVideoFrame* frame, const Scene& scene, const Style& style);

 private:
  VectorLayer layer_;
  CaptionPainter captions_;
};

}  // namespace vmt::overlay
