// vmtsegment with a real (small, randomly initialised) model file made by `vmt-model init` at
// build time: buffers, timestamps, tube modes, events, properties, errors and metadata.
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gst_test_support.h"
#include "vmt.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

constexpr int kWidth = 64;
constexpr int kHeight = 48;
constexpr const char* kCaps = "video/x-raw,format=RGB,width=64,height=48,framerate=30/1";

std::string test_model() {
  const char* path = std::getenv("VMT_TEST_MODEL");
  return path ? path : "";
}

/// A harness around one vmtsegment with the test model on the CPU plus `properties`.
GstHarness* make_harness(const std::string& properties, const char* caps = kCaps) {
  const std::string description =
      "vmtsegment model=\"" + test_model() + "\" device=cpu input-size=48 " + properties;
  GstHarness* harness = gst_harness_new_parse(description.c_str());
  gst_harness_set_src_caps_str(harness, caps);
  return harness;
}

/// A frame whose content moves with `index` (a bright square on a dark background).
GstBuffer* make_frame(guint64 index, int width = kWidth, int height = kHeight) {
  const gsize size = static_cast<gsize>(width) * height * 3;
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, size, nullptr);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const bool inside = std::abs(x - static_cast<int>(10 + index % 40)) < 8 && std::abs(y - 24) < 8;
      guint8* pixel = map.data + (static_cast<gsize>(y) * width + x) * 3;
      pixel[0] = inside ? 230 : 20;
      pixel[1] = inside ? 200 : static_cast<guint8>(x * 2);
      pixel[2] = inside ? 40 : static_cast<guint8>(y * 3);
    }
  gst_buffer_unmap(buffer, &map);
  GST_BUFFER_PTS(buffer) = index * GST_SECOND / 30;
  GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
  GST_BUFFER_OFFSET(buffer) = index;
  if (index % 7 == 0) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  return buffer;
}

/// Checks output buffer `out` is input frame `i` (make_frame's timestamps, offset and flags) with
/// a meta numbering it; returns the meta (nullptr after a failure).
const GstVmtFrameMeta* expect_output_frame(GstBuffer* out, guint64 i) {
  EXPECT_EQ(GST_BUFFER_PTS(out), i * GST_SECOND / 30);
  EXPECT_EQ(GST_BUFFER_DURATION(out), GST_SECOND / 30);
  EXPECT_EQ(GST_BUFFER_OFFSET(out), i);
  EXPECT_EQ(GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_DISCONT), i % 7 == 0);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(out);
  EXPECT_NE(meta, nullptr) << "frame " << i;
  if (meta) {
    EXPECT_EQ(meta->frame_index, i);
  }
  return meta;
}

/// The next output buffer, expected to be output `i` (nullptr after a failure when none is there).
GstBuffer* pull_output(GstHarness* harness, guint64 i) {
  GstBuffer* out = gst_harness_try_pull(harness);
  if (out == nullptr) ADD_FAILURE() << "missing output buffer " << i;
  return out;
}

/// Pushes `frames` frames and EOS, then checks every buffer came out once, in order, with its
/// timestamps, offset and flags, and metadata numbering the frame. Returns the outputs' metas'
/// instance counts.
std::vector<guint> push_and_check(GstHarness* harness, guint64 frames) {
  for (guint64 i = 0; i < frames; ++i) EXPECT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  EXPECT_EQ(gst_harness_buffers_received(harness), frames);
  std::vector<guint> instance_counts;
  for (guint64 i = 0; i < frames; ++i) {
    GstBuffer* out = pull_output(harness, i);
    if (out == nullptr) break;
    const GstVmtFrameMeta* meta = expect_output_frame(out, i);
    if (meta) {
      EXPECT_EQ(meta->width, static_cast<guint>(kWidth));
      instance_counts.push_back(gst_vmt_frame_meta_get_n_instances(meta));
    }
    gst_buffer_unref(out);
  }
  EXPECT_EQ(gst_harness_try_pull(harness), nullptr) << "more buffers out than in";
  return instance_counts;
}

/// Each output's instances as text (frame, track id, class, score, RLE), one line each.
std::vector<std::string> describe_outputs(GstHarness* harness, guint64 frames) {
  std::vector<std::string> lines;
  for (guint64 i = 0; i < frames; ++i) {
    GstBuffer* out = pull_output(harness, i);
    if (out == nullptr) break;
    const GstVmtFrameMeta* meta = expect_output_frame(out, i);
    for (guint k = 0; meta && k < gst_vmt_frame_meta_get_n_instances(meta); ++k) {
      const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, k);
      lines.push_back(std::to_string(i) + " " + std::to_string(instance->track_id) + " " +
                      std::to_string(instance->class_id) + " " +
                      std::to_string(instance->score) + " " +
                      gst_vmt_frame_meta_get_rle(meta, k));
    }
    gst_buffer_unref(out);
  }
  return lines;
}

/// A flush (start and stop) and a new time segment, as a seek sends them.
void flush_and_start_segment(GstHarness* harness) {
  gst_harness_push_event(harness, gst_event_new_flush_start());
  gst_harness_push_event(harness, gst_event_new_flush_stop(TRUE));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(harness, gst_event_new_segment(&segment));
}

/// Answers the latency query of vmtsegment's sink pad as a non-live upstream would (GstHarness
/// itself always says live). Must be added before the first buffer.
GstPadProbeReturn answer_not_live(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY) return GST_PAD_PROBE_OK;
  gst_query_set_latency(query, FALSE, 0, GST_CLOCK_TIME_NONE);
  return GST_PAD_PROBE_HANDLED;
}

void make_upstream_not_live(GstHarness* harness) {
  GstElement* element = gst_harness_find_element(harness, "vmtsegment");
  GstPad* pad = gst_element_get_static_pad(element, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, answer_not_live, nullptr, nullptr);
  gst_object_unref(pad);
  gst_object_unref(element);
}

/// The vmtsegment element's `stats` field `name`.
guint64 stat(GstHarness* harness, const char* name) {
  GstElement* element = gst_harness_find_element(harness, "vmtsegment");
  GstStructure* stats = nullptr;
  g_object_get(element, "stats", &stats, nullptr);
  gst_object_unref(element);
  guint64 value = G_MAXUINT64;
  if (stats) gst_structure_get_uint64(stats, name, &value);
  if (stats) gst_structure_free(stats);
  return value;
}

/// Waits (up to the harness's 60 s per event) until EOS has come out of the element.
bool wait_for_eos(GstHarness* harness) {
  while (GstEvent* event = gst_harness_pull_event(harness)) {
    const bool eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
    gst_event_unref(event);
    if (eos) return true;
  }
  return false;
}

/// Pushes `frames` frames back to back (far faster than inference) and EOS, then pulls every
/// output and checks it left once, in order, with its timestamps, offset, flags and a meta
/// numbering it; instances on a skipped frame are carried over from an earlier frame. Returns how
/// many were marked skipped.
guint64 push_burst_and_count_skipped(GstHarness* harness, guint64 frames) {
  for (guint64 i = 0; i < frames; ++i) EXPECT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  guint64 skipped = 0;
  for (guint64 i = 0; i < frames; ++i) {
    GstBuffer* out = gst_harness_pull(harness);
    if (out == nullptr) {
      ADD_FAILURE() << "missing output buffer " << i;
      break;
    }
    const GstVmtFrameMeta* meta = expect_output_frame(out, i);
    if (meta) {
      skipped += meta->skipped ? 1 : 0;
      for (guint k = 0; k < gst_vmt_frame_meta_get_n_instances(meta); ++k) {
        const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, k);
        if (meta->skipped)
          EXPECT_LT(instance->last_seen, i) << "carried-over instance on frame " << i;
        else
          EXPECT_EQ(instance->last_seen, i);
        EXPECT_LE(instance->first_seen, instance->last_seen);
      }
    }
    gst_buffer_unref(out);
  }
  EXPECT_TRUE(wait_for_eos(harness));
  EXPECT_EQ(gst_harness_try_pull(harness), nullptr) << "more buffers out than in";
  return skipped;
}

}  // namespace

class VmtSegmentModel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test_model().empty()) GTEST_SKIP() << "VMT_TEST_MODEL is not set (run through meson test)";
  }
};

// Offline defaults (C = 40, O = 10) with EOS in the middle of the second clip: 57 in, 57 out.
TEST_F(VmtSegmentModel, OfflineEosMidClipEmitsEveryFrame) {
  GstHarness* harness = make_harness("mode=offline");
  push_and_check(harness, 57);
  gst_harness_teardown(harness);
}

// Edge cases of the offline clip rules: a stream shorter than a clip, C = 0, O = 0, C = 1.
TEST_F(VmtSegmentModel, OfflineClipEdgeCasesEmitEveryFrame) {
  for (const auto& [properties, frames] : std::vector<std::tuple<std::string, guint64>>{
           {"mode=offline clip-length=40 clip-overlap=10", 6},
           {"mode=offline clip-length=0", 7},
           {"mode=offline clip-length=3 clip-overlap=0", 7},
           {"mode=offline clip-length=1 clip-overlap=0", 3},
           {"mode=offline clip-length=3 clip-overlap=2", 5}}) {
    SCOPED_TRACE(properties);
    GstHarness* harness = make_harness(properties);
    push_and_check(harness, frames);
    gst_harness_teardown(harness);
  }
}

// Online mode, non-live upstream, not pipelined: each frame leaves as soon as it arrives (no
// frame held back), for L = 1 and L = 4.
TEST_F(VmtSegmentModel, OnlineEmitsEachFrameAtOnce) {
  for (const char* properties : {"mode=online tube-length=1 pipelined=false",
                                 "mode=online tube-length=4 pipelined=false"}) {
    SCOPED_TRACE(properties);
    GstHarness* harness = make_harness(properties);
    make_upstream_not_live(harness);
    for (guint64 i = 0; i < 9; ++i) {
      ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
      EXPECT_EQ(gst_harness_buffers_received(harness), i + 1) << "frame " << i << " held back";
    }
    gst_harness_teardown(harness);
  }
}

// Pipelined online mode (the default): frame i leaves when frame i + 1 has been decoded and the
// last one at EOS, each once, in order, with its timestamps, and with exactly the metadata of
// the steps one after the other (track ids included), for L = 1 and L = 4.
TEST_F(VmtSegmentModel, PipelinedOnlineEmitsEachFrameWhenTheNextArrives) {
  constexpr guint64 kFrames = 12;
  for (const char* tube : {"tube-length=1", "tube-length=4"}) {
    SCOPED_TRACE(tube);
    std::vector<std::string> results[2];
    for (const bool pipelined : {true, false}) {
      GstHarness* harness = make_harness(std::string("mode=online ") + tube +
                                         (pipelined ? "" : " pipelined=false"));
      make_upstream_not_live(harness);
      for (guint64 i = 0; i < kFrames; ++i) {
        ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
        EXPECT_EQ(gst_harness_buffers_received(harness), pipelined ? i : i + 1) << "frame " << i;
      }
      EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
      EXPECT_EQ(gst_harness_buffers_received(harness), kFrames);
      results[pipelined ? 0 : 1] = describe_outputs(harness, kFrames);
      EXPECT_EQ(gst_harness_try_pull(harness), nullptr) << "more buffers out than in";
      EXPECT_EQ(stat(harness, "tubes-run"), kFrames);
      gst_harness_teardown(harness);
    }
    EXPECT_FALSE(results[0].empty());
    EXPECT_EQ(results[0], results[1]);
  }
}

// Live upstream (the harness says live) and no frame waiting: a pipelined frame leaves once its
// masks are done instead of waiting for the next frame, and the later frames still leave once,
// in order. (Without that, the pull below would wait its 60 s for a frame that only a next push
// releases.)
TEST_F(VmtSegmentModel, LivePipelinedFrameLeavesWithoutWaitingForTheNext) {
  GstHarness* harness = make_harness("mode=online tube-length=4 max-lag=2");
  for (guint64 i = 0; i < 3; ++i) {
    ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(harness);
    ASSERT_NE(out, nullptr) << "frame " << i << " held back";
    expect_output_frame(out, i);
    EXPECT_FALSE(gst_buffer_get_vmt_frame_meta(out)->skipped);
    gst_buffer_unref(out);
  }
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  EXPECT_TRUE(wait_for_eos(harness));
  EXPECT_EQ(gst_harness_try_pull(harness), nullptr);
  EXPECT_EQ(stat(harness, "tubes-run"), 3u);
  gst_harness_teardown(harness);
}

namespace {

/// A pipelined online harness (tube 4, non-live upstream) after `frames` frames: all but the
/// last have left.
GstHarness* pipelined_after(guint64 frames) {
  GstHarness* harness = make_harness("mode=online tube-length=4");
  make_upstream_not_live(harness);
  for (guint64 i = 0; i < frames; ++i) EXPECT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_received(harness), frames - 1);
  return harness;
}

}  // namespace

// A serialized event keeps its place among the buffers: the frame in flight leaves before it.
TEST_F(VmtSegmentModel, PipelinedOnlineFrameInFlightLeavesBeforeASerializedEvent) {
  GstHarness* harness = pipelined_after(3);
  GstEvent* custom = gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
                                          gst_structure_new_empty("vmt-test-marker"));
  EXPECT_TRUE(gst_harness_push_event(harness, custom));
  EXPECT_EQ(gst_harness_buffers_received(harness), 3u) << "frame 2 must leave before the event";
  bool marker = false;
  while (GstEvent* event = gst_harness_try_pull_event(harness)) {
    marker |= gst_event_has_name(event, "vmt-test-marker");
    gst_event_unref(event);
  }
  EXPECT_TRUE(marker);
  ASSERT_EQ(gst_harness_push(harness, make_frame(3)), GST_FLOW_OK);
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  EXPECT_EQ(gst_harness_buffers_received(harness), 4u);
  describe_outputs(harness, 4);  // each once, in order, with its meta
  gst_harness_teardown(harness);
}

// A flush drops the frame still in flight; the frames after it all leave once, in order.
TEST_F(VmtSegmentModel, PipelinedOnlineFlushDropsTheFrameInFlight) {
  GstHarness* harness = pipelined_after(5);
  flush_and_start_segment(harness);
  EXPECT_EQ(gst_harness_buffers_received(harness), 4u) << "the frame in flight must be dropped";
  for (guint64 i = 0; i < 4; ++i) gst_buffer_unref(gst_harness_pull(harness));
  for (guint64 i = 0; i < 3; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  gst_harness_push_event(harness, gst_event_new_eos());
  EXPECT_EQ(gst_harness_buffers_received(harness), 7u);
  for (guint64 i = 0; i < 3; ++i) {  // (the meta's frame index counts on across the flush)
    GstBuffer* out = gst_harness_pull(harness);
    ASSERT_NE(out, nullptr) << "frame " << i;
    EXPECT_EQ(GST_BUFFER_OFFSET(out), i);
    EXPECT_EQ(GST_BUFFER_PTS(out), i * GST_SECOND / 30);
    EXPECT_NE(gst_buffer_get_vmt_frame_meta(out), nullptr);
    gst_buffer_unref(out);
  }
  EXPECT_EQ(gst_harness_try_pull(harness), nullptr);
  gst_harness_teardown(harness);
}

// Online mode with a live upstream and frames arriving faster than inference: every frame still
// leaves once, in order, with its timestamps; frames beyond max-lag pass marked skipped, and
// frames-skipped counts exactly those.
TEST_F(VmtSegmentModel, LiveOnlineMarksFramesSkippedWhenInferenceFallsBehind) {
  constexpr guint64 kFrames = 24;
  GstHarness* harness = make_harness("mode=online tube-length=4 max-lag=2");
  const guint64 skipped = push_burst_and_count_skipped(harness, kFrames);
  EXPECT_GT(skipped, 0u) << "24 frames pushed at once should outrun inference";
  EXPECT_LT(skipped, kFrames) << "the first frame is always inferred";
  EXPECT_EQ(stat(harness, "frames-skipped"), skipped);
  EXPECT_EQ(stat(harness, "frames-in"), kFrames);
  EXPECT_EQ(stat(harness, "frames-out"), kFrames);
  EXPECT_EQ(stat(harness, "tubes-run"), kFrames - skipped);
  gst_harness_teardown(harness);
}

// The same burst from a non-live upstream, or with max-lag=0: every frame is inferred.
TEST_F(VmtSegmentModel, NonLiveOrMaxLagZeroNeverSkips) {
  for (const bool live : {false, true}) {
    SCOPED_TRACE(live ? "live, max-lag=0" : "not live");
    GstHarness* harness = make_harness(live ? "mode=online tube-length=4 max-lag=0"
                                            : "mode=online tube-length=4 max-lag=2");
    if (!live) make_upstream_not_live(harness);
    EXPECT_EQ(push_burst_and_count_skipped(harness, 12), 0u);
    EXPECT_EQ(stat(harness, "frames-skipped"), 0u);
    EXPECT_EQ(stat(harness, "tubes-run"), 12u);
    gst_harness_teardown(harness);
  }
}

// A flush while the live queue holds frames drops them; the frames after it all come out once,
// in order, with metadata.
TEST_F(VmtSegmentModel, LiveQueueFlushDropsQueuedFramesAndRestarts) {
  GstHarness* harness = make_harness("mode=online tube-length=4 max-lag=8");
  for (guint64 i = 0; i < 16; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  gst_harness_push_event(harness, gst_event_new_flush_start());
  gst_harness_push_event(harness, gst_event_new_flush_stop(TRUE));
  // What left before the flush: a prefix of the first 16 frames, in order.
  guint64 before = 0;
  while (GstBuffer* out = gst_harness_try_pull(harness)) {
    EXPECT_EQ(GST_BUFFER_OFFSET(out), before++);
    gst_buffer_unref(out);
  }
  EXPECT_LE(before, 16u);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(harness, gst_event_new_segment(&segment));
  for (guint64 i = 100; i < 105; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  gst_harness_push_event(harness, gst_event_new_eos());
  for (guint64 i = 100; i < 105; ++i) {
    GstBuffer* out = gst_harness_pull(harness);
    ASSERT_NE(out, nullptr) << "frame " << i;
    EXPECT_EQ(GST_BUFFER_OFFSET(out), i);
    EXPECT_NE(gst_buffer_get_vmt_frame_meta(out), nullptr);
    gst_buffer_unref(out);
  }
  EXPECT_TRUE(wait_for_eos(harness));
  EXPECT_EQ(gst_harness_try_pull(harness), nullptr);
  gst_harness_teardown(harness);
}

// Stopping the element while the live queue is full and inference is running neither hangs nor
// leaks the queued frames.
TEST_F(VmtSegmentModel, LiveQueueStopsCleanlyMidStream) {
  GstHarness* harness = make_harness("mode=online tube-length=4 max-lag=50");
  for (guint64 i = 0; i < 30; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  gst_harness_teardown(harness);
}

// Every attached instance is consistent: box inside the frame, mask exactly the box's size,
// 1-based class with a label, score within [threshold, 1], at most max-instances per frame.
TEST_F(VmtSegmentModel, MetadataIsConsistent) {
  GstHarness* harness = make_harness("mode=offline clip-length=6 clip-overlap=2 max-instances=3");
  for (guint64 i = 0; i < 10; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  gst_harness_push_event(harness, gst_event_new_eos());
  guint total = 0;
  for (guint64 i = 0; i < 10; ++i) {
    GstBuffer* out = gst_harness_pull(harness);
    GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(out);
    ASSERT_NE(meta, nullptr);
    const guint n = gst_vmt_frame_meta_get_n_instances(meta);
    EXPECT_LE(n, 3u);
    total += n;
    for (guint k = 0; k < n; ++k) {
      const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, k);
      EXPECT_GE(instance->track_id, 1u);
      EXPECT_GE(instance->class_id, 1);
      EXPECT_NE(instance->label, nullptr);
      EXPECT_GE(instance->score, 0.001f);
      EXPECT_LE(instance->score, 1.0f);
      EXPECT_LE(instance->x + instance->width, static_cast<guint>(kWidth));
      EXPECT_LE(instance->y + instance->height, static_cast<guint>(kHeight));
      EXPECT_LE(instance->first_seen, i);
      EXPECT_EQ(instance->last_seen, i);
      GstVmtMask* mask = gst_vmt_instance_get_mask(instance);
      ASSERT_NE(mask, nullptr);
      EXPECT_EQ(gst_vmt_mask_get_width(mask), instance->width);
      EXPECT_EQ(gst_vmt_mask_get_height(mask), instance->height);
      EXPECT_GT(gst_vmt_mask_get_area(mask), 0u);
    }
    gst_buffer_unref(out);
  }
  RecordProperty("instances", static_cast<int>(total));
  gst_harness_teardown(harness);
}

// The same clip twice through a fresh element gives identical metadata.
TEST_F(VmtSegmentModel, SameClipTwiceGivesIdenticalResults) {
  auto run = [] {
    GstHarness* harness = make_harness("mode=offline clip-length=5 clip-overlap=1");
    for (guint64 i = 0; i < 8; ++i) gst_harness_push(harness, make_frame(i));
    gst_harness_push_event(harness, gst_event_new_eos());
    auto lines = describe_outputs(harness, 8);
    gst_harness_teardown(harness);
    return lines;
  };
  EXPECT_EQ(run(), run());
}

// EOS without any buffer passes through and nothing else comes out.
TEST_F(VmtSegmentModel, EosWithoutDataPassesThrough) {
  GstHarness* harness = make_harness("mode=offline");
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  EXPECT_EQ(gst_harness_buffers_received(harness), 0u);
  bool saw_eos = false;
  while (GstEvent* event = gst_harness_try_pull_event(harness)) {
    saw_eos |= GST_EVENT_TYPE(event) == GST_EVENT_EOS;
    gst_event_unref(event);
  }
  EXPECT_TRUE(saw_eos);
  gst_harness_teardown(harness);
}

// A flush after 20 frames drops what was held; the next frames form a new sequence and all leave.
TEST_F(VmtSegmentModel, FlushDropsHeldFramesAndRestarts) {
  GstHarness* harness = make_harness("mode=offline clip-length=40 clip-overlap=10");
  for (guint64 i = 0; i < 20; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_received(harness), 0u) << "offline mode holds the clip";
  flush_and_start_segment(harness);
  for (guint64 i = 0; i < 5; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  gst_harness_push_event(harness, gst_event_new_eos());
  EXPECT_EQ(gst_harness_buffers_received(harness), 5u);
  gst_harness_teardown(harness);
}

// A resolution change mid-stream finishes the current tube first, then continues at the new size.
TEST_F(VmtSegmentModel, CapsChangeDrainsTheCurrentTube) {
  GstHarness* harness = make_harness("mode=offline clip-length=40 clip-overlap=10");
  for (guint64 i = 0; i < 7; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_received(harness), 0u);
  gst_harness_set_src_caps_str(harness, "video/x-raw,format=RGB,width=80,height=48,framerate=30/1");
  EXPECT_EQ(gst_harness_buffers_received(harness), 7u) << "the old-size frames must be drained";
  for (guint64 i = 7; i < 10; ++i)
    ASSERT_EQ(gst_harness_push(harness, make_frame(i, 80, 48)), GST_FLOW_OK);
  gst_harness_push_event(harness, gst_event_new_eos());
  EXPECT_EQ(gst_harness_buffers_received(harness), 10u);
  for (guint64 i = 0; i < 10; ++i) {
    GstBuffer* out = gst_harness_pull(harness);
    GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(out);
    ASSERT_NE(meta, nullptr);
    EXPECT_EQ(meta->width, i < 7 ? 64u : 80u);
    EXPECT_EQ(GST_BUFFER_PTS(out), i * GST_SECOND / 30);
    gst_buffer_unref(out);
  }
  gst_harness_teardown(harness);
}

// The latency query adds the (C − 1) frames an offline clip holds back, and online the frame a
// pipelined step holds until the next one is decoded (nothing when not pipelined).
TEST_F(VmtSegmentModel, LatencyQueryAddsHeldFrames) {
  for (const auto& [properties, frames] : std::vector<std::tuple<std::string, guint64>>{
           {"mode=offline clip-length=40 clip-overlap=10", 39},
           {"mode=online", 1},
           {"mode=online pipelined=false", 0}}) {
    GstHarness* harness = make_harness(properties);
    gst_harness_set_upstream_latency(harness, 0);
    gst_harness_push(harness, make_frame(0));
    const GstClockTime latency = gst_harness_query_latency(harness);
    EXPECT_EQ(latency, frames * GST_SECOND / 30) << properties;
    gst_harness_teardown(harness);
  }
}

// 40 NULL ↔ PLAYING cycles load and release the model each time without failing or leaking.
TEST_F(VmtSegmentModel, RepeatedStateCyclesWork) {
  const std::string description = "videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                                  "vmtsegment device=cpu input-size=48 model=\"" + test_model() +
                                  "\" ! fakesink";
  GstElement* pipeline = vmt::test::parse_pipeline(description);
  for (int cycle = 0; cycle < 40; ++cycle) {
    const auto outcome = vmt::test::run_until_done(pipeline, 60);
    ASSERT_TRUE(outcome.reached_eos) << "cycle " << cycle << ": " << outcome.error_message;
  }
  gst_object_unref(pipeline);
}

// Every property keeps what was set.
TEST(VmtSegment, PropertiesRoundTrip) {
  GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
  ASSERT_NE(element, nullptr);
  g_object_set(element, "model", "/tmp/m.safetensors", "device", "cuda:1", "tube-length", 7u,
               "clip-length", 12u, "clip-overlap", 3u, "association-iou", 0.7, "score-threshold",
               0.25, "max-instances", 25u, "input-size", 480u, "max-lag", 5u, "pipelined", FALSE,
               nullptr);
  gst_util_set_object_arg(G_OBJECT(element), "mode", "online");
  gst_util_set_object_arg(G_OBJECT(element), "association", "tube-iou");
  gst_util_set_object_arg(G_OBJECT(element), "precision", "fp16");
  gchar *model = nullptr, *device = nullptr;
  guint tube = 0, clip = 0, overlap = 0, max_instances = 0, input_size = 0, max_lag = 0;
  gdouble iou = 0, threshold = 0;
  gint mode = -1, association = -1, precision = -1;
  gboolean pipelined = TRUE;
  g_object_get(element, "model", &model, "device", &device, "tube-length", &tube, "clip-length",
               &clip, "clip-overlap", &overlap, "association-iou", &iou, "score-threshold",
               &threshold, "max-instances", &max_instances, "input-size", &input_size, "mode",
               &mode, "association", &association, "precision", &precision, "max-lag", &max_lag,
               "pipelined", &pipelined, nullptr);
  EXPECT_STREQ(model, "/tmp/m.safetensors");
  EXPECT_STREQ(device, "cuda:1");
  EXPECT_EQ(tube, 7u);
  EXPECT_EQ(clip, 12u);
  EXPECT_EQ(overlap, 3u);
  EXPECT_DOUBLE_EQ(iou, 0.7);
  EXPECT_DOUBLE_EQ(threshold, 0.25);
  EXPECT_EQ(max_instances, 25u);
  EXPECT_EQ(input_size, 480u);
  EXPECT_EQ(mode, 0);
  EXPECT_EQ(association, 1);
  EXPECT_EQ(precision, 1);
  EXPECT_EQ(max_lag, 5u);
  EXPECT_FALSE(pipelined);
  g_free(model);
  g_free(device);
  gst_object_unref(element);
}

// The defaults are the paper's offline setting.
TEST(VmtSegment, DefaultsFollowThePaper) {
  GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
  guint tube = 0, clip = 0, overlap = 0, max_instances = 0, input_size = 0, max_lag = 0;
  gdouble threshold = 0;
  gboolean pipelined = FALSE;
  g_object_get(element, "tube-length", &tube, "clip-length", &clip, "clip-overlap", &overlap,
               "max-instances", &max_instances, "input-size", &input_size, "score-threshold",
               &threshold, "max-lag", &max_lag, "pipelined", &pipelined, nullptr);
  EXPECT_EQ(tube, 30u);
  EXPECT_EQ(clip, 40u);
  EXPECT_EQ(overlap, 10u);
  EXPECT_EQ(max_instances, 10u);
  EXPECT_EQ(input_size, 360u);
  EXPECT_DOUBLE_EQ(threshold, 0.001);
  EXPECT_EQ(max_lag, 2u);
  EXPECT_TRUE(pipelined);
  gst_object_unref(element);
}

// The stats property counts frames in and out after a run.
TEST_F(VmtSegmentModel, StatsCountFrames) {
  GstHarness* harness = make_harness("mode=offline clip-length=4 clip-overlap=1");
  for (guint64 i = 0; i < 9; ++i) gst_harness_push(harness, make_frame(i));
  gst_harness_push_event(harness, gst_event_new_eos());
  GstStructure* stats = nullptr;
  GstElement* element = gst_harness_find_element(harness, "vmtsegment");
  g_object_get(element, "stats", &stats, nullptr);
  gst_object_unref(element);
  ASSERT_NE(stats, nullptr);
  guint64 in = 0, out = 0, tubes = 0;
  gst_structure_get_uint64(stats, "frames-in", &in);
  gst_structure_get_uint64(stats, "frames-out", &out);
  gst_structure_get_uint64(stats, "tubes-run", &tubes);
  EXPECT_EQ(in, 9u);
  EXPECT_EQ(out, 9u);
  EXPECT_EQ(tubes, 3u);  // clips [0,4) [3,7) [6,9)
  gst_structure_free(stats);
  gst_harness_teardown(harness);
}

/// Runs a 5-frame pipeline with `properties` and returns how it ended.
static vmt::test::PipelineOutcome run_with(const std::string& properties) {
  GstElement* pipeline = vmt::test::parse_pipeline(
      "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 ! vmtsegment name=seg "
      "input-size=48 " + properties + " ! fakesink");
  auto outcome = vmt::test::run_until_done(pipeline, 60);
  gst_object_unref(pipeline);
  return outcome;
}

// No model set: the shipped demo model (pipelines/demo/vmt_demo.safetensors) is used.
TEST(VmtSegmentErrors, NoModelUsesTheShippedDemoModel) {
  const auto outcome = run_with("device=cpu input-size=48");
  EXPECT_TRUE(outcome.reached_eos) << outcome.error_message;
}

// A missing model file: RESOURCE error naming the path.
TEST(VmtSegmentErrors, MissingModelFileIsAnError) {
  const auto outcome = run_with("device=cpu model=/nonexistent/vmt.safetensors");
  EXPECT_TRUE(outcome.errored);
  EXPECT_NE(outcome.error_message.find("/nonexistent/vmt.safetensors"), std::string::npos)
      << outcome.error_message;
}

// A file that is not a safetensors model (a PNG header and noise): an error, not a crash.
TEST(VmtSegmentErrors, CorruptModelFileIsAnError) {
  gchar* folder = g_dir_make_tmp("vmt-corrupt-XXXXXX", nullptr);
  const std::string path = std::string(folder) + "/corrupt.safetensors";
  const guint8 bytes[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  g_file_set_contents(path.c_str(), reinterpret_cast<const gchar*>(bytes), sizeof bytes, nullptr);
  const auto outcome = run_with("device=cpu model=\"" + path + "\"");
  EXPECT_TRUE(outcome.errored);
  EXPECT_NE(outcome.error_message.find(path), std::string::npos) << outcome.error_message;
  g_remove(path.c_str());
  g_rmdir(folder);
  g_free(folder);
}

// A valid safetensors file that is not a VMT model (wrong architecture): a clear error.
TEST(VmtSegmentErrors, WrongArchitectureIsAnError) {
  const std::string path = std::string(std::getenv("VMT_SOURCE_ROOT")) +
                           "/tests/fixtures/safetensors/module.safetensors";
  const auto outcome = run_with("device=cpu model=\"" + path + "\"");
  EXPECT_TRUE(outcome.errored);
  EXPECT_FALSE(outcome.reached_eos);
  EXPECT_FALSE(outcome.error_message.empty());
}

/// Checks a start error is about the named settings, not the model.
void expect_settings_error(const vmt::test::PipelineOutcome& outcome,
                           std::initializer_list<const char*> named) {
  EXPECT_TRUE(outcome.errored);
  EXPECT_EQ(outcome.error_message.rfind("Invalid settings: ", 0), 0u) << outcome.error_message;
  EXPECT_EQ(outcome.error_message.find("model"), std::string::npos) << outcome.error_message;
  for (const char* text : named)
    EXPECT_NE(outcome.error_message.find(text), std::string::npos)
        << "no '" << text << "' in: " << outcome.error_message;
}

// CUDA requested where no such device exists: a settings error naming the property and the
// device, not blamed on the model.
TEST(VmtSegmentErrors, MissingCudaDeviceIsAnError) {
  const auto outcome = run_with("device=cuda:63 model=\"" + test_model() + "\"");
  expect_settings_error(outcome, {"property 'device'", "cuda:63"});
}

// A malformed device string: the error repeats it and lists the accepted forms.
TEST(VmtSegmentErrors, MalformedDeviceIsAnError) {
  const auto outcome = run_with("device=gpu7 model=\"" + test_model() + "\"");
  expect_settings_error(outcome, {"property 'device'", "gpu7", "cuda:N"});
}

// An overlap not smaller than the clip is refused when set, in either order, and start then
// fails naming both properties (not the model).
TEST(VmtSegmentErrors, OverlapNotSmallerThanClipIsAnError) {
  for (const char* properties : {"clip-length=5 clip-overlap=5", "clip-overlap=5 clip-length=5",
                                 "clip-overlap=3 clip-length=2"}) {
    const auto outcome = run_with(std::string("device=cpu mode=offline ") + properties +
                                  " model=\"" + test_model() + "\"");
    SCOPED_TRACE(properties);
    expect_settings_error(outcome, {"refused", "clip-overlap", "clip-length"});
  }
  // the default overlap (10) with a shorter clip: named as the default at start
  const auto outcome =
      run_with("device=cpu mode=offline clip-length=4 model=\"" + test_model() + "\"");
  expect_settings_error(outcome, {"clip-overlap (10, the default)", "clip-length (4)"});
}

/// Collects the warnings GLib prints for the default log domain (the plugin's).
struct WarningCollector {
  std::vector<std::string> messages;
  guint handler = 0;
  WarningCollector() {
    handler = g_log_set_handler(nullptr, G_LOG_LEVEL_WARNING,
                                [](const gchar*, GLogLevelFlags, const gchar* message, gpointer data) {
                                  static_cast<WarningCollector*>(data)->messages.push_back(message);
                                },
                                this);
  }
  ~WarningCollector() { g_log_remove_handler(nullptr, handler); }
};

// Setting clip-overlap >= clip-length is refused at once with a warning naming both, whichever
// is set last; a default overlap waits for start (clip-length=8 clip-overlap=2 sets the length
// first), and clip-length 0 (one clip) takes any overlap.
TEST(VmtSegment, ClipOverlapNotSmallerThanClipLengthIsRefusedWhenSet) {
  auto values = [](GstElement* element) {
    guint clip = 0, overlap = 0;
    g_object_get(element, "clip-length", &clip, "clip-overlap", &overlap, nullptr);
    return std::pair{clip, overlap};
  };
  {
    WarningCollector warnings;
    GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
    g_object_set(element, "clip-length", 8u, nullptr);   // default overlap 10: checked at start
    g_object_set(element, "clip-overlap", 8u, nullptr);  // refused: 8 >= 8
    EXPECT_EQ(values(element), (std::pair{8u, 10u}));
    g_object_set(element, "clip-overlap", 2u, nullptr);
    EXPECT_EQ(values(element), (std::pair{8u, 2u}));
    ASSERT_EQ(warnings.messages.size(), 1u);
    EXPECT_NE(warnings.messages[0].find("clip-overlap 8 refused"), std::string::npos)
        << warnings.messages[0];
    EXPECT_NE(warnings.messages[0].find("clip-length (8)"), std::string::npos);
    gst_object_unref(element);
  }
  {
    WarningCollector warnings;
    GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
    g_object_set(element, "clip-overlap", 20u, nullptr);  // < 40
    g_object_set(element, "clip-length", 20u, nullptr);   // refused: the overlap was set
    EXPECT_EQ(values(element), (std::pair{40u, 20u}));
    g_object_set(element, "clip-length", 0u, nullptr);    // one clip: any overlap
    EXPECT_EQ(values(element), (std::pair{0u, 20u}));
    ASSERT_EQ(warnings.messages.size(), 1u);
    EXPECT_NE(warnings.messages[0].find("clip-length 20 refused"), std::string::npos)
        << warnings.messages[0];
    gst_object_unref(element);
  }
}

// Unsupported raw formats are refused at negotiation; every listed format is accepted.
TEST(VmtSegment, AcceptsOnlyListedFormats) {
  GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
  GstPad* sink = gst_element_get_static_pad(element, "sink");
  auto accepts = [&](const char* format) {
    GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format, "width",
                                        G_TYPE_INT, 64, "height", G_TYPE_INT, 48, "framerate",
                                        GST_TYPE_FRACTION, 30, 1, nullptr);
    const bool accepted = gst_pad_query_accept_caps(sink, caps);
    gst_caps_unref(caps);
    return accepted;
  };
  for (const char* format : {"RGB", "RGBA", "RGBx", "BGRx", "BGRA", "I420", "NV12"})
    EXPECT_TRUE(accepts(format)) << format;
  for (const char* format : {"GRAY16_LE", "YUY2", "P010_10LE"}) EXPECT_FALSE(accepts(format)) << format;
  gst_object_unref(sink);
  gst_object_unref(element);
}

// --- settings from the model file, instances -------------------------------------------------

namespace {

/// The test model with preferred settings (tests/meson.build: input size 40, trained 32–48,
/// score threshold 0.2, 4 instances).
std::string model_with_defaults() {
  const char* path = std::getenv("VMT_TEST_MODEL_DEFAULTS");
  return path ? path : "";
}

/// Runs `frames` test frames through a harness of `description`; returns every output meta's
/// instances (score, class id, class scores) and leaves the element running in `*out`.
struct SeenInstance {
  gfloat score;
  gint class_id;
  std::vector<gfloat> class_scores;
};
std::vector<SeenInstance> run_frames(GstHarness* harness, guint64 frames) {
  for (guint64 i = 0; i < frames; ++i) EXPECT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  std::vector<SeenInstance> seen;
  for (guint64 i = 0; i < frames; ++i) {
    GstBuffer* out = gst_harness_pull(harness);
    const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(out);
    for (guint k = 0; meta && k < gst_vmt_frame_meta_get_n_instances(meta); ++k) {
      const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, k);
      guint n = 0;
      const gfloat* scores = gst_vmt_instance_get_class_scores(instance, &n);
      seen.push_back({instance->score, instance->class_id,
                      scores ? std::vector<gfloat>(scores, scores + n) : std::vector<gfloat>{}});
    }
    gst_buffer_unref(out);
  }
  return seen;
}

}  // namespace

// Properties left unset take the model file's preferences (and read back as the values in use);
// properties that are set win.
TEST_F(VmtSegmentModel, UnsetPropertiesComeFromTheModelFile) {
  const std::string model = model_with_defaults();
  ASSERT_FALSE(model.empty()) << "VMT_TEST_MODEL_DEFAULTS is not set (run through meson test)";
  GstHarness* harness = gst_harness_new_parse(
      ("vmtsegment device=cpu mode=online model=\"" + model + "\"").c_str());
  gst_harness_set_src_caps_str(harness, kCaps);
  const auto seen = run_frames(harness, 6);
  guint input_size = 0, max_instances = 0;
  gdouble threshold = 0;
  GstElement* segment = gst_harness_find_element(harness, "vmtsegment");
  g_object_get(segment, "input-size", &input_size, "max-instances", &max_instances,
               "score-threshold", &threshold, nullptr);
  gst_object_unref(segment);
  EXPECT_EQ(input_size, 40u);
  EXPECT_EQ(max_instances, 4u);
  EXPECT_NEAR(threshold, 0.2, 1e-6);
  for (const auto& s : seen) EXPECT_GE(s.score, 0.2f);
  gst_harness_teardown(harness);

  harness = gst_harness_new_parse(
      ("vmtsegment device=cpu mode=online input-size=48 score-threshold=0.001 model=\"" + model +
       "\"").c_str());
  gst_harness_set_src_caps_str(harness, kCaps);
  run_frames(harness, 2);
  segment = gst_harness_find_element(harness, "vmtsegment");
  g_object_get(segment, "input-size", &input_size, "max-instances", &max_instances,
               "score-threshold", &threshold, nullptr);
  gst_object_unref(segment);
  EXPECT_EQ(input_size, 48u);
  EXPECT_EQ(max_instances, 4u);  // still the model's
  EXPECT_DOUBLE_EQ(threshold, 0.001);
  gst_harness_teardown(harness);
}

// An input size far from the sizes the model was trained at is a WARNING naming both.
TEST_F(VmtSegmentModel, FarInputSizeIsAWarning) {
  GstElement* pipeline = vmt::test::parse_pipeline(
      "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=64,height=48 ! "
      "vmtsegment device=cpu input-size=360 model=\"" + model_with_defaults() + "\" ! fakesink");
  const auto outcome = vmt::test::run_until_done(pipeline, 120.0);
  EXPECT_TRUE(outcome.reached_eos) << outcome.error_message;
  ASSERT_EQ(outcome.warnings.size(), 1u);
  EXPECT_NE(outcome.warnings[0].find("input size 360"), std::string::npos) << outcome.warnings[0];
  EXPECT_NE(outcome.warnings[0].find("32–48"), std::string::npos) << outcome.warnings[0];
  gst_object_unref(pipeline);
}

// instances=per-object (the default): each object with its best class, its score for every
// label in the metadata; top-pairs (the official evaluation) may list an object under several
// classes, and its instances carry the class scores too.
TEST_F(VmtSegmentModel, InstancesPerObjectCarryTheirClassScores) {
  gint instances = -1;
  GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
  g_object_get(element, "instances", &instances, nullptr);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), "instances");
  ASSERT_NE(spec, nullptr);
  const GEnumValue* value = g_enum_get_value(G_PARAM_SPEC_ENUM(spec)->enum_class, instances);
  ASSERT_NE(value, nullptr);
  EXPECT_STREQ(value->value_nick, "per-object");
  gst_object_unref(element);

  for (const char* mode : {"per-object", "top-pairs"}) {
    GstHarness* harness = make_harness(std::string("mode=online max-instances=6 instances=") + mode);
    const auto seen = run_frames(harness, 4);
    ASSERT_FALSE(seen.empty()) << mode;
    for (const auto& s : seen) {
      ASSERT_EQ(s.class_scores.size(), 6u) << mode;  // the test model's six labels
      EXPECT_FLOAT_EQ(s.score, s.class_scores[static_cast<std::size_t>(s.class_id - 1)]) << mode;
      if (std::string(mode) == "per-object") {
        EXPECT_FLOAT_EQ(s.score, *std::max_element(s.class_scores.begin(), s.class_scores.end()));
      }
    }
    gst_harness_teardown(harness);
  }
}

// Frames of any shape: very elongated ones end in an ERROR naming their size (no unbounded
// memory); moderately elongated ones run with the longer edge capped.
TEST_F(VmtSegmentModel, ElongatedFramesAreBounded) {
  for (const auto& [width, height, ok] :
       {std::tuple{2, 1000, false}, std::tuple{1000, 2, false}, std::tuple{40, 400, true}}) {
    GstElement* pipeline = vmt::test::parse_pipeline(
        "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=" + std::to_string(width) +
        ",height=" + std::to_string(height) + " ! vmtsegment device=cpu input-size=96 model=\"" +
        test_model() + "\" ! fakesink");
    const auto outcome = vmt::test::run_until_done(pipeline, 120.0);
    if (ok) {
      EXPECT_TRUE(outcome.reached_eos) << width << "x" << height << ": " << outcome.error_message;
    } else {
      EXPECT_TRUE(outcome.errored) << width << "x" << height;
      EXPECT_NE((outcome.error_message + outcome.error_debug).find("too elongated"),
                std::string::npos)
          << outcome.error_message << " / " << outcome.error_debug;
    }
    gst_object_unref(pipeline);
  }
}
