// The held-out style's figures: six classes that the training styles never draw (their outlines
// are made here, from their own formulas, with per-object parameters).
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>
#include <vector>

#include "random.h"

namespace vmt::synth::heldout {

enum class Figure : std::uint8_t { ellipse, pentagon, starburst, crescent, blob, heart };

/// Every figure, in category order (category id = position + 1).
inline constexpr std::array kFigures = {Figure::ellipse,  Figure::pentagon, Figure::starburst,
                                        Figure::crescent, Figure::blob,     Figure::heart};

/// "ellipse", "pentagon", "starburst" (6–9 points), "crescent", "blob", "heart".
std::string_view figure_name(Figure figure);

/// A random instance of `figure`: one simple closed polygon, centred near the origin and inside
/// the unit disc (parameters such as an ellipse's axes or a star's points drawn here).
std::vector<cv::Point2d> random_figure(Figure figure, Random& random);

}  // namespace vmt::synth::heldout
