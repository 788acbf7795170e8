// Motion in the randomised style: a camera that pans, zooms and shakes over a world; objects that
// travel (with changing speed and a sideways sway), spin or rock, pulse in size, change aspect and
// bend (non-rigid wobble of the outline).
#pragma once

#include <array>
#include <span>
#include <vector>

#include "random.h"
#include "raster.h"
#include "shapes.h"
#include "vmt/mask.h"

namespace vmt::synth::randomised {

/// Which part of the world a frame shows. World coordinates are pixels at zoom 1; the frame
/// centre shows centre(t), and a world length l appears as l · zoom(t) pixels.
struct Camera {
  Point start;              ///< world point at the frame centre on frame 0
  Point velocity;           ///< world pixels per frame
  double log_zoom_start = 0.0;
  double log_zoom_rate = 0.0;  ///< per frame: zoom(t) = exp(log_zoom_start + rate · t)
  double shake = 0.0;          ///< amplitude of a small jitter, world pixels
  double shake_period = 5.0;   ///< frames
  double shake_phase = 0.0;

  double zoom(double t) const;
  Point centre(double t) const;
  /// World point → image point on (fractional) frame `t` for frames of `size`.
  Point to_image(Point world, double t, MaskSize size) const;
  /// Image point → world point.
  Point to_world(Point image, double t, MaskSize size) const;
};

/// A random camera: often still, otherwise panning, sometimes zooming in or out (at most ×1.35
/// over the video) and sometimes shaking.
Camera random_camera(MaskSize size, std::uint32_t frames, Random& random);

/// One object's path and pose changes, in world coordinates.
struct Motion {
  Point anchor;                  ///< where the object is at anchor_frame
  double anchor_frame = 0.0;
  Point direction{1.0, 0.0};     ///< unit vector of travel
  double speed = 0.0;            ///< world pixels per frame
  double speed_swing = 0.0;      ///< relative speed change (0.5: between 0.5× and 1.5×)
  double speed_period = 40.0;
  double speed_phase = 0.0;
  double sway = 0.0;             ///< sideways sinusoid, world pixels
  double sway_period = 30.0;
  double sway_phase = 0.0;
  double angle = 0.0;            ///< radians at frame 0
  double spin = 0.0;             ///< radians per frame
  double rock = 0.0;             ///< rocking amplitude, radians
  double rock_period = 30.0;
  double rock_phase = 0.0;
  double radius = 10.0;          ///< mean circumscribed radius, world pixels
  double pulse = 0.0;            ///< relative size change
  double pulse_period = 40.0;
  double pulse_phase = 0.0;
  double stretch = 1.0;          ///< aspect (Pose::stretch) at rest
  double stretch_swing = 0.0;    ///< relative aspect change over time
  double stretch_period = 40.0;
  double stretch_phase = 0.0;

  /// The pose at (fractional) frame `t`, world coordinates.
  Pose pose_at(double t) const;
};

/// A random motion anchored at `anchor` on `anchor_frame`; sizes are relative to the frame's
/// shorter side and speeds to its diagonal.
Motion random_motion(Point anchor, double anchor_frame, MaskSize size, Random& random);

/// A non-rigid wobble: the outline's distance from the centre is scaled by
/// 1 + Σ amplitude·sin(order·θ + phase + rate·t) (θ = angle of the point in the unit frame).
struct Wobble {
  struct Harmonic {
    int order = 2;
    double amplitude = 0.0;
    double phase = 0.0;
    double rate = 0.0;  ///< radians per frame
  };
  std::vector<Harmonic> harmonics;  ///< empty = rigid

  /// The largest relative growth it can cause.
  double reach() const;
};

/// A random wobble: rigid about half the time, else 1–3 harmonics of at most 10 % in all.
Wobble random_wobble(Random& random);

/// `outline` with edges split so no piece is longer than `max_edge` (unit frame), so straight
/// edges can bend when wobbled.
std::vector<Contour> densify(std::span<const Contour> outline, double max_edge);

/// `outline` (unit frame) bent by `wobble` at frame `t`.
std::vector<Contour> wobbled(std::span<const Contour> outline, const Wobble& wobble, double t);

}  // namespace vmt::synth::randomised
