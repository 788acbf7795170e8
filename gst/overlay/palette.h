// Instance colours: a stable colour per id, given both as sRGB and as the frame's components.
#pragma once

#include <glib.h>

#include "scene.h"

namespace vmt::overlay {

/// An sRGB colour and the same colour as the frame's three components (R,G,B or Y,U,V).
struct Colour {
  guint8 r, g, b;
  guint8 comp[3];
};

/// (r, g, b) for a frame in RGB, or in YUV (BT.601, limited range).
Colour make_colour(guint8 r, guint8 g, guint8 b, bool yuv);

/// A saturated colour from a golden-ratio walk over the hue circle: the same id always gets the
/// same colour, nearby ids get distant hues.
Colour colour_for_id(guint64 id, bool yuv);

/// The colour of `instance` under `colour_by`.
Colour instance_colour(const Instance& instance, ColourBy colour_by, bool yuv);

/// Black or white, whichever reads better on `background`.
Colour ink_for(const Colour& background, bool yuv);

}  // namespace vmt::overlay
