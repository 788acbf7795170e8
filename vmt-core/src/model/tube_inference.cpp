#include "tube_inference.h"

#include <ATen/ops/cat.h>
#include <ATen/ops/tensor.h>

#include <algorithm>
#include <string>
#include <vector>

#include "parallel_tasks.h"
#include "vmt/error.h"

namespace vmt::model {

std::int64_t refine_chunk_frames(std::int64_t instances, std::int64_t height2, std::int64_t width2,
                                 bool on_cpu) {
  // On the CPU one frame at a time: its temporaries stay small enough for glibc to reuse (the
  // offline demo run's system time went from half of its CPU time to 6 %), batching frames gains
  // nothing there, and a frame's logits are then the same bits however many frames a call
  // emits (oneDNN's convolutions round differently for other batch sizes, by a few 1e-6).
  if (on_cpu) return 1;
  // On CUDA, batches of frames (fewer kernel launches) up to 512 MB for the largest temporary,
  // 32 fp32 channels per instance and pixel at stride 2.
  constexpr std::int64_t kBudgetBytes = 512LL << 20;
  const auto per_frame = std::max<std::int64_t>(1, instances) * height2 * width2 * 32 * 4;
  return std::max<std::int64_t>(1, kBudgetBytes / per_frame);
}

DecodedTube decode_and_select(VmtModel& model, const FrameFeatures& features,
                              const TubeRequest& request, StageTimes* times) {
  const auto t = features.frames();
  if (request.mask_begin < 0 || request.mask_end < request.mask_begin || request.mask_end > t) {
    throw Error(ErrorCode::InvalidArgument,
                "infer_tube: mask frames [" + std::to_string(request.mask_begin) + ", " +
                    std::to_string(request.mask_end) + ") outside a tube of " +
                    std::to_string(t) + " frames");
  }
  DecodedTube decoded;
  decoded.out = model->detector->decode_tube(features, times);
  const auto& logits = decoded.out.pred_logits[0];
  if (request.device_selection) {
    decoded.on_device = select_on_device(logits, request.selection, request.max_instances,
                                         request.num_labels, request.min_score);
    decoded.queries = decoded.on_device.queries;
  } else {
    decoded.selection = select(logits, request.selection, request.max_instances,
                               request.num_labels, request.min_score);
    decoded.queries = decoded.selection.query_tensor(decoded.out.hs.device());
  }
  if (request.coarse_masks) {
    StageClock clock(times, decoded.out.hs.device());
    decoded.coarse_logits = model->detector->coarse_mask_logits(decoded.out, decoded.queries);
    clock.mark(&StageTimes::masks_ms);
  }
  return decoded;
}

TubeOutput infer_tube(VmtModel& model, const FrameFeatures& features,
                      const FrameFeatures& mask_features, const torch::Tensor& mask_images,
                      const TubeRequest& request, StageTimes* times) {
  return tube_masks(model, decode_and_select(model, features, request, times), mask_features,
                    mask_images, request, times);
}

TubeOutput tube_masks(VmtModel& model, const DecodedTube& decoded,
                      const FrameFeatures& mask_features, const torch::Tensor& mask_images,
                      const TubeRequest& request, StageTimes* times) {
  const auto m = request.mask_end - request.mask_begin;
  if (mask_images.dim() != 4 || mask_images.size(0) != m) {
    throw Error(ErrorCode::InvalidArgument, "infer_tube: need the images of the " +
                                                std::to_string(m) + " mask frames");
  }
  auto& detector = model->detector;
  const auto& out = decoded.out;
  const auto& on_device = decoded.on_device;
  const auto& queries = decoded.queries;
  TubeOutput result;
  result.input_height = out.input_height;
  result.input_width = out.input_width;
  result.selection = decoded.selection;
  result.coarse_logits = decoded.coarse_logits;
  // With the device selection the host learns the picks only now, after every mask is queued:
  // the rows of the picks that the Selection's queries use.
  auto finish = [&](TubeOutput& r) {
    if (!request.device_selection) return;
    std::vector<std::int64_t> rows;
    r.selection = on_device.to_host(rows);
    const auto index = at::tensor(rows, torch::kInt64).to(queries.device());
    if (r.final_logits.defined()) r.final_logits = r.final_logits.index_select(0, index);
    if (r.coarse_logits.defined()) r.coarse_logits = r.coarse_logits.index_select(0, index);
  };
  StageClock clock(times, out.hs.device());
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
    finish(result);
    return result;
  }
  PointSampling sampling;
  sampling.point_limit = request.point_limit;
  sampling.padded = request.padded_points;
  if (request.device_selection) sampling.in_union = on_device.valid;
  // The refinement works frame by frame, so the mask frames go through it in chunks: its
  // per-instance temporaries ([frames · K, 32, H/2, W/2] and alike) stay bounded for any clip
  // length, and on the CPU small enough for glibc to reuse instead of mapping and zeroing fresh
  // pages for each (most of the system time of offline clips before).
  // (no frame or one: nothing to split, and no mask features to size a chunk by)
  const auto chunk = m <= 1                     ? std::max<std::int64_t>(m, 1)
                     : request.refine_chunk > 0 ? request.refine_chunk
                                                : refine_chunk_frames(queries.size(0),
                                                                      mask_features.c1.size(2),
                                                                      mask_features.c1.size(3),
                                                                      queries.device().is_cpu());
  const auto chunks = m <= chunk ? 1 : (m + chunk - 1) / chunk;
  // On the CPU the chunks run side by side, one thread each; one chunk (an online step) splits
  // the refinement's own independent steps between the threads instead (refine_masks).
  const int workers = queries.device().is_cpu() ? std::max(1, request.cpu_workers) : 1;
  const int inner_workers = chunks == 1 ? workers : 1;
  std::vector<torch::Tensor> parts(static_cast<std::size_t>(chunks));
  run_tasks(chunks, workers, [&](std::int64_t c) {
    const auto begin = c * chunk, end = std::min(m, begin + chunk);
    parts[static_cast<std::size_t>(c)] =
        chunks == 1 ? refine_masks(model, wanted, mask_images, queries, nullptr, sampling,
                                   inner_workers)
                    : refine_masks(model, wanted.frames(begin, end), mask_images.slice(0, begin, end),
                                   queries, nullptr, sampling, inner_workers);
  });
  result.final_logits = chunks == 1 ? parts[0] : at::cat(parts, 1);
  clock.mark(&StageTimes::refine_ms);
  finish(result);
  return result;
}

}  // namespace vmt::model
