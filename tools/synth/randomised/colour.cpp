#include "randomised/colour.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "texture.h"

namespace vmt::synth::randomised {

float luminance(const Colour& c) { return 0.114f * c[0] + 0.587f * c[1] + 0.299f * c[2]; }

Colour hsv_colour(double hue_degrees, double saturation, double value) {
  const Rgb rgb = hsv_to_rgb(hue_degrees, std::clamp(saturation, 0.0, 1.0), std::clamp(value, 0.0, 1.0));
  return {rgb.b / 255.0f, rgb.g / 255.0f, rgb.r / 255.0f};
}

Colour colour_with_luminance(double hue_degrees, double saturation, double target) {
  const Colour full = hsv_colour(hue_degrees, saturation, 1.0);
  const float luma = luminance(full);
  const auto goal = static_cast<float>(std::clamp(target, 0.0, 1.0));
  if (goal <= luma) return full * (luma > 0 ? goal / luma : 0.0f);
  const float t = (goal - luma) / std::max(1e-6f, 1.0f - luma);  // towards white
  return full + (Colour(1, 1, 1) - full) * t;
}

Colour random_colour(Random& random, double saturation_low, double saturation_high,
                     double value_low, double value_high) {
  const double hue = random.uniform(0.0, 360.0);
  const double saturation = random.uniform(saturation_low, saturation_high);
  return hsv_colour(hue, saturation, random.uniform(value_low, value_high));
}

cv::Mat1f fractal_noise(cv::Size size, double cells, int octaves, double persistence, Random& random) {
  cv::Mat1f sum = cv::Mat1f::zeros(size);
  const int longer = std::max(size.width, size.height);
  double weight = 1.0, across = cells;
  for (int octave = 0; octave < octaves; ++octave, weight *= persistence, across *= 2.0) {
    const double cell_px = std::max(1.0, longer / across);
    const int gx = std::max(2, static_cast<int>(std::ceil(size.width / cell_px)) + 1);
    const int gy = std::max(2, static_cast<int>(std::ceil(size.height / cell_px)) + 1);
    cv::Mat1f grid(gy, gx);
    for (int y = 0; y < gy; ++y)
      for (int x = 0; x < gx; ++x) grid(y, x) = static_cast<float>(random.uniform01());
    cv::Mat1f layer;
    cv::resize(grid, layer, size, 0, 0, cv::INTER_CUBIC);
    cv::scaleAdd(layer, weight, sum, sum);
  }
  cv::normalize(sum, sum, 0.0, 1.0, cv::NORM_MINMAX);
  return sum;
}

cv::Mat1f white_noise(cv::Size size, Random& random) {
  cv::Mat1f noise(size);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) noise(y, x) = static_cast<float>(random.uniform01());
  return noise;
}

cv::Mat3f blend(const Colour& a, const Colour& b, const cv::Mat1f& t) {
  cv::Mat3f out(t.size());
  for (int y = 0; y < t.rows; ++y)
    for (int x = 0; x < t.cols; ++x) out(y, x) = a + (b - a) * t(y, x);
  return out;
}

float smoothstep(float edge0, float edge1, float x) {
  const float t = std::clamp((x - edge0) / (edge1 - edge0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

}  // namespace vmt::synth::randomised
