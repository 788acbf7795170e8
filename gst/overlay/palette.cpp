#include "palette.h"

#include <cmath>

namespace vmt::overlay {

Colour make_colour(guint8 r, guint8 g, guint8 b, bool yuv) {
  Colour colour{r, g, b, {r, g, b}};
  if (yuv) {
    colour.comp[0] = static_cast<guint8>(std::lround(16 + 0.257 * r + 0.504 * g + 0.098 * b));
    colour.comp[1] = static_cast<guint8>(std::lround(128 - 0.148 * r - 0.291 * g + 0.439 * b));
    colour.comp[2] = static_cast<guint8>(std::lround(128 + 0.439 * r - 0.368 * g - 0.071 * b));
  }
  return colour;
}

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

Colour instance_colour(const Instance& instance, ColourBy colour_by, bool yuv) {
  const guint64 id = colour_by == ColourBy::kClass
                         ? static_cast<guint64>(static_cast<guint32>(instance.class_id))
                         : instance.track_id;
  return colour_for_id(id, yuv);
}

Colour ink_for(const Colour& background, bool yuv) {
  const bool light = 0.299 * background.r + 0.587 * background.g + 0.114 * background.b > 140;
  return light ? make_colour(0, 0, 0, yuv) : make_colour(255, 255, 255, yuv);
}

}  // namespace vmt::overlay
