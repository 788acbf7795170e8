// Real pipelines through vmtsegment: sources, converters, encoders and muxers from GStreamer.
#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gst_test_support.h"
#include "vmt.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

/// vmtsegment with the test model (built by meson, VMT_TEST_MODEL) on the CPU at a small size.
std::string vmtsegment() {
  const char* model = std::getenv("VMT_TEST_MODEL");
  return std::string("vmtsegment device=cpu input-size=48 model=\"") + (model ? model : "") + "\"";
}

void count_buffer(GstElement*, GstBuffer*, GstPad*, gpointer counter) {
  ++*static_cast<std::atomic<int>*>(counter);
}

/// Runs `description` whose sink is a fakesink named "sink" and returns the buffers it received.
int run_and_count(const std::string& description, vmt::test::PipelineOutcome* outcome) {
  GstElement* pipeline = vmt::test::parse_pipeline(description);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  std::atomic<int> buffers{0};
  g_object_set(sink, "signal-handoffs", TRUE, nullptr);
  g_signal_connect(sink, "handoff", G_CALLBACK(count_buffer), &buffers);
  *outcome = vmt::test::run_until_done(pipeline);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return buffers.load();
}

/// A temporary folder, removed with its files at the end of the scope.
class TempFolder {
 public:
  TempFolder() {
    gchar* made = g_dir_make_tmp("vmt-pipeline-XXXXXX", nullptr);
    path_ = made ? made : "";
    g_free(made);
  }
  ~TempFolder() {
    if (GDir* dir = g_dir_open(path_.c_str(), 0, nullptr)) {
      while (const gchar* name = g_dir_read_name(dir)) g_remove((path_ + "/" + name).c_str());
      g_dir_close(dir);
    }
    g_rmdir(path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

// videotestsrc → vmtsegment → fakesink reaches EOS with every buffer, for each supported format.
TEST(Pipelines, VideoTestSrcReachesEosWithEveryBuffer) {
  for (const char* format : {"RGB", "RGBA", "RGBx", "BGRx", "BGRA", "I420", "NV12"}) {
    vmt::test::PipelineOutcome outcome;
    const int received = run_and_count(
        std::string("videotestsrc num-buffers=9 ! video/x-raw,format=") + format +
            ",width=64,height=48 ! " + vmtsegment() + " ! fakesink name=sink sync=false",
        &outcome);
    EXPECT_TRUE(outcome.reached_eos) << format << ": " << outcome.error_message;
    EXPECT_EQ(received, 9) << format;
  }
}

// An encoded file round trip: the frames written through vmtsegment all decode back.
TEST(Pipelines, EncodedFileKeepsEveryFrame) {
  gchar* folder = g_dir_make_tmp("vmt-pipeline-XXXXXX", nullptr);
  ASSERT_NE(folder, nullptr);
  const std::string file = std::string(folder) + "/clip.mp4";

  vmt::test::PipelineOutcome encode;
  GstElement* writer = vmt::test::parse_pipeline(
      std::string("videotestsrc num-buffers=12 pattern=ball ! "
                  "video/x-raw,width=64,height=48,framerate=24/1 ! ") +
      vmtsegment() + " ! videoconvert ! x264enc speed-preset=ultrafast ! mp4mux ! "
      "filesink location=\"" + file + "\"");
  encode = vmt::test::run_until_done(writer);
  gst_object_unref(writer);
  ASSERT_TRUE(encode.reached_eos) << encode.error_message;

  vmt::test::PipelineOutcome decode;
  const int frames = run_and_count("filesrc location=\"" + file +
                                       "\" ! decodebin ! videoconvert ! " + vmtsegment() + " ! "
                                       "fakesink name=sink sync=false",
                                   &decode);
  EXPECT_TRUE(decode.reached_eos) << decode.error_message;
  EXPECT_EQ(frames, 12);

  g_remove(file.c_str());
  g_rmdir(folder);
  g_free(folder);
}

// The demo's shape (pipelines/demo.sh): one offline vmtsegment teed into an overlay MP4 and two
// exporters, in one pipeline, reaches EOS and writes all three files. Each exporter prerolls on
// its first frame and blocks its branch until PLAYING, while x264enc takes in a dozen frames or
// more (lookahead, frame threads) before the MP4 branch's sink can preroll: the exporters' queues
// must not be bounded by time (1 s is 6 frames here), or the tee blocks and preroll never ends.
TEST(Pipelines, TeeIntoEncoderAndExportersReachesEos) {
  constexpr int kFrames = 30;
  TempFolder folder;
  const std::string export_queue = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=0";
  GstElement* pipeline = vmt::test::parse_pipeline(
      "videotestsrc num-buffers=" + std::to_string(kFrames) + " pattern=ball ! "
      "video/x-raw,width=64,height=48,framerate=6/1 ! " + vmtsegment() +
      " mode=offline clip-length=12 clip-overlap=3 association=tube-iou ! tee name=t "
      "t. ! queue ! vmtoverlay ! videoconvert ! x264enc speed-preset=veryfast ! mp4mux ! "
      "filesink location=\"" + folder.file("overlay.mp4") + "\" "
      "t. ! " + export_queue + " ! vmtexport format=youtube-vis location=\"" +
      folder.file("results.json") + "\" "
      "t. ! " + export_queue + " ! vmtexport format=jsonl location=\"" +
      folder.file("frames.jsonl") + "\"");
  const auto outcome = vmt::test::run_until_done(pipeline, 120);
  gst_object_unref(pipeline);
  ASSERT_FALSE(outcome.timed_out) << "the tee pipeline stalled";
  ASSERT_TRUE(outcome.reached_eos) << outcome.error_message;

  // The video decodes back to every frame.
  vmt::test::PipelineOutcome decode;
  const int decoded = run_and_count("filesrc location=\"" + folder.file("overlay.mp4") +
                                        "\" ! decodebin ! fakesink name=sink sync=false",
                                    &decode);
  EXPECT_TRUE(decode.reached_eos) << decode.error_message;
  EXPECT_EQ(decoded, kFrames);

  // YouTube-VIS: one segmentation (RLE or null) per frame for every result.
  const auto results = nlohmann::json::parse(read_text(folder.file("results.json")));
  ASSERT_TRUE(results.is_array());
  for (const auto& result : results) EXPECT_EQ(result.at("segmentations").size(), kFrames);

  // JSON Lines: one object per frame, in order.
  std::ifstream lines(folder.file("frames.jsonl"));
  int frame = 0;
  for (std::string line; std::getline(lines, line); ++frame) {
    const auto object = nlohmann::json::parse(line);
    EXPECT_EQ(object.at("frame"), frame);
    EXPECT_EQ(object.at("frame_index"), frame);
    EXPECT_FALSE(object.at("skipped").get<bool>());
  }
  EXPECT_EQ(frame, kFrames);
}

namespace {

/// What a pad probe saw of one buffer.
struct SeenFrame {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  bool has_meta = false;
  bool skipped = false;
  guint64 frame_index = 0;
  guint64 earliest_first_seen = G_MAXUINT64;  ///< over the frame's instances
};

/// The buffers reaching the sink, split at the flush.
struct SeekRecord {
  std::mutex lock;  ///< protects everything below (the probe runs in the streaming thread)
  bool flushed = false;
  std::vector<SeenFrame> before;
  std::vector<SeenFrame> after;
};

GstPadProbeReturn record_frame(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* record = static_cast<SeekRecord*>(data);
  std::lock_guard<std::mutex> guard(record->lock);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_FLUSH) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_STOP)
      record->flushed = true;
    return GST_PAD_PROBE_OK;
  }
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  SeenFrame seen;
  seen.pts = GST_BUFFER_PTS(buffer);
  if (const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer)) {
    seen.has_meta = true;
    seen.skipped = meta->skipped;
    seen.frame_index = meta->frame_index;
    for (guint i = 0; i < gst_vmt_frame_meta_get_n_instances(meta); ++i)
      seen.earliest_first_seen = std::min(seen.earliest_first_seen,
                                          gst_vmt_frame_meta_get_instance(meta, i)->first_seen);
  }
  (record->flushed ? record->after : record->before).push_back(seen);
  return GST_PAD_PROBE_OK;
}

}  // namespace

// A flushing seek while offline clips are being filled: the held frames are dropped, the frames
// of the new segment (2 s to 3 s at 10 fps) all come out once, in order, with metadata, and no
// track of the old segment reappears; the pipeline reaches EOS.
TEST(Pipelines, FlushingSeekMidStreamRestartsTheTubes) {
  GstElement* pipeline = vmt::test::parse_pipeline(
      "videotestsrc pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 ! " +
      vmtsegment() + " mode=offline clip-length=8 clip-overlap=2 association=tube-iou ! "
      "fakesink name=sink sync=false");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  SeekRecord record;
  gst_pad_add_probe(pad,
                    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                 GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                    record_frame, &record, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);

  // Play until a first clip came out, so the seek lands with frames held in a clip.
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  for (int waited = 0;; waited += 10) {
    {
      std::lock_guard<std::mutex> guard(record.lock);
      if (record.before.size() >= 6) break;
    }
    ASSERT_LT(waited, 60000) << "no output before the seek";
    g_usleep(10 * 1000);
  }
  ASSERT_TRUE(gst_element_seek(pipeline, 1.0, GST_FORMAT_TIME,
                               static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH |
                                                         GST_SEEK_FLAG_ACCURATE),
                               GST_SEEK_TYPE_SET, 2 * GST_SECOND, GST_SEEK_TYPE_SET,
                               3 * GST_SECOND));
  const auto outcome = vmt::test::run_until_done(pipeline, 60);
  gst_object_unref(pipeline);
  ASSERT_FALSE(outcome.timed_out) << "no EOS after the seek";
  ASSERT_TRUE(outcome.reached_eos) << outcome.error_message;

  std::lock_guard<std::mutex> guard(record.lock);
  ASSERT_TRUE(record.flushed);
  ASSERT_EQ(record.after.size(), 10u);
  for (size_t i = 0; i < record.after.size(); ++i) {
    const SeenFrame& seen = record.after[i];
    EXPECT_EQ(seen.pts, 2 * GST_SECOND + i * GST_SECOND / 10) << "frame " << i;
    ASSERT_TRUE(seen.has_meta) << "frame " << i;
    EXPECT_FALSE(seen.skipped);
    EXPECT_EQ(seen.frame_index, record.after[0].frame_index + i);
    if (seen.earliest_first_seen != G_MAXUINT64) {
      EXPECT_GE(seen.earliest_first_seen, record.after[0].frame_index)
          << "a track of the old segment on frame " << i;
    }
  }
}

namespace {

/// Lands a flushing seek while vmtsegment is about to run a clip: the sink pad probe holds back
/// the frame that completes the second clip until the seek's FLUSH_START has passed vmtsegment's
/// src pad, so every frame that clip emits meets a flushing pad and does not leave.
struct SeekDuringInference {
  GstElement* pipeline = nullptr;
  std::mutex lock;  ///< protects everything below
  std::condition_variable changed;
  std::uint64_t frames_in = 0;  ///< buffers that entered vmtsegment's sink pad
  std::uint64_t frames_out = 0;  ///< buffers that left its src pad
  bool flushing = false;         ///< FLUSH_START passed the src pad
  std::uint64_t frames_out_before_flush = 0;
  std::thread seeker;
};

constexpr std::uint64_t kFrameCompletingSecondClip = 14;  // clips [0,8) and [6,14)

GstPadProbeReturn hold_clip_until_flush(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* test = static_cast<SeekDuringInference*>(data);
  std::unique_lock guard(test->lock);
  if (++test->frames_in != kFrameCompletingSecondClip) return GST_PAD_PROBE_OK;
  test->seeker = std::thread([pipeline = test->pipeline] {
    gst_element_seek(pipeline, 1.0, GST_FORMAT_TIME,
                     static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                     GST_SEEK_TYPE_SET, 2 * GST_SECOND, GST_SEEK_TYPE_SET, 3 * GST_SECOND);
  });
  // generous: the seek thread only has to send FLUSH_START
  test->changed.wait_for(guard, std::chrono::seconds(60), [test] { return test->flushing; });
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn count_left(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* test = static_cast<SeekDuringInference*>(data);
  std::lock_guard guard(test->lock);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    ++test->frames_out;
  } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_START) {
    test->frames_out_before_flush = test->frames_out;
    test->flushing = true;
    test->changed.notify_all();
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

// After a flushing seek that lands while a clip is inferred, `stats` counts as frames-out exactly
// the buffers that left the src pad: the clip's frames, refused by the flushing pad, are not.
// (It said one more before: the session counted each frame it handed to the pad.)
TEST(Pipelines, StatsCountOnlyFramesThatLeftAcrossAFlushingSeek) {
  SeekDuringInference test;
  test.pipeline = vmt::test::parse_pipeline(
      "videotestsrc pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 ! " +
      vmtsegment() + " name=seg mode=offline clip-length=8 clip-overlap=2 ! "
      "fakesink sync=false");
  GstElement* segment = gst_bin_get_by_name(GST_BIN(test.pipeline), "seg");
  GstPad* sink = gst_element_get_static_pad(segment, "sink");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, hold_clip_until_flush, &test, nullptr);
  gst_object_unref(sink);
  GstPad* src = gst_element_get_static_pad(segment, "src");
  gst_pad_add_probe(src,
                    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                 GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                    count_left, &test, nullptr);
  gst_object_unref(src);

  GstBus* bus = gst_element_get_bus(test.pipeline);
  ASSERT_NE(gst_element_set_state(test.pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstMessage* message = gst_bus_timed_pop_filtered(
      bus, 120 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const bool eos = message != nullptr && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
  if (message) gst_message_unref(message);
  gst_object_unref(bus);
  GstStructure* stats = nullptr;
  g_object_get(segment, "stats", &stats, nullptr);  // before NULL: stop() keeps them anyway
  gst_element_set_state(test.pipeline, GST_STATE_NULL);
  if (test.seeker.joinable()) test.seeker.join();
  gst_object_unref(segment);
  gst_object_unref(test.pipeline);
  ASSERT_TRUE(eos) << "no EOS after the seek";
  ASSERT_NE(stats, nullptr);

  guint64 in = 0, out = 0;
  gst_structure_get_uint64(stats, "frames-in", &in);
  gst_structure_get_uint64(stats, "frames-out", &out);
  gst_structure_free(stats);
  std::lock_guard guard(test.lock);
  ASSERT_TRUE(test.flushing);
  EXPECT_EQ(out, test.frames_out);
  EXPECT_EQ(in, test.frames_in);
  // the first clip's frames before the seek, none of the second, the 10 frames of 2 s to 3 s
  EXPECT_GT(test.frames_out_before_flush, 0u);
  EXPECT_EQ(test.frames_out, test.frames_out_before_flush + 10u);
}
