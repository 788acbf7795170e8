#include "scene.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "vmt/error.h"

namespace vmt::synth {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
/// No scene holds more objects than this (a long video keeps replacing those that left).
constexpr std::size_t kMaxObjectsPerScene = 200;

/// When an object is on the (margin-expanded) frame: frames [enter, exit].
struct OnScreenInterval {
  double enter = -std::numeric_limits<double>::infinity();
  double exit = std::numeric_limits<double>::infinity();
};

/// The interval during which `path` may overlap a frame of `size` (its centre within the frame
/// grown by the object's largest radius and wobble).
OnScreenInterval on_screen_interval(const Trajectory& path, MaskSize size) {
  OnScreenInterval interval;
  if (path.speed <= 0.0) return interval;
  const double margin = path.max_radius() + path.wobble_amplitude;
  double distance_in = -std::numeric_limits<double>::infinity();
  double distance_out = std::numeric_limits<double>::infinity();
  auto clip_axis = [&](double origin, double step, double high) {
    if (step == 0.0) return;
    const double a = (-margin - origin) / step, b = (high + margin - origin) / step;
    distance_in = std::max(distance_in, std::min(a, b));
    distance_out = std::min(distance_out, std::max(a, b));
  };
  clip_axis(path.anchor.x, path.direction.x, size.width);
  clip_axis(path.anchor.y, path.direction.y, size.height);
  interval.enter = path.anchor_frame + distance_in / path.speed;
  interval.exit = path.anchor_frame + distance_out / path.speed;
  return interval;
}

/// A random path through a point well inside the frame, reached at `anchor_frame`.
Trajectory random_trajectory(MaskSize size, double anchor_frame, Random& random) {
  const double w = size.width, h = size.height;
  const double short_side = std::min(w, h), diagonal = std::sqrt(w * w + h * h);
  Trajectory path;
  path.anchor = {random.uniform(0.1 * w, 0.9 * w), random.uniform(0.1 * h, 0.9 * h)};
  const double heading = random.uniform(0.0, kTwoPi);
  path.direction = {std::cos(heading), std::sin(heading)};
  path.speed = random.uniform(0.003, 0.02) * diagonal;
  path.anchor_frame = anchor_frame;
  path.wobble_amplitude = random.uniform(0.0, 0.04) * short_side;
  path.wobble_period = random.uniform(15.0, 60.0);
  path.wobble_phase = random.uniform(0.0, kTwoPi);
  path.angle = random.uniform(0.0, kTwoPi);
  path.spin = random.sign() * random.uniform(0.005, 0.06);
  path.radius = random.uniform(0.07, 0.17) * short_side;
  path.pulse_amplitude = random.uniform(0.0, 0.25);
  path.pulse_period = random.uniform(20.0, 80.0);
  path.pulse_phase = random.uniform(0.0, kTwoPi);
  path.stretch = random.uniform(0.9, 1.12);
  return path;
}

SceneObject random_object(const Trajectory& path, Random& random) {
  SceneObject object;
  object.shape = kShapeClasses[static_cast<std::size_t>(
      random.uniform_int(0, static_cast<std::int64_t>(kShapeClasses.size()) - 1))];
  object.texture = random_object_texture(object.shape, random);
  object.trajectory = path;
  return object;
}

/// One lane: a sequence of objects, each entering some frames after the previous one left,
/// so that a long video keeps a steady number of objects while they come and go.
void add_lane(const SceneOptions& options, Random& random, std::vector<SceneObject>& objects) {
  const double frames = options.frames;
  // Most lanes start with an object on screen; the others bring one in later.
  const double first_anchor = random.chance(0.75) ? 0.0 : random.uniform(0.0, frames);
  Trajectory path = random_trajectory(options.size, first_anchor, random);
  while (objects.size() < kMaxObjectsPerScene) {
    objects.push_back(random_object(path, random));
    const double next_enter = on_screen_interval(path, options.size).exit + random.uniform(0.0, 10.0);
    if (!(next_enter < frames)) break;
    // The next object's anchor time is chosen so that it enters at `next_enter`.
    path = random_trajectory(options.size, 0.0, random);
    path.anchor_frame = next_enter - on_screen_interval(path, options.size).enter;
  }
}

/// Fisher–Yates with our own Random: a portable shuffle.
void shuffle(std::vector<SceneObject>& objects, Random& random) {
  for (std::size_t i = objects.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(random.uniform_int(0, static_cast<std::int64_t>(i) - 1));
    std::swap(objects[i - 1], objects[j]);
  }
}

/// Whether an object at `pose` (of largest radius `reach`) can touch a frame of `size`.
bool may_touch_frame(const Pose& pose, double reach, MaskSize size) {
  return pose.centre.x > -reach && pose.centre.y > -reach &&
         pose.centre.x < size.width + reach && pose.centre.y < size.height + reach;
}

/// Calls `emit` for the pixel runs `object` covers on `frame`.
void rasterize_object(const SceneObject& object, std::uint32_t frame, MaskSize size,
                      const RunSink& emit) {
  const Pose pose = object.trajectory.pose_at(frame);
  if (!may_touch_frame(pose, pose.radius * std::max(pose.stretch, 1.0 / pose.stretch) + 1.0, size))
    return;
  const std::vector<Contour> outline = unit_outline(object.shape);
  const std::vector<Contour> placed = place_outline(outline, pose);
  rasterize_even_odd(placed, size, emit);
}

/// Uniform noise in [-amplitude, amplitude] for channel `channel` of pixel `index` of `frame`.
int pixel_noise(std::uint64_t seed, std::uint32_t frame, std::size_t index, int channel,
                std::uint32_t amplitude) {
  const std::uint64_t hash = mix64(derive_seed(seed, frame) ^ (index * 4 + channel));
  return static_cast<int>(hash % (2 * std::uint64_t{amplitude} + 1)) - static_cast<int>(amplitude);
}

std::uint8_t add_clamped(std::uint8_t value, int delta) {
  return static_cast<std::uint8_t>(std::clamp(static_cast<int>(value) + delta, 0, 255));
}

void check_size(MaskSize size) {
  if (size.width == 0 || size.height == 0 || size.width > 16384 || size.height > 16384)
    throw Error(ErrorCode::InvalidArgument, "synthetic frame size must be 1..16384 on each side");
}

}  // namespace

Pose Trajectory::pose_at(double t) const {
  const double travel = speed * (t - anchor_frame);
  const double wobble = wobble_amplitude * std::sin(kTwoPi * t / wobble_period + wobble_phase);
  Pose pose;
  pose.centre = {anchor.x + direction.x * travel - direction.y * wobble,
                 anchor.y + direction.y * travel + direction.x * wobble};
  pose.angle = angle + spin * t;
  pose.radius = radius * (1.0 + pulse_amplitude * std::sin(kTwoPi * t / pulse_period + pulse_phase));
  pose.stretch = stretch;
  return pose;
}

Scene generate_scene(const SceneOptions& options, std::uint64_t seed) {
  check_size(options.size);
  if (options.frames == 0) throw Error(ErrorCode::InvalidArgument, "a video needs at least one frame");
  if (options.min_objects > options.max_objects)
    throw Error(ErrorCode::InvalidArgument, "min_objects must not exceed max_objects");
  Random random(seed);
  Scene scene{options.size, options.frames, BackgroundTile(options.size, random), {}, {}, {},
              options.noise, 0};
  const double side = scene.background.side();
  scene.background_origin = {random.uniform(0.0, side), random.uniform(0.0, side)};
  const double pan_heading = random.uniform(0.0, kTwoPi);
  const double pan_speed = random.uniform(0.0, 0.006) *
                           std::hypot(static_cast<double>(options.size.width), static_cast<double>(options.size.height));
  scene.background_velocity = {pan_speed * std::cos(pan_heading), pan_speed * std::sin(pan_heading)};
  const auto lanes = random.uniform_int(options.min_objects, options.max_objects);
  for (std::int64_t lane = 0; lane < lanes; ++lane) add_lane(options, random, scene.objects);
  shuffle(scene.objects, random);
  scene.noise_seed = random.next_u64();
  return scene;
}

std::vector<std::uint16_t> render_labels(const Scene& scene, std::uint32_t frame) {
  std::vector<std::uint16_t> labels(scene.size.pixels(), kBackgroundLabel);
  const std::size_t width = scene.size.width;
  for (std::size_t i = 0; i < scene.objects.size(); ++i) {
    const auto label = static_cast<std::uint16_t>(i + 1);
    rasterize_object(scene.objects[i], frame, scene.size,
                     [&](std::uint32_t y, std::uint32_t x_begin, std::uint32_t x_end) {
                       auto row = labels.begin() + static_cast<std::ptrdiff_t>(y * width);
                       std::fill(row + x_begin, row + x_end, label);
                     });
  }
  return labels;
}

Bitmap render_silhouette(const Scene& scene, std::size_t object_index, std::uint32_t frame) {
  Bitmap silhouette(scene.size);
  const std::size_t width = scene.size.width;
  rasterize_object(scene.objects.at(object_index), frame, scene.size,
                   [&](std::uint32_t y, std::uint32_t x_begin, std::uint32_t x_end) {
                     auto row = silhouette.data().begin() + static_cast<std::ptrdiff_t>(y * width);
                     std::fill(row + x_begin, row + x_end, std::uint8_t{1});
                   });
  return silhouette;
}

RenderedFrame render_frame(const Scene& scene, std::uint32_t frame) {
  RenderedFrame out{scene.size, render_labels(scene, frame), {}};
  out.bgr.resize(scene.size.pixels() * 3);
  std::vector<Affine> to_texture;
  to_texture.reserve(scene.objects.size());
  for (const SceneObject& object : scene.objects)
    to_texture.push_back(image_to_unit_frame(object.trajectory.pose_at(frame)));
  const auto offset_x = static_cast<std::int64_t>(
      std::floor(scene.background_origin.x + scene.background_velocity.x * frame + 0.5));
  const auto offset_y = static_cast<std::int64_t>(
      std::floor(scene.background_origin.y + scene.background_velocity.y * frame + 0.5));
  std::size_t index = 0;
  for (std::uint32_t y = 0; y < scene.size.height; ++y)
    for (std::uint32_t x = 0; x < scene.size.width; ++x, ++index) {
      const std::uint16_t label = out.labels[index];
      Rgb colour;
      if (label == kBackgroundLabel) {
        colour = scene.background.at(x, y, offset_x, offset_y);
      } else {
        const Point centre{x + 0.5, y + 0.5};
        colour = texture_colour(scene.objects[label - 1].texture, to_texture[label - 1](centre));
      }
      std::uint8_t* pixel = &out.bgr[index * 3];
      pixel[0] = colour.b;
      pixel[1] = colour.g;
      pixel[2] = colour.r;
      if (scene.noise > 0)
        for (int c = 0; c < 3; ++c)
          pixel[c] = add_clamped(pixel[c], pixel_noise(scene.noise_seed, frame, index, c, scene.noise));
    }
  return out;
}

}  // namespace vmt::synth
