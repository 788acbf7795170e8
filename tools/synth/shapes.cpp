#include "shapes.h"

#include <cmath>
#include <numbers>

namespace vmt::synth {
namespace {

constexpr double kPi = std::numbers::pi;

/// A regular polygon with `corners` vertices on a circle of `radius`, the first at `phase`.
Contour regular_polygon(int corners, double radius, double phase) {
  Contour contour;
  contour.reserve(static_cast<std::size_t>(corners));
  for (int i = 0; i < corners; ++i) {
    const double a = phase + 2.0 * kPi * i / corners;
    contour.push_back({radius * std::cos(a), radius * std::sin(a)});
  }
  return contour;
}

/// A five-pointed star: tips on the unit circle, inner corners at `inner` radius.
Contour star_contour(double inner) {
  Contour contour;
  for (int i = 0; i < 10; ++i) {
    const double r = (i % 2 == 0) ? 1.0 : inner;
    const double a = -kPi / 2 + kPi * i / 5;
    contour.push_back({r * std::cos(a), r * std::sin(a)});
  }
  return contour;
}

/// A plus sign whose arms have half-width `arm`; its corners lie on the unit circle.
Contour cross_contour(double arm) {
  const double reach = std::sqrt(1.0 - arm * arm);
  return {{arm, -reach}, {arm, -arm},  {reach, -arm},  {reach, arm},  {arm, arm},   {arm, reach},
          {-arm, reach}, {-arm, arm}, {-reach, arm}, {-reach, -arm}, {-arm, -arm}, {-arm, -reach}};
}

}  // namespace

std::string_view shape_class_name(ShapeClass shape) {
  switch (shape) {
    case ShapeClass::circle: return "circle";
    case ShapeClass::square: return "square";
    case ShapeClass::triangle: return "triangle";
    case ShapeClass::star: return "star";
    case ShapeClass::ring: return "ring";
    case ShapeClass::cross: return "cross";
  }
  return "unknown";
}

std::uint32_t category_id(ShapeClass shape) { return static_cast<std::uint32_t>(shape) + 1; }

std::vector<Contour> unit_outline(ShapeClass shape) {
  constexpr int kRoundCorners = 64;
  switch (shape) {
    case ShapeClass::circle: return {regular_polygon(kRoundCorners, 1.0, 0.0)};
    case ShapeClass::square: return {regular_polygon(4, 1.0, kPi / 4)};
    case ShapeClass::triangle: return {regular_polygon(3, 1.0, -kPi / 2)};
    case ShapeClass::star: return {star_contour(0.42)};
    case ShapeClass::ring:
      return {regular_polygon(kRoundCorners, 1.0, 0.0), regular_polygon(kRoundCorners, 0.55, 0.0)};
    case ShapeClass::cross: return {cross_contour(0.3)};
  }
  return {};
}

std::vector<Contour> place_outline(std::span<const Contour> outline, const Pose& pose) {
  const double c = std::cos(pose.angle), s = std::sin(pose.angle);
  const double sx = pose.radius * pose.stretch, sy = pose.radius / pose.stretch;
  std::vector<Contour> placed;
  placed.reserve(outline.size());
  for (const Contour& contour : outline) {
    Contour& out = placed.emplace_back();
    out.reserve(contour.size());
    for (const Point& p : contour) {
      const double u = p.x * sx, v = p.y * sy;
      out.push_back({pose.centre.x + c * u - s * v, pose.centre.y + s * u + c * v});
    }
  }
  return placed;
}

Affine image_to_unit_frame(const Pose& pose) {
  const double c = std::cos(pose.angle), s = std::sin(pose.angle);
  const double su = 1.0 / (pose.radius * pose.stretch), sv = pose.stretch / pose.radius;
  // unit = diag(su, sv) · R(-angle) · (p - centre)
  Affine map;
  map.xx = su * c;
  map.xy = su * s;
  map.yx = -sv * s;
  map.yy = sv * c;
  map.x0 = -(map.xx * pose.centre.x + map.xy * pose.centre.y);
  map.y0 = -(map.yx * pose.centre.x + map.yy * pose.centre.y);
  return map;
}

}  // namespace vmt::synth
