#include "randomised/effects.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "vmt/error.h"

namespace vmt::synth::randomised {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

/// A deterministic value in [−1, 1] for (seed, frame).
double frame_jitter(std::uint64_t seed, std::uint32_t frame) {
  return static_cast<double>(mix64(derive_seed(seed, frame)) >> 11) * 0x1.0p-52 - 1.0;
}

/// Quantises the 8×8 transform of every block of `plane` (CV_32F) with step `step`, higher
/// frequencies more coarsely (as codecs' weighting matrices do).
void quantise_blocks(cv::Mat1f& plane, double step) {
  cv::Mat1f block(8, 8), coefficients(8, 8);
  for (int by = 0; by + 8 <= plane.rows; by += 8)
    for (int bx = 0; bx + 8 <= plane.cols; bx += 8) {
      plane(cv::Rect(bx, by, 8, 8)).copyTo(block);
      cv::dct(block, coefficients);
      for (int v = 0; v < 8; ++v)
        for (int u = 0; u < 8; ++u) {
          const double q = step * (1.0 + 0.35 * (u + v));
          coefficients(v, u) = static_cast<float>(std::round(coefficients(v, u) / q) * q);
        }
      cv::idct(coefficients, block);
      block.copyTo(plane(cv::Rect(bx, by, 8, 8)));
    }
}

/// Replaces each 16×16 macroblock whose variance is below `threshold²` by its least-squares plane
/// (H.264's planar intra prediction with no residual): the smeared look of flat areas at low rates.
void planar_flat_blocks(cv::Mat1f& plane, double threshold) {
  constexpr int kBlock = 16;
  for (int by = 0; by + kBlock <= plane.rows; by += kBlock)
    for (int bx = 0; bx + kBlock <= plane.cols; bx += kBlock) {
      cv::Mat1f block = plane(cv::Rect(bx, by, kBlock, kBlock));
      cv::Scalar mean, deviation;
      cv::meanStdDev(block, mean, deviation);
      if (deviation[0] >= threshold) continue;
      // Plane a + b·x + c·y with x, y centred: the coefficients separate.
      double sx = 0, sy = 0, sxx = 0, syy = 0;
      for (int y = 0; y < kBlock; ++y)
        for (int x = 0; x < kBlock; ++x) {
          const double cx = x - 7.5, cy = y - 7.5, value = block(y, x) - mean[0];
          sx += cx * value;
          sy += cy * value;
          sxx += cx * cx;
          syy += cy * cy;
        }
      const double b = sx / sxx, c = sy / syy;
      for (int y = 0; y < kBlock; ++y)
        for (int x = 0; x < kBlock; ++x)
          block(y, x) = static_cast<float>(mean[0] + b * (x - 7.5) + c * (y - 7.5));
    }
}

/// Softens the pixels on both sides of every 8-pixel block edge (a light deblocking filter).
void deblock(cv::Mat1f& plane) {
  for (int y = 0; y < plane.rows; ++y)
    for (int x = 8; x < plane.cols; x += 8) {
      const float a = plane(y, x - 1), b = plane(y, x), mean = 0.5f * (a + b);
      plane(y, x - 1) = 0.5f * (a + mean);
      plane(y, x) = 0.5f * (b + mean);
    }
  for (int y = 8; y < plane.rows; y += 8)
    for (int x = 0; x < plane.cols; ++x) {
      const float a = plane(y - 1, x), b = plane(y, x), mean = 0.5f * (a + b);
      plane(y - 1, x) = 0.5f * (a + mean);
      plane(y, x) = 0.5f * (b + mean);
    }
}

}  // namespace

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::none: return "none";
    case Compression::jpeg: return "jpeg";
    case Compression::h264_like: return "h264_like";
  }
  return "unknown";
}

Effects random_effects(std::uint32_t frames, Random& random) {
  Effects e;
  Lighting& l = e.lighting;
  l.gain = random.uniform(0.8, 1.15);
  if (random.chance(0.4)) {
    l.swing = random.uniform(0.05, 0.3);
    l.swing_period = random.uniform(20.0, 120.0);
    l.swing_phase = random.uniform(0.0, kTwoPi);
  }
  if (random.chance(0.15)) l.flicker = random.uniform(0.01, 0.05);
  if (random.chance(0.3))
    l.tint = {static_cast<float>(random.uniform(0.88, 1.12)), static_cast<float>(random.uniform(0.9, 1.1)),
              static_cast<float>(random.uniform(0.88, 1.12))};
  if (random.chance(0.2))
    l.tint_drift = {static_cast<float>(random.uniform(-0.15, 0.15)), static_cast<float>(random.uniform(-0.1, 0.1)),
                    static_cast<float>(random.uniform(-0.15, 0.15))};
  if (random.chance(0.3)) {
    const double heading = random.uniform(0.0, kTwoPi);
    l.ramp = random.uniform(0.15, 0.6);
    l.ramp_direction = {std::cos(heading), std::sin(heading)};
    l.ramp_speed = random.uniform(-1.0, 1.0) / std::max(1u, frames);
  }
  if (random.chance(0.2)) l.vignette = random.uniform(0.1, 0.45);
  if (random.chance(0.35)) e.shutter = random.uniform(0.3, 1.0);
  if (random.chance(0.6)) e.sensor_noise = random.uniform(0.003, 0.03);
  const double codec = random.uniform01();
  if (codec < 0.4) {
    e.compression = Compression::jpeg;
    e.jpeg_quality = static_cast<int>(random.uniform_int(15, 70));
  } else if (codec < 0.7) {
    e.compression = Compression::h264_like;
    e.quantiser = random.uniform(6.0, 26.0);
  }
  e.seed = random.next_u64();
  return e;
}

void apply_lighting(cv::Mat3f& image, const Effects& effects, std::uint32_t frame, std::uint32_t frames) {
  const Lighting& l = effects.lighting;
  const double t = frame;
  double gain = l.gain * (1.0 + l.swing * std::sin(kTwoPi * t / l.swing_period + l.swing_phase));
  if (l.flicker > 0) gain *= 1.0 + l.flicker * frame_jitter(effects.seed, frame);
  const double progress = frames > 1 ? t / (frames - 1) : 0.0;
  const Colour channel_gain = (l.tint + l.tint_drift * static_cast<float>(progress)) * static_cast<float>(gain);
  const double w = image.cols, h = image.rows, half_diagonal = 0.5 * std::hypot(w, h);
  const double shift = l.ramp_speed * t;
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x) {
      double factor = 1.0;
      const double dx = (x + 0.5 - w / 2) / half_diagonal, dy = (y + 0.5 - h / 2) / half_diagonal;
      if (l.ramp > 0) factor *= 1.0 + l.ramp * 0.5 * std::sin(std::numbers::pi * (dx * l.ramp_direction.x + dy * l.ramp_direction.y) / 2.0 + kTwoPi * shift);
      if (l.vignette > 0) factor *= 1.0 - l.vignette * (dx * dx + dy * dy) / 2.0;
      cv::Vec3f& pixel = image(y, x);
      for (int c = 0; c < 3; ++c) pixel[c] = static_cast<float>(pixel[c] * channel_gain[c] * factor);
    }
}

void add_sensor_noise(cv::Mat3f& image, const Effects& effects, std::uint32_t frame) {
  if (effects.sensor_noise <= 0) return;
  cv::RNG rng(derive_seed(effects.seed ^ 0x5e5e5e5eULL, frame));
  cv::Mat3f noise(image.size());
  rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0.0), cv::Scalar::all(effects.sensor_noise));
  image += noise;
}

cv::Mat3b to_bytes(const cv::Mat3f& image) {
  cv::Mat3b bytes;
  image.convertTo(bytes, CV_8UC3, 255.0);
  return bytes;
}

void h264_like_artefacts(cv::Mat3b& image, double quantiser) {
  cv::Mat ycrcb;
  cv::cvtColor(image, ycrcb, cv::COLOR_BGR2YCrCb);
  std::vector<cv::Mat> planes;
  cv::split(ycrcb, planes);
  for (std::size_t i = 0; i < planes.size(); ++i) {
    cv::Mat1f plane;
    planes[i].convertTo(plane, CV_32F);
    const bool chroma = i > 0;
    if (chroma) {  // 4:2:0: chroma at half resolution
      cv::Mat1f half;
      cv::resize(plane, half, {(image.cols + 1) / 2, (image.rows + 1) / 2}, 0, 0, cv::INTER_AREA);
      plane = half;
    }
    planar_flat_blocks(plane, quantiser * 0.35);
    quantise_blocks(plane, chroma ? quantiser * 1.5 : quantiser);
    deblock(plane);
    cv::Mat restored;
    if (chroma)
      cv::resize(plane, restored, image.size(), 0, 0, cv::INTER_LINEAR);
    else
      restored = plane;
    restored.convertTo(planes[i], CV_8U);
  }
  cv::merge(planes, ycrcb);
  cv::cvtColor(ycrcb, image, cv::COLOR_YCrCb2BGR);
}

void compress(cv::Mat3b& image, const Effects& effects) {
  switch (effects.compression) {
    case Compression::none: return;
    case Compression::jpeg: {
      std::vector<std::uint8_t> bytes;
      if (!cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, effects.jpeg_quality}))
        throw Error(ErrorCode::Internal, "JPEG encoding of a synthetic frame failed");
      image = cv::imdecode(bytes, cv::IMREAD_COLOR);
      return;
    }
    case Compression::h264_like: h264_like_artefacts(image, effects.quantiser); return;
  }
}

}  // namespace vmt::synth::randomised
