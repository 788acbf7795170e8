#include "randomised/appearance.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vmt::synth::randomised {
namespace {

constexpr double kPi = std::numbers::pi;

double fract(double x) { return x - std::floor(x); }
bool odd(double x) { return (static_cast<std::int64_t>(std::floor(x)) & 1) != 0; }

/// The unit-frame point at the centre of texture pixel (x, y).
cv::Point2d unit_point(int x, int y) {
  const double scale = 2.0 * kTextureReach / kTextureSide;
  return {(x + 0.5) * scale - kTextureReach, (y + 0.5) * scale - kTextureReach};
}

template <typename Value>
cv::Mat3f paint(const Colour& a, const Colour& b, Value&& value) {
  cv::Mat3f tile(kTextureSide, kTextureSide);
  for (int y = 0; y < kTextureSide; ++y)
    for (int x = 0; x < kTextureSide; ++x) {
      const auto t = static_cast<float>(std::clamp(value(unit_point(x, y)), 0.0, 1.0));
      tile(y, x) = a + (b - a) * t;
    }
  return tile;
}

/// The object's main colour: its luma differs from the background's by a contrast drawn from
/// faint (a few percent) to strong; its hue and saturation are free.
Colour main_colour(const Colour& background_mean, Random& random, double& contrast_out) {
  const double contrast = random.chance(0.15) ? random.uniform(0.04, 0.1) : random.uniform(0.1, 0.6);
  const double base = luminance(background_mean);
  double target = base + random.sign() * contrast;
  if (target < 0.03 || target > 0.97) target = base - (target - base);  // flip to the side that fits
  contrast_out = contrast;
  return colour_with_luminance(random.uniform(0.0, 360.0), random.uniform(0.0, 1.0), target);
}

/// A second colour near the first (patterns and gradients).
Colour second_colour(const Colour& main, Random& random) {
  const double shift = random.sign() * random.uniform(0.08, 0.4);
  double target = luminance(main) + shift;
  if (target < 0.0 || target > 1.0) target = luminance(main) - shift;
  return colour_with_luminance(random.uniform(0.0, 360.0), random.uniform(0.0, 1.0), target);
}

cv::Mat3f fill_texture(FillKind kind, const Colour& a, const Colour& b, Random& random) {
  const double frequency = random.uniform(1.5, 6.0);  // pattern cells per unit length
  const double angle = random.uniform(0.0, kPi);
  const double ca = std::cos(angle), sa = std::sin(angle);
  const double phase = random.uniform01();
  auto rotated = [=](cv::Point2d p) {
    return cv::Point2d((p.x * ca + p.y * sa) * frequency + phase, (-p.x * sa + p.y * ca) * frequency + phase);
  };
  switch (kind) {
    case FillKind::flat: return cv::Mat3f(kTextureSide, kTextureSide, a);
    case FillKind::linear_gradient:
      return paint(a, b, [=](cv::Point2d p) { return 0.5 + 0.5 * (p.x * ca + p.y * sa); });
    case FillKind::radial_gradient: {
      const double cx = random.uniform(-0.5, 0.5), cy = random.uniform(-0.5, 0.5);
      return paint(a, b, [=](cv::Point2d p) { return std::hypot(p.x - cx, p.y - cy) / 1.4; });
    }
    case FillKind::noise: {
      const cv::Mat1f field = fractal_noise({kTextureSide, kTextureSide}, frequency * 2.0, 3, 0.55, random);
      cv::Mat3f tile(kTextureSide, kTextureSide);
      for (int y = 0; y < kTextureSide; ++y)
        for (int x = 0; x < kTextureSide; ++x) tile(y, x) = a + (b - a) * field(y, x);
      return tile;
    }
    case FillKind::checker:
      return paint(a, b, [=](cv::Point2d p) {
        const cv::Point2d q = rotated(p);
        return odd(q.x) != odd(q.y) ? 1.0 : 0.0;
      });
    case FillKind::stripes: {
      const double duty = random.uniform(0.25, 0.75);
      return paint(a, b, [=](cv::Point2d p) { return fract(rotated(p).x) < duty ? 1.0 : 0.0; });
    }
    case FillKind::dots: {
      const double r = random.uniform(0.15, 0.4);
      return paint(a, b, [=](cv::Point2d p) {
        const cv::Point2d q = rotated(p);
        const double dx = fract(q.x) - 0.5, dy = fract(q.y) - 0.5;
        return dx * dx + dy * dy < r * r ? 1.0 : 0.0;
      });
    }
    case FillKind::grid: {
      const double line = random.uniform(0.1, 0.3);
      return paint(a, b, [=](cv::Point2d p) {
        const cv::Point2d q = rotated(p);
        return fract(q.x) < line || fract(q.y) < line ? 1.0 : 0.0;
      });
    }
  }
  return cv::Mat3f(kTextureSide, kTextureSide, a);
}

}  // namespace

std::string_view fill_kind_name(FillKind kind) {
  switch (kind) {
    case FillKind::flat: return "flat";
    case FillKind::linear_gradient: return "linear_gradient";
    case FillKind::radial_gradient: return "radial_gradient";
    case FillKind::noise: return "noise";
    case FillKind::checker: return "checker";
    case FillKind::stripes: return "stripes";
    case FillKind::dots: return "dots";
    case FillKind::grid: return "grid";
  }
  return "unknown";
}

ObjectLook random_look(const Colour& background_mean, Random& random) {
  ObjectLook look;
  look.fill = kFillKinds[static_cast<std::size_t>(random.uniform_int(0, kFillKinds.size() - 1))];
  double contrast = 0.0;
  const Colour a = main_colour(background_mean, random, contrast);
  const Colour b = second_colour(a, random);
  look.texture = fill_texture(look.fill, a, b, random);
  if (random.chance(0.25)) {
    // Dark or light border, whichever stands out from the fill.
    const double border = luminance(a) > 0.5 ? random.uniform(0.0, 0.25) : random.uniform(0.75, 1.0);
    look.outline = colour_with_luminance(random.uniform(0.0, 360.0), random.uniform(0.0, 0.8), border);
    look.outline_width = random.uniform(0.03, 0.12);
  }
  if (random.chance(0.15)) look.opacity = static_cast<float>(random.uniform(0.6, 0.9));
  if (random.chance(0.2)) look.defocus_sigma = static_cast<float>(random.uniform(0.6, 2.0));
  return look;
}

ObjectLook flat_look(const Colour& colour) {
  ObjectLook look;
  look.texture = cv::Mat3f(kTextureSide, kTextureSide, colour);
  return look;
}

}  // namespace vmt::synth::randomised
