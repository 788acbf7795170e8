// What vmtoverlay draws, independent of where the metadata came from: the instances of one frame
// (Scene) and the drawing options (Style). The element fills a Scene from the buffer's metadata in
// one function (read_scene in gstvmtoverlay.cpp); the renderers only see these structures.
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace vmt::overlay {

/// One instance in the coordinates of its Scene. Its box should lie inside the scene (the parts
/// outside are not drawn).
struct Instance {
  guint64 track_id = 0;
  gint class_id = 0;
  const char* label = nullptr;  ///< category name (UTF-8, not necessarily valid), or null
  float score = 0.0f;
  guint x = 0, y = 0, width = 0, height = 0;  ///< box
  const guint8* mask = nullptr;  ///< width × height bytes, row-major, nonzero = inside; or null
};

/// The instances of one frame. Boxes and masks refer to a width × height image; when that is not
/// the frame's size they are mapped nearest-neighbour.
struct Scene {
  guint width = 0, height = 0;
  std::vector<Instance> instances;
};

enum class ColourBy { kTrack, kClass };

/// What to draw and how; a snapshot of the element's properties.
struct Style {
  bool masks = true;
  bool contours = true;
  bool boxes = true;
  bool labels = true;
  double mask_alpha = 0.5;
  double min_score = 0.0;
  ColourBy colour_by = ColourBy::kTrack;
  unsigned line_width = 2;
  std::string font_family = "Sans";
  unsigned font_size = 0;  ///< caption text size in pixels; 0 = from the frame height
};

/// The caption of an instance: "label track-id score", "class<N>" when it has no label.
std::string caption_text(const Instance& instance);

}  // namespace vmt::overlay
