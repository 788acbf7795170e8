// The engine's per-frame stage: backbone, encoder, mask features and decoder value projections of
// a tube's frames (VmtDetector::encode_frames). A frame is computed once while it stays in the
// tube (the feature cache, keyed by stream index and input size), and the frames that are not
// cached go through the network as one batch.
//
// What a cached frame keeps: what later tubes read of it — the decoder's value projections and
// the mask features (coarse masks, association). The refinement's inputs (backbone conv1 and
// layer1, the mask head's merged features) and the encoder memory are needed only while the
// frame's own masks are computed, and are the largest part (about 30 of 38 MB a frame at a
// 360 × 640 input), so they are dropped once the frame's call returns, unless the engine refines
// old frames again (MaskScope::AllFrames). Internal to vmt-core.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "../model/vmt_detector.h"

namespace vmt::engine {

/// The features of one call's tube, and the refinement inputs of its mask frames.
struct EncodedTube {
  model::FrameFeatures tube;   ///< every frame; refinement inputs may be undefined
  model::FrameFeatures masks;  ///< the mask frames, with the refinement inputs
};

class FrameEncoder {
 public:
  /// `cache` false: every call encodes all its frames (still as one batch).
  /// `keep_refinement_inputs`: cached frames keep everything (their masks are computed again).
  FrameEncoder(bool cache, bool keep_refinement_inputs)
      : cache_enabled_(cache), keep_refinement_inputs_(keep_refinement_inputs) {}

  /// Tube-relative indices (ascending) of the frames of the tube [first_frame, first_frame +
  /// count) at input size h × w that must be encoded now: those not cached, and the mask frames
  /// [mask_begin, mask_end) whose cached features lack the refinement inputs.
  std::vector<std::int64_t> missing(std::int64_t first_frame, std::int64_t count, std::int64_t h,
                                    std::int64_t w, std::int64_t mask_begin,
                                    std::int64_t mask_end) const;

  /// The features of the whole tube, in order, and those of its mask frames. `images`
  /// [N, 3, h, w] is the model input of the `missing` frames (as missing() returned them), on the
  /// model's device. Afterwards the cache holds exactly this tube's frames. cpu_workers: on the
  /// CPU the frames are encoded in that many batches side by side (model::run_tasks; the
  /// features equal one batch's to fp32 rounding).
  EncodedTube encode(model::VmtDetector& detector, std::int64_t first_frame, std::int64_t count,
                     const torch::Tensor& images, const std::vector<std::int64_t>& missing,
                     std::int64_t mask_begin, std::int64_t mask_end, int cpu_workers = 1);

  /// Forgets every cached frame (flush, seek, caps change).
  void clear();
  /// Frames cached now.
  std::size_t cached() const { return frames_.size(); }

 private:
  bool cache_enabled_;
  bool keep_refinement_inputs_;
  std::map<std::int64_t, model::FrameFeatures> frames_;  // stream index → one frame's features
  std::int64_t height_ = -1, width_ = -1;                // the input size they were computed at
};

}  // namespace vmt::engine
