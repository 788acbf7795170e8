// The drawing vmtoverlay used before Pango/Cairo (issue #17), kept verbatim in behaviour as the
// baseline of bench-overlay and as an independent implementation of the mask, contour and box
// pixels for the overlay tests. Not linked into the plugin: a property value selecting it would
// be public API to document and keep working, for a renderer no user should pick.
#pragma once

#include <gst/video/video.h>

#include "scene.h"

namespace vmt::overlay {

/// Draws `scene` onto `frame` per pixel, captions in a 5×7 bitmap font (style.font_* ignored).
void draw_legacy(GstVideoFrame* frame, const Scene& scene, const Style& style);

}  // namespace vmt::overlay
