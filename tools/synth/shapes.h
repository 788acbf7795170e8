// The object classes of the synthetic videos: their outlines, poses and names.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "raster.h"

namespace vmt::synth {

/// The classes of objects; each has a distinct outline, texture pattern and colour family.
enum class ShapeClass : std::uint8_t { circle, square, triangle, star, ring, cross };

/// Every class, in category order (category id = position + 1).
inline constexpr std::array kShapeClasses = {ShapeClass::circle, ShapeClass::square,
                                             ShapeClass::triangle, ShapeClass::star,
                                             ShapeClass::ring, ShapeClass::cross};

/// The class's category name ("circle", ...).
std::string_view shape_class_name(ShapeClass shape);

/// The class's 1-based YouTube-VIS category id.
std::uint32_t category_id(ShapeClass shape);

/// Where an object is on one frame: its centre, rotation (radians), size (the radius of its
/// circumscribed circle, in pixels) and stretch (local x scaled by `stretch`, local y by 1/stretch).
struct Pose {
  Point centre;
  double angle = 0.0;
  double radius = 1.0;
  double stretch = 1.0;
};

/// The class's outline in its own unit frame: centred on the origin, inside the unit circle.
/// The ring is two contours (the inner one cuts the hole under the even-odd rule).
std::vector<Contour> unit_outline(ShapeClass shape);

/// `outline` (unit frame) placed in the image by `pose`.
std::vector<Contour> place_outline(std::span<const Contour> outline, const Pose& pose);

/// An affine map of the plane: (x, y) → (xx·x + xy·y + x0, yx·x + yy·y + y0).
struct Affine {
  double xx = 1.0, xy = 0.0, x0 = 0.0;
  double yx = 0.0, yy = 1.0, y0 = 0.0;

  Point operator()(Point p) const noexcept {
    return {xx * p.x + xy * p.y + x0, yx * p.x + yy * p.y + y0};
  }
};

/// The inverse of placing: maps image points to the unit frame of an object at `pose`
/// (what texturing needs per pixel, so it is computed once per object and frame).
Affine image_to_unit_frame(const Pose& pose);

}  // namespace vmt::synth
