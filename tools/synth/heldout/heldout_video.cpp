#include "heldout/heldout_video.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vmt/error.h"

namespace vmt::synth::heldout {
namespace {

constexpr std::size_t kMaxActors = 200;
constexpr int kFixedPointBits = 4;  ///< fillPoly sub-pixel precision

void check(const SceneOptions& options) {
  if (options.random_size)
    throw Error(ErrorCode::InvalidArgument, "the held-out style takes a fixed frame size (no random sizes)");
  if (options.size.width < 8 || options.size.height < 8 || options.size.width > 16384 || options.size.height > 16384)
    throw Error(ErrorCode::InvalidArgument, "held-out frames must be 8..16384 pixels on each side");
  if (options.frames == 0) throw Error(ErrorCode::InvalidArgument, "a video needs at least one frame");
  if (options.min_objects > options.max_objects)
    throw Error(ErrorCode::InvalidArgument, "min_objects must not exceed max_objects");
}

Actor random_actor(PathKind kind, const Stage& stage, double start, const Palette& palette,
                   const cv::Vec3b& backdrop_colour, Random& random) {
  Actor actor;
  actor.figure = kFigures[static_cast<std::size_t>(random.uniform_int(0, kFigures.size() - 1))];
  actor.outline = random_figure(actor.figure, random);
  actor.path = random_path(kind, stage.frame, stage.frames, start, random);
  actor.surface = random_surface(palette, backdrop_colour, random);
  actor.aspect = random.chance(0.3) ? random.uniform(0.8, 1.25) : 1.0;
  return actor;
}

/// A lane of figures crossing the frame one after another (each enters and leaves), or one
/// figure on an orbit, bounce, Lissajous or drift path for the whole video.
void add_lane(Stage& stage, const Palette& palette, const cv::Vec3b& backdrop_colour, Random& random) {
  const double frames = stage.frames;
  if (!random.chance(0.45)) {
    static constexpr PathKind kStaying[] = {PathKind::orbit, PathKind::bounce, PathKind::lissajous, PathKind::drift};
    stage.actors.push_back(random_actor(kStaying[random.uniform_int(0, 3)], stage, 0.0, palette, backdrop_colour, random));
    return;
  }
  double start = random.uniform(-0.8, 0.5) * frames;
  while (start < frames && stage.actors.size() < kMaxActors) {
    stage.actors.push_back(random_actor(PathKind::crossing, stage, start, palette, backdrop_colour, random));
    start = stage.actors.back().path.end + random.uniform(0.0, 6.0);
  }
}

/// The figure's outline on frame `t`, as fillPoly fixed-point vertices (pixel centres at
/// integers, as OpenCV counts them).
std::vector<cv::Point> placed(const Actor& actor, double t) {
  const cv::Point2d centre = actor.path.position(t);
  const double radius = actor.path.radius(t), angle = actor.path.rotation(t);
  const double c = std::cos(angle), s = std::sin(angle), scale = 1 << kFixedPointBits;
  std::vector<cv::Point> points;
  points.reserve(actor.outline.size());
  for (const cv::Point2d& p : actor.outline) {
    const double u = p.x * radius * actor.aspect, v = p.y * radius / actor.aspect;
    const double x = centre.x + c * u - s * v - 0.5, y = centre.y + s * u + c * v - 0.5;
    points.emplace_back(static_cast<int>(std::lround(std::clamp(x, -1e5, 1e5) * scale)),
                        static_cast<int>(std::lround(std::clamp(y, -1e5, 1e5) * scale)));
  }
  return points;
}

void paint_actor(const Actor& actor, std::uint16_t label, double t, cv::Mat3b& image, cv::Mat_<std::uint16_t>& labels) {
  std::vector<cv::Point> points = placed(actor, t);
  cv::Rect box = cv::boundingRect(points);
  box = cv::Rect(box.x >> kFixedPointBits, box.y >> kFixedPointBits, (box.width >> kFixedPointBits) + 3,
                 (box.height >> kFixedPointBits) + 3) &
        cv::Rect(0, 0, image.cols, image.rows);
  if (box.empty()) return;
  for (cv::Point& p : points) p -= cv::Point(box.x << kFixedPointBits, box.y << kFixedPointBits);
  cv::Mat1b cover = cv::Mat1b::zeros(box.size());
  const cv::Point* polygon = points.data();
  const int count = static_cast<int>(points.size());
  cv::fillPoly(cover, &polygon, &count, 1, cv::Scalar(255), cv::LINE_8, kFixedPointBits);
  // Pixel (x, y) → the figure's own frame, for its surface.
  const cv::Point2d centre = actor.path.position(t);
  const double radius = actor.path.radius(t), angle = actor.path.rotation(t);
  const double c = std::cos(angle), s = std::sin(angle);
  for (int y = 0; y < box.height; ++y)
    for (int x = 0; x < box.width; ++x) {
      if (!cover(y, x)) continue;
      const double dx = box.x + x + 0.5 - centre.x, dy = box.y + y + 0.5 - centre.y;
      const cv::Point2d own{(c * dx + s * dy) / (radius * actor.aspect), (-s * dx + c * dy) * actor.aspect / radius};
      image(box.y + y, box.x + x) = surface_colour(actor.surface, own);
      labels(box.y + y, box.x + x) = label;
    }
}

class HeldoutVideo final : public SyntheticVideo {
 public:
  explicit HeldoutVideo(Stage stage) : stage_(std::move(stage)) {}
  MaskSize size() const override {
    return {static_cast<std::uint32_t>(stage_.frame.height), static_cast<std::uint32_t>(stage_.frame.width)};
  }
  std::uint32_t frames() const override { return stage_.frames; }
  std::size_t object_count() const override { return stage_.actors.size(); }
  std::uint32_t category_id(std::size_t object) const override {
    return static_cast<std::uint32_t>(stage_.actors.at(object).figure) + 1;
  }
  RenderedFrame render(std::uint32_t frame) const override { return render_stage(stage_, frame); }

 private:
  Stage stage_;
};

}  // namespace

std::vector<Category> categories() {
  std::vector<Category> out;
  for (const Figure figure : kFigures)
    out.push_back({static_cast<std::uint32_t>(figure) + 1, std::string(figure_name(figure))});
  return out;
}

Stage generate_stage(const SceneOptions& options, std::uint64_t seed) {
  check(options);
  Random random(seed);
  Stage stage;
  stage.frame = {static_cast<int>(options.size.width), static_cast<int>(options.size.height)};
  stage.frames = options.frames;
  const Palette palette = random_palette(random);
  if (random.chance(0.4)) {
    const double heading = random.uniform(0.0, 6.283185307179586), speed = random.uniform(0.3, 2.0);
    stage.drift = {speed * std::cos(heading), speed * std::sin(heading)};
  }
  const int extra_x = static_cast<int>(std::ceil(std::abs(stage.drift.x) * stage.frames)) + 1;
  const int extra_y = static_cast<int>(std::ceil(std::abs(stage.drift.y) * stage.frames)) + 1;
  BackdropImage backdrop = random_backdrop({stage.frame.width + extra_x, stage.frame.height + extra_y}, palette, random);
  stage.backdrop = std::move(backdrop.image);
  stage.backdrop_kind = backdrop.kind;
  stage.palette = palette.name;
  const cv::Vec3b backdrop_colour = backdrop.main;
  const auto lanes = random.uniform_int(options.min_objects, options.max_objects);
  for (std::int64_t lane = 0; lane < lanes; ++lane) add_lane(stage, palette, backdrop_colour, random);
  // Depth: a random order (Fisher–Yates).
  for (std::size_t i = stage.actors.size(); i > 1; --i)
    std::swap(stage.actors[i - 1], stage.actors[static_cast<std::size_t>(random.uniform_int(0, static_cast<std::int64_t>(i) - 1))]);
  if (random.chance(0.3)) stage.blur = random.uniform(0.4, 1.0);
  if (random.chance(0.6)) stage.jpeg_quality = static_cast<int>(random.uniform_int(40, 90));
  if (random.chance(0.5)) stage.grain = static_cast<int>(random.uniform_int(1, 6));
  stage.seed = random.next_u64();
  return stage;
}

RenderedFrame render_stage(const Stage& stage, std::uint32_t frame) {
  const double t = frame;
  // The backdrop slides under a still frame: start at the side the drift moves away from.
  const int ox = static_cast<int>(std::lround(stage.drift.x >= 0 ? stage.drift.x * t
                                                                 : stage.backdrop.cols - stage.frame.width + stage.drift.x * t));
  const int oy = static_cast<int>(std::lround(stage.drift.y >= 0 ? stage.drift.y * t
                                                                 : stage.backdrop.rows - stage.frame.height + stage.drift.y * t));
  const cv::Rect window(std::clamp(ox, 0, stage.backdrop.cols - stage.frame.width),
                        std::clamp(oy, 0, stage.backdrop.rows - stage.frame.height), stage.frame.width, stage.frame.height);
  cv::Mat3b image = stage.backdrop(window).clone();
  cv::Mat_<std::uint16_t> labels = cv::Mat_<std::uint16_t>::zeros(stage.frame);
  for (std::size_t i = 0; i < stage.actors.size(); ++i)
    paint_actor(stage.actors[i], static_cast<std::uint16_t>(i + 1), t, image, labels);
  if (stage.blur > 0) cv::GaussianBlur(image, image, {0, 0}, stage.blur);
  if (stage.grain > 0) {
    cv::RNG rng(mix64(stage.seed + frame));
    cv::Mat noise(image.size(), CV_16SC3);
    rng.fill(noise, cv::RNG::UNIFORM, cv::Scalar::all(-stage.grain), cv::Scalar::all(stage.grain + 1));
    cv::Mat widened;
    image.convertTo(widened, CV_16SC3);
    widened += noise;
    widened.convertTo(image, CV_8UC3);
  }
  if (stage.jpeg_quality > 0) {
    std::vector<std::uint8_t> bytes;
    if (!cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, stage.jpeg_quality}))
      throw Error(ErrorCode::Internal, "JPEG encoding of a held-out frame failed");
    image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  }
  RenderedFrame out;
  out.size = {static_cast<std::uint32_t>(stage.frame.height), static_cast<std::uint32_t>(stage.frame.width)};
  out.labels.assign(labels.begin(), labels.end());
  if (!image.isContinuous()) image = image.clone();
  out.bgr.assign(image.datastart, image.dataend);
  return out;
}

std::unique_ptr<SyntheticVideo> make_video(const SceneOptions& options, std::uint64_t seed) {
  return std::make_unique<HeldoutVideo>(generate_stage(options, seed));
}

}  // namespace vmt::synth::heldout
