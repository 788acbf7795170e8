// The inference sequence of VMT on one tube, owned in one place (the engine runs it, and through
// the engine vmt-train predict, the demo-model check and the benchmarks):
//   1. decode the tube: the decoder and heads on the features of all its frames (the instance
//      queries need every frame);
//   2. select the instances (postprocess.h: the official top-K over (query, class) pairs, or one
//      per object);
//   3. coarse masks of every frame for the selected queries (the dynamic mask head; what
//      association across tubes compares);
//   4. the final masks of the frames that are wanted only: refined (the Transfiner head, frame
//      by frame) or, for a model without a trained refinement head, the coarse ones.
// Work scales with the frames that are emitted, not with the tube: an online step refines one
// frame whatever the tube's length. Internal to vmt-core.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "postprocess.h"
#include "refinement_head.h"
#include "stage_clock.h"
#include "vmt_detector.h"

namespace vmt::model {

/// What one tube's inference must produce.
struct TubeRequest {
  /// Tube-relative frames [mask_begin, mask_end) whose final masks are wanted.
  std::int64_t mask_begin = 0;
  std::int64_t mask_end = 0;
  /// Coarse masks of every frame of the tube (for association).
  bool coarse_masks = true;
  /// The selection rule and its K; num_labels: the categories (PerObject picks among 1 … n).
  InstanceSelection selection = InstanceSelection::TopPairs;
  std::int64_t max_instances = 10;
  std::int64_t num_labels = 0;
  /// Pairs scoring below get no masks (select_instances' min_score).
  float min_score = 0.f;
  /// Refinement points per frame (PointSampling::point_limit): 0 = the model's limit (official
  /// 12000, `exact`).
  std::int64_t point_limit = 0;
  /// PointSampling::padded: static shapes, no host synchronisation in the point step.
  bool padded_points = false;
  /// The selection on the device (select_on_device): no host synchronisation before the masks,
  /// every pick's masks computed (static shapes), the Selection made on the host at the end.
  bool device_selection = false;
  /// Mask frames refined at once: 0 = refine_chunk_frames() (other chunks give the same logits
  /// to fp32 rounding; tests set it).
  std::int64_t refine_chunk = 0;
  /// On the CPU, threads that run independent pieces side by side (run_tasks): the refinement's
  /// frames (or, for one frame, its independent steps: refine_masks). The same bits for any
  /// number; 1 = all on the caller's thread.
  int cpu_workers = 1;
};

/// What one tube's inference produced, per distinct selected query (rows in the order of
/// selection.queries).
struct TubeOutput {
  Selection selection;
  /// [K, M, h, w] logits of the mask frames: refined at the input resolution (h, w = 2·⌈H/2⌉,
  /// 2·⌈W/2⌉), or coarse at stride 4 for a model without refinement. Frame masks are
  /// final_masks() of these.
  torch::Tensor final_logits;
  /// [K, T, H/4, W/4] coarse mask logits of every frame (VmtDetector::coarse_mask_logits), or
  /// undefined when not asked for.
  torch::Tensor coarse_logits;
  std::int64_t input_height = 0, input_width = 0;
};

/// How many mask frames the refinement takes at once (at least 1) for `instances` queries and a
/// stride-2 map of height2 × width2: a bound on its temporaries, whatever the clip's length.
/// On the CPU always 1 (a frame's logits do not depend on the other frames of the call).
std::int64_t refine_chunk_frames(std::int64_t instances, std::int64_t height2, std::int64_t width2,
                                 bool on_cpu);

/// Steps 1–3 of a tube's inference (decode_and_select): what the masks of step 4 read.
struct DecodedTube {
  DetectorOutput out;
  /// The host selection (request.device_selection false), else empty until tube_masks.
  Selection selection;
  /// The device selection (request.device_selection true).
  DeviceSelection on_device;
  /// [N] int64: the queries whose masks are computed, on the model's device.
  torch::Tensor queries;
  /// Step 3: [N, T, H/4, W/4] coarse mask logits of every frame (request.coarse_masks), rows as
  /// `queries`; else undefined.
  torch::Tensor coarse_logits;
};

/// Steps 1–3 on `features` (see infer_tube): the decoder and heads over the tube, the instance
/// selection and the coarse masks of every frame (association). Checks the request's mask frames
/// against the tube. (The coarse masks belong to this half: an online step's two halves then
/// take about the same time, which EnginePipeline's overlap needs.)
DecodedTube decode_and_select(VmtModel& model, const FrameFeatures& features,
                              const TubeRequest& request, StageTimes* times = nullptr);

/// Step 4 on a decoded tube (see infer_tube): the final masks of the mask frames. It reads
/// `decoded` and the model's weights only, so it may run on one thread while another thread
/// decodes the next tube.
TubeOutput tube_masks(VmtModel& model, const DecodedTube& decoded,
                      const FrameFeatures& mask_features, const torch::Tensor& mask_images,
                      const TubeRequest& request, StageTimes* times = nullptr);

/// Runs steps 1–4 on `features` (VmtDetector::encode_frames of the tube's frames, in order; the
/// refinement inputs c1, layer1 and mask_feats_c may be left out). mask_features: the mask frames'
/// features with those inputs (when the model refines). mask_images: [M, 3, H, W] the model input
/// of the mask frames (the refinement reads their pixels), on the model's device. `times`
/// receives decoder_ms, heads_ms, masks_ms, refine_ms.
TubeOutput infer_tube(VmtModel& model, const FrameFeatures& features,
                      const FrameFeatures& mask_features, const torch::Tensor& mask_images,
                      const TubeRequest& request, StageTimes* times = nullptr);

}  // namespace vmt::model
