#include "randomised/motion.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vmt::synth::randomised {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

double log_uniform(Random& random, double low, double high) {
  return std::exp(random.uniform(std::log(low), std::log(high)));
}

double wave(double t, double period, double phase) { return std::sin(kTwoPi * t / period + phase); }

}  // namespace

double Camera::zoom(double t) const { return std::exp(log_zoom_start + log_zoom_rate * t); }

Point Camera::centre(double t) const {
  Point c{start.x + velocity.x * t, start.y + velocity.y * t};
  if (shake > 0) {
    c.x += shake * std::sin(kTwoPi * t / shake_period + shake_phase);
    c.y += shake * std::sin(kTwoPi * t / (shake_period * 1.37) + 2.0 * shake_phase);
  }
  return c;
}

Point Camera::to_image(Point world, double t, MaskSize size) const {
  const double z = zoom(t);
  const Point c = centre(t);
  return {(world.x - c.x) * z + size.width / 2.0, (world.y - c.y) * z + size.height / 2.0};
}

Point Camera::to_world(Point image, double t, MaskSize size) const {
  const double z = zoom(t);
  const Point c = centre(t);
  return {(image.x - size.width / 2.0) / z + c.x, (image.y - size.height / 2.0) / z + c.y};
}

Camera random_camera(MaskSize size, std::uint32_t frames, Random& random) {
  const double diagonal = std::hypot(size.width, size.height);
  Camera camera;
  camera.start = {size.width / 2.0, size.height / 2.0};
  if (random.chance(0.6)) {
    const double heading = random.uniform(0.0, kTwoPi);
    const double speed = random.uniform(0.0005, 0.008) * diagonal;
    camera.velocity = {speed * std::cos(heading), speed * std::sin(heading)};
  }
  if (random.chance(0.35)) {
    const double total = random.sign() * random.uniform(0.05, std::log(1.35));  // over the video
    camera.log_zoom_start = random.uniform(-0.1, 0.1);
    camera.log_zoom_rate = total / std::max(1u, frames);
  }
  if (random.chance(0.15)) {
    camera.shake = random.uniform(0.3, 2.0);
    camera.shake_period = random.uniform(3.0, 12.0);
    camera.shake_phase = random.uniform(0.0, kTwoPi);
  }
  return camera;
}

Pose Motion::pose_at(double t) const {
  const double dt = t - anchor_frame;
  double travel = speed * dt;
  if (speed_swing > 0)  // ∫ speed·(1 + swing·cos) dt: the speed itself changes smoothly
    travel += speed * speed_swing * speed_period / kTwoPi *
              (std::sin(kTwoPi * t / speed_period + speed_phase) -
               std::sin(kTwoPi * anchor_frame / speed_period + speed_phase));
  const double side = sway * wave(t, sway_period, sway_phase);
  Pose pose;
  pose.centre = {anchor.x + direction.x * travel - direction.y * side,
                 anchor.y + direction.y * travel + direction.x * side};
  pose.angle = angle + spin * t + rock * wave(t, rock_period, rock_phase);
  pose.radius = radius * (1.0 + pulse * wave(t, pulse_period, pulse_phase));
  pose.stretch = stretch * (1.0 + stretch_swing * wave(t, stretch_period, stretch_phase));
  return pose;
}

Motion random_motion(Point anchor, double anchor_frame, MaskSize size, Random& random) {
  const double w = size.width, h = size.height;
  const double short_side = std::min(w, h), diagonal = std::hypot(w, h);
  Motion m;
  m.anchor = anchor;
  m.anchor_frame = anchor_frame;
  const double heading = random.uniform(0.0, kTwoPi);
  m.direction = {std::cos(heading), std::sin(heading)};
  m.speed = random.chance(0.15) ? random.uniform(0.0, 0.001) * diagonal
                                : log_uniform(random, 0.002, 0.025) * diagonal;
  if (random.chance(0.3)) {
    m.speed_swing = random.uniform(0.3, 0.9);
    m.speed_period = random.uniform(15.0, 80.0);
    m.speed_phase = random.uniform(0.0, kTwoPi);
  }
  if (random.chance(0.5)) {
    m.sway = random.uniform(0.0, 0.05) * short_side;
    m.sway_period = random.uniform(10.0, 60.0);
    m.sway_phase = random.uniform(0.0, kTwoPi);
  }
  m.angle = random.uniform(0.0, kTwoPi);
  if (random.chance(0.7)) m.spin = random.sign() * random.uniform(0.003, 0.08);
  if (random.chance(0.2)) {
    m.rock = random.uniform(0.1, 0.5);
    m.rock_period = random.uniform(10.0, 50.0);
    m.rock_phase = random.uniform(0.0, kTwoPi);
  }
  // From a few percent of the frame to half of it (diameter 5 % … 56 % of the shorter side).
  m.radius = log_uniform(random, 0.025, 0.28) * short_side;
  if (random.chance(0.5)) {
    m.pulse = random.uniform(0.03, 0.25);
    m.pulse_period = random.uniform(15.0, 80.0);
    m.pulse_phase = random.uniform(0.0, kTwoPi);
  }
  m.stretch = random.chance(0.6) ? log_uniform(random, 1.0 / 1.6, 1.6) : random.uniform(0.92, 1.08);
  if (random.chance(0.3)) {
    m.stretch_swing = random.uniform(0.05, 0.2);
    m.stretch_period = random.uniform(15.0, 80.0);
    m.stretch_phase = random.uniform(0.0, kTwoPi);
  }
  return m;
}

double Wobble::reach() const {
  double sum = 0.0;
  for (const Harmonic& h : harmonics) sum += std::abs(h.amplitude);
  return sum;
}

Wobble random_wobble(Random& random) {
  Wobble wobble;
  if (!random.chance(0.45)) return wobble;
  const int count = static_cast<int>(random.uniform_int(1, 3));
  // At most 10 % in all: enough to bend, little enough that the class stays recognisable.
  double budget = random.uniform(0.03, 0.10);
  for (int i = 0; i < count; ++i) {
    Wobble::Harmonic h;
    h.order = static_cast<int>(random.uniform_int(2, 5));
    h.amplitude = budget / count;
    h.phase = random.uniform(0.0, kTwoPi);
    h.rate = random.sign() * random.uniform(0.02, 0.25);
    wobble.harmonics.push_back(h);
  }
  return wobble;
}

std::vector<Contour> densify(std::span<const Contour> outline, double max_edge) {
  std::vector<Contour> out;
  for (const Contour& contour : outline) {
    Contour& dense = out.emplace_back();
    for (std::size_t i = 0; i < contour.size(); ++i) {
      const Point a = contour[i], b = contour[(i + 1) % contour.size()];
      const int pieces = std::max(1, static_cast<int>(std::ceil(std::hypot(b.x - a.x, b.y - a.y) / max_edge)));
      for (int k = 0; k < pieces; ++k) {
        const double t = static_cast<double>(k) / pieces;
        dense.push_back({a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t});
      }
    }
  }
  return out;
}

std::vector<Contour> wobbled(std::span<const Contour> outline, const Wobble& wobble, double t) {
  std::vector<Contour> out(outline.begin(), outline.end());
  if (wobble.harmonics.empty()) return out;
  for (Contour& contour : out)
    for (Point& p : contour) {
      const double theta = std::atan2(p.y, p.x);
      double scale = 1.0;
      for (const Wobble::Harmonic& h : wobble.harmonics)
        scale += h.amplitude * std::sin(h.order * theta + h.phase + h.rate * t);
      p.x *= scale;
      p.y *= scale;
    }
  return out;
}

}  // namespace vmt::synth::randomised
