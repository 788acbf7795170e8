#include "vector_layer.h"

#include <cstdint>
#include <cstring>

namespace vmt::overlay {

VectorLayer::VectorLayer() : dirty_(cairo_region_create()) {}

VectorLayer::~VectorLayer() {
  release();
  cairo_region_destroy(dirty_);
}

void VectorLayer::release() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
  cr_ = nullptr;
  surface_ = nullptr;
  width_ = height_ = 0;
}

cairo_t* VectorLayer::begin(int width, int height) {
  if (surface_ && width == width_ && height == height_) return cr_;
  release();
  // A new image surface is zeroed: fully transparent.
  surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cr_ = cairo_create(surface_);
  if (cairo_surface_status(surface_) != CAIRO_STATUS_SUCCESS ||
      cairo_status(cr_) != CAIRO_STATUS_SUCCESS) {
    release();
    return nullptr;
  }
  width_ = width;
  height_ = height;
  return cr_;
}

void VectorLayer::mark(const Rect& rect) {
  const cairo_rectangle_int_t r{rect.x, rect.y, rect.w, rect.h};
  if (!rect.empty()) cairo_region_union_rectangle(dirty_, &r);
}

void VectorLayer::composite_onto(FrameCanvas& canvas) {
  if (surface_ == nullptr || cairo_region_is_empty(dirty_)) return;
  const cairo_rectangle_int_t frame{0, 0, width_, height_};
  cairo_region_intersect_rectangle(dirty_, &frame);
  cairo_surface_flush(surface_);
  auto* data = reinterpret_cast<std::uint32_t*>(cairo_image_surface_get_data(surface_));
  const int stride = cairo_image_surface_get_stride(surface_);
  // The region's rectangles do not overlap, so no pixel is composited twice.
  for (int i = 0; i < cairo_region_num_rectangles(dirty_); ++i) {
    cairo_rectangle_int_t r;
    cairo_region_get_rectangle(dirty_, i, &r);
    canvas.composite(data, stride, Rect{r.x, r.y, r.width, r.height});
    for (int y = r.y; y < r.y + r.height; ++y)
      std::memset(reinterpret_cast<guint8*>(data) + y * stride + r.x * 4, 0, r.width * 4);
    cairo_surface_mark_dirty_rectangle(surface_, r.x, r.y, r.width, r.height);
  }
  cairo_region_destroy(dirty_);
  dirty_ = cairo_region_create();
}

void set_source_components(cairo_t* cr, const Colour& colour) {
  cairo_set_source_rgb(cr, colour.comp[0] / 255.0, colour.comp[1] / 255.0,
                       colour.comp[2] / 255.0);
}

}  // namespace vmt::overlay
