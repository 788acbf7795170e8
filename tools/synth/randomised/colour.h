// Colours and smooth random fields for the randomised style: float BGR colours in [0, 1], value
// noise of several octaves made with OpenCV (random grids enlarged bicubically).
#pragma once

#include <opencv2/core.hpp>

#include "random.h"

namespace vmt::synth::randomised {

/// A colour: B, G, R in [0, 1] (OpenCV channel order).
using Colour = cv::Vec3f;

/// Rec. 601 luma of a colour, in [0, 1].
float luminance(const Colour& colour);

/// The colour of hue `hue_degrees`, saturation `saturation` and brightness `value` (HSV, [0, 1]).
Colour hsv_colour(double hue_degrees, double saturation, double value);

/// A colour of `hue_degrees` and `saturation` whose luma is `target` (darkened, or whitened
/// towards white, as needed).
Colour colour_with_luminance(double hue_degrees, double saturation, double target);

/// A random colour: any hue, saturation and brightness uniform in the given ranges.
Colour random_colour(Random& random, double saturation_low, double saturation_high,
                     double value_low, double value_high);

/// A smooth random field in [0, 1] of `size`: `octaves` layers of value noise (random grids,
/// enlarged bicubically), the first with about `cells` cells across the longer side, each next
/// one twice as fine and `persistence` times as strong; stretched to [0, 1].
cv::Mat1f fractal_noise(cv::Size size, double cells, int octaves, double persistence, Random& random);

/// Independent uniform values in [0, 1), one per pixel.
cv::Mat1f white_noise(cv::Size size, Random& random);

/// `a` where `t` is 0, `b` where it is 1 (per pixel, t in [0, 1]).
cv::Mat3f blend(const Colour& a, const Colour& b, const cv::Mat1f& t);

/// Hermite smoothstep of `x` between `edge0` and `edge1`.
float smoothstep(float edge0, float edge1, float x);

}  // namespace vmt::synth::randomised
