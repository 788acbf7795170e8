// The streaming logic behind vmtsegment, free of GObject boilerplate: it holds the frames a tube
// still needs, asks the tube scheduler what to run, runs the engine, assigns track ids and hands
// every input buffer back exactly once, in order, with its GstVmtFrameMeta attached.
//
// One SegmentSession lives from the element's start() to stop(); it is driven from one thread at a
// time (the streaming thread, or the element's inference thread for live online streams; the
// element serialises buffers and serialized events), so it has no lock of its own.
//
// Frames are counted twice: the stream index (every buffer, GstVmtFrameMeta.frame_index) and the
// tube index (frames the model runs on; what the scheduler, the engine cache and the identities
// see). They are equal unless frames were passed through skipped (push_skipped()).
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "vmt/engine.h"
#include "vmt/engine_pipeline.h"
#include "vmt/identity.h"
#include "vmt/tube.h"

namespace vmt::gst {

/// Everything the element's properties decide, snapshotted in start().
struct SessionSettings {
  EngineOptions engine;
  TubeSchedulerConfig tubes;
  IdentityConfig identity;
  /// Also describe each frame as a GstAnalyticsRelationMeta (GStreamer >= 1.26 builds only).
  bool analytics_meta = true;
  /// Online mode on the CPU: a frame's refinement on a second thread while the next is decoded
  /// (EnginePipeline); each frame then leaves when the next one arrives (or at drain).
  bool pipelined = true;
};

/// Counters for the element's read-only `stats` property.
struct SessionStats {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_skipped = 0;  ///< passed without inference (marked skipped in the meta)
  std::uint64_t tubes_run = 0;
  double inference_ms_total = 0.0;   ///< wall time the session waited for inference
  // (frames and instances out are counted by the element at its src pad: a buffer emitted while
  // the pad is flushing does not leave it)
};

/// Receives each output buffer (ownership passes) and says how pushing it went.
using EmitBuffer = std::function<GstFlowReturn(GstBuffer*)>;

class SegmentSession {
 public:
  /// Loads the model (vmt::Error on failure) and validates the tube settings.
  explicit SegmentSession(const SessionSettings& settings);
  ~SegmentSession();
  SegmentSession(const SegmentSession&) = delete;
  SegmentSession& operator=(const SegmentSession&) = delete;

  /// The negotiated format. A different size than before must be preceded by drain().
  void set_format(const GstVideoInfo& info);
  bool has_format() const noexcept { return has_format_; }
  const GstVideoInfo& format() const noexcept { return info_; }

  /// Takes `buffer` (ownership passes), runs whatever tube it completes and emits the frames that
  /// became final. Throws vmt::Error when inference fails or the buffer cannot be mapped.
  GstFlowReturn push(GstBuffer* buffer, const EmitBuffer& emit);

  /// Passes `buffer` (ownership passes) on without inference: its GstVmtFrameMeta is marked skipped
  /// and carries the instances of the last frame that was inferred (last_seen stays that frame).
  /// The frame is not part of any tube. Counted in stats().frames_skipped.
  GstFlowReturn push_skipped(GstBuffer* buffer, const EmitBuffer& emit);

  /// End of stream or a caps change: runs the last partial tube and emits every held frame. The
  /// next push() starts a new sequence (ids keep counting).
  GstFlowReturn drain(const EmitBuffer& emit);

  /// Pipelined online mode: emits the frame whose step is still in flight (waiting for its masks),
  /// so that a serialized event keeps its place among the buffers. Nothing when none is.
  GstFlowReturn emit_in_flight(const EmitBuffer& emit) { return finish_in_flight(emit); }
  /// True while a pipelined step holds a frame (emit_in_flight has one to emit).
  bool has_in_flight() const noexcept { return in_flight_.has_value(); }

  /// Flush or seek: drops every held frame without emitting it and forgets the past tubes.
  void discard();

  /// Frames a buffer may be held before it is emitted: 0 online (1 pipelined), C − 1 offline,
  /// nullopt when unbounded (C = 0, the whole stream).
  std::optional<std::int64_t> latency_frames() const noexcept;

  const ModelInfo& model() const noexcept;
  /// The engine's settings (the element's properties resolved against the model's defaults).
  const EngineSettings& engine_settings() const noexcept;
  DeviceSpec device() const noexcept;
  const SessionStats& stats() const noexcept { return stats_; }

 private:
  struct HeldFrame;

  GstFlowReturn run_job(const TubeJob& job, const EmitBuffer& emit);
  /// Emits the frames of a job whose result is in, and forgets what it no longer needs.
  GstFlowReturn take_result(const TubeJob& job, const TubeResult& result, const EmitBuffer& emit);
  /// The pipelined job's result, waited for and emitted (nothing when none is in flight).
  GstFlowReturn finish_in_flight(const EmitBuffer& emit);
  GstFlowReturn emit_frame(HeldFrame& held, const FrameResult& result, const EmitBuffer& emit);
  void attach_meta(GstBuffer* buffer, std::int64_t stream_index, const FrameResult& result,
                   std::int64_t seen_at, std::optional<std::int64_t> tube_index);
  HeldFrame* find(std::int64_t frame);
  void release_before(std::int64_t frame);
  void forget_tubes();

  /// Where a track first appeared: tube index (to forget it) and stream index (for the meta).
  struct FirstSeen {
    std::int64_t tube = 0;
    std::int64_t stream = 0;
  };

  SessionSettings settings_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EnginePipeline> steps_;  // online with SessionSettings::pipelined: overlapped
  std::optional<TubeJob> in_flight_;       // the job whose result steps_ still owes
  TubeScheduler scheduler_;
  IdentityAssigner identity_;
  GstVideoInfo info_{};
  bool has_format_ = false;
  std::deque<std::unique_ptr<HeldFrame>> held_;           // by tube index, oldest first
  std::map<std::uint64_t, FirstSeen> first_seen_;         // track id → first frame it was on
  std::int64_t next_frame_ = 0;                           // stream index of the next buffer
  std::int64_t next_tube_frame_ = 0;                      // tube index of the next inferred one
  std::optional<FrameResult> last_result_;                // the last inferred frame's result
  std::int64_t last_result_stream_ = 0;                   // and its stream index
  SessionStats stats_;
};

}  // namespace vmt::gst
