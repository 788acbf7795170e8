// A frame-sized Cairo surface that boxes and captions are drawn on, then composited onto the frame
// (any of vmtoverlay's formats) and cleared, touching only the pixels that were drawn. The layer
// holds the frame's own components (R,G,B or Y,U,V) in Cairo's R, G and B: compositing is linear,
// so drawing in the frame's colour space is the same as converting afterwards.
#pragma once

#include <cairo.h>

#include "caption_layout.h"
#include "frame_canvas.h"

namespace vmt::overlay {

class VectorLayer {
 public:
  VectorLayer();
  ~VectorLayer();
  VectorLayer(const VectorLayer&) = delete;
  VectorLayer& operator=(const VectorLayer&) = delete;

  /// A transparent width × height layer to draw on (kept between frames of one size), or null when
  /// Cairo cannot allocate it.
  cairo_t* begin(int width, int height);

  /// Notes that the pixels of `rect` may have been drawn.
  void mark(const Rect& rect);

  /// Composites the marked pixels onto `canvas` and makes them transparent again.
  void composite_onto(FrameCanvas& canvas);

 private:
  void release();

  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
  cairo_region_t* dirty_ = nullptr;
  int width_ = 0, height_ = 0;
};

/// Sets `cr`'s source to `colour` as the frame's components (see VectorLayer).
void set_source_components(cairo_t* cr, const Colour& colour);

}  // namespace vmt::overlay
