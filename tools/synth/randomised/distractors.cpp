#include "randomised/distractors.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vmt::synth::randomised {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

Point random_point(Point origin, Point extent, Random& random) {
  return {origin.x + random.uniform(0.0, extent.x), origin.y + random.uniform(0.0, extent.y)};
}

Contour ellipse(Point centre, double rx, double ry, double angle, int corners) {
  Contour contour;
  const double c = std::cos(angle), s = std::sin(angle);
  for (int i = 0; i < corners; ++i) {
    const double a = kTwoPi * i / corners;
    const double x = rx * std::cos(a), y = ry * std::sin(a);
    contour.push_back({centre.x + c * x - s * y, centre.y + s * x + c * y});
  }
  return contour;
}

/// Quads along a quadratic Bézier curve from a to b bending towards `control`.
std::vector<Contour> thick_curve(Point a, Point control, Point b, double width) {
  std::vector<Contour> quads;
  constexpr int kSteps = 24;
  Point previous = a;
  for (int i = 1; i <= kSteps; ++i) {
    const double t = static_cast<double>(i) / kSteps, u = 1.0 - t;
    const Point p{u * u * a.x + 2 * u * t * control.x + t * t * b.x,
                  u * u * a.y + 2 * u * t * control.y + t * t * b.y};
    quads.push_back(thick_segment(previous, p, width));
    previous = p;
  }
  return quads;
}

}  // namespace

std::string_view distractor_kind_name(DistractorKind kind) {
  switch (kind) {
    case DistractorKind::line: return "line";
    case DistractorKind::curve: return "curve";
    case DistractorKind::specks: return "specks";
    case DistractorKind::fence: return "fence";
    case DistractorKind::shadow: return "shadow";
    case DistractorKind::glare: return "glare";
  }
  return "unknown";
}

Contour thick_segment(Point a, Point b, double width) {
  const double length = std::max(1e-9, std::hypot(b.x - a.x, b.y - a.y));
  // Half-width normal, plus a half-width extension at both ends (square caps).
  const double nx = -(b.y - a.y) / length * width / 2, ny = (b.x - a.x) / length * width / 2;
  const double ex = (b.x - a.x) / length * width / 2, ey = (b.y - a.y) / length * width / 2;
  return {{a.x - ex + nx, a.y - ey + ny}, {b.x + ex + nx, b.y + ey + ny},
          {b.x + ex - nx, b.y + ey - ny}, {a.x - ex - nx, a.y - ey - ny}};
}

Distractor random_distractor(Point origin, Point extent, MaskSize frame_size, Random& random) {
  const double short_side = std::min(frame_size.width, frame_size.height);
  const double diagonal = std::hypot(frame_size.width, frame_size.height);
  Distractor d;
  d.kind = kDistractorKinds[static_cast<std::size_t>(random.uniform_int(0, kDistractorKinds.size() - 1))];
  d.colour = random_colour(random, 0.0, 0.7, 0.0, 1.0);
  if (random.chance(0.4)) {
    const double heading = random.uniform(0.0, kTwoPi), speed = random.uniform(0.0, 0.005) * diagonal;
    d.velocity = {speed * std::cos(heading), speed * std::sin(heading)};
  }
  switch (d.kind) {
    case DistractorKind::line: {
      const Point a = random_point(origin, extent, random);
      const double heading = random.uniform(0.0, kTwoPi), length = random.uniform(0.3, 1.5) * diagonal;
      const Point b{a.x + length * std::cos(heading), a.y + length * std::sin(heading)};
      d.pieces = {thick_segment(a, b, random.uniform(1.0, 4.0))};
      break;
    }
    case DistractorKind::curve: {
      const Point a = random_point(origin, extent, random), b = random_point(origin, extent, random);
      const Point control = random_point(origin, extent, random);
      d.pieces = thick_curve(a, control, b, random.uniform(1.0, 3.0));
      break;
    }
    case DistractorKind::specks: {
      const Point centre = random_point(origin, extent, random);
      const double spread = random.uniform(0.05, 0.4) * short_side;
      const auto count = random.uniform_int(15, 120);
      for (std::int64_t i = 0; i < count; ++i) {
        const Point p{centre.x + random.uniform(-spread, spread), centre.y + random.uniform(-spread, spread)};
        d.pieces.push_back(ellipse(p, random.uniform(0.6, 2.0), random.uniform(0.6, 2.0), 0.0, 8));
      }
      break;
    }
    case DistractorKind::fence: {
      const Point start = random_point(origin, extent, random);
      const double heading = random.uniform(0.0, kTwoPi);
      const double along_x = std::cos(heading), along_y = std::sin(heading);
      const double spacing = random.uniform(6.0, 30.0), length = random.uniform(0.3, 1.2) * diagonal;
      const double width = random.uniform(1.0, 3.0);
      const auto lines = random.uniform_int(3, 10);
      for (std::int64_t i = 0; i < lines; ++i) {
        const Point a{start.x - along_y * spacing * i, start.y + along_x * spacing * i};
        d.pieces.push_back(thick_segment(a, {a.x + along_x * length, a.y + along_y * length}, width));
      }
      break;
    }
    case DistractorKind::shadow:
    case DistractorKind::glare: {
      const Point centre = random_point(origin, extent, random);
      const double r = random.uniform(0.15, 0.6) * short_side;
      d.pieces = {ellipse(centre, r, r * random.uniform(0.3, 1.0), random.uniform(0.0, kTwoPi), 48)};
      d.strength = static_cast<float>(random.uniform(0.15, 0.4));
      d.softness = static_cast<float>(r * random.uniform(0.1, 0.4));
      break;
    }
  }
  if (d.opaque() && random.chance(0.3)) d.softness = static_cast<float>(random.uniform(0.3, 0.8));
  return d;
}

}  // namespace vmt::synth::randomised
