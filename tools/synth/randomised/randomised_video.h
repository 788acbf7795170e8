// The randomised style (docs/synthetic-data.md): domain-randomised training videos. The six
// shape classes of the classic style, but every look, background, motion, camera, light and
// codec drawn independently of the class, plus distractors that are no object, objects that
// enter and leave, and frame sizes of real videos.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "randomised/appearance.h"
#include "randomised/backgrounds.h"
#include "randomised/distractors.h"
#include "randomised/effects.h"
#include "randomised/motion.h"
#include "shapes.h"
#include "video.h"

namespace vmt::synth::randomised {

/// One annotated object.
struct Object {
  ShapeClass shape = ShapeClass::circle;
  std::vector<Contour> outline;  ///< unit frame, densified (so wobble can bend straight edges)
  Motion motion;
  Wobble wobble;
  ObjectLook look;
};

/// What a layer of the painter's order draws.
struct Layer {
  bool is_object = true;
  std::size_t index = 0;  ///< into Scene::objects or Scene::distractors
};

/// A whole randomised video.
struct Scene {
  MaskSize size;
  std::uint32_t frames = 0;
  cv::Mat3f background;   ///< world pixels, BGR in [0, 1]
  BackgroundKind background_kind = BackgroundKind::flat;
  std::optional<BackgroundKind> background_blend;  ///< a second kind mixed in
  Point background_origin;  ///< world position of the background's top-left corner
  Camera camera;
  std::vector<Object> objects;
  std::vector<Distractor> distractors;
  std::vector<Layer> layers;  ///< painter's order, back to front
  Effects effects;
};

/// The frame size of a video: an aspect ratio of real videos (4:3, 16:9, 3:2, 1:1, 21:9, and the
/// portrait 9:16, 3:4) with the shorter side uniform in `range` (even sizes).
MaskSize random_frame_size(ShortSideRange range, Random& random);

/// A random scene; the same options and seed always give the same scene.
Scene generate_scene(const SceneOptions& options, std::uint64_t seed);

/// Renders `frame`: background through the camera, the layers back to front (labels from the
/// exact outlines, colours with outline, transparency, defocus and motion blur), light, noise,
/// compression.
RenderedFrame render_frame(const Scene& scene, std::uint32_t frame);

/// The label of a distractor (labels above the objects' never belong to a mask).
std::uint16_t distractor_label(const Scene& scene, std::size_t distractor_index);

/// A randomised video behind the SyntheticVideo interface.
std::unique_ptr<SyntheticVideo> make_video(const SceneOptions& options, std::uint64_t seed);

}  // namespace vmt::synth::randomised
