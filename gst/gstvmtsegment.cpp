/**
 * SECTION:element-vmtsegment
 * @title: vmtsegment
 *
 * Video instance segmentation with Video Mask Transfiner (VMT). Frames are gathered into tubes —
 * online: a window of the last #GstVmtSegment:tube-length frames, one inference per frame;
 * offline: clips of #GstVmtSegment:clip-length frames overlapping by #GstVmtSegment:clip-overlap —
 * the model runs on each tube, and every buffer leaves exactly once, in order, with its
 * timestamps, carrying a #GstVmtFrameMeta (track id, class, label, score, box, mask cropped to the
 * box) and one #GstVideoRegionOfInterestMeta per instance. Built against GStreamer 1.26 or newer,
 * it also attaches the standard #GstAnalyticsRelationMeta (#GstVmtSegment:analytics-meta), which
 * upstream elements such as objectdetectionoverlay read.
 *
 * The model (a .safetensors file written by vmt-convert or vmt-train) is loaded when the element
 * starts and released when it stops; its labels name the classes.
 *
 * In online mode with a live upstream (the latency query says live), inference runs on a thread of
 * its own so the source is never held up: at most #GstVmtSegment:max-lag frames wait for (or are
 * in) inference, and frames arriving beyond that pass through in order with a #GstVmtFrameMeta
 * marked skipped, carrying the last inferred frame's instances, counted as `frames-skipped` in
 * #GstVmtSegment:stats. Non-live streams and offline mode infer every frame in the streaming
 * thread.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! vmtsegment model=vmt_r50.safetensors mode=offline ! vmtoverlay ! videoconvert ! autovideosink
 * ]|
 */
#include "gstvmtsegment.h"

#include <gst/video/video.h>

#include <atomic>
#include <deque>
#include <exception>
#include <memory>
#include <set>
#include <string>

#include "segment_session.h"
#include "vmt.h"  // gst/meta/: GstVmtFrameMeta
#include "vmt/device.h"
#include "vmt/error.h"

GST_DEBUG_CATEGORY_STATIC(gst_vmt_segment_debug);
#define GST_CAT_DEFAULT gst_vmt_segment_debug

#define DEFAULT_MODEL nullptr
#define DEFAULT_DEVICE "auto"
#define DEFAULT_MODE GST_VMT_SEGMENT_MODE_OFFLINE
#define DEFAULT_TUBE_LENGTH 30
#define DEFAULT_CLIP_LENGTH 40
#define DEFAULT_CLIP_OVERLAP 10
#define DEFAULT_ASSOCIATION GST_VMT_SEGMENT_ASSOCIATION_NONE
#define DEFAULT_ASSOCIATION_IOU 0.5
#define DEFAULT_SCORE_THRESHOLD 0.001
#define DEFAULT_MAX_INSTANCES 10
#define DEFAULT_INPUT_SIZE 360
#define DEFAULT_PRECISION GST_VMT_SEGMENT_PRECISION_FP32
#define DEFAULT_MAX_LAG 2
#define DEFAULT_POINT_LIMIT 0
#define DEFAULT_CPU_WORKERS 0
#define DEFAULT_PIPELINED TRUE
#define DEFAULT_INSTANCES GST_VMT_SEGMENT_INSTANCES_PER_OBJECT
#define DEFAULT_ANALYTICS_META TRUE
#define MAX_TUBE_LENGTH 1000
#define MAX_CLIP_LENGTH 100000
#define MAX_INSTANCES 1000
#define MAX_INPUT_SIZE 4096
#define MAX_MAX_LAG 1000
#define MAX_POINT_LIMIT 12000
#define MAX_CPU_WORKERS 256

enum {
  PROP_0,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_MODE,
  PROP_TUBE_LENGTH,
  PROP_CLIP_LENGTH,
  PROP_CLIP_OVERLAP,
  PROP_ASSOCIATION,
  PROP_ASSOCIATION_IOU,
  PROP_SCORE_THRESHOLD,
  PROP_MAX_INSTANCES,
  PROP_INPUT_SIZE,
  PROP_PRECISION,
  PROP_MAX_LAG,
  PROP_POINT_LIMIT,
  PROP_CPU_WORKERS,
  PROP_PIPELINED,
  PROP_INSTANCES,
  PROP_ANALYTICS_META,
  PROP_ACTIVE_DEVICE,
  PROP_STATS,
};

namespace {

/* The property values; a snapshot is taken in start(). */
struct Settings {
  std::string model;
  std::string device = DEFAULT_DEVICE;
  GstVmtSegmentMode mode = DEFAULT_MODE;
  guint tube_length = DEFAULT_TUBE_LENGTH;
  guint clip_length = DEFAULT_CLIP_LENGTH;
  guint clip_overlap = DEFAULT_CLIP_OVERLAP;
  bool clip_overlap_set = false;  // set by the user (else the default, checked only at start)
  std::string clip_refused;       // why the last clip-length/clip-overlap value was not taken
  GstVmtSegmentAssociation association = DEFAULT_ASSOCIATION;
  gdouble association_iou = DEFAULT_ASSOCIATION_IOU;
  gdouble score_threshold = DEFAULT_SCORE_THRESHOLD;
  guint max_instances = DEFAULT_MAX_INSTANCES;
  guint input_size = DEFAULT_INPUT_SIZE;
  GstVmtSegmentPrecision precision = DEFAULT_PRECISION;
  guint max_lag = DEFAULT_MAX_LAG;
  guint point_limit = DEFAULT_POINT_LIMIT;
  guint cpu_workers = DEFAULT_CPU_WORKERS;
  gboolean pipelined = DEFAULT_PIPELINED;
  GstVmtSegmentInstances instances = DEFAULT_INSTANCES;
  /* The properties whose value the user set; the model file's preference (then the built-in
   * default) applies to the others that it covers (input-size, score-threshold, max-instances,
   * point-limit). */
  std::set<guint> user_set;
  gboolean analytics_meta = DEFAULT_ANALYTICS_META;
};

/* A buffer or serialized event waiting in the live queue. */
struct QueuedItem {
  GstMiniObject* object;  // owned
  bool skip;              // a buffer to pass on without inference
};

vmt::gst::SessionSettings session_settings(const Settings& s) {
  vmt::gst::SessionSettings out;
  out.engine.model_path = s.model;
  out.engine.device = vmt::parse_device(s.device);
  out.engine.precision = s.precision == GST_VMT_SEGMENT_PRECISION_FP16   ? vmt::Precision::Float16
                         : s.precision == GST_VMT_SEGMENT_PRECISION_BF16 ? vmt::Precision::BFloat16
                                                                         : vmt::Precision::Float32;
  // Unset properties: the model file's preference, else the engine's built-in default.
  auto user = [&](guint prop) { return s.user_set.contains(prop); };
  if (user(PROP_INPUT_SIZE)) out.engine.input_size = static_cast<int>(s.input_size);
  if (user(PROP_MAX_INSTANCES)) out.engine.max_instances = static_cast<int>(s.max_instances);
  if (user(PROP_SCORE_THRESHOLD)) out.engine.score_threshold = static_cast<float>(s.score_threshold);
  if (user(PROP_POINT_LIMIT)) out.engine.point_limit = static_cast<int>(s.point_limit);
  out.engine.cpu_workers = static_cast<int>(s.cpu_workers);
  out.engine.selection = s.instances == GST_VMT_SEGMENT_INSTANCES_TOP_PAIRS
                             ? vmt::InstanceSelection::TopPairs
                             : vmt::InstanceSelection::PerObject;
  // Online windows share all but one frame, offline clips their overlap: both reuse features.
  out.engine.feature_cache = true;
  out.tubes.mode = s.mode == GST_VMT_SEGMENT_MODE_ONLINE ? vmt::TubeMode::Online
                                                         : vmt::TubeMode::Offline;
  out.tubes.max_tube_length = static_cast<int>(s.tube_length);
  out.tubes.clip_length = static_cast<int>(s.clip_length);
  out.tubes.overlap = static_cast<int>(s.clip_overlap);
  // Online windows always keep identities by tube IoU; `association` chooses for offline clips.
  const bool associate = s.mode == GST_VMT_SEGMENT_MODE_ONLINE ||
                         s.association == GST_VMT_SEGMENT_ASSOCIATION_TUBE_IOU;
  out.identity.association = associate ? vmt::Association::TubeMaskIoU : vmt::Association::None;
  out.identity.match_iou = s.association_iou;
  // identity.min_score and max_instances_per_frame follow the engine's settings (the session)
  out.analytics_meta = s.analytics_meta;
  out.pipelined = s.pipelined;
  return out;
}

/* Why clip-overlap and clip-length cannot go together, or "" when they can (clip-length 0 is one
 * clip of the whole stream, where the overlap has no meaning). */
std::string clip_settings_problem(guint clip_length, guint clip_overlap, bool overlap_set) {
  if (clip_length == 0 || clip_overlap < clip_length) return "";
  return "clip-overlap (" + std::to_string(clip_overlap) + (overlap_set ? "" : ", the default") +
         ") must be smaller than clip-length (" + std::to_string(clip_length) + ")";
}

/* Why the settings cannot start a session, naming the property, or "" when they can. Checked
 * before the model is loaded, so the error is not blamed on the model. */
std::string settings_problem(const Settings& s) {
  if (!s.clip_refused.empty()) return "Invalid settings: " + s.clip_refused;
  if (s.mode == GST_VMT_SEGMENT_MODE_OFFLINE) {
    const std::string clip = clip_settings_problem(s.clip_length, s.clip_overlap, s.clip_overlap_set);
    if (!clip.empty()) return "Invalid settings: " + clip + " (set clip-overlap)";
  }
  try {
    vmt::resolve_device(vmt::parse_device(s.device));
  } catch (const vmt::Error& error) {
    return std::string("Invalid settings: property 'device': ") + error.what();
  }
  return "";
}

}  // namespace

struct _GstVmtSegment {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;

  /* Protected by the object lock: written by set_property, read in start(). */
  Settings settings;
  /* Protected by the object lock: what the `active-device` and `stats` properties report,
   * updated from the streaming thread. */
  std::string active_device;
  vmt::gst::SessionStats stats;
  /* Protected by the object lock: buffers that left the src pad (counted by a pad probe, so a
   * buffer the pad refused while flushing is not counted) and their instances. */
  guint64 frames_out;
  guint64 instances_out;

  /* Created in start() (READY→PAUSED), destroyed in stop() (PAUSED→READY) once streaming has
   * stopped; in between used by one thread at a time: the streaming thread (chain and serialized
   * events), or with the live queue the src pad's task (the streaming thread only while the task
   * is paused, at a flush). */
  std::unique_ptr<vmt::gst::SegmentSession> session;

  /* Snapshots taken in start(); read by the streaming thread. */
  bool online;
  guint max_lag;
  /* Streaming thread: whether the first buffer decided on the live queue yet (reset in start()). */
  bool live_decided;
  /* Whether the live queue is in use (set once by the streaming thread, read by flush events from
   * other threads). */
  std::atomic<bool> threaded;

  /* The live queue: the streaming thread enqueues buffers and serialized events, the src pad's
   * task runs inference and pushes them in order. queue_lock protects every field below;
   * queue_cond is signalled when an item is added or finished and when queue_flushing is set. */
  GMutex queue_lock;
  GCond queue_cond;
  std::deque<QueuedItem> queue;
  guint queue_inferring;      /* queued buffers to infer, including the one in inference */
  bool queue_busy;            /* the task holds an item it took from the queue */
  bool queue_flushing;        /* flush or deactivation: the task stops, nothing is enqueued */
  GstFlowReturn queue_result; /* how the task's last push went, returned by chain */
};

#define VMT_SEGMENT_CAPS GST_VIDEO_CAPS_MAKE("{ RGB, RGBA, RGBx, BGRx, BGRA, I420, NV12 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_SEGMENT_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_SEGMENT_CAPS));

#define gst_vmt_segment_parent_class parent_class
G_DEFINE_TYPE(GstVmtSegment, gst_vmt_segment, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(vmtsegment, "vmtsegment", GST_RANK_NONE, GST_TYPE_VMT_SEGMENT);

/* --- enums ------------------------------------------------------------------------------------ */

#define DEFINE_ENUM_TYPE(function, name, ...)                         \
  GType function(void) {                                              \
    static GType type = 0;                                            \
    static const GEnumValue values[] = {__VA_ARGS__, {0, nullptr, nullptr}}; \
    if (g_once_init_enter(&type)) {                                   \
      GType registered = g_enum_register_static(name, values);        \
      g_once_init_leave(&type, registered);                           \
    }                                                                 \
    return type;                                                      \
  }

DEFINE_ENUM_TYPE(gst_vmt_segment_mode_get_type, "GstVmtSegmentMode",
                 {GST_VMT_SEGMENT_MODE_ONLINE, "Sliding window of past frames", "online"},
                 {GST_VMT_SEGMENT_MODE_OFFLINE, "Overlapping clips", "offline"})
DEFINE_ENUM_TYPE(gst_vmt_segment_instances_get_type, "GstVmtSegmentInstances",
                 {GST_VMT_SEGMENT_INSTANCES_PER_OBJECT, "One instance per object, its best class",
                  "per-object"},
                 {GST_VMT_SEGMENT_INSTANCES_TOP_PAIRS,
                  "Top (object, class) pairs (official evaluation)", "top-pairs"})
DEFINE_ENUM_TYPE(gst_vmt_segment_association_get_type, "GstVmtSegmentAssociation",
                 {GST_VMT_SEGMENT_ASSOCIATION_NONE, "Fresh ids per clip", "none"},
                 {GST_VMT_SEGMENT_ASSOCIATION_TUBE_IOU, "Tube mask IoU matching", "tube-iou"})
DEFINE_ENUM_TYPE(gst_vmt_segment_precision_get_type, "GstVmtSegmentPrecision",
                 {GST_VMT_SEGMENT_PRECISION_FP32, "32-bit float", "fp32"},
                 {GST_VMT_SEGMENT_PRECISION_FP16, "16-bit float (CUDA)", "fp16"},
                 {GST_VMT_SEGMENT_PRECISION_BF16,
                  "bfloat16 (CUDA, or a CPU with bf16 instructions)", "bf16"})

/* --- errors ----------------------------------------------------------------------------------- */

/* Posts `error` as a GStreamer error message of the matching domain. */
static void post_vmt_error(GstVmtSegment* self, const char* context, const vmt::Error& error) {
  const std::string text = std::string(context) + ": " + error.what();
  switch (error.code()) {
    case vmt::ErrorCode::NotFound:
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", text.c_str()), (nullptr));
      break;
    case vmt::ErrorCode::CorruptData:
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s", text.c_str()), (nullptr));
      break;
    case vmt::ErrorCode::InvalidArgument:
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", text.c_str()), (nullptr));
      break;
    case vmt::ErrorCode::Unavailable:
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", text.c_str()), (nullptr));
      break;
    case vmt::ErrorCode::OutOfMemory:
      GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("%s", text.c_str()), (nullptr));
      break;
    case vmt::ErrorCode::Internal:
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("%s", text.c_str()), (nullptr));
      break;
  }
}

/* --- streaming -------------------------------------------------------------------------------- */

static void publish_stats(GstVmtSegment* self) {
  GST_OBJECT_LOCK(self);
  self->stats = self->session->stats();
  GST_OBJECT_UNLOCK(self);
}

static vmt::gst::EmitBuffer pusher(GstVmtSegment* self) {
  return [self](GstBuffer* buffer) { return gst_pad_push(self->srcpad, buffer); };
}

/* Runs `step` (a session call that may infer and push) and publishes the stats; returns how its
 * pushes went, GST_FLOW_ERROR after posting an error for a failure. */
template <typename Step>
static GstFlowReturn run_session(GstVmtSegment* self, Step&& step) {
  GstFlowReturn flow = GST_FLOW_ERROR;
  try {
    flow = step();
  } catch (const vmt::Error& error) {
    post_vmt_error(self, "Segmentation failed", error);
  } catch (const std::exception& error) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Segmentation failed: %s", error.what()), (nullptr));
  }
  publish_stats(self);
  return flow;
}

/* Runs `buffer` through the session (inferred, or passed on marked skipped). */
static GstFlowReturn process_buffer(GstVmtSegment* self, GstBuffer* buffer, bool skip) {
  return run_session(self, [&] {
    return skip ? self->session->push_skipped(buffer, pusher(self))
                : self->session->push(buffer, pusher(self));
  });
}

/* Lets the frame a pipelined online step still holds leave: before a serialized event, so that
 * events keep their place among the buffers, or when no frame waits in the live queue. */
static GstFlowReturn emit_in_flight(GstVmtSegment* self) {
  return run_session(self, [&] { return self->session->emit_in_flight(pusher(self)); });
}

static void gst_vmt_segment_loop(gpointer data);

/* (Re)starts the live queue's task, unless the src pad is being deactivated (its activation
 * function sets queue_flushing under queue_lock, then stops the task). Call with queue_lock held. */
static void start_task_locked(GstVmtSegment* self) {
  if (!gst_pad_is_active(self->srcpad)) {
    GST_DEBUG_OBJECT(self, "src pad inactive: not starting the inference task");
    self->queue_flushing = true;
    self->queue_result = GST_FLOW_FLUSHING;
    return;
  }
  self->queue_flushing = false;
  self->queue_result = GST_FLOW_OK;
  gst_pad_start_task(self->srcpad, gst_vmt_segment_loop, self, nullptr);
}

/* At the first buffer: online mode with a live upstream and max-lag > 0 starts the live queue. */
static void decide_live_queue(GstVmtSegment* self) {
  self->live_decided = true;
  if (!self->online || self->max_lag == 0) return;
  gboolean live = FALSE;
  GstQuery* query = gst_query_new_latency();
  if (gst_pad_peer_query(self->sinkpad, query))
    gst_query_parse_latency(query, &live, nullptr, nullptr);
  gst_query_unref(query);
  if (!live) return;
  GST_INFO_OBJECT(self, "live upstream: inference on its own thread, at most %u frames behind",
                  self->max_lag);
  self->threaded = true;
  g_mutex_lock(&self->queue_lock);
  start_task_locked(self);
  g_mutex_unlock(&self->queue_lock);
}

/* Adds a buffer (or a serialized event) to the live queue; a buffer beyond max-lag frames waiting
 * for inference is marked to pass skipped. */
static GstFlowReturn enqueue(GstVmtSegment* self, GstMiniObject* object) {
  g_mutex_lock(&self->queue_lock);
  if (self->queue_flushing || self->queue_result != GST_FLOW_OK) {
    const GstFlowReturn flow = self->queue_flushing ? GST_FLOW_FLUSHING : self->queue_result;
    g_mutex_unlock(&self->queue_lock);
    gst_mini_object_unref(object);
    return flow;
  }
  bool skip = false;
  if (GST_IS_BUFFER(object)) {
    skip = self->queue_inferring >= self->max_lag;
    if (!skip) ++self->queue_inferring;
    GST_TRACE_OBJECT(self, "queued buffer %" GST_TIME_FORMAT "%s",
                     GST_TIME_ARGS(GST_BUFFER_PTS(object)), skip ? " (skipped)" : "");
  }
  self->queue.push_back({object, skip});
  g_cond_broadcast(&self->queue_cond);
  g_mutex_unlock(&self->queue_lock);
  return GST_FLOW_OK;
}

/* Drops what the live queue holds (flush, deactivation). Sticky events other than segment and EOS
 * are kept on the src pad so they still reach downstream before the next buffer; returns the last
 * dropped caps (a ref) so the session can take the format, or NULL. Call with queue_lock held. */
static GstCaps* clear_queue_locked(GstVmtSegment* self) {
  GstCaps* caps = nullptr;
  for (const QueuedItem& item : self->queue) {
    if (GST_IS_EVENT(item.object)) {
      GstEvent* event = GST_EVENT_CAST(item.object);
      const GstEventType type = GST_EVENT_TYPE(event);
      if ((gst_event_type_get_flags(type) & GST_EVENT_TYPE_STICKY) && type != GST_EVENT_SEGMENT &&
          type != GST_EVENT_EOS)
        gst_pad_store_sticky_event(self->srcpad, event);
      if (type == GST_EVENT_CAPS) {
        GstCaps* event_caps = nullptr;
        gst_event_parse_caps(event, &event_caps);
        gst_caps_replace(&caps, event_caps);
      }
    }
    gst_mini_object_unref(item.object);
  }
  self->queue.clear();
  self->queue_inferring = 0;
  return caps;
}

static gboolean drain_session(GstVmtSegment* self);
static gboolean handle_caps(GstVmtSegment* self, GstCaps* caps);

/* Pauses the live queue's task after a push or an item went `flow` (not OK); error_posted: an
 * error message already says why. */
static void pause_task_after(GstVmtSegment* self, GstFlowReturn flow, bool error_posted) {
  GST_DEBUG_OBJECT(self, "pausing the inference task: %s", gst_flow_get_name(flow));
  gst_pad_pause_task(self->srcpad);
  if ((flow == GST_FLOW_NOT_LINKED || flow < GST_FLOW_EOS) && !error_posted) {
    // As queue does: upstream no longer hears of downstream directly, so tell the application.
    GST_ELEMENT_FLOW_ERROR(self, flow);
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
  }
}

/* The src pad's task: takes the oldest item of the live queue, runs it through the session or
 * pushes the event, and pauses itself on flushing, EOS or a failed push. */
static void gst_vmt_segment_loop(gpointer data) {
  GstVmtSegment* self = GST_VMT_SEGMENT(data);
  g_mutex_lock(&self->queue_lock);
  // Nothing waits: the frame a pipelined step holds leaves now instead of with the next frame
  // (the overlap pays only while frames wait; a live source's next frame may be a while away).
  if (self->queue.empty() && !self->queue_flushing && self->session->has_in_flight()) {
    self->queue_busy = true;
    g_mutex_unlock(&self->queue_lock);
    const GstFlowReturn flow = emit_in_flight(self);
    g_mutex_lock(&self->queue_lock);
    self->queue_busy = false;
    g_cond_broadcast(&self->queue_cond);
    if (flow != GST_FLOW_OK) {
      if (!self->queue_flushing) self->queue_result = flow;
      g_mutex_unlock(&self->queue_lock);
      pause_task_after(self, flow, flow == GST_FLOW_ERROR);
      return;
    }
  }
  while (self->queue.empty() && !self->queue_flushing)
    g_cond_wait(&self->queue_cond, &self->queue_lock);
  if (self->queue_flushing) {
    g_mutex_unlock(&self->queue_lock);
    gst_pad_pause_task(self->srcpad);
    return;
  }
  const QueuedItem item = self->queue.front();
  self->queue.pop_front();
  self->queue_busy = true;
  g_mutex_unlock(&self->queue_lock);

  // The item's object passes on (or is freed) below.
  const bool inferred = GST_IS_BUFFER(item.object) && !item.skip;
  GstFlowReturn flow = GST_FLOW_OK;
  bool error_posted = false;
  if (GST_IS_BUFFER(item.object)) {
    flow = process_buffer(self, GST_BUFFER_CAST(item.object), item.skip);
    error_posted = flow == GST_FLOW_ERROR;
  } else if (emit_in_flight(self) == GST_FLOW_ERROR) {
    gst_mini_object_unref(item.object);
    flow = GST_FLOW_ERROR;
    error_posted = true;
  } else {
    GstEvent* event = GST_EVENT_CAST(item.object);
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_CAPS: {
        GstCaps* caps = nullptr;
        gst_event_parse_caps(event, &caps);
        if (!handle_caps(self, caps)) {
          flow = GST_FLOW_NOT_NEGOTIATED;
          error_posted = true;
          gst_event_unref(event);
        } else {
          gst_pad_push_event(self->srcpad, event);
        }
        break;
      }
      case GST_EVENT_EOS:
        // Every frame still queued left before; the session holds none in online mode, but drain
        // all the same and end the stream.
        if (!drain_session(self)) error_posted = true;
        gst_pad_push_event(self->srcpad, event);
        flow = GST_FLOW_EOS;
        break;
      default:
        gst_pad_push_event(self->srcpad, event);
        break;
    }
  }

  g_mutex_lock(&self->queue_lock);
  if (inferred) --self->queue_inferring;
  self->queue_busy = false;
  if (flow != GST_FLOW_OK && !self->queue_flushing) self->queue_result = flow;
  g_cond_broadcast(&self->queue_cond);
  g_mutex_unlock(&self->queue_lock);

  if (flow == GST_FLOW_OK) return;
  pause_task_after(self, flow, error_posted);
}

static GstFlowReturn gst_vmt_segment_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
  GstVmtSegment* self = GST_VMT_SEGMENT(parent);
  if (!self->session) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  if (!self->live_decided) decide_live_queue(self);
  if (self->threaded) return enqueue(self, GST_MINI_OBJECT_CAST(buffer));
  return process_buffer(self, buffer, false);
}

/* Runs the held frames through the model and pushes them; false after posting an error. */
static gboolean drain_session(GstVmtSegment* self) {
  const GstFlowReturn flow =
      run_session(self, [&] { return self->session->drain(pusher(self)); });
  return flow == GST_FLOW_OK || flow == GST_FLOW_FLUSHING || flow == GST_FLOW_EOS ||
         flow == GST_FLOW_NOT_LINKED;
}

static gboolean handle_caps(GstVmtSegment* self, GstCaps* caps) {
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Invalid video caps"), ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  auto& session = *self->session;
  if (session.has_format() && (GST_VIDEO_INFO_WIDTH(&info) != GST_VIDEO_INFO_WIDTH(&session.format()) ||
                               GST_VIDEO_INFO_HEIGHT(&info) != GST_VIDEO_INFO_HEIGHT(&session.format()) ||
                               GST_VIDEO_INFO_FORMAT(&info) != GST_VIDEO_INFO_FORMAT(&session.format()))) {
    GST_INFO_OBJECT(self, "format changed: finishing the current tube first");
    if (!drain_session(self)) return FALSE;
  }
  try {
    session.set_format(info);
  } catch (const vmt::Error& error) {
    post_vmt_error(self, "Unsupported caps", error);
    return FALSE;
  }
  return TRUE;
}

/* Events with the live queue in use: serialized ones travel through the queue in order with the
 * buffers; a flush stops the task, drops the queue and the held frames, and restarts it. */
static gboolean live_queue_event(GstVmtSegment* self, GstPad* pad, GstEvent* event) {
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START: {
      g_mutex_lock(&self->queue_lock);
      self->queue_flushing = true;
      self->queue_result = GST_FLOW_FLUSHING;
      g_cond_broadcast(&self->queue_cond);
      g_mutex_unlock(&self->queue_lock);
      const gboolean forwarded = gst_pad_event_default(pad, GST_OBJECT_CAST(self), event);
      // Unblocked by the flush downstream; waits for an inference that is running to end.
      gst_pad_pause_task(self->srcpad);
      return forwarded;
    }
    case GST_EVENT_FLUSH_STOP: {
      // The task is paused since FLUSH_START; make sure, as the session is ours only then.
      g_mutex_lock(&self->queue_lock);
      self->queue_flushing = true;
      g_cond_broadcast(&self->queue_cond);
      g_mutex_unlock(&self->queue_lock);
      gst_pad_pause_task(self->srcpad);
      g_mutex_lock(&self->queue_lock);
      GstCaps* caps = clear_queue_locked(self);
      g_mutex_unlock(&self->queue_lock);
      self->session->discard();
      gboolean ok = !caps || handle_caps(self, caps);
      if (caps) gst_caps_unref(caps);
      ok &= gst_pad_event_default(pad, GST_OBJECT_CAST(self), event);
      g_mutex_lock(&self->queue_lock);
      start_task_locked(self);
      g_mutex_unlock(&self->queue_lock);
      return ok;
    }
    case GST_EVENT_STREAM_START:
    case GST_EVENT_SEGMENT: {
      // A new stream after EOS (without a flush) restarts the task.
      g_mutex_lock(&self->queue_lock);
      if (self->queue_result == GST_FLOW_EOS) start_task_locked(self);
      g_mutex_unlock(&self->queue_lock);
      return enqueue(self, GST_MINI_OBJECT_CAST(event)) == GST_FLOW_OK;
    }
    default:
      if (gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_SERIALIZED)
        return enqueue(self, GST_MINI_OBJECT_CAST(event)) == GST_FLOW_OK;
      return gst_pad_event_default(pad, GST_OBJECT_CAST(self), event);
  }
}

static gboolean gst_vmt_segment_sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  GstVmtSegment* self = GST_VMT_SEGMENT(parent);
  if (self->threaded && self->session) return live_queue_event(self, pad, event);
  const bool serialized = gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_SERIALIZED;
  if (self->session && serialized && GST_EVENT_TYPE(event) != GST_EVENT_FLUSH_STOP &&
      emit_in_flight(self) == GST_FLOW_ERROR) {
    gst_event_unref(event);
    return FALSE;
  }
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      if (!self->session || !handle_caps(self, caps)) {
        gst_event_unref(event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      // Every held frame leaves before EOS does.
      if (self->session && !drain_session(self)) {
        gst_event_unref(event);
        return FALSE;
      }
      break;
    case GST_EVENT_FLUSH_STOP:
      if (self->session) self->session->discard();
      break;
    default:
      break;
  }
  return gst_pad_event_default(pad, parent, event);
}

/* Serialized queries (allocation, drain) wait until the live queue has passed everything before
 * them on. */
static gboolean gst_vmt_segment_sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstVmtSegment* self = GST_VMT_SEGMENT(parent);
  const bool serialized =
      gst_query_type_get_flags(GST_QUERY_TYPE(query)) & GST_QUERY_TYPE_SERIALIZED;
  if (serialized && self->threaded) {
    g_mutex_lock(&self->queue_lock);
    while ((!self->queue.empty() || self->queue_busy) && !self->queue_flushing &&
           self->queue_result == GST_FLOW_OK)
      g_cond_wait(&self->queue_cond, &self->queue_lock);
    const bool flushing = self->queue_flushing;
    g_mutex_unlock(&self->queue_lock);
    if (flushing) return FALSE;
  }
  return gst_pad_query_default(pad, parent, query);
}

/* Deactivating the src pad (PAUSED→READY) stops the live queue's task and drops its items. */
static gboolean gst_vmt_segment_src_activate_mode(GstPad* pad, GstObject* parent, GstPadMode mode,
                                                  gboolean active) {
  GstVmtSegment* self = GST_VMT_SEGMENT(parent);
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  g_mutex_lock(&self->queue_lock);
  self->queue_flushing = !active;
  self->queue_result = active ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  g_cond_broadcast(&self->queue_cond);
  g_mutex_unlock(&self->queue_lock);
  if (active) return TRUE;
  const gboolean stopped = gst_pad_stop_task(pad);
  g_mutex_lock(&self->queue_lock);
  GstCaps* caps = clear_queue_locked(self);
  g_mutex_unlock(&self->queue_lock);
  if (caps) gst_caps_unref(caps);
  return stopped;
}

/* Adds what the tube mode holds back to the upstream latency. */
static gboolean gst_vmt_segment_src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstVmtSegment* self = GST_VMT_SEGMENT(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY || !self->session)
    return gst_pad_query_default(pad, parent, query);
  if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
  gboolean live = FALSE;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
  gst_query_parse_latency(query, &live, &min, &max);
  const auto frames = self->session->latency_frames();
  const GstVideoInfo& info = self->session->format();
  const bool known_rate = self->session->has_format() && GST_VIDEO_INFO_FPS_N(&info) > 0;
  if (!frames) {
    max = GST_CLOCK_TIME_NONE;  // the whole stream is one clip
  } else if (*frames > 0 && known_rate) {
    const GstClockTime held = gst_util_uint64_scale_int(*frames * GST_SECOND,
                                                        GST_VIDEO_INFO_FPS_D(&info),
                                                        GST_VIDEO_INFO_FPS_N(&info));
    min += held;
    if (GST_CLOCK_TIME_IS_VALID(max)) max += held;
  }
  GST_DEBUG_OBJECT(self, "latency: min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(min), GST_TIME_ARGS(max));
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}

/* --- start / stop ----------------------------------------------------------------------------- */

/* The demo model shipped with vmt-gst: installed into the data folder, or the source tree's copy
 * when running from the build tree; "" when neither exists. */
static std::string shipped_demo_model() {
  for (const char* path : {VMT_INSTALLED_DEMO_MODEL, VMT_SOURCE_DEMO_MODEL})
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) return path;
  return "";
}

static gboolean gst_vmt_segment_start(GstVmtSegment* self) {
  GST_OBJECT_LOCK(self);
  const Settings settings = self->settings;
  GST_OBJECT_UNLOCK(self);

  Settings settings_used = settings;
  if (settings_used.model.empty()) settings_used.model = shipped_demo_model();
  self->online = settings.mode == GST_VMT_SEGMENT_MODE_ONLINE;
  self->max_lag = settings.max_lag;
  self->live_decided = false;
  self->threaded = false;
  if (const std::string problem = settings_problem(settings); !problem.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", problem.c_str()), (nullptr));
    return FALSE;
  }
  if (settings_used.model.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No model file set and no demo model installed"),
                      ("set the 'model' property to a .safetensors VMT model"));
    return FALSE;
  }
  try {
    auto session = std::make_unique<vmt::gst::SegmentSession>(session_settings(settings_used));
    const std::string device = vmt::describe_device(session->device());
    const vmt::EngineSettings& used = session->engine_settings();
    GST_INFO_OBJECT(self, "model %s (%s) on %s, input size %d, score threshold %g, %d instances, "
                    "%d refinement points per frame (0 = exact)", session->model().name.c_str(),
                    settings_used.model.c_str(), device.c_str(), used.input_size,
                    used.score_threshold, used.max_instances, used.point_limit);
    for (const std::string& warning : used.warnings) {
      GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", warning.c_str()), (nullptr));
    }
    GST_OBJECT_LOCK(self);
    self->active_device = device;
    self->stats = {};
    // Reading a property the user left unset shows the value in use (the model's preference).
    Settings& shown = self->settings;
    if (!shown.user_set.contains(PROP_INPUT_SIZE)) shown.input_size = static_cast<guint>(used.input_size);
    if (!shown.user_set.contains(PROP_MAX_INSTANCES))
      shown.max_instances = static_cast<guint>(used.max_instances);
    if (!shown.user_set.contains(PROP_SCORE_THRESHOLD)) shown.score_threshold = used.score_threshold;
    if (!shown.user_set.contains(PROP_POINT_LIMIT)) shown.point_limit = static_cast<guint>(used.point_limit);
    self->frames_out = 0;
    self->instances_out = 0;
    GST_OBJECT_UNLOCK(self);
    self->session = std::move(session);
  } catch (const vmt::Error& error) {
    post_vmt_error(self, ("Cannot start with model \"" + settings_used.model + "\"").c_str(), error);
    return FALSE;
  } catch (const std::exception& error) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Cannot start: %s", error.what()), (nullptr));
    return FALSE;
  }
  return TRUE;
}

static void gst_vmt_segment_stop(GstVmtSegment* self) {
  self->session.reset();
  GST_OBJECT_LOCK(self);
  self->active_device.clear();
  GST_OBJECT_UNLOCK(self);
}

static GstStateChangeReturn gst_vmt_segment_change_state(GstElement* element,
                                                         GstStateChange transition) {
  GstVmtSegment* self = GST_VMT_SEGMENT(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !gst_vmt_segment_start(self))
    return GST_STATE_CHANGE_FAILURE;
  const GstStateChangeReturn result =
      GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  // Pads are deactivated by now, so no streaming thread uses the session any more.
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) gst_vmt_segment_stop(self);
  return result;
}

/* --- properties ------------------------------------------------------------------------------- */

/* Call with the object lock held. */
static GstStructure* stats_structure(const GstVmtSegment* self) {
  const vmt::gst::SessionStats& stats = self->stats;
  const double mean_ms = stats.tubes_run ? stats.inference_ms_total / stats.tubes_run : 0.0;
  return gst_structure_new("vmtsegment-stats", "frames-in", G_TYPE_UINT64, stats.frames_in,
                           "frames-out", G_TYPE_UINT64, self->frames_out, "frames-skipped",
                           G_TYPE_UINT64, stats.frames_skipped, "tubes-run", G_TYPE_UINT64,
                           stats.tubes_run, "instances", G_TYPE_UINT64, self->instances_out,
                           "mean-tube-ms", G_TYPE_DOUBLE, mean_ms, nullptr);
}

/* Counts each buffer that leaves the src pad. The session counts what it hands to the pad, but a
 * push refused because the pad is flushing (a seek while frames are emitted) did not leave. */
static GstPadProbeReturn count_output(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstVmtSegment* self = GST_VMT_SEGMENT(data);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(GST_PAD_PROBE_INFO_BUFFER(info));
  const guint instances = meta ? gst_vmt_frame_meta_get_n_instances(meta) : 0;
  GST_OBJECT_LOCK(self);
  ++self->frames_out;
  self->instances_out += instances;
  GST_OBJECT_UNLOCK(self);
  return GST_PAD_PROBE_OK;
}

/* Whether `name` may take `value`: not when clip-overlap would be >= clip-length. A refused value
 * is not taken, a warning says why (as GObject does for a value out of range) and start() fails
 * with the same reason until a later value of either property is taken. A default overlap is
 * only checked at start, so `clip-length=8 clip-overlap=2` may set the length first. Call with
 * the object lock held. */
static bool clip_setting_allowed(GstVmtSegment* self, const char* name, guint value,
                                 guint clip_length, guint clip_overlap, bool overlap_set) {
  Settings& s = self->settings;
  const std::string problem = overlap_set ? clip_settings_problem(clip_length, clip_overlap, true) : "";
  if (problem.empty()) {
    s.clip_refused.clear();
    return true;
  }
  s.clip_refused = std::string(name) + " " + std::to_string(value) + " refused: " + problem;
  g_warning("%s: %s", GST_OBJECT_NAME(self), s.clip_refused.c_str());
  return false;
}

static void gst_vmt_segment_set_property(GObject* object, guint prop_id, const GValue* value,
                                         GParamSpec* pspec) {
  GstVmtSegment* self = GST_VMT_SEGMENT(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->settings;
  s.user_set.insert(prop_id);
  switch (prop_id) {
    case PROP_MODEL: s.model = g_value_get_string(value) ? g_value_get_string(value) : ""; break;
    case PROP_DEVICE: s.device = g_value_get_string(value) ? g_value_get_string(value) : DEFAULT_DEVICE; break;
    case PROP_MODE: s.mode = static_cast<GstVmtSegmentMode>(g_value_get_enum(value)); break;
    case PROP_TUBE_LENGTH: s.tube_length = g_value_get_uint(value); break;
    case PROP_CLIP_LENGTH: {
      const guint length = g_value_get_uint(value);
      if (clip_setting_allowed(self, "clip-length", length, length, s.clip_overlap,
                               s.clip_overlap_set))
        s.clip_length = length;
      break;
    }
    case PROP_CLIP_OVERLAP: {
      const guint overlap = g_value_get_uint(value);
      if (clip_setting_allowed(self, "clip-overlap", overlap, s.clip_length, overlap, true)) {
        s.clip_overlap = overlap;
        s.clip_overlap_set = true;
      }
      break;
    }
    case PROP_ASSOCIATION: s.association = static_cast<GstVmtSegmentAssociation>(g_value_get_enum(value)); break;
    case PROP_ASSOCIATION_IOU: s.association_iou = g_value_get_double(value); break;
    case PROP_SCORE_THRESHOLD: s.score_threshold = g_value_get_double(value); break;
    case PROP_MAX_INSTANCES: s.max_instances = g_value_get_uint(value); break;
    case PROP_INPUT_SIZE: s.input_size = g_value_get_uint(value); break;
    case PROP_PRECISION: s.precision = static_cast<GstVmtSegmentPrecision>(g_value_get_enum(value)); break;
    case PROP_MAX_LAG: s.max_lag = g_value_get_uint(value); break;
    case PROP_POINT_LIMIT: s.point_limit = g_value_get_uint(value); break;
    case PROP_CPU_WORKERS: s.cpu_workers = g_value_get_uint(value); break;
    case PROP_PIPELINED: s.pipelined = g_value_get_boolean(value); break;
    case PROP_INSTANCES: s.instances = static_cast<GstVmtSegmentInstances>(g_value_get_enum(value)); break;
    case PROP_ANALYTICS_META: s.analytics_meta = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vmt_segment_get_property(GObject* object, guint prop_id, GValue* value,
                                         GParamSpec* pspec) {
  GstVmtSegment* self = GST_VMT_SEGMENT(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->settings;
  switch (prop_id) {
    case PROP_MODEL: g_value_set_string(value, s.model.empty() ? nullptr : s.model.c_str()); break;
    case PROP_DEVICE: g_value_set_string(value, s.device.c_str()); break;
    case PROP_MODE: g_value_set_enum(value, s.mode); break;
    case PROP_TUBE_LENGTH: g_value_set_uint(value, s.tube_length); break;
    case PROP_CLIP_LENGTH: g_value_set_uint(value, s.clip_length); break;
    case PROP_CLIP_OVERLAP: g_value_set_uint(value, s.clip_overlap); break;
    case PROP_ASSOCIATION: g_value_set_enum(value, s.association); break;
    case PROP_ASSOCIATION_IOU: g_value_set_double(value, s.association_iou); break;
    case PROP_SCORE_THRESHOLD: g_value_set_double(value, s.score_threshold); break;
    case PROP_MAX_INSTANCES: g_value_set_uint(value, s.max_instances); break;
    case PROP_INPUT_SIZE: g_value_set_uint(value, s.input_size); break;
    case PROP_PRECISION: g_value_set_enum(value, s.precision); break;
    case PROP_MAX_LAG: g_value_set_uint(value, s.max_lag); break;
    case PROP_POINT_LIMIT: g_value_set_uint(value, s.point_limit); break;
    case PROP_CPU_WORKERS: g_value_set_uint(value, s.cpu_workers); break;
    case PROP_PIPELINED: g_value_set_boolean(value, s.pipelined); break;
    case PROP_INSTANCES: g_value_set_enum(value, s.instances); break;
    case PROP_ANALYTICS_META: g_value_set_boolean(value, s.analytics_meta); break;
    case PROP_ACTIVE_DEVICE:
      g_value_set_string(value, self->active_device.empty() ? nullptr : self->active_device.c_str());
      break;
    case PROP_STATS: g_value_take_boxed(value, stats_structure(self)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vmt_segment_finalize(GObject* object) {
  GstVmtSegment* self = GST_VMT_SEGMENT(object);
  // Deactivation emptied the queue; the pads are gone by now, so only drop what might be left.
  for (const QueuedItem& item : self->queue) gst_mini_object_unref(item.object);
  self->queue.~deque();
  g_cond_clear(&self->queue_cond);
  g_mutex_clear(&self->queue_lock);
  self->threaded.~atomic();
  self->session.~unique_ptr();
  self->stats.~SessionStats();
  self->active_device.~basic_string();
  self->settings.~Settings();
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void install_properties(GObjectClass* gobject_class) {
  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                           GST_PARAM_MUTABLE_READY);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "VMT model file (.safetensors); unset: the shipped demo model",
                          DEFAULT_MODEL, rw));
  g_object_class_install_property(gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device", "Compute device: auto, cpu, cuda or cuda:N",
                          DEFAULT_DEVICE, rw));
  g_object_class_install_property(gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode", "How frames are gathered into tubes",
                        gst_vmt_segment_mode_get_type(), DEFAULT_MODE, rw));
  g_object_class_install_property(gobject_class, PROP_TUBE_LENGTH,
      g_param_spec_uint("tube-length", "Tube length", "Online mode: frames in the sliding window",
                        1, MAX_TUBE_LENGTH, DEFAULT_TUBE_LENGTH, rw));
  g_object_class_install_property(gobject_class, PROP_CLIP_LENGTH,
      g_param_spec_uint("clip-length", "Clip length",
                        "Offline mode: frames per clip (0 = the whole stream up to EOS)", 0,
                        MAX_CLIP_LENGTH, DEFAULT_CLIP_LENGTH, rw));
  g_object_class_install_property(gobject_class, PROP_CLIP_OVERLAP,
      g_param_spec_uint("clip-overlap", "Clip overlap",
                        "Offline mode: frames shared by neighbouring clips (< clip-length)", 0,
                        MAX_CLIP_LENGTH - 1, DEFAULT_CLIP_OVERLAP, rw));
  g_object_class_install_property(gobject_class, PROP_ASSOCIATION,
      g_param_spec_enum("association", "Association",
                        "Offline mode: how instances of neighbouring clips are linked (online "
                        "windows always match by tube IoU)",
                        gst_vmt_segment_association_get_type(), DEFAULT_ASSOCIATION, rw));
  g_object_class_install_property(gobject_class, PROP_ASSOCIATION_IOU,
      g_param_spec_double("association-iou", "Association IoU",
                          "Smallest tube mask IoU that links two instances", 0.01, 1.0,
                          DEFAULT_ASSOCIATION_IOU, rw));
  g_object_class_install_property(gobject_class, PROP_SCORE_THRESHOLD,
      g_param_spec_double("score-threshold", "Score threshold",
                          "Instances scoring below are dropped (unset: the model file's preference, else this "
                          "default)", 0.0, 1.0,
                          DEFAULT_SCORE_THRESHOLD, rw));
  g_object_class_install_property(gobject_class, PROP_MAX_INSTANCES,
      g_param_spec_uint("max-instances", "Max instances",
                        "Most instances per tube and per frame (10 YTVIS, 25 OVIS; unset: the model "
                        "file's preference, else this default)", 1,
                        MAX_INSTANCES, DEFAULT_MAX_INSTANCES, rw));
  g_object_class_install_property(gobject_class, PROP_INPUT_SIZE,
      g_param_spec_uint("input-size", "Input size",
                        "Shorter edge the model sees (0 = native size; unset: the model file's "
                        "preference, else this default)", 0, MAX_INPUT_SIZE,
                        DEFAULT_INPUT_SIZE, rw));
  g_object_class_install_property(gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
                        "Arithmetic precision (fp16 needs CUDA; bf16 runs on CUDA or on a CPU "
                        "with AVX512-BF16/AMX)",
                        gst_vmt_segment_precision_get_type(), DEFAULT_PRECISION, rw));
  /**
   * GstVmtSegment:max-lag:
   *
   * Online mode with a live upstream: the most frames waiting for inference (including the one in
   * inference) on the element's inference thread. A frame arriving when that many are waiting
   * passes on in order without inference, its #GstVmtFrameMeta marked skipped and carrying the
   * last inferred frame's instances; `frames-skipped` in #GstVmtSegment:stats counts them. 0 runs
   * inference in the streaming thread and never skips (a slow model then holds the source up).
   * Non-live streams and offline mode always infer every frame.
   */
  g_object_class_install_property(gobject_class, PROP_MAX_LAG,
      g_param_spec_uint("max-lag", "Max lag",
                        "Online mode, live upstream: most frames waiting for inference; later "
                        "frames pass marked skipped (0 = infer each frame in the streaming thread)",
                        0, MAX_MAX_LAG, DEFAULT_MAX_LAG, rw));
  g_object_class_install_property(gobject_class, PROP_POINT_LIMIT,
      g_param_spec_uint("point-limit", "Point limit",
                        "Refinement: incoherent points per frame the point transformer sees, at "
                        "most (its cost grows with their square); 0 = exact, the model's own "
                        "limit (official 12000)",
                        0, MAX_POINT_LIMIT, DEFAULT_POINT_LIMIT, rw));
  /**
   * GstVmtSegment:cpu-workers:
   *
   * On the CPU, the threads that run independent parts of an inference step side by side: an
   * offline clip's new frames through the backbone and its frames through the refinement, in an
   * online step the refinement's independent steps (its fusion branches among them). 0 picks the
   * machine's cores divided by LibTorch's intra-op threads (2 on a 2-core machine). The results
   * do not depend on it beyond float rounding. Ignored on a GPU.
   */
  g_object_class_install_property(gobject_class, PROP_CPU_WORKERS,
      g_param_spec_uint("cpu-workers", "CPU workers",
                        "CPU only: threads that run independent parts of a step (frames, "
                        "fusion branches) side by side; 0 = auto (cores / intra-op threads)",
                        0, MAX_CPU_WORKERS, DEFAULT_CPU_WORKERS, rw));
  /**
   * GstVmtSegment:pipelined:
   *
   * Online mode on the CPU: a frame's refinement and crops are computed on a second thread while
   * the next frame goes through the backbone, the decoder and the coarse masks, so on two cores a
   * step costs about the longer of the two halves instead of their sum. The results are the same
   * bits; each frame leaves once the next one has been decoded (or at EOS; with a live upstream,
   * at once when no frame is waiting), which adds one frame to the latency the element reports.
   * On a GPU, and in offline mode, the steps run one after the other whatever it says.
   */
  g_object_class_install_property(gobject_class, PROP_PIPELINED,
      g_param_spec_boolean("pipelined", "Pipelined",
                           "Online mode on the CPU: a frame's refinement on a second thread while "
                           "the next frame is decoded (the same results, one frame more latency)",
                           DEFAULT_PIPELINED, rw));
  g_object_class_install_property(gobject_class, PROP_INSTANCES,
      g_param_spec_enum("instances", "Instances",
                        "Which instances are reported: one per object with its best class (its "
                        "other class scores in the metadata), or the official evaluation's top "
                        "(object, class) pairs",
                        gst_vmt_segment_instances_get_type(), DEFAULT_INSTANCES, rw));
#if GST_VMT_HAVE_ANALYTICS
  /**
   * GstVmtSegment:analytics-meta:
   *
   * Also attach a standard #GstAnalyticsRelationMeta to every frame, so upstream elements
   * (objectdetectionoverlay, trackers) and the GstAnalytics bindings read the results: per
   * instance an object-detection mtd (box, label, score), a tracking mtd (track id, first and last
   * seen as timestamps) and an instance segmentation mtd (the mask cropped to the box), related to
   * each other; see gst_buffer_add_vmt_analytics_meta(). Only in builds against GStreamer 1.26 or
   * newer.
   */
  g_object_class_install_property(gobject_class, PROP_ANALYTICS_META,
      g_param_spec_boolean("analytics-meta", "Analytics meta",
                           "Also attach a GstAnalyticsRelationMeta per frame (object detection, "
                           "tracking and segmentation mtds per instance)",
                           DEFAULT_ANALYTICS_META, rw));
#endif
  g_object_class_install_property(gobject_class, PROP_ACTIVE_DEVICE,
      g_param_spec_string("active-device", "Active device",
                          "The device in use while running", nullptr, ro));
  g_object_class_install_property(gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "frames-in, frames-out, frames-skipped, tubes-run, instances, mean-tube-ms",
                         GST_TYPE_STRUCTURE, ro));
}

static void gst_vmt_segment_class_init(GstVmtSegmentClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = gst_vmt_segment_set_property;
  gobject_class->get_property = gst_vmt_segment_get_property;
  gobject_class->finalize = gst_vmt_segment_finalize;
  install_properties(gobject_class);

  gst_element_class_set_static_metadata(
      element_class, "VMT video instance segmentation", "Filter/Analyzer/Video",
      "Segments and tracks object instances with Video Mask Transfiner, attaching per-instance "
      "masks, boxes, classes and track ids to every frame",
      "vmt-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_vmt_segment_change_state);

  gst_type_mark_as_plugin_api(gst_vmt_segment_mode_get_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(gst_vmt_segment_association_get_type(),
                              static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(gst_vmt_segment_instances_get_type(),
                              static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(gst_vmt_segment_precision_get_type(),
                              static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_vmt_segment_debug, "vmtsegment", 0, "VMT video segmentation");
}

static void gst_vmt_segment_init(GstVmtSegment* self) {
  // The C++ members live in GObject-allocated memory: construct them in place.
  new (&self->settings) Settings();
  new (&self->active_device) std::string();
  new (&self->stats) vmt::gst::SessionStats();
  new (&self->session) std::unique_ptr<vmt::gst::SegmentSession>();
  self->frames_out = 0;
  self->instances_out = 0;
  self->online = false;
  self->max_lag = DEFAULT_MAX_LAG;
  self->live_decided = false;
  new (&self->threaded) std::atomic<bool>(false);
  g_mutex_init(&self->queue_lock);
  g_cond_init(&self->queue_cond);
  new (&self->queue) std::deque<QueuedItem>();
  self->queue_inferring = 0;
  self->queue_busy = false;
  self->queue_flushing = true;
  self->queue_result = GST_FLOW_FLUSHING;

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_vmt_segment_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_vmt_segment_sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_vmt_segment_sink_query));
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(gst_vmt_segment_src_query));
  gst_pad_set_activatemode_function(self->srcpad,
                                    GST_DEBUG_FUNCPTR(gst_vmt_segment_src_activate_mode));
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_pad_add_probe(self->srcpad, GST_PAD_PROBE_TYPE_BUFFER, count_output, self, nullptr);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}
