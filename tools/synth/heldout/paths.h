// How held-out figures move: orbits, bouncing off the frame's edges, Lissajous figures, eased
// crossings from one edge to another (entering and leaving), slow drifts; they rock or turn and
// grow or shrink steadily. In image coordinates (the held-out camera never moves the figures).
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>

#include "random.h"

namespace vmt::synth::heldout {

enum class PathKind : std::uint8_t { orbit, bounce, lissajous, crossing, drift };

inline constexpr std::array kPathKinds = {PathKind::orbit, PathKind::bounce, PathKind::lissajous,
                                          PathKind::crossing, PathKind::drift};

std::string_view path_kind_name(PathKind kind);

/// A figure's course through the video.
struct Path {
  PathKind kind = PathKind::drift;
  cv::Point2d centre;    ///< orbit / Lissajous centre; bounce / drift start; crossing start
  cv::Point2d extent;    ///< orbit / Lissajous radii; bounce / drift velocity; crossing end
  cv::Point2d rate;      ///< orbit: (angular speed, −); Lissajous: angular speeds (x, y)
  double phase = 0.0;
  double start = 0.0, end = 1.0;  ///< crossing: frames of leaving start and reaching end
  cv::Size frame;        ///< bounce: the walls
  double size = 20.0;    ///< circumscribed radius at frame 0, pixels
  double growth = 0.0;   ///< relative size change per frame (steady)
  double turn = 0.0;     ///< radians per frame
  double rock = 0.0;     ///< rocking amplitude, radians
  double rock_rate = 0.1;
  double angle = 0.0;

  cv::Point2d position(double t) const;
  double radius(double t) const;
  double rotation(double t) const;
};

/// A random path of `kind` for frames of `frame` in a video of `frames` frames; a crossing
/// leaves its edge on frame `start`.
Path random_path(PathKind kind, cv::Size frame, std::uint32_t frames, double start, Random& random);

}  // namespace vmt::synth::heldout
