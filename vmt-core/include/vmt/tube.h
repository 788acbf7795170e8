// Tube scheduling: which frames to run the model on, and when frames become final.
//
// TubeScheduler is a pure state machine the streaming element drives. The element keeps its own
// frame buffers keyed by frame index; for every pushed frame the scheduler answers whether a tube
// (a range of frames) must run now, which frames are final once that tube's results are in, and
// which frames the element may release. Two modes (VMT supplement §3):
//  - Online (PCAN-style accumulation, BDD100K MOTS): when frame t arrives, run frames
//    max(start, t − L + 1) … t; frame t is final at once.
//  - Offline clips: clips of C frames starting every C − O frames; a clip runs when its last frame
//    arrives (or at EOS for the last, partial clip). After clip k runs, all of its frames not yet
//    emitted are final; its last O frames are also the first O of clip k + 1, where they only give
//    context and association. C = 0 means one clip, the whole stream, run at EOS.
// Every frame is emitted exactly once, in order.
#pragma once

#include <cstdint>
#include <optional>

namespace vmt {

/// Half-open range of frame indices [begin, end).
struct FrameRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;

  /// Number of frames in the range.
  std::int64_t size() const noexcept { return end - begin; }
  /// True when the range holds no frame.
  bool empty() const noexcept { return end <= begin; }
  /// True when `frame` lies in the range.
  bool contains(std::int64_t frame) const noexcept { return frame >= begin && frame < end; }
  friend bool operator==(const FrameRange&, const FrameRange&) = default;
};

/// How tubes are formed.
enum class TubeMode {
  Online,   ///< a sliding window of past frames, one inference per frame
  Offline,  ///< fixed-length overlapping clips
};

/// Scheduler settings. Defaults follow the VMT supplement (L = 30, C = 40, O = 10).
struct TubeSchedulerConfig {
  TubeMode mode = TubeMode::Offline;
  int max_tube_length = 30;  ///< L, online mode: frames kept in the window (≥ 1)
  int clip_length = 40;      ///< C, offline mode: frames per clip (≥ 1), 0 = the whole stream
  int overlap = 10;          ///< O, offline mode: frames shared by neighbouring clips, 0 ≤ O < C
                             ///< (ignored when C = 0: there is only one clip)
};

/// One model run the element must perform.
struct TubeJob {
  std::uint64_t index = 0;  ///< 0, 1, 2 … in the order jobs were issued since the last reset
  FrameRange frames;        ///< frames to run the model on, in order
  FrameRange emit;          ///< frames whose results are final once this job has run (⊆ frames)
  /// First frame a later job may still read: the element may drop input frames before it (once
  /// they are emitted). A job issued by flush() has keep_from = frames.end; after flush() nothing
  /// is needed any more.
  std::int64_t keep_from = 0;
};

/// Decides which tubes to run as frames arrive; see the file comment for the two modes.
class TubeScheduler {
 public:
  /// Validates `config`; throws vmt::Error (InvalidArgument) for L < 1, C < 0, O < 0 or O ≥ C.
  explicit TubeScheduler(const TubeSchedulerConfig& config);

  /// Registers frame `frame`, which must be the next index (the stream starts at the index given
  /// to reset(), 0 by default). Returns the job to run now, if any. Throws on a gap, a repeated
  /// index, or a push after flush().
  std::optional<TubeJob> push(std::int64_t frame);

  /// End of stream: returns the job for the frames not yet emitted (the last, partial clip), if
  /// any. Later calls return nothing; push() then throws until reset().
  std::optional<TubeJob> flush();

  /// Forgets all frames (flush/seek); the next pushed frame must be `first_frame`.
  void reset(std::int64_t first_frame = 0);

  /// Most frames a pushed frame can wait before it is final, for the element's latency answer:
  /// 0 online, C − 1 offline; std::nullopt when unbounded (C = 0, the whole stream).
  std::optional<std::int64_t> latency_frames() const noexcept;

  /// Frames pushed and not yet covered by an issued job's `emit` range.
  std::int64_t pending_frames() const noexcept { return next_frame_ - emitted_end_; }

  /// The index push() expects next.
  std::int64_t next_frame() const noexcept { return next_frame_; }

  /// The configuration in use.
  const TubeSchedulerConfig& config() const noexcept { return config_; }

 private:
  TubeJob make_job(FrameRange frames, std::int64_t keep_from);

  TubeSchedulerConfig config_;
  std::int64_t first_frame_ = 0;  ///< index of the stream's first frame
  std::int64_t next_frame_ = 0;   ///< index push() expects
  std::int64_t emitted_end_ = 0;  ///< frames before this are covered by an issued emit range
  std::int64_t clip_begin_ = 0;   ///< offline: first frame of the clip being filled
  std::uint64_t jobs_issued_ = 0;
  bool flushed_ = false;
};

}  // namespace vmt
