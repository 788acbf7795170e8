// The mask degradation of the VMT supplement (§1, Fig. 2: "perturbing the ground truth" to
// simulate inaccurate masks): the object's contours are sub-sampled to a coarse polygon, filled,
// then randomly dilated or eroded. Uses OpenCV; internal to the trainer.
#pragma once

#include <cstdint>
#include <random>

#include "vmt/mask.h"

namespace vmt::train {

/// Degradation strength.
struct DegradeOptions {
  /// Keep one contour point in `step`, `step` drawn uniformly from [min_step, max_step].
  int min_contour_step = 2;
  int max_contour_step = 8;
  /// Dilation (> 0) or erosion (< 0) radius in pixels, uniform in [−max_radius, max_radius],
  /// scaled down for small objects (at most a tenth of the object's shorter box side).
  int max_radius = 3;
};

/// A degraded copy of `mask` (same size). An empty mask stays empty; an object whose erosion
/// would vanish keeps its polygon. Deterministic for a given `rng` state.
Bitmap degrade_mask(const Bitmap& mask, std::mt19937_64& rng, const DegradeOptions& options = {});

}  // namespace vmt::train
