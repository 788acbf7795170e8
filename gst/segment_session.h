// The streaming logic behind vmtsegment, free of GObject boilerplate: it holds the frames a tube
// still needs, asks the tube scheduler what to run, runs the engine, assigns track ids and hands
// every input buffer back exactly once, in order, with its GstVmtFrameMeta attached.
//
// One SegmentSession lives from the element's start() to stop(); it is driven from the streaming
// thread only (the element serialises chain and serialized events), so it has no lock of its own.
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
#include "vmt/identity.h"
#include "vmt/tube.h"

namespace vmt::gst {

/// Everything the element's properties decide, snapshotted in start().
struct SessionSettings {
  EngineOptions engine;
  TubeSchedulerConfig tubes;
  IdentityConfig identity;
};

/// Counters for the element's read-only `stats` property.
struct SessionStats {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t frames_skipped = 0;  ///< passed without inference (marked skipped in the meta)
  std::uint64_t tubes_run = 0;
  std::uint64_t instances_out = 0;   ///< instances attached, summed over frames
  double inference_ms_total = 0.0;   ///< wall time spent in Engine::run_tube
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

  /// End of stream or a caps change: runs the last partial tube and emits every held frame. The
  /// next push() starts a new sequence (ids keep counting).
  GstFlowReturn drain(const EmitBuffer& emit);

  /// Flush or seek: drops every held frame without emitting it and forgets the past tubes.
  void discard();

  /// Frames a buffer may be held before it is emitted: 0 online, C − 1 offline, nullopt when
  /// unbounded (C = 0, the whole stream).
  std::optional<std::int64_t> latency_frames() const noexcept;

  const ModelInfo& model() const noexcept;
  DeviceSpec device() const noexcept;
  const SessionStats& stats() const noexcept { return stats_; }

 private:
  struct HeldFrame;

  GstFlowReturn run_job(const TubeJob& job, const EmitBuffer& emit);
  GstFlowReturn emit_frame(HeldFrame& held, const FrameResult& result, const EmitBuffer& emit);
  void attach_meta(GstBuffer* buffer, std::int64_t frame, const FrameResult& result);
  HeldFrame* find(std::int64_t frame);
  void release_before(std::int64_t frame);

  SessionSettings settings_;
  std::unique_ptr<Engine> engine_;
  TubeScheduler scheduler_;
  IdentityAssigner identity_;
  GstVideoInfo info_{};
  bool has_format_ = false;
  std::deque<std::unique_ptr<HeldFrame>> held_;           // by frame index, oldest first
  std::map<std::uint64_t, std::int64_t> first_seen_;      // track id → first frame it was on
  std::int64_t next_frame_ = 0;
  SessionStats stats_;
};

}  // namespace vmt::gst
