#include "caption_painter.h"

#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>

namespace vmt::overlay {
namespace {

/// Smaller text is not legible; captions that do not fit at this size are hidden instead.
constexpr int kMinFontPx = 7;
/// The sizes a caption may shrink to, as fractions of the full size.
constexpr double kShrinkSteps[] = {1.0, 0.8, 0.64};

/// One caption size: the text size, the padding around the text, and its font description.
struct Level {
  int font_px;
  int pad_x, pad_y;
  PangoFontDescription* font;
};

std::vector<Level> make_levels(const std::string& family, int font_px) {
  std::vector<Level> levels;
  for (double step : kShrinkSteps) {
    const int px = std::max(1, static_cast<int>(std::lround(font_px * step)));
    if (!levels.empty() && (px < kMinFontPx || px >= levels.back().font_px)) break;
    PangoFontDescription* font = pango_font_description_new();
    pango_font_description_set_family(font, family.empty() ? "Sans" : family.c_str());
    pango_font_description_set_absolute_size(font, px * PANGO_SCALE);
    levels.push_back({px, std::max(1, static_cast<int>(std::lround(px * 0.25))),
                      std::max(1, static_cast<int>(std::lround(px * 0.08))), font});
  }
  return levels;
}

std::string counter_text(int hidden) { return "+" + std::to_string(hidden) + " hidden"; }

/// Caption colours for the counter: dark grey, neutral next to any instance colour.
constexpr guint8 kCounterGrey = 48;

}  // namespace

int auto_font_px(int frame_height) {
  return std::max(kMinFontPx, static_cast<int>(std::lround(frame_height / 40.0)));
}

CaptionPainter::CaptionPainter()
    : font_map_(pango_cairo_font_map_new()), context_(pango_font_map_create_context(font_map_)) {
  cairo_font_options_t* options = cairo_font_options_create();
  // The layer holds the frame's components, not display subpixels: greyscale anti-aliasing.
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_ON);
  pango_cairo_context_set_font_options(context_, options);
  cairo_font_options_destroy(options);
}

CaptionPainter::~CaptionPainter() {
  g_object_unref(context_);
  g_object_unref(font_map_);
}

CaptionResult CaptionPainter::draw(cairo_t* cr, VectorLayer& layer,
                                   const std::vector<CaptionItem>& items, int frame_w, int frame_h,
                                   const std::string& font_family, int font_px, bool yuv) {
  CaptionResult result;
  if (items.empty()) return result;
  pango_cairo_update_context(cr, context_);
  const std::vector<Level> levels = make_levels(font_family, font_px);

  // One Pango layout per (caption, level), made when the layout first asks for that size.
  auto make_layout = [&](const char* text, const Level& level) {
    PangoLayout* layout = pango_layout_new(context_);
    pango_layout_set_font_description(layout, level.font);
    pango_layout_set_single_paragraph_mode(layout, TRUE);
    const int max_text_w = frame_w - 2 * level.pad_x;
    if (max_text_w > 0) {  // a caption wider than the frame ends in "…"
      pango_layout_set_width(layout, max_text_w * PANGO_SCALE);
      pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    }
    pango_layout_set_text(layout, text, -1);
    return layout;
  };
  auto caption_size = [](PangoLayout* layout, const Level& level) {
    PangoRectangle logical;
    pango_layout_get_pixel_extents(layout, nullptr, &logical);
    return Size{logical.width + 2 * level.pad_x, logical.height + 2 * level.pad_y};
  };

  std::vector<std::string> texts;
  std::vector<CaptionRequest> requests;
  for (const CaptionItem& item : items) {
    gchar* valid = g_utf8_make_valid(item.text.c_str(), -1);  // labels are not trusted to be UTF-8
    texts.emplace_back(valid);
    g_free(valid);
    requests.push_back({item.box, item.score});
  }
  std::vector<std::vector<PangoLayout*>> layouts(items.size(),
                                                 std::vector<PangoLayout*>(levels.size()));
  CaptionMeasure measure;
  measure.levels = static_cast<int>(levels.size());
  measure.caption_size = [&](int request, int level) {
    PangoLayout*& layout = layouts[request][level];
    if (layout == nullptr) layout = make_layout(texts[request].c_str(), levels[level]);
    return caption_size(layout, levels[level]);
  };
  measure.counter_size = [&](int hidden) {
    PangoLayout* layout = make_layout(counter_text(hidden).c_str(), levels[0]);
    const Size size = caption_size(layout, levels[0]);
    g_object_unref(layout);
    return size;
  };
  const int gap = std::max(1, font_px / 12);
  const CaptionLayout placement = layout_captions(frame_w, frame_h, requests, measure, gap);

  auto paint_caption = [&](const Rect& rect, PangoLayout* layout, const Level& level,
                           const Colour& background) {
    cairo_save(cr);
    cairo_rectangle(cr, rect.x, rect.y, rect.w, rect.h);
    cairo_clip(cr);  // nothing of the caption, glyph overhangs included, leaves its rectangle
    set_source_components(cr, background);
    cairo_paint(cr);
    set_source_components(cr, ink_for(background, yuv));
    PangoRectangle logical;
    pango_layout_get_pixel_extents(layout, nullptr, &logical);
    cairo_move_to(cr, rect.x + level.pad_x - logical.x, rect.y + level.pad_y - logical.y);
    pango_cairo_show_layout(cr, layout);
    cairo_restore(cr);
    layer.mark(rect);
  };
  for (const PlacedCaption& p : placement.placed) {
    paint_caption(p.rect, layouts[p.request][p.level], levels[p.level], items[p.request].colour);
    result.placed.push_back({items[p.request].instance, p.rect, levels[p.level].font_px});
  }
  result.hidden = static_cast<int>(placement.hidden.size());
  if (placement.counter) {
    PangoLayout* layout = make_layout(counter_text(result.hidden).c_str(), levels[0]);
    paint_caption(*placement.counter, layout, levels[0],
                  make_colour(kCounterGrey, kCounterGrey, kCounterGrey, yuv));
    g_object_unref(layout);
    result.counter = placement.counter;
  }

  for (auto& per_level : layouts)
    for (PangoLayout* layout : per_level)
      if (layout) g_object_unref(layout);
  for (const Level& level : levels) pango_font_description_free(level.font);
  return result;
}

}  // namespace vmt::overlay
