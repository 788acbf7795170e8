// The held-out style's colours, object finishes and backdrops. Colours come from a few fixed
// palettes (one per video) instead of being drawn freely; finishes and backdrops are patterns the
// training styles do not have (two-tone, concentric rings, speckles, sphere shading, Voronoi
// cells, wavy bands; Voronoi mosaics, plasma, bricks, wood), besides plain colour and gradients.
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>
#include <vector>

#include "random.h"

namespace vmt::synth::heldout {

/// A video's colours (8-bit BGR).
struct Palette {
  std::string_view name;
  std::vector<cv::Vec3b> colours;
};

/// One of the fixed palettes, at random.
Palette random_palette(Random& random);

enum class Finish : std::uint8_t { flat, two_tone, rings, speckles, shaded, cells, wavy };

inline constexpr std::array kFinishes = {Finish::flat,   Finish::two_tone, Finish::rings, Finish::speckles,
                                         Finish::shaded, Finish::cells,    Finish::wavy};

std::string_view finish_name(Finish finish);

/// An object's surface, evaluated in its own frame (the unit disc).
struct Surface {
  Finish finish = Finish::flat;
  cv::Vec3b first, second;
  double scale = 4.0;                   ///< pattern repeats per unit
  cv::Point2d axis{1.0, 0.0};           ///< split / band direction
  double offset = 0.0;
  std::vector<cv::Point2d> sites;       ///< cells
  std::vector<cv::Vec3b> site_colours;  ///< cells
  std::uint64_t seed = 0;               ///< speckles
};

/// A random surface with colours from `palette` other than `avoid` (the backdrop's).
Surface random_surface(const Palette& palette, const cv::Vec3b& avoid, Random& random);

/// The surface's colour at unit-frame point `p`.
cv::Vec3b surface_colour(const Surface& surface, cv::Point2d p);

enum class Backdrop : std::uint8_t { plain, gradient, mosaic, plasma, bricks, wood };

inline constexpr std::array kBackdrops = {Backdrop::plain,  Backdrop::gradient, Backdrop::mosaic,
                                          Backdrop::plasma, Backdrop::bricks,   Backdrop::wood};

std::string_view backdrop_name(Backdrop backdrop);

/// A backdrop image, its kind and its dominant colour.
struct BackdropImage {
  cv::Mat3b image;
  Backdrop kind = Backdrop::plain;
  cv::Vec3b main;
};

/// A random backdrop of `size` from `palette`.
BackdropImage random_backdrop(cv::Size size, const Palette& palette, Random& random);

}  // namespace vmt::synth::heldout
