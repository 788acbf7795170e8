// The classic style (docs/synthetic-data.md): a synthetic video as a scene: a panning background and objects that move, turn, pulse in size,
// enter and leave the frame and occlude one another (painter's order). Rendering a frame yields
// its colours and a label map; the label map is the ground truth the masks are cut from.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "random.h"
#include "shapes.h"
#include "texture.h"
#include "video.h"
#include "vmt/mask.h"

namespace vmt::synth {

/// How one object moves: a straight path with a sideways wobble, steady spin and a size pulse.
/// At frame t the centre is anchor + direction·speed·(t − anchor_frame) + normal·wobble(t).
struct Trajectory {
  Point anchor;               ///< where the object is at `anchor_frame`
  Point direction{1.0, 0.0};  ///< unit vector of travel
  double speed = 0.0;         ///< pixels per frame along `direction`
  double anchor_frame = 0.0;
  double wobble_amplitude = 0.0;  ///< pixels, across the direction of travel
  double wobble_period = 1.0;     ///< frames
  double wobble_phase = 0.0;      ///< radians
  double angle = 0.0;             ///< rotation at frame 0, radians
  double spin = 0.0;              ///< radians per frame
  double radius = 1.0;            ///< mean circumscribed radius, pixels
  double pulse_amplitude = 0.0;   ///< relative size change (0.2 = ±20 %)
  double pulse_period = 1.0;      ///< frames
  double pulse_phase = 0.0;       ///< radians
  double stretch = 1.0;           ///< fixed aspect distortion (see Pose::stretch)

  /// The pose at (possibly fractional) frame `t`.
  Pose pose_at(double t) const;
  /// The largest radius the object ever has.
  double max_radius() const noexcept {
    return radius * (1.0 + pulse_amplitude) * std::max(stretch, 1.0 / stretch);
  }
};

/// One object of a scene.
struct SceneObject {
  ShapeClass shape = ShapeClass::circle;
  ObjectTexture texture;
  Trajectory trajectory;
};

/// A whole synthetic video.
struct Scene {
  MaskSize size;
  std::uint32_t frames = 0;
  BackgroundTile background;
  Point background_origin;    ///< camera offset at frame 0, pixels
  Point background_velocity;  ///< camera pan, pixels per frame
  std::vector<SceneObject> objects;  ///< painter's order: objects[0] is farthest back
  std::uint32_t noise = 0;
  std::uint64_t noise_seed = 0;
};

/// A random classic scene (SceneOptions: size, frames, objects, noise); the same options and seed
/// always give the same scene.
Scene generate_scene(const SceneOptions& options, std::uint64_t seed);

/// Label map value for "no object".
inline constexpr std::uint16_t kBackgroundLabel = 0;

/// Labels of one frame: row-major, kBackgroundLabel or 1 + the index of the visible object.
std::vector<std::uint16_t> render_labels(const Scene& scene, std::uint32_t frame);

/// The pixels object `object_index` would cover on `frame` if nothing were in front of it.
Bitmap render_silhouette(const Scene& scene, std::size_t object_index, std::uint32_t frame);

/// Renders `frame`: labels first, then each pixel coloured by its label's texture (or the
/// background), then noise. No anti-aliasing: colours and masks agree pixel for pixel.
RenderedFrame render_frame(const Scene& scene, std::uint32_t frame);

}  // namespace vmt::synth
