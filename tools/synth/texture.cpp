#include "texture.h"

#include <algorithm>
#include <cmath>

namespace vmt::synth {
namespace {

/// The hue range (degrees) and pattern of each class: distinct families a small model can learn.
struct ClassLook {
  double hue_low;
  double hue_high;
  Pattern pattern;
};

ClassLook class_look(ShapeClass shape) {
  switch (shape) {
    case ShapeClass::circle: return {-12.0, 12.0, Pattern::dots};              // reds
    case ShapeClass::square: return {205.0, 235.0, Pattern::checker};          // blues
    case ShapeClass::triangle: return {95.0, 135.0, Pattern::diagonal_stripes};  // greens
    case ShapeClass::star: return {42.0, 58.0, Pattern::radial_gradient};      // yellows
    case ShapeClass::ring: return {280.0, 310.0, Pattern::bands};              // purples
    case ShapeClass::cross: return {170.0, 190.0, Pattern::grid};              // cyans
  }
  return {0.0, 360.0, Pattern::checker};
}

std::uint8_t to_byte(double unit) {
  return static_cast<std::uint8_t>(std::clamp(std::lround(unit * 255.0), 0L, 255L));
}

Rgb mix(Rgb a, Rgb b, double t) {
  auto lerp = [t](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(std::lround(x + (static_cast<double>(y) - x) * t));
  };
  return {lerp(a.r, b.r), lerp(a.g, b.g), lerp(a.b, b.b)};
}

/// Fractional part in [0, 1).
double fract(double x) { return x - std::floor(x); }

/// Parity of the cell index containing `x`.
bool odd_cell(double x) { return (static_cast<std::int64_t>(std::floor(x)) & 1) != 0; }

/// A periodic lattice of random values, bilinearly interpolated with a smoothstep.
class ValueNoise {
 public:
  ValueNoise(std::uint32_t cells, Random& random) : cells_(cells), values_(cells * cells) {
    for (double& v : values_) v = random.uniform01();
  }
  /// Noise at (x, y) in cell units (periodic with period `cells`).
  double at(double x, double y) const {
    const auto x0 = static_cast<std::int64_t>(std::floor(x)), y0 = static_cast<std::int64_t>(std::floor(y));
    const double tx = smooth(x - x0), ty = smooth(y - y0);
    const double top = lerp(value(x0, y0), value(x0 + 1, y0), tx);
    const double bottom = lerp(value(x0, y0 + 1), value(x0 + 1, y0 + 1), tx);
    return lerp(top, bottom, ty);
  }

 private:
  static double smooth(double t) { return t * t * (3.0 - 2.0 * t); }
  static double lerp(double a, double b, double t) { return a + (b - a) * t; }
  double value(std::int64_t x, std::int64_t y) const {
    const auto n = static_cast<std::int64_t>(cells_);
    const auto wx = ((x % n) + n) % n, wy = ((y % n) + n) % n;
    return values_[static_cast<std::size_t>(wy * n + wx)];
  }
  std::uint32_t cells_;
  std::vector<double> values_;
};

std::uint32_t tile_side_for(MaskSize frame_size) {
  std::uint32_t side = 64;
  while (side < frame_size.width || side < frame_size.height) side *= 2;
  return side;
}

}  // namespace

Rgb hsv_to_rgb(double hue_degrees, double saturation, double value) {
  const double h = fract(hue_degrees / 360.0) * 6.0;
  const int sector = std::min(5, static_cast<int>(h));
  const double f = h - sector;
  const double p = value * (1.0 - saturation);
  const double q = value * (1.0 - saturation * f);
  const double t = value * (1.0 - saturation * (1.0 - f));
  double r = value, g = t, b = p;
  switch (sector) {
    case 0: r = value; g = t; b = p; break;
    case 1: r = q; g = value; b = p; break;
    case 2: r = p; g = value; b = t; break;
    case 3: r = p; g = q; b = value; break;
    case 4: r = t; g = p; b = value; break;
    default: r = value; g = p; b = q; break;
  }
  return {to_byte(r), to_byte(g), to_byte(b)};
}

ObjectTexture random_object_texture(ShapeClass shape, Random& random) {
  const ClassLook look = class_look(shape);
  const double hue = random.uniform(look.hue_low, look.hue_high);
  ObjectTexture texture;
  texture.pattern = look.pattern;
  texture.primary = hsv_to_rgb(hue, random.uniform(0.75, 1.0), random.uniform(0.8, 1.0));
  texture.secondary = hsv_to_rgb(hue + random.uniform(-8.0, 8.0), random.uniform(0.55, 0.9),
                                 random.uniform(0.35, 0.6));
  texture.frequency = random.uniform(2.0, 3.5);
  texture.phase = random.uniform01();
  return texture;
}

Rgb texture_colour(const ObjectTexture& texture, Point p) {
  const double f = texture.frequency;
  const double u = p.x * f + texture.phase, v = p.y * f + texture.phase;
  switch (texture.pattern) {
    case Pattern::dots: {
      const double dx = fract(u) - 0.5, dy = fract(v) - 0.5;
      return dx * dx + dy * dy < 0.09 ? texture.secondary : texture.primary;
    }
    case Pattern::checker:
      return odd_cell(u) != odd_cell(v) ? texture.secondary : texture.primary;
    case Pattern::diagonal_stripes:
      return odd_cell((u + v) * 0.7) ? texture.secondary : texture.primary;
    case Pattern::radial_gradient:
      return mix(texture.primary, texture.secondary, std::min(1.0, std::sqrt(p.x * p.x + p.y * p.y)));
    case Pattern::bands:
      return odd_cell(v * 1.2) ? texture.secondary : texture.primary;
    case Pattern::grid:
      return (fract(u) < 0.25 || fract(v) < 0.25) ? texture.secondary : texture.primary;
  }
  return texture.primary;
}

BackgroundTile::BackgroundTile(MaskSize frame_size, Random& random)
    : side_(tile_side_for(frame_size)), pixels_(std::size_t{side_} * side_) {
  const Rgb dark = hsv_to_rgb(random.uniform(0.0, 360.0), random.uniform(0.0, 0.25),
                              random.uniform(0.15, 0.4));
  const Rgb light = hsv_to_rgb(random.uniform(0.0, 360.0), random.uniform(0.0, 0.25),
                               random.uniform(0.55, 0.85));
  // Octaves as (cells across the tile, weight): blotches, then finer grain.
  struct Octave {
    std::uint32_t cells;
    double weight;
  };
  const Octave octaves[] = {{4, 0.45}, {16, 0.3}, {side_ / 8, 0.15}, {side_ / 2, 0.1}};
  std::vector<ValueNoise> noises;
  for (const Octave& octave : octaves) noises.emplace_back(octave.cells, random);
  for (std::uint32_t y = 0; y < side_; ++y)
    for (std::uint32_t x = 0; x < side_; ++x) {
      double n = 0.0;
      for (std::size_t i = 0; i < noises.size(); ++i) {
        const double scale = static_cast<double>(octaves[i].cells) / side_;
        n += octaves[i].weight * noises[i].at(x * scale, y * scale);
      }
      pixels_[std::size_t{y} * side_ + x] = mix(dark, light, n);
    }
}

}  // namespace vmt::synth
