// TubeScheduler: online windows and offline overlapping clips.
#include <algorithm>
#include <string>

#include "vmt/error.h"
#include "vmt/tube.h"

namespace vmt {

namespace {

void validate(const TubeSchedulerConfig& c) {
  auto fail = [](const std::string& message) {
    throw Error(ErrorCode::InvalidArgument, "tube scheduler: " + message);
  };
  if (c.mode == TubeMode::Online) {
    if (c.max_tube_length < 1) {
      fail("max tube length must be at least 1, got " + std::to_string(c.max_tube_length));
    }
    return;
  }
  if (c.clip_length < 0) fail("clip length must be >= 0, got " + std::to_string(c.clip_length));
  if (c.clip_length == 0) return;  // one clip: the overlap has no meaning
  if (c.overlap < 0 || c.overlap >= c.clip_length) {
    fail("overlap must satisfy 0 <= overlap < clip length, got overlap " +
         std::to_string(c.overlap) + " for clip length " + std::to_string(c.clip_length));
  }
}

}  // namespace

TubeScheduler::TubeScheduler(const TubeSchedulerConfig& config) : config_(config) {
  validate(config_);
  reset(0);
}

void TubeScheduler::reset(std::int64_t first_frame) {
  first_frame_ = first_frame;
  next_frame_ = first_frame;
  emitted_end_ = first_frame;
  clip_begin_ = first_frame;
  jobs_issued_ = 0;
  flushed_ = false;
}

TubeJob TubeScheduler::make_job(FrameRange frames, std::int64_t keep_from) {
  TubeJob job;
  job.index = jobs_issued_++;
  job.frames = frames;
  job.emit = {emitted_end_, frames.end};
  job.keep_from = keep_from;
  emitted_end_ = frames.end;
  return job;
}

std::optional<TubeJob> TubeScheduler::push(std::int64_t frame) {
  if (flushed_) {
    throw Error(ErrorCode::InvalidArgument,
                "tube scheduler: frame " + std::to_string(frame) + " pushed after end of stream");
  }
  if (frame != next_frame_) {
    throw Error(ErrorCode::InvalidArgument, "tube scheduler: expected frame " +
                                                std::to_string(next_frame_) + ", got " +
                                                std::to_string(frame));
  }
  next_frame_ = frame + 1;

  if (config_.mode == TubeMode::Online) {
    const std::int64_t length = config_.max_tube_length;
    const std::int64_t begin = std::max(first_frame_, frame - length + 1);
    // The next window starts one frame later: everything before it can go.
    return make_job({begin, frame + 1}, std::max(first_frame_, frame - length + 2));
  }

  const std::int64_t clip = config_.clip_length;
  if (clip == 0 || next_frame_ - clip_begin_ < clip) return std::nullopt;
  const FrameRange frames{clip_begin_, next_frame_};
  clip_begin_ += clip - config_.overlap;
  return make_job(frames, clip_begin_);
}

std::optional<TubeJob> TubeScheduler::flush() {
  if (flushed_) return std::nullopt;
  flushed_ = true;
  if (next_frame_ == emitted_end_) return std::nullopt;
  // Only offline clips hold frames back: run the last, partial clip (with its overlap context).
  return make_job({clip_begin_, next_frame_}, next_frame_);
}

std::optional<std::int64_t> TubeScheduler::latency_frames() const noexcept {
  if (config_.mode == TubeMode::Online) return 0;
  if (config_.clip_length == 0) return std::nullopt;
  return config_.clip_length - 1;
}

}  // namespace vmt
