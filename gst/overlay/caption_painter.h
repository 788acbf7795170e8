// Captions through Pango: measures each "label track-id score" text at the caption sizes, lets
// layout_captions place them, and draws the placed ones (and the "+N hidden" counter) on the
// vector layer: an opaque box in the instance's colour with anti-aliased black or white text.
#pragma once

#include <cairo.h>
#include <pango/pango.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "caption_layout.h"
#include "palette.h"
#include "vector_layer.h"

namespace vmt::overlay {

/// A caption to draw: its text, the box it labels (frame pixels), its score and colour.
struct CaptionItem {
  std::string text;
  Rect box;
  double score = 0.0;
  Colour colour{};
  std::size_t instance = 0;  ///< index into the scene's instances
};

/// Where a caption went.
struct CaptionBox {
  std::size_t instance = 0;
  Rect rect;
  int font_px = 0;  ///< text size used (the font size, or smaller when it had to shrink)
};

struct CaptionResult {
  std::vector<CaptionBox> placed;
  int hidden = 0;               ///< captions not drawn for lack of room
  std::optional<Rect> counter;  ///< where "+N hidden" was drawn
};

/// The caption text size for a frame `frame_height` pixels high when `font_size` is 0 (auto).
int auto_font_px(int frame_height);

class CaptionPainter {
 public:
  CaptionPainter();
  ~CaptionPainter();
  CaptionPainter(const CaptionPainter&) = delete;
  CaptionPainter& operator=(const CaptionPainter&) = delete;

  /// Lays out and draws `items` on `layer` (whose context is `cr`) for a frame_w × frame_h frame.
  /// `font_family` and `font_px` give the full caption size; `yuv` says what the components are.
  CaptionResult draw(cairo_t* cr, VectorLayer& layer, const std::vector<CaptionItem>& items,
                     int frame_w, int frame_h, const std::string& font_family, int font_px,
                     bool yuv);

 private:
  PangoFontMap* font_map_;
  PangoContext* context_;
};

}  // namespace vmt::overlay
