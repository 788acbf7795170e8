#include "randomised/randomised_video.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <opencv2/imgproc.hpp>
#include <string>

#include "shape_scene_video.h"
#include "vmt/error.h"

namespace vmt::synth::randomised {
namespace {

constexpr std::size_t kMaxObjectsPerScene = 200;
constexpr int kMaxDistractors = 5;
constexpr std::uint32_t kMaxSide = 4096;       ///< fixed frame sizes
constexpr std::uint32_t kMaxShortSide = 1536;  ///< drawn formats (21:9 at 1536 is 3584 wide)

void check_options(const SceneOptions& options) {
  if (options.frames == 0) throw Error(ErrorCode::InvalidArgument, "a video needs at least one frame");
  if (options.min_objects > options.max_objects)
    throw Error(ErrorCode::InvalidArgument, "min_objects must not exceed max_objects");
  // Bounded memory: the world canvas is up to 3× the frame each way, in float colour.
  if (options.random_size) {
    const ShortSideRange range = *options.random_size;
    if (range.min < 16 || range.max > kMaxShortSide || range.min > range.max)
      throw Error(ErrorCode::InvalidArgument, "the randomised shorter-side range must be within 16.." +
                                                  std::to_string(kMaxShortSide) + " and MIN <= MAX");
  } else if (options.size.width == 0 || options.size.height == 0 || options.size.width > kMaxSide ||
             options.size.height > kMaxSide) {
    throw Error(ErrorCode::InvalidArgument,
                "randomised frames must be 1.." + std::to_string(kMaxSide) + " pixels on each side");
  }
}

/// Image-space reach of an object at `pose` (its largest distance from the centre).
double image_reach(const Object& object, const Pose& world_pose, double zoom) {
  return world_pose.radius * zoom * std::max(world_pose.stretch, 1.0 / world_pose.stretch) *
         (1.0 + object.wobble.reach());
}

bool visible(const Scene& scene, const Object& object, double t) {
  const Pose pose = object.motion.pose_at(t);
  const Point c = scene.camera.to_image(pose.centre, t, scene.size);
  const double r = image_reach(object, pose, scene.camera.zoom(t));
  return c.x + r > 0 && c.y + r > 0 && c.x - r < scene.size.width && c.y - r < scene.size.height;
}

/// The frame after which a lane may send its next object: the object's last visible frame, or
/// some frames after its entry when it never shows (e.g. the camera panned away).
double exit_frame(const Scene& scene, const Object& object, double entry) {
  bool seen = false;
  const auto first = static_cast<std::uint32_t>(std::max(0.0, std::ceil(entry)));
  for (std::uint32_t f = first; f < scene.frames; ++f) {
    const bool on = visible(scene, object, f);
    if (on) seen = true;
    else if (seen) return f - 1;
    else if (f > first + 60) break;
  }
  return seen ? std::numeric_limits<double>::infinity() : entry + 10.0;
}

Object random_object(const Motion& motion, const Colour& background_mean, Random& random) {
  Object object;
  object.shape = kShapeClasses[static_cast<std::size_t>(
      random.uniform_int(0, static_cast<std::int64_t>(kShapeClasses.size()) - 1))];
  object.outline = densify(unit_outline(object.shape), 0.08);
  object.motion = motion;
  object.wobble = random_wobble(random);
  object.look = random_look(background_mean, random);
  return object;
}

/// An object that comes in from outside the frame on frame `entry`, heading into the frame.
Object entering_object(const Scene& scene, double entry, const Colour& background_mean, Random& random) {
  const double w = scene.size.width, h = scene.size.height, diagonal = std::hypot(w, h);
  Object object = random_object(random_motion({0, 0}, entry, scene.size, random), background_mean, random);
  Motion& m = object.motion;
  const double zoom = scene.camera.zoom(entry);
  const double reach = m.radius * (1.0 + m.pulse) * std::max(m.stretch, 1.0 / m.stretch) * zoom *
                           (1.0 + m.stretch_swing) * (1.0 + object.wobble.reach()) + m.sway * zoom + 1.0;
  Point start;
  switch (random.uniform_int(0, 3)) {
    case 0: start = {-reach, random.uniform(0.0, h)}; break;
    case 1: start = {w + reach, random.uniform(0.0, h)}; break;
    case 2: start = {random.uniform(0.0, w), -reach}; break;
    default: start = {random.uniform(0.0, w), h + reach}; break;
  }
  const Point target{random.uniform(0.2, 0.8) * w, random.uniform(0.2, 0.8) * h};
  const double length = std::max(1e-9, std::hypot(target.x - start.x, target.y - start.y));
  m.direction = {(target.x - start.x) / length, (target.y - start.y) / length};
  m.anchor = scene.camera.to_world(start, entry, scene.size);
  m.speed_swing = std::min(m.speed_swing, 0.5);  // keep moving in
  // Fast enough to be in view within about 15 frames (reach is a generous bound on its size).
  const double min_speed = std::max(0.003 * diagonal, reach / 15.0) / zoom;
  if (m.speed < min_speed) m.speed = random.uniform(1.0, 2.0) * min_speed;
  return object;
}

/// One lane: a sequence of objects, each entering some frames after the previous one left.
void add_lane(Scene& scene, const Colour& background_mean, Random& random) {
  const double frames = scene.frames;
  double entry = 0.0;
  if (random.chance(0.75)) {
    const Point inside{random.uniform(0.0, scene.size.width), random.uniform(0.0, scene.size.height)};
    const Point anchor = scene.camera.to_world(inside, 0.0, scene.size);
    scene.objects.push_back(random_object(random_motion(anchor, 0.0, scene.size, random), background_mean, random));
  } else {  // early enough to be seen before the video ends
    entry = random.uniform(0.0, 0.6 * frames);
    scene.objects.push_back(entering_object(scene, entry, background_mean, random));
  }
  while (scene.objects.size() < kMaxObjectsPerScene) {
    entry = exit_frame(scene, scene.objects.back(), entry) + random.uniform(0.0, 8.0);
    if (!(entry < frames)) break;
    scene.objects.push_back(entering_object(scene, entry, background_mean, random));
  }
}

/// The world rectangle the camera sees over the whole video, grown by a margin.
cv::Rect2d world_view(const Camera& camera, MaskSize size, std::uint32_t frames) {
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  for (std::uint32_t f = 0; f < frames; ++f)
    for (const Point corner : {Point{0, 0}, Point{1.0 * size.width, 1.0 * size.height}}) {
      const Point p = camera.to_world(corner, f, size);
      x0 = std::min(x0, p.x);
      y0 = std::min(y0, p.y);
      x1 = std::max(x1, p.x);
      y1 = std::max(y1, p.y);
    }
  const double margin = 0.05 * std::hypot(size.width, size.height);
  return {x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin};
}

/// Fisher–Yates with our own Random: a portable shuffle.
void shuffle(std::vector<Layer>& layers, Random& random) {
  for (std::size_t i = layers.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(random.uniform_int(0, static_cast<std::int64_t>(i) - 1));
    std::swap(layers[i - 1], layers[j]);
  }
}

// ---- rendering ------------------------------------------------------------------------------

/// A normalised line kernel of `length` pixels along `direction` (motion blur).
cv::Mat1f line_kernel(Point direction, double length) {
  const int half = static_cast<int>(std::ceil(length / 2.0)) + 1;
  cv::Mat1f kernel = cv::Mat1f::zeros(2 * half + 1, 2 * half + 1);
  const double norm = std::max(1e-9, std::hypot(direction.x, direction.y));
  const double dx = direction.x / norm, dy = direction.y / norm;
  const int samples = std::max(2, static_cast<int>(std::ceil(length * 2.0)));
  for (int i = 0; i < samples; ++i) {
    const double s = (static_cast<double>(i) / (samples - 1) - 0.5) * length;
    const double x = half + s * dx, y = half + s * dy;
    const int ix = static_cast<int>(std::floor(x)), iy = static_cast<int>(std::floor(y));
    const double fx = x - ix, fy = y - iy;  // bilinear splat
    kernel(iy, ix) += static_cast<float>((1 - fx) * (1 - fy));
    kernel(iy, ix + 1) += static_cast<float>(fx * (1 - fy));
    kernel(iy + 1, ix) += static_cast<float>((1 - fx) * fy);
    kernel(iy + 1, ix + 1) += static_cast<float>(fx * fy);
  }
  kernel /= cv::sum(kernel)[0];
  return kernel;
}

/// Blurs `image` along `velocity` (pixels per frame) by the shutter fraction, if it shows.
void motion_blur(cv::Mat& image, Point velocity, double shutter) {
  const double length = std::hypot(velocity.x, velocity.y) * shutter;
  if (length < 1.5) return;
  cv::filter2D(image, image, -1, line_kernel(velocity, length), {-1, -1}, 0, cv::BORDER_CONSTANT);
}

/// The region around `contours` (grown by `margin`) inside the frame; empty when off-frame.
cv::Rect region_of(const std::vector<Contour>& contours, int margin, MaskSize size) {
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  for (const Contour& contour : contours)
    for (const Point& p : contour) {
      x0 = std::min(x0, p.x);
      y0 = std::min(y0, p.y);
      x1 = std::max(x1, p.x);
      y1 = std::max(y1, p.y);
    }
  if (!(x0 <= x1)) return {};
  const double limit = 1e6;  // far-away geometry: keep the integer conversion safe
  const auto left = static_cast<int>(std::floor(std::clamp(x0, -limit, limit))) - margin;
  const auto top = static_cast<int>(std::floor(std::clamp(y0, -limit, limit))) - margin;
  const auto right = static_cast<int>(std::ceil(std::clamp(x1, -limit, limit))) + margin;
  const auto bottom = static_cast<int>(std::ceil(std::clamp(y1, -limit, limit))) + margin;
  const cv::Rect frame(0, 0, static_cast<int>(size.width), static_cast<int>(size.height));
  return cv::Rect(cv::Point(left, top), cv::Point(right, bottom)) & frame;
}

/// Covers the pixels of `mask` (region `roi`) whose centres are inside `contours` (image
/// coordinates), even-odd within each call.
void cover(cv::Mat1b& mask, const cv::Rect& roi, std::span<const Contour> contours) {
  std::vector<Contour> local(contours.begin(), contours.end());
  for (Contour& contour : local)
    for (Point& p : contour) {
      p.x -= roi.x;
      p.y -= roi.y;
    }
  const MaskSize size{static_cast<std::uint32_t>(roi.height), static_cast<std::uint32_t>(roi.width)};
  rasterize_even_odd(local, size, [&](std::uint32_t y, std::uint32_t x0, std::uint32_t x1) {
    std::fill(mask.ptr(static_cast<int>(y)) + x0, mask.ptr(static_cast<int>(y)) + x1, std::uint8_t{1});
  });
}

/// Paints `premultiplied` colour with coverage `alpha` over `image` in `roi`.
void composite(cv::Mat3f& image, const cv::Rect& roi, const cv::Mat3f& premultiplied, const cv::Mat1f& alpha) {
  for (int y = 0; y < roi.height; ++y) {
    cv::Vec3f* row = image.ptr<cv::Vec3f>(roi.y + y) + roi.x;
    for (int x = 0; x < roi.width; ++x) row[x] = row[x] * (1.0f - alpha(y, x)) + premultiplied(y, x);
  }
}

void write_labels(std::vector<std::uint16_t>& labels, MaskSize size, const cv::Rect& roi,
                  const cv::Mat1b& mask, std::uint16_t label) {
  for (int y = 0; y < roi.height; ++y) {
    const std::uint8_t* m = mask.ptr(y);
    std::uint16_t* row = labels.data() + static_cast<std::size_t>(roi.y + y) * size.width + roi.x;
    for (int x = 0; x < roi.width; ++x)
      if (m[x]) row[x] = label;
  }
}

cv::Mat3f premultiply(const cv::Mat3f& colour, const cv::Mat1f& alpha) {
  cv::Mat3f out(colour.size());
  for (int y = 0; y < colour.rows; ++y)
    for (int x = 0; x < colour.cols; ++x) out(y, x) = colour(y, x) * alpha(y, x);
  return out;
}

void draw_object(const Scene& scene, const Object& object, std::uint16_t label, double t,
                 cv::Mat3f& image, std::vector<std::uint16_t>& labels) {
  const Pose world = object.motion.pose_at(t);
  const double zoom = scene.camera.zoom(t);
  const Pose pose{scene.camera.to_image(world.centre, t, scene.size), world.angle, world.radius * zoom,
                  world.stretch};
  const std::vector<Contour> contours = place_outline(wobbled(object.outline, object.wobble, t), pose);
  const Point before = scene.camera.to_image(object.motion.pose_at(t - 0.5).centre, t - 0.5, scene.size);
  const Point after = scene.camera.to_image(object.motion.pose_at(t + 0.5).centre, t + 0.5, scene.size);
  const Point velocity{after.x - before.x, after.y - before.y};
  const double blur_length = std::hypot(velocity.x, velocity.y) * scene.effects.shutter;
  const int margin = static_cast<int>(std::ceil(3.0 * object.look.defocus_sigma + blur_length)) + 2;
  const cv::Rect roi = region_of(contours, margin, scene.size);
  if (roi.empty()) return;
  cv::Mat1b mask = cv::Mat1b::zeros(roi.size());
  cover(mask, roi, contours);
  if (cv::countNonZero(mask) == 0) return;

  // Texture: roi pixel → image point (pixel centre) → unit frame → texture pixel.
  const Affine to_unit = image_to_unit_frame(pose);
  const double s = kTextureSide / (2.0 * kTextureReach);
  const double ox = roi.x + 0.5, oy = roi.y + 0.5;
  const cv::Matx23d to_texture(
      s * to_unit.xx, s * to_unit.xy, s * (to_unit.xx * ox + to_unit.xy * oy + to_unit.x0 + kTextureReach) - 0.5,
      s * to_unit.yx, s * to_unit.yy, s * (to_unit.yx * ox + to_unit.yy * oy + to_unit.y0 + kTextureReach) - 0.5);
  cv::Mat3f colour;
  cv::warpAffine(object.look.texture, colour, to_texture, roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  if (object.look.outline) {
    const int width = std::clamp(static_cast<int>(std::lround(object.look.outline_width * pose.radius)), 1, 6);
    cv::Mat1b inner;
    cv::erode(mask, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * width + 1, 2 * width + 1}));
    const Colour border = *object.look.outline;
    colour.setTo(cv::Scalar(border[0], border[1], border[2]), mask & (inner == 0));
  }
  cv::Mat1f alpha;
  mask.convertTo(alpha, CV_32F, object.look.opacity);
  cv::Mat3f premultiplied = premultiply(colour, alpha);
  if (object.look.defocus_sigma > 0) {
    cv::GaussianBlur(premultiplied, premultiplied, {0, 0}, object.look.defocus_sigma);
    cv::GaussianBlur(alpha, alpha, {0, 0}, object.look.defocus_sigma);
  }
  if (scene.effects.shutter > 0) {
    motion_blur(premultiplied, velocity, scene.effects.shutter);
    motion_blur(alpha, velocity, scene.effects.shutter);
  }
  composite(image, roi, premultiplied, alpha);
  write_labels(labels, scene.size, roi, mask, label);
}

void draw_distractor(const Scene& scene, const Distractor& distractor, std::uint16_t label, double t,
                     cv::Mat3f& image, std::vector<std::uint16_t>& labels) {
  const double zoom = scene.camera.zoom(t);
  std::vector<Contour> pieces = distractor.pieces;
  for (Contour& piece : pieces)
    for (Point& p : piece)
      p = scene.camera.to_image({p.x + distractor.velocity.x * t, p.y + distractor.velocity.y * t}, t, scene.size);
  const double softness = distractor.softness * (distractor.opaque() ? 1.0 : zoom);
  const int margin = static_cast<int>(std::ceil(3.0 * softness)) + 2;
  const cv::Rect roi = region_of(pieces, margin, scene.size);
  if (roi.empty()) return;
  cv::Mat1b mask = cv::Mat1b::zeros(roi.size());
  for (const Contour& piece : pieces) cover(mask, roi, std::span<const Contour>(&piece, 1));
  cv::Mat1f alpha;
  mask.convertTo(alpha, CV_32F, distractor.opaque() ? 1.0 : distractor.strength);
  if (softness > 0) cv::GaussianBlur(alpha, alpha, {0, 0}, softness);
  cv::Mat3f region = image(roi);
  switch (distractor.kind) {
    case DistractorKind::shadow:
      for (int y = 0; y < roi.height; ++y)
        for (int x = 0; x < roi.width; ++x) region(y, x) *= 1.0f - alpha(y, x);
      return;  // light only: no label
    case DistractorKind::glare:
      for (int y = 0; y < roi.height; ++y)
        for (int x = 0; x < roi.width; ++x) region(y, x) += (Colour(1, 1, 1) - region(y, x)) * alpha(y, x);
      return;
    default: {
      const cv::Mat3f colour(roi.size(), distractor.colour);
      composite(image, roi, premultiply(colour, alpha), alpha);
      write_labels(labels, scene.size, roi, mask, label);
    }
  }
}

/// The background seen through the camera on frame `t`.
cv::Mat3f background_frame(const Scene& scene, double t) {
  const double z = scene.camera.zoom(t);
  const Point c = scene.camera.centre(t);
  const double w = scene.size.width, h = scene.size.height;
  // destination pixel x (centre x + 0.5) → world → background pixel index (centre at index + 0.5)
  const cv::Matx23d to_background(1.0 / z, 0, (0.5 - w / 2) / z + c.x - scene.background_origin.x - 0.5,
                                  0, 1.0 / z, (0.5 - h / 2) / z + c.y - scene.background_origin.y - 0.5);
  cv::Mat3f image;
  cv::warpAffine(scene.background, image, to_background, cv::Size(static_cast<int>(w), static_cast<int>(h)),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REFLECT_101);
  if (scene.effects.shutter > 0) {  // how a world point still at the centre moves on screen
    const Point a = scene.camera.to_image(c, t - 0.5, scene.size), b = scene.camera.to_image(c, t + 0.5, scene.size);
    motion_blur(image, {b.x - a.x, b.y - a.y}, scene.effects.shutter);
  }
  return image;
}

}  // namespace

MaskSize random_frame_size(ShortSideRange range, Random& random) {
  struct Format {
    double long_over_short;
    bool portrait;
    int weight;
  };
  static constexpr Format kFormats[] = {{4.0 / 3, false, 30}, {16.0 / 9, false, 32}, {1.5, false, 6},
                                        {1.0, false, 6},      {21.0 / 9, false, 4},  {16.0 / 9, true, 14},
                                        {4.0 / 3, true, 8}};
  std::int64_t pick = random.uniform_int(0, 99);
  Format format = kFormats[0];
  for (const Format& f : kFormats) {
    if (pick < f.weight) {
      format = f;
      break;
    }
    pick -= f.weight;
  }
  const auto short_side = static_cast<std::uint32_t>(random.uniform_int(range.min, range.max)) / 2 * 2;
  const auto long_side = static_cast<std::uint32_t>(std::lround(short_side * format.long_over_short / 2.0)) * 2;
  const std::uint32_t s = std::max<std::uint32_t>(short_side, 2), l = std::max<std::uint32_t>(long_side, 2);
  return format.portrait ? MaskSize{l, s} : MaskSize{s, l};
}

Scene generate_scene(const SceneOptions& options, std::uint64_t seed) {
  check_options(options);
  Random random(seed);
  Scene scene;
  scene.size = options.random_size ? random_frame_size(*options.random_size, random) : options.size;
  scene.frames = options.frames;
  scene.camera = random_camera(scene.size, scene.frames, random);
  const double short_side = std::min(scene.size.width, scene.size.height);
  // The background covers what the camera sees (at most 3× the frame each way; beyond, it is
  // mirrored).
  const cv::Rect2d view = world_view(scene.camera, scene.size, scene.frames);
  const int bw = static_cast<int>(std::ceil(std::min(view.width, 3.0 * scene.size.width)));
  const int bh = static_cast<int>(std::ceil(std::min(view.height, 3.0 * scene.size.height)));
  scene.background_origin = {view.x + (view.width - bw) / 2, view.y + (view.height - bh) / 2};
  Background background = random_background({bw, bh}, short_side, random);
  scene.background = std::move(background.image);
  scene.background_kind = background.kind;
  scene.background_blend = background.blended;
  const cv::Scalar mean = cv::mean(scene.background);
  const Colour background_mean(static_cast<float>(mean[0]), static_cast<float>(mean[1]), static_cast<float>(mean[2]));

  const auto lanes = random.uniform_int(options.min_objects, options.max_objects);
  for (std::int64_t lane = 0; lane < lanes && scene.objects.size() < kMaxObjectsPerScene; ++lane)
    add_lane(scene, background_mean, random);
  const auto distractors = random.chance(0.3) ? 0 : random.uniform_int(1, kMaxDistractors);
  for (std::int64_t i = 0; i < distractors; ++i)
    scene.distractors.push_back(random_distractor({view.x, view.y}, {view.width, view.height}, scene.size, random));
  for (std::size_t i = 0; i < scene.objects.size(); ++i) scene.layers.push_back({true, i});
  for (std::size_t i = 0; i < scene.distractors.size(); ++i) scene.layers.push_back({false, i});
  shuffle(scene.layers, random);
  scene.effects = random_effects(scene.frames, random);
  return scene;
}

std::uint16_t distractor_label(const Scene& scene, std::size_t distractor_index) {
  return static_cast<std::uint16_t>(scene.objects.size() + 1 + distractor_index);
}

RenderedFrame render_frame(const Scene& scene, std::uint32_t frame) {
  const double t = frame;
  cv::Mat3f image = background_frame(scene, t);
  RenderedFrame out{scene.size, std::vector<std::uint16_t>(scene.size.pixels(), 0), {}};
  for (const Layer& layer : scene.layers) {
    if (layer.is_object)
      draw_object(scene, scene.objects[layer.index], static_cast<std::uint16_t>(layer.index + 1), t, image, out.labels);
    else
      draw_distractor(scene, scene.distractors[layer.index], distractor_label(scene, layer.index), t, image, out.labels);
  }
  apply_lighting(image, scene.effects, frame, scene.frames);
  add_sensor_noise(image, scene.effects, frame);
  cv::Mat3b bytes = to_bytes(image);
  compress(bytes, scene.effects);
  if (!bytes.isContinuous()) bytes = bytes.clone();
  out.bgr.assign(bytes.datastart, bytes.dataend);
  return out;
}

std::unique_ptr<SyntheticVideo> make_video(const SceneOptions& options, std::uint64_t seed) {
  return std::make_unique<ShapeSceneVideo<Scene>>(generate_scene(options, seed));
}

}  // namespace vmt::synth::randomised
