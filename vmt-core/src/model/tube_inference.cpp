#include "tube_inference.h"

#include <string>

#include "vmt/error.h"

namespace vmt::model {

TubeOutput infer_tube(VmtModel& model, const FrameFeatures& features,
                      const FrameFeatures& mask_features, const torch::Tensor& mask_images,
                      const TubeRequest& request, StageTimes* times) {
  const auto t = features.frames();
  const auto m = request.mask_end - request.mask_begin;
  if (request.mask_begin < 0 || m < 0 || request.mask_end > t) {
    throw Error(ErrorCode::InvalidArgument,
                "infer_tube: mask frames [" + std::to_string(request.mask_begin) + ", " +
                    std::to_string(request.mask_end) + ") outside a tube of " +
                    std::to_string(t) + " frames");
  }
  if (mask_images.dim() != 4 || mask_images.size(0) != m) {
    throw Error(ErrorCode::InvalidArgument, "infer_tube: need the images of the " +
                                                std::to_string(m) + " mask frames");
  }
  auto& detector = model->detector;
  const auto out = detector->decode_tube(features, times);

  TubeOutput result;
  result.input_height = features.input_height;
  result.input_width = features.input_width;
  result.selection = select(out.pred_logits[0], request.selection, request.max_instances,
                            request.num_labels, request.min_score);
  const auto queries = result.selection.query_tensor(out.hs.device());
  StageClock clock(times, out.hs.device());
  if (request.coarse_masks) result.coarse_logits = detector->coarse_mask_logits(out, queries);
  clock.mark(&StageTimes::masks_ms);

  auto wanted = out.frames(request.mask_begin, request.mask_end);
  wanted.c1 = mask_features.c1;
  wanted.layer1 = mask_features.layer1;
  wanted.mask_feats_c = mask_features.mask_feats_c;
  if (!model->config.use_refinement) {
    result.final_logits =
        result.coarse_logits.defined()
            ? result.coarse_logits.slice(1, request.mask_begin, request.mask_end)
            : detector->coarse_mask_logits(wanted, queries);
    clock.mark(&StageTimes::masks_ms);
    return result;
  }
  PointSampling sampling;
  sampling.point_limit = request.point_limit;
  result.final_logits = refine_masks(model, wanted, mask_images, queries, nullptr, sampling);
  clock.mark(&StageTimes::refine_ms);
  return result;
}

}  // namespace vmt::model
