// IdentityAssigner: score filter, per-frame limit, greedy Tube Mask IoU association.
#include "vmt/identity.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <tuple>

#include "vmt/error.h"

namespace vmt {

namespace {

void validate(const IdentityConfig& c) {
  if (!(c.match_iou > 0.0 && c.match_iou <= 1.0)) {
    throw Error(ErrorCode::InvalidArgument,
                "identity: match IoU must be in (0, 1], got " + std::to_string(c.match_iou));
  }
  if (!std::isfinite(c.min_score) || c.min_score < 0.f) {
    throw Error(ErrorCode::InvalidArgument,
                "identity: min score must be finite and >= 0, got " + std::to_string(c.min_score));
  }
  if (c.max_instances_per_frame < 0) {
    throw Error(ErrorCode::InvalidArgument, "identity: max instances per frame must be >= 0, got " +
                                                std::to_string(c.max_instances_per_frame));
  }
}

void validate(const TubeJob& job, const TubeResult& result) {
  if (result.frames != job.frames) {
    throw Error(ErrorCode::InvalidArgument,
                "identity: result covers frames [" + std::to_string(result.frames.begin) + ", " +
                    std::to_string(result.frames.end) + "), job " + std::to_string(job.index) +
                    " ran [" + std::to_string(job.frames.begin) + ", " +
                    std::to_string(job.frames.end) + ")");
  }
  const auto frames = static_cast<std::size_t>(job.frames.size());
  for (std::size_t i = 0; i < result.instances.size(); ++i) {
    const TubeInstance& instance = result.instances[i];
    if (instance.masks.size() != frames || instance.frame_masks.size() != frames) {
      throw Error(ErrorCode::InvalidArgument,
                  "identity: instance " + std::to_string(i) + " has " +
                      std::to_string(instance.masks.size()) + " masks and " +
                      std::to_string(instance.frame_masks.size()) +
                      " frame masks for a tube of " + std::to_string(frames) + " frames");
    }
    if (std::isnan(instance.score)) {
      throw Error(ErrorCode::InvalidArgument,
                  "identity: instance " + std::to_string(i) + " has a NaN score");
    }
  }
}

// Indices of the instances that pass the score filter, highest score first (ties: model order).
std::vector<std::size_t> kept_by_score(const TubeResult& result, float min_score) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < result.instances.size(); ++i) {
    if (result.instances[i].score >= min_score) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return result.instances[a].score > result.instances[b].score;
  });
  return order;
}

}  // namespace

IdentityAssigner::IdentityAssigner(const IdentityConfig& config) : config_(config) {
  validate(config_);
}

void IdentityAssigner::reset() {
  memory_frames_ = {};
  memory_.clear();
}

void IdentityAssigner::start_new_stream() {
  reset();
  next_id_ = 1;
}

std::vector<std::uint64_t> IdentityAssigner::match(const TubeResult& result,
                                                   const std::vector<std::size_t>& order) const {
  std::vector<std::uint64_t> ids(order.size(), 0);
  if (config_.association == Association::None || memory_.empty() || order.empty()) return ids;

  // Frames compared: those both tubes contain, else the previous last and the new first frame.
  const FrameRange shared{std::max(memory_frames_.begin, result.frames.begin),
                          std::min(memory_frames_.end, result.frames.end)};
  std::size_t old_offset = 0, new_offset = 0, count = 0;
  if (!shared.empty()) {
    old_offset = static_cast<std::size_t>(shared.begin - memory_frames_.begin);
    new_offset = static_cast<std::size_t>(shared.begin - result.frames.begin);
    count = static_cast<std::size_t>(shared.size());
  } else if (memory_frames_.end == result.frames.begin && !memory_frames_.empty() &&
             !result.frames.empty()) {
    old_offset = static_cast<std::size_t>(memory_frames_.size() - 1);
    count = 1;
  } else {
    return ids;
  }

  struct Candidate {
    double iou;
    std::size_t old_index, new_rank;
  };
  std::vector<Candidate> candidates;
  for (std::size_t o = 0; o < memory_.size(); ++o) {
    const std::span<const Rle> old_masks(memory_[o].masks.data() + old_offset, count);
    for (std::size_t r = 0; r < order.size(); ++r) {
      const auto& new_masks = result.instances[order[r]].masks;
      const double iou =
          rle_tube_iou(old_masks, std::span<const Rle>(new_masks.data() + new_offset, count));
      if (iou >= config_.match_iou) candidates.push_back({iou, o, r});
    }
  }
  // Highest IoU first; ties go to the higher-scored new instance, then the older track.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(b.iou, a.new_rank, a.old_index) < std::tie(a.iou, b.new_rank, b.old_index);
  });
  std::vector<bool> old_used(memory_.size(), false);
  for (const Candidate& c : candidates) {
    if (old_used[c.old_index] || ids[c.new_rank] != 0) continue;
    old_used[c.old_index] = true;
    ids[c.new_rank] = memory_[c.old_index].track_id;
  }
  return ids;
}

std::vector<FrameResult> IdentityAssigner::assign(const TubeJob& job, const TubeResult& result) {
  validate(job, result);
  if (job.index == 0) reset();

  const std::vector<std::size_t> order = kept_by_score(result, config_.min_score);
  std::vector<std::uint64_t> ids = match(result, order);
  for (auto& id : ids) {
    if (id == 0) id = next_id_++;
  }

  // Split the tube into the frames this job makes final.
  std::vector<FrameResult> frames;
  frames.reserve(static_cast<std::size_t>(std::max<std::int64_t>(job.emit.size(), 0)));
  const std::size_t limit = config_.max_instances_per_frame == 0
                                ? order.size()
                                : static_cast<std::size_t>(config_.max_instances_per_frame);
  for (std::int64_t f = job.emit.begin; f < job.emit.end; ++f) {
    FrameResult frame{f, {}};
    const auto slot = static_cast<std::size_t>(f - job.frames.begin);
    for (std::size_t r = 0; r < order.size() && frame.instances.size() < limit; ++r) {
      const TubeInstance& instance = result.instances[order[r]];
      if (instance.frame_masks[slot].empty()) continue;
      frame.instances.push_back({ids[r], instance.score, instance.category,
                                 instance.frame_masks[slot], instance.class_scores});
    }
    frames.push_back(std::move(frame));
  }

  // Remember the frames a later tube may share, and the last frame for the adjacent case.
  memory_.clear();
  memory_frames_ = {};
  if (job.frames.empty()) return frames;
  memory_frames_ = {std::clamp(job.keep_from, job.frames.begin, job.frames.end - 1),
                    job.frames.end};
  const auto first = static_cast<std::size_t>(memory_frames_.begin - job.frames.begin);
  for (std::size_t r = 0; r < order.size(); ++r) {
    const auto& masks = result.instances[order[r]].masks;
    memory_.push_back({ids[r], std::vector<Rle>(masks.begin() + static_cast<std::ptrdiff_t>(first),
                                                 masks.end())});
  }
  return frames;
}

}  // namespace vmt
