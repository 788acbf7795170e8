#include "segment_session.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "vmt.h"
#include "vmt/error.h"
#include "vmt/mask.h"

namespace vmt::gst {

namespace {

PixelFormat pixel_format(GstVideoFormat format) {
  switch (format) {
    case GST_VIDEO_FORMAT_RGB: return PixelFormat::RGB;
    case GST_VIDEO_FORMAT_RGBA: return PixelFormat::RGBA;
    case GST_VIDEO_FORMAT_RGBx: return PixelFormat::RGBx;
    case GST_VIDEO_FORMAT_BGRx: return PixelFormat::BGRx;
    case GST_VIDEO_FORMAT_BGRA: return PixelFormat::BGRA;
    case GST_VIDEO_FORMAT_I420: return PixelFormat::I420;
    case GST_VIDEO_FORMAT_NV12: return PixelFormat::NV12;
    default:
      throw Error(ErrorCode::InvalidArgument,
                  std::string("unsupported video format ") + gst_video_format_to_string(format));
  }
}



}  // namespace

/// An input buffer the element still owns: mapped for reading while a later tube may need its
/// pixels, and not yet emitted or already emitted (then only a reference is kept, so a downstream
/// element that writes in place gets its own copy).
struct SegmentSession::HeldFrame {
  std::int64_t index = 0;         // tube index
  std::int64_t stream_index = 0;  // GstVmtFrameMeta.frame_index
  GstBuffer* buffer = nullptr;    // one reference, owned
  GstVideoFrame frame{};
  bool emitted = false;

  HeldFrame(std::int64_t frame_index, std::int64_t stream, GstBuffer* owned,
            const GstVideoInfo& info)
      : index(frame_index), stream_index(stream), buffer(owned) {
    GstVideoInfo copy = info;
    if (!gst_video_frame_map(&frame, &copy, buffer, GST_MAP_READ)) {
      gst_buffer_unref(buffer);
      throw Error(ErrorCode::InvalidArgument,
                  "cannot map video frame " + std::to_string(frame_index) +
                      " (buffer smaller than the negotiated format?)");
    }
  }
  ~HeldFrame() {
    gst_video_frame_unmap(&frame);
    gst_buffer_unref(buffer);
  }
  HeldFrame(const HeldFrame&) = delete;
  HeldFrame& operator=(const HeldFrame&) = delete;

  ImageView view() const {
    ImageView image;
    image.format = pixel_format(GST_VIDEO_FRAME_FORMAT(&frame));
    image.width = GST_VIDEO_FRAME_WIDTH(&frame);
    image.height = GST_VIDEO_FRAME_HEIGHT(&frame);
    for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES(&frame) && plane < 3; ++plane) {
      image.planes[plane] = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
      image.strides[plane] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
    }
    return image;
  }
};

namespace {

/// The identity rules with the engine's score threshold and instance count per frame.
IdentityConfig with_engine_limits(IdentityConfig config, const EngineSettings& engine) {
  config.min_score = engine.score_threshold;
  config.max_instances_per_frame = engine.max_instances;
  return config;
}

/// Runs `step` (a push or a flush of the engine pipeline) and adds its wall time to `total_ms`.
template <typename Step>
std::optional<TubeResult> timed(double& total_ms, Step&& step) {
  const auto started = std::chrono::steady_clock::now();
  auto result = step();
  total_ms +=
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace

SegmentSession::SegmentSession(const SessionSettings& settings)
    : settings_(settings),
      engine_(std::make_unique<Engine>(settings.engine)),
      steps_(std::make_unique<EnginePipeline>(
          *engine_, settings.pipelined && settings.tubes.mode == TubeMode::Online &&
                        engine_->device().kind == DeviceKind::Cpu)),
      scheduler_(settings.tubes),
      identity_(with_engine_limits(settings.identity, engine_->settings())) {
  gst_video_info_init(&info_);
}

SegmentSession::~SegmentSession() = default;

void SegmentSession::set_format(const GstVideoInfo& info) {
  pixel_format(GST_VIDEO_INFO_FORMAT(&info));  // throws for formats the engine cannot read
  info_ = info;
  has_format_ = true;
}

GstFlowReturn SegmentSession::push(GstBuffer* buffer, const EmitBuffer& emit) {
  if (!has_format_) {
    gst_buffer_unref(buffer);
    throw Error(ErrorCode::InvalidArgument, "received a buffer before caps");
  }
  const std::int64_t index = next_tube_frame_;
  held_.push_back(std::make_unique<HeldFrame>(index, next_frame_, buffer, info_));
  ++next_tube_frame_;
  ++next_frame_;
  ++stats_.frames_in;
  if (const auto job = scheduler_.push(index)) return run_job(*job, emit);
  return GST_FLOW_OK;
}

GstFlowReturn SegmentSession::push_skipped(GstBuffer* buffer, const EmitBuffer& emit) {
  if (!has_format_) {
    gst_buffer_unref(buffer);
    throw Error(ErrorCode::InvalidArgument, "received a buffer before caps");
  }
  // The frame in flight leaves first: every buffer in order.
  if (const GstFlowReturn flow = finish_in_flight(emit); flow != GST_FLOW_OK) {
    gst_buffer_unref(buffer);
    return flow;
  }
  const std::int64_t index = next_frame_++;
  ++stats_.frames_in;
  ++stats_.frames_skipped;
  GstBuffer* out = gst_buffer_make_writable(buffer);
  attach_meta(out, index, last_result_ ? *last_result_ : FrameResult{}, last_result_stream_,
              std::nullopt);
  return emit(out);
}

GstFlowReturn SegmentSession::drain(const EmitBuffer& emit) {
  GstFlowReturn flow = finish_in_flight(emit);
  if (const auto job = flow == GST_FLOW_OK ? scheduler_.flush() : std::nullopt) {
    flow = run_job(*job, emit);
    if (flow == GST_FLOW_OK) flow = finish_in_flight(emit);
  }
  // Every frame must leave: the scheduler emits all pending frames on flush, so anything still
  // unemitted here means a failed push downstream; drop the rest with the stream.
  forget_tubes();
  return flow;
}

void SegmentSession::discard() {
  forget_tubes();
  first_seen_.clear();
}

void SegmentSession::forget_tubes() {
  steps_->discard();
  in_flight_.reset();
  held_.clear();
  scheduler_.reset(next_tube_frame_);
  identity_.reset();
  engine_->clear_cache();
  last_result_.reset();
}

GstFlowReturn SegmentSession::run_job(const TubeJob& job, const EmitBuffer& emit) {
  std::vector<ImageView> frames;
  frames.reserve(static_cast<size_t>(job.frames.size()));
  for (std::int64_t f = job.frames.begin; f < job.frames.end; ++f) {
    HeldFrame* held = find(f);
    if (held == nullptr)
      throw Error(ErrorCode::Internal, "frame " + std::to_string(f) + " is no longer held");
    frames.push_back(held->view());
  }

  std::optional<TubeResult> result;
  try {
    result = timed(stats_.inference_ms_total, [&] {
      return steps_->push(TubeInput{job.frames.begin, frames, job.emit});
    });
  } catch (...) {
    in_flight_.reset();  // the pipeline dropped both tubes
    throw;
  }
  ++stats_.tubes_run;
  // Pipelined, the result is the job's before this one, which waits for the next push.
  std::optional<TubeJob> finished = job;
  if (steps_->overlaps()) finished = std::exchange(in_flight_, job);
  if (!result || !finished) return GST_FLOW_OK;
  return take_result(*finished, *result, emit);
}

GstFlowReturn SegmentSession::finish_in_flight(const EmitBuffer& emit) {
  if (!in_flight_) return GST_FLOW_OK;
  std::optional<TubeResult> result;
  try {
    result = timed(stats_.inference_ms_total, [&] { return steps_->flush(); });
  } catch (...) {
    in_flight_.reset();
    throw;
  }
  const TubeJob job = *std::exchange(in_flight_, std::nullopt);
  return result ? take_result(job, *result, emit) : GST_FLOW_OK;
}

GstFlowReturn SegmentSession::take_result(const TubeJob& job, const TubeResult& result,
                                          const EmitBuffer& emit) {
  const std::vector<FrameResult> per_frame = identity_.assign(job, result);
  GstFlowReturn flow = GST_FLOW_OK;
  for (const FrameResult& frame_result : per_frame) {
    HeldFrame* held = find(frame_result.frame);
    if (held == nullptr || held->emitted) continue;
    flow = emit_frame(*held, frame_result, emit);
    if (flow != GST_FLOW_OK) break;
  }
  // Tracks absent from this tube can never be matched again (identity remembers one tube).
  for (auto it = first_seen_.begin(); it != first_seen_.end();) {
    bool present = false;
    for (const FrameResult& fr : per_frame)
      for (const TrackedInstance& instance : fr.instances) present |= instance.track_id == it->first;
    it = present || it->second.tube >= job.frames.begin ? std::next(it) : first_seen_.erase(it);
  }
  release_before(job.keep_from);
  return flow;
}

GstFlowReturn SegmentSession::emit_frame(HeldFrame& held, const FrameResult& result,
                                         const EmitBuffer& emit) {
  // Our reference stays while later tubes need the pixels: the outgoing buffer is a (shallow)
  // writable copy sharing the memory, so the metadata is ours to add.
  GstBuffer* out = gst_buffer_make_writable(gst_buffer_ref(held.buffer));
  attach_meta(out, held.stream_index, result, held.stream_index, held.index);
  last_result_ = result;
  last_result_stream_ = held.stream_index;
  held.emitted = true;
  return emit(out);
}

/* `seen_at` is the stream index of the frame inference saw `result` on: the frame itself, or for a
 * skipped frame (no `tube_index`) the last inferred one, whose instances are carried over. */
void SegmentSession::attach_meta(GstBuffer* buffer, std::int64_t stream_index,
                                 const FrameResult& result, std::int64_t seen_at,
                                 std::optional<std::int64_t> tube_index) {
  const guint width = GST_VIDEO_INFO_WIDTH(&info_);
  const guint height = GST_VIDEO_INFO_HEIGHT(&info_);
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, stream_index, width, height);
  if (meta == nullptr) meta = gst_buffer_get_vmt_frame_meta(buffer);  // upstream already had one
  meta->skipped = !tube_index.has_value();
  const auto& labels = engine_->model().labels;
  for (const TrackedInstance& instance : result.instances) {
    const BoundingBox& box = instance.mask.box;
    if (instance.mask.empty()) continue;
    auto found = first_seen_.find(instance.track_id);
    if (found == first_seen_.end() && tube_index)
      found = first_seen_.emplace(instance.track_id, FirstSeen{*tube_index, stream_index}).first;
    const std::int64_t first = found != first_seen_.end() ? found->second.stream : seen_at;
    const std::string label = instance.category >= 1 &&
                                      static_cast<size_t>(instance.category) <= labels.size()
                                  ? labels[instance.category - 1]
                                  : "class " + std::to_string(instance.category);
    GstVmtMask* mask = gst_vmt_mask_new(box.width, box.height, instance.mask.pixels.data(),
                                        instance.mask.pixels.size());
    GstVmtInstance* added = gst_vmt_frame_meta_add_instance(
        meta, instance.track_id, instance.category, label.c_str(), instance.score, box.x, box.y,
        box.width, box.height, static_cast<guint64>(first), static_cast<guint64>(seen_at), mask);
    gst_vmt_mask_unref(mask);
    if (added != nullptr && !instance.class_scores.empty()) {
      gst_vmt_instance_set_class_scores(added, instance.class_scores.data(),
                                        static_cast<guint>(instance.class_scores.size()));
    }
  }
  gst_buffer_add_vmt_roi_metas(buffer);
#if GST_VMT_HAVE_ANALYTICS
  if (settings_.analytics_meta) gst_buffer_add_vmt_analytics_meta(buffer, meta);
#endif
}

SegmentSession::HeldFrame* SegmentSession::find(std::int64_t frame) {
  for (auto& held : held_)
    if (held->index == frame) return held.get();
  return nullptr;
}

void SegmentSession::release_before(std::int64_t frame) {
  while (!held_.empty() && held_.front()->index < frame && held_.front()->emitted) held_.pop_front();
}

std::optional<std::int64_t> SegmentSession::latency_frames() const noexcept {
  const auto frames = scheduler_.latency_frames();
  if (!frames || !steps_->overlaps()) return frames;
  return *frames + 1;  // a frame leaves when the next one has been decoded
}

const ModelInfo& SegmentSession::model() const noexcept { return engine_->model(); }

const EngineSettings& SegmentSession::engine_settings() const noexcept {
  return engine_->settings();
}

DeviceSpec SegmentSession::device() const noexcept { return engine_->device(); }

}  // namespace vmt::gst
