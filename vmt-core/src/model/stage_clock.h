// Stage timings of the model's inference (filled when asked for; a CUDA device is synchronised
// at every mark, so timings cost a little GPU overlap). Internal to vmt-core.
#pragma once

#include <torch/cuda.h>
#include <torch/types.h>

#include <chrono>

namespace vmt::model {

/// Milliseconds per stage, summed over the calls that received this struct.
struct StageTimes {
  double backbone_ms = 0;  ///< backbone and input projections
  double encoder_ms = 0;   ///< deformable encoder
  double decoder_ms = 0;   ///< decoder
  double heads_ms = 0;     ///< class / box heads, mask features, decoder value projections
  double masks_ms = 0;     ///< coarse masks of the dynamic mask head
  double refine_ms = 0;    ///< refinement head
};

/// Adds the time between marks to StageTimes fields; does nothing without a StageTimes.
class StageClock {
 public:
  StageClock(StageTimes* times, const torch::Device& device) : times_(times), device_(device) {
    if (times_) start_ = now();
  }
  /// Adds the time since the previous mark to `slot`.
  void mark(double StageTimes::*slot) {
    if (!times_) return;
    const auto t = now();
    times_->*slot += std::chrono::duration<double, std::milli>(t - start_).count();
    start_ = t;
  }

 private:
  std::chrono::steady_clock::time_point now() const {
    if (device_.is_cuda()) torch::cuda::synchronize(device_.index() < 0 ? 0 : device_.index());
    return std::chrono::steady_clock::now();
  }
  StageTimes* times_;
  torch::Device device_;
  std::chrono::steady_clock::time_point start_;
};


}  // namespace vmt::model
