#include "heldout/paths.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vmt::synth::heldout {
namespace {

constexpr double kTau = 2.0 * std::numbers::pi;

/// Position on [low, high] of a point moving freely from `low` at `offset`, reflected at both
/// ends (a triangle wave).
double reflect(double offset, double low, double high) {
  const double span = std::max(1e-9, high - low);
  double t = std::fmod(offset, 2.0 * span);
  if (t < 0) t += 2.0 * span;
  return low + (t <= span ? t : 2.0 * span - t);
}

/// A point outside `frame` by `margin`, on a random side.
cv::Point2d outside(cv::Size frame, double margin, int side, Random& random) {
  const double w = frame.width, h = frame.height;
  switch (side) {
    case 0: return {-margin, random.uniform(0.1, 0.9) * h};
    case 1: return {w + margin, random.uniform(0.1, 0.9) * h};
    case 2: return {random.uniform(0.1, 0.9) * w, -margin};
    default: return {random.uniform(0.1, 0.9) * w, h + margin};
  }
}

}  // namespace

std::string_view path_kind_name(PathKind kind) {
  switch (kind) {
    case PathKind::orbit: return "orbit";
    case PathKind::bounce: return "bounce";
    case PathKind::lissajous: return "lissajous";
    case PathKind::crossing: return "crossing";
    case PathKind::drift: return "drift";
  }
  return "unknown";
}

cv::Point2d Path::position(double t) const {
  switch (kind) {
    case PathKind::orbit:
      return {centre.x + extent.x * std::cos(rate.x * t + phase), centre.y + extent.y * std::sin(rate.x * t + phase)};
    case PathKind::lissajous:
      return {centre.x + extent.x * std::sin(rate.x * t + phase), centre.y + extent.y * std::sin(rate.y * t)};
    case PathKind::bounce: {
      const double r = radius(t);
      return {reflect(centre.x - r + extent.x * t, r, frame.width - r) ,
              reflect(centre.y - r + extent.y * t, r, frame.height - r)};
    }
    case PathKind::crossing: {
      const double s = std::clamp((t - start) / std::max(1e-9, end - start), 0.0, 1.0);
      const double eased = s * s * (3.0 - 2.0 * s);  // slow in, slow out
      return centre + (extent - centre) * eased;
    }
    case PathKind::drift: return centre + extent * t;
  }
  return centre;
}

double Path::radius(double t) const { return size * std::max(0.2, 1.0 + growth * t); }

double Path::rotation(double t) const { return angle + turn * t + rock * std::sin(rock_rate * t); }

Path random_path(PathKind kind, cv::Size frame, std::uint32_t frames, double start, Random& random) {
  const double w = frame.width, h = frame.height;
  const double short_side = std::min(w, h), diagonal = std::hypot(w, h);
  Path p;
  p.kind = kind;
  p.frame = frame;
  p.size = random.uniform(0.05, 0.22) * short_side;
  if (random.chance(0.5)) p.growth = random.uniform(-0.35, 0.5) / std::max(1u, frames);
  const double spin_kind = random.uniform01();
  if (spin_kind < 0.5) {
    p.rock = random.uniform(0.1, 0.6);
    p.rock_rate = random.uniform(0.05, 0.3);
  } else if (spin_kind < 0.8) {
    p.turn = random.sign() * random.uniform(0.005, 0.04);
  }
  p.angle = random.uniform(0.0, kTau);
  switch (kind) {
    case PathKind::orbit:
      p.centre = {random.uniform(0.2, 0.8) * w, random.uniform(0.2, 0.8) * h};
      p.extent = {random.uniform(0.1, 0.6) * short_side, random.uniform(0.1, 0.6) * short_side};
      p.rate = {random.sign() * random.uniform(0.02, 0.1), 0.0};
      p.phase = random.uniform(0.0, kTau);
      break;
    case PathKind::lissajous: {
      const double base = random.uniform(0.02, 0.05);
      p.centre = {random.uniform(0.4, 0.6) * w, random.uniform(0.4, 0.6) * h};
      p.extent = {random.uniform(0.15, 0.5) * w, random.uniform(0.15, 0.5) * h};
      p.rate = {base * static_cast<double>(random.uniform_int(1, 3)), base * static_cast<double>(random.uniform_int(1, 3))};
      p.phase = random.uniform(0.0, kTau);
      break;
    }
    case PathKind::bounce: {
      p.centre = {random.uniform(0.2, 0.8) * w, random.uniform(0.2, 0.8) * h};
      const double heading = random.uniform(0.0, kTau), speed = random.uniform(0.005, 0.02) * diagonal;
      p.extent = {speed * std::cos(heading), speed * std::sin(heading)};
      p.growth = 0.0;  // the walls assume a steady size
      break;
    }
    case PathKind::crossing: {
      const double margin = p.size * (1.0 + std::max(0.0, p.growth) * frames) + 2.0;
      const int from = static_cast<int>(random.uniform_int(0, 3));
      int to = static_cast<int>(random.uniform_int(0, 2));
      if (to >= from) ++to;  // another side
      p.centre = outside(frame, margin, from, random);
      p.extent = outside(frame, margin, to, random);
      p.start = start;
      p.end = start + random.uniform(0.6, 1.6) * frames;
      break;
    }
    case PathKind::drift: {
      p.centre = {random.uniform(0.15, 0.85) * w, random.uniform(0.15, 0.85) * h};
      const double heading = random.uniform(0.0, kTau), speed = random.uniform(0.0, 0.004) * diagonal;
      p.extent = {speed * std::cos(heading), speed * std::sin(heading)};
      break;
    }
  }
  return p;
}

}  // namespace vmt::synth::heldout
