#include "randomised/backgrounds.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "randomised/colour.h"

namespace vmt::synth::randomised {
namespace {

constexpr double kPi = std::numbers::pi;

double fract(double x) { return x - std::floor(x); }
bool odd(double x) { return (static_cast<std::int64_t>(std::floor(x)) & 1) != 0; }

/// A background colour: any hue, mostly muted, any brightness.
Colour background_colour(Random& random) {
  return random_colour(random, 0.0, random.chance(0.7) ? 0.45 : 0.9, 0.08, 0.95);
}

cv::Mat3f flat(cv::Size size, Random& random) { return cv::Mat3f(size, background_colour(random)); }

cv::Mat3f linear_gradient(cv::Size size, Random& random) {
  const double heading = random.uniform(0.0, 2.0 * kPi);
  const double dx = std::cos(heading), dy = std::sin(heading);
  const int stops = random.chance(0.5) ? 2 : 3;
  std::vector<Colour> colours;
  for (int i = 0; i < stops; ++i) colours.push_back(background_colour(random));
  // Projections of the corners bound the ramp, so it spans the whole image.
  const double extent = std::abs(dx) * size.width + std::abs(dy) * size.height;
  const double start = std::min({0.0, dx * size.width, dy * size.height, dx * size.width + dy * size.height});
  cv::Mat3f out(size);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double t = std::clamp(((x * dx + y * dy) - start) / extent, 0.0, 1.0) * (stops - 1);
      const int i = std::min(stops - 2, static_cast<int>(t));
      out(y, x) = colours[i] + (colours[i + 1] - colours[i]) * static_cast<float>(t - i);
    }
  return out;
}

cv::Mat3f radial_gradient(cv::Size size, Random& random) {
  const double cx = random.uniform(-0.2, 1.2) * size.width, cy = random.uniform(-0.2, 1.2) * size.height;
  const double reach = random.uniform(0.3, 1.2) * std::hypot(size.width, size.height);
  const Colour inner = background_colour(random), outer = background_colour(random);
  cv::Mat1f t(size);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      t(y, x) = smoothstep(0.0f, 1.0f, static_cast<float>(std::hypot(x - cx, y - cy) / reach));
  return blend(inner, outer, t);
}

cv::Mat3f grain(cv::Size size, double short_side, Random& random) {
  const Colour base = background_colour(random), tint = background_colour(random);
  cv::Mat1f low = fractal_noise(size, random.uniform(2.0, 6.0) * size.width / short_side, 3, 0.5, random);
  const cv::Mat1f tint_amount = low * random.uniform(0.05, 0.3);
  cv::Mat3f out = blend(base, tint, tint_amount);
  cv::Mat1f fine = white_noise(size, random);
  if (random.chance(0.5)) cv::GaussianBlur(fine, fine, {0, 0}, random.uniform(0.5, 1.2));
  const auto amount = static_cast<float>(random.uniform(0.04, 0.2));
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) out(y, x) += Colour::all((fine(y, x) - 0.5f) * amount);
  return out;
}

cv::Mat3f clutter(cv::Size size, double short_side, Random& random) {
  const int layers = static_cast<int>(random.uniform_int(3, 5));
  const double sharpness = random.uniform(4.0, 14.0);
  const double frames_across = size.width / short_side;
  std::vector<Colour> colours;
  std::vector<cv::Mat1f> fields;
  for (int i = 0; i < layers; ++i) {
    colours.push_back(random_colour(random, 0.0, 0.8, 0.05, 0.95));
    fields.push_back(fractal_noise(size, random.uniform(1.5, 10.0) * frames_across,
                                   static_cast<int>(random.uniform_int(3, 6)), random.uniform(0.4, 0.65), random));
  }
  cv::Mat1f detail = fractal_noise(size, random.uniform(20.0, 60.0) * frames_across, 2, 0.5, random);
  const auto detail_amount = static_cast<float>(random.uniform(0.0, 0.15));
  cv::Mat3f out(size);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      // Soft arg-max over the fields: regions with fuzzy, fractal borders.
      double total = 0.0;
      Colour colour(0, 0, 0);
      for (int i = 0; i < layers; ++i) {
        const double w = std::exp(sharpness * fields[i](y, x));
        total += w;
        colour += colours[i] * static_cast<float>(w);
      }
      out(y, x) = colour * static_cast<float>(1.0 / total) + Colour::all((detail(y, x) - 0.5f) * detail_amount);
    }
  return out;
}

/// Rotated, scaled, optionally warped lattice coordinates for a tiled pattern.
struct Lattice {
  double cell = 10.0, cos_a = 1.0, sin_a = 0.0;
  cv::Mat1f warp_u, warp_v;  ///< displacement in cells (empty: none)
  double warp = 0.0;

  Lattice(cv::Size size, double short_side, Random& random) {
    cell = std::exp(random.uniform(std::log(0.015), std::log(0.15))) * short_side;
    const double angle = random.chance(0.5) ? 0.0 : random.uniform(0.0, kPi);
    cos_a = std::cos(angle);
    sin_a = std::sin(angle);
    if (random.chance(0.4)) {
      warp = random.uniform(0.1, 0.6);
      const double across = random.uniform(2.0, 8.0) * size.width / short_side;
      warp_u = fractal_noise(size, across, 2, 0.5, random);
      warp_v = fractal_noise(size, across, 2, 0.5, random);
    }
  }
  cv::Point2d at(int x, int y) const {
    double u = (x * cos_a + y * sin_a) / cell, v = (-x * sin_a + y * cos_a) / cell;
    if (warp > 0) {
      u += warp * (warp_u(y, x) - 0.5) * 2.0;
      v += warp * (warp_v(y, x) - 0.5) * 2.0;
    }
    return {u, v};
  }
};

template <typename Inside>
cv::Mat3f tiled(cv::Size size, double short_side, Random& random, Inside&& inside) {
  const Colour a = background_colour(random), b = background_colour(random);
  const Lattice lattice(size, short_side, random);
  cv::Mat3f out(size);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) out(y, x) = inside(lattice.at(x, y)) ? b : a;
  return out;
}

cv::Mat3f marble(cv::Size size, double short_side, Random& random) {
  const Colour a = background_colour(random), b = background_colour(random);
  const double heading = random.uniform(0.0, kPi);
  const double period = random.uniform(0.05, 0.5) * short_side;
  const double turbulence = random.uniform(1.0, 6.0);
  cv::Mat1f noise = fractal_noise(size, random.uniform(2.0, 6.0) * size.width / short_side, 5, 0.55, random);
  cv::Mat1f t(size);
  const double dx = std::cos(heading), dy = std::sin(heading);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      t(y, x) = static_cast<float>(0.5 + 0.5 * std::sin(2.0 * kPi * (x * dx + y * dy) / period +
                                                         turbulence * 2.0 * kPi * noise(y, x)));
  return blend(a, b, t);
}

cv::Mat3f ridged(cv::Size size, double short_side, Random& random) {
  const Colour a = background_colour(random), b = background_colour(random);
  cv::Mat1f noise = fractal_noise(size, random.uniform(2.0, 10.0) * size.width / short_side, 5, 0.55, random);
  const double power = random.uniform(1.0, 4.0);
  cv::Mat1f t(size);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      t(y, x) = static_cast<float>(std::pow(1.0 - std::abs(2.0 * noise(y, x) - 1.0), power));
  return blend(a, b, t);
}

BackgroundKind random_kind(Random& random) {
  // Weights (sum 100): clutter and procedural textures most, since they are what real frames
  // resemble; the flat and gradient kinds stay common enough to be learned.
  static constexpr std::array<int, kBackgroundKinds.size()> kWeights = {8, 10, 7, 8, 27, 6, 6, 5, 5, 9, 9};
  std::int64_t pick = random.uniform_int(0, 99);
  for (std::size_t i = 0; i < kWeights.size(); ++i) {
    if (pick < kWeights[i]) return kBackgroundKinds[i];
    pick -= kWeights[i];
  }
  return BackgroundKind::clutter;
}

}  // namespace

std::string_view background_kind_name(BackgroundKind kind) {
  switch (kind) {
    case BackgroundKind::flat: return "flat";
    case BackgroundKind::linear_gradient: return "linear_gradient";
    case BackgroundKind::radial_gradient: return "radial_gradient";
    case BackgroundKind::grain: return "grain";
    case BackgroundKind::clutter: return "clutter";
    case BackgroundKind::checker: return "checker";
    case BackgroundKind::stripes: return "stripes";
    case BackgroundKind::grid: return "grid";
    case BackgroundKind::dots: return "dots";
    case BackgroundKind::marble: return "marble";
    case BackgroundKind::ridged: return "ridged";
  }
  return "unknown";
}

cv::Mat3f make_background(cv::Size size, double short_side, BackgroundKind kind, Random& random) {
  switch (kind) {
    case BackgroundKind::flat: return flat(size, random);
    case BackgroundKind::linear_gradient: return linear_gradient(size, random);
    case BackgroundKind::radial_gradient: return radial_gradient(size, random);
    case BackgroundKind::grain: return grain(size, short_side, random);
    case BackgroundKind::clutter: return clutter(size, short_side, random);
    case BackgroundKind::checker:
      return tiled(size, short_side, random, [](cv::Point2d p) { return odd(p.x) != odd(p.y); });
    case BackgroundKind::stripes: {
      const double duty = random.uniform(0.2, 0.8);
      return tiled(size, short_side, random, [duty](cv::Point2d p) { return fract(p.x) < duty; });
    }
    case BackgroundKind::grid: {
      const double line = random.uniform(0.05, 0.3);
      return tiled(size, short_side, random,
                   [line](cv::Point2d p) { return fract(p.x) < line || fract(p.y) < line; });
    }
    case BackgroundKind::dots: {
      const double r = random.uniform(0.15, 0.45);
      return tiled(size, short_side, random, [r](cv::Point2d p) {
        const double dx = fract(p.x) - 0.5, dy = fract(p.y) - 0.5;
        return dx * dx + dy * dy < r * r;
      });
    }
    case BackgroundKind::marble: return marble(size, short_side, random);
    case BackgroundKind::ridged: return ridged(size, short_side, random);
  }
  return flat(size, random);
}

Background random_background(cv::Size size, double short_side, Random& random) {
  Background out;
  out.kind = random_kind(random);
  out.image = make_background(size, short_side, out.kind, random);
  cv::Mat3f& image = out.image;
  if (random.chance(0.3)) {
    out.blended = random_kind(random);
    const cv::Mat3f other = make_background(size, short_side, *out.blended, random);
    const cv::Mat1f field = fractal_noise(size, random.uniform(1.5, 5.0) * size.width / short_side, 3, 0.5, random);
    const auto edge = static_cast<float>(random.uniform(0.02, 0.25));
    for (int y = 0; y < size.height; ++y)
      for (int x = 0; x < size.width; ++x) {
        const float t = smoothstep(0.5f - edge, 0.5f + edge, field(y, x));
        image(y, x) = image(y, x) * (1.0f - t) + other(y, x) * t;
      }
  }
  if (random.chance(0.2)) {
    out.defocused = true;
    cv::GaussianBlur(image, image, {0, 0}, random.uniform(0.8, 3.0));
  }
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      for (int c = 0; c < 3; ++c) image(y, x)[c] = std::clamp(image(y, x)[c], 0.0f, 1.0f);
  return out;
}

}  // namespace vmt::synth::randomised
