// Colours and textures: each object class has its own pattern and colour family; backgrounds are
// desaturated, periodic value noise that the camera pans across.
//
// Textures use only exact arithmetic (floor, sqrt, +, ×), so they are the same on every platform.
#pragma once

#include <cstdint>
#include <vector>

#include "random.h"
#include "shapes.h"
#include "vmt/mask.h"

namespace vmt::synth {

/// An 8-bit colour.
struct Rgb {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;

  friend bool operator==(const Rgb&, const Rgb&) = default;
};

/// HSV to RGB: hue in degrees (any value, wrapped), saturation and value in [0, 1].
Rgb hsv_to_rgb(double hue_degrees, double saturation, double value);

/// The surface patterns objects wear; each class has its own.
enum class Pattern : std::uint8_t { dots, checker, diagonal_stripes, radial_gradient, bands, grid };

/// One object's texture, fixed in its unit frame (it moves, turns and scales with the object).
struct ObjectTexture {
  Pattern pattern = Pattern::checker;
  Rgb primary;
  Rgb secondary;
  double frequency = 3.0;  ///< pattern cells per unit length of the unit frame
  double phase = 0.0;      ///< pattern offset, in cells
};

/// A texture of `shape`'s pattern and colour family with random shades, scale and offset.
ObjectTexture random_object_texture(ShapeClass shape, Random& random);

/// The texture's colour at unit-frame point `p`.
Rgb texture_colour(const ObjectTexture& texture, Point p);

/// A square, periodic background image (value noise of a few octaves between two desaturated
/// colours), sampled with wrap-around so a camera can pan across it forever.
class BackgroundTile {
 public:
  /// A tile big enough that a frame of `frame_size` never shows a repeat.
  BackgroundTile(MaskSize frame_size, Random& random);

  /// The colour at image point (x, y) when the camera is offset by (offset_x, offset_y) pixels.
  Rgb at(std::int64_t x, std::int64_t y, std::int64_t offset_x, std::int64_t offset_y) const {
    const auto mask = static_cast<std::int64_t>(side_ - 1);  // side_ is a power of two
    return pixels_[static_cast<std::size_t>(((y + offset_y) & mask) * side_ + ((x + offset_x) & mask))];
  }
  /// Side length of the tile in pixels.
  std::uint32_t side() const noexcept { return side_; }

 private:
  std::uint32_t side_ = 0;
  std::vector<Rgb> pixels_;
};

}  // namespace vmt::synth
