// From the model's mask logits to the instances the engine returns (internal to vmt-core, tested
// in tests/runtime/test_engine_rules.cpp), following the official tools/inference.py:
//   - frame masks: the logits resized bilinearly (align_corners = false) to the frame size, then
//     sigmoid > 0.5; kept cropped to their boxes;
//   - association masks: the coarse logits at their own resolution, sigmoid > 0.5, as RLE (or
//     the frame masks themselves in MaskScope::AllFrames);
//   - a query whose masks are empty on every frame computed is skipped (the official 'skip');
//   - one instance per (query, class) pair: score = sigmoid(logit), category = class index (the
//     YTVIS ids are the logit indices, 1-based; index 0 and indices past the labels are no class
//     and are dropped, as the official evaluation ignores them); scores below the threshold are
//     dropped (the official code writes no mask for them).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "../model/postprocess.h"
#include "vmt/identity.h"
#include "vmt/mask.h"

namespace vmt::engine {

/// Final masks of one query: logits [M, h, w] → M masks of frame_height × frame_width.
std::vector<CroppedMask> frame_masks(const torch::Tensor& logits, std::int64_t frame_height,
                                     std::int64_t frame_width);

/// Association masks of one query: coarse logits [T, h, w] → T RLEs of h × w.
std::vector<Rle> coarse_rles(const torch::Tensor& logits);

/// The logits of one tube, per distinct selected query (rows in selection.queries order).
struct TubeLogits {
  const model::Selection* selection = nullptr;
  torch::Tensor final_logits;   ///< [K, M, h, w] of the tube frames [mask_begin, mask_begin + M)
  torch::Tensor coarse_logits;  ///< [K, T, h', w'], or undefined: associate on the final masks
  std::int64_t mask_begin = 0;
  std::int64_t tube_frames = 0;  ///< T
};

/// The tube's instances: one per kept (query, class) pair, each with `tube_frames` association
/// masks and `tube_frames` frame masks (empty outside the mask frames).
std::vector<TubeInstance> assemble_instances(const TubeLogits& logits, std::int64_t frame_height,
                                             std::int64_t frame_width, float score_threshold,
                                             std::int64_t num_labels);

}  // namespace vmt::engine
