#include "frame_encoder.h"

#include <algorithm>

#include "../model/parallel_tasks.h"

namespace vmt::engine {

namespace {

/// encode_frames of `images` in `workers` consecutive batches side by side on the CPU (a batch
/// of frames keeps one thread busy; its layers are too small to split well), else one batch.
model::FrameFeatures encode_batches(model::VmtDetector& detector, const torch::Tensor& images,
                                    int workers) {
  const auto n = images.size(0);
  const auto batches = images.device().is_cpu() ? std::min<std::int64_t>(workers, n) : 1;
  if (batches <= 1) return detector->encode_frames(images);
  std::vector<model::FrameFeatures> parts(static_cast<std::size_t>(batches));
  model::run_tasks(batches, workers, [&](std::int64_t b) {
    const auto begin = b * n / batches, end = (b + 1) * n / batches;
    parts[static_cast<std::size_t>(b)] = detector->encode_frames(images.slice(0, begin, end));
  });
  return model::FrameFeatures::cat(parts);
}

/// A frame's features as the cache keeps them (see the header).
model::FrameFeatures cached_copy(model::FrameFeatures f, bool keep_refinement_inputs) {
  if (keep_refinement_inputs) return f;
  f.memory = torch::Tensor();
  f.c1 = torch::Tensor();
  f.layer1 = torch::Tensor();
  f.mask_feats_c = torch::Tensor();
  return f;
}

}  // namespace

std::vector<std::int64_t> FrameEncoder::missing(std::int64_t first_frame, std::int64_t count,
                                                std::int64_t h, std::int64_t w,
                                                std::int64_t mask_begin,
                                                std::int64_t mask_end) const {
  std::vector<std::int64_t> out;
  const bool same_size = cache_enabled_ && h == height_ && w == width_;
  for (std::int64_t i = 0; i < count; ++i) {
    const auto it = same_size ? frames_.find(first_frame + i) : frames_.end();
    const bool masked = i >= mask_begin && i < mask_end;
    if (it == frames_.end() || (masked && !it->second.c1.defined())) out.push_back(i);
  }
  return out;
}

EncodedTube FrameEncoder::encode(model::VmtDetector& detector, std::int64_t first_frame,
                                 std::int64_t count, const torch::Tensor& images,
                                 const std::vector<std::int64_t>& missing, std::int64_t mask_begin,
                                 std::int64_t mask_end, int cpu_workers) {
  model::FrameFeatures batch;
  if (!missing.empty()) batch = encode_batches(detector, images, cpu_workers);
  auto batch_row = [&](std::int64_t frame) {  // row of `batch` holding tube frame `frame`
    return std::lower_bound(missing.begin(), missing.end(), frame) - missing.begin();
  };
  auto from_batch = [&](std::int64_t begin, std::int64_t end) {  // tube frames [begin, end)
    if (begin == end) return model::FrameFeatures{};
    const auto row = batch_row(begin);
    return batch.slice(row, row + (end - begin));  // the mask frames are consecutive rows
  };
  const bool all_new = static_cast<std::int64_t>(missing.size()) == count;
  // The mask frames' refinement inputs: the tube's own when every frame has them, else the
  // batch's (missing() put every mask frame without them into the batch).
  auto with_masks = [&](model::FrameFeatures tube) {
    EncodedTube out;
    out.masks = tube.c1.defined() ? tube.slice(mask_begin, mask_end) : from_batch(mask_begin, mask_end);
    out.tube = std::move(tube);
    return out;
  };
  if (!cache_enabled_) return with_masks(batch);

  if (all_new) frames_.clear();  // nothing was reused (no overlap, or another input size)
  if (!missing.empty()) {
    height_ = batch.input_height;
    width_ = batch.input_width;
  }
  for (std::size_t j = 0; j < missing.size(); ++j) {
    const auto i = static_cast<std::int64_t>(j);
    frames_.insert_or_assign(first_frame + missing[j],
                             cached_copy(batch.slice(i, i + 1), keep_refinement_inputs_));
  }
  std::erase_if(frames_, [&](const auto& item) {
    return item.first < first_frame || item.first >= first_frame + count;
  });
  if (all_new) return with_masks(batch);
  std::vector<model::FrameFeatures> parts;
  parts.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) parts.push_back(frames_.at(first_frame + i));
  return with_masks(model::FrameFeatures::cat(parts));
}

void FrameEncoder::clear() {
  frames_.clear();
  height_ = width_ = -1;
}

}  // namespace vmt::engine
