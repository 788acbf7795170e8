// RTSP loopback: gst-rtsp-server on 127.0.0.1 (a free port) serves a short H.264 clip, and a
// client pipeline `rtspsrc ! decodebin ! videoconvert ! vmtsegment ! vmtoverlay ! appsink` must
// receive every frame, each with a GstVmtFrameMeta, and reach EOS by itself.
#include <gst/app/gstappsink.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "gst_test_support.h"
#include "vmt.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

/// vmtsegment with the test model (VMT_TEST_MODEL) on the CPU at a small size, online mode.
std::string vmtsegment() {
  const char* model = std::getenv("VMT_TEST_MODEL");
  return std::string("vmtsegment device=cpu mode=online input-size=48 model=\"") +
         (model ? model : "") + "\"";
}

/// An RTSP server with one mount, listening on 127.0.0.1 at a port the kernel picks, running its
/// own main loop on a thread for the lifetime of the object.
class LoopbackServer {
 public:
  LoopbackServer(const std::string& mount, const std::string& launch) {
    context_ = g_main_context_new();
    loop_ = g_main_loop_new(context_, FALSE);
    server_ = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server_, "127.0.0.1");
    gst_rtsp_server_set_service(server_, "0");
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(factory, launch.c_str());
    GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server_);
    gst_rtsp_mount_points_add_factory(mounts, mount.c_str(), factory);  // takes the factory
    g_object_unref(mounts);
    source_id_ = gst_rtsp_server_attach(server_, context_);
    port_ = gst_rtsp_server_get_bound_port(server_);
    thread_ = std::thread([this] { g_main_loop_run(loop_); });
  }
  ~LoopbackServer() {
    // quit from inside the loop so a quit before the loop started is not lost
    g_main_context_invoke(
        context_,
        +[](gpointer loop) {
          g_main_loop_quit(static_cast<GMainLoop*>(loop));
          return G_SOURCE_REMOVE;
        },
        loop_);
    thread_.join();
    if (source_id_ != 0) {
      GSource* source = g_main_context_find_source_by_id(context_, source_id_);
      if (source != nullptr) g_source_destroy(source);
    }
    g_object_unref(server_);
    g_main_loop_unref(loop_);
    g_main_context_unref(context_);
  }
  bool listening() const { return source_id_ != 0 && port_ > 0; }
  int port() const { return port_; }

 private:
  GMainContext* context_ = nullptr;
  GMainLoop* loop_ = nullptr;
  GstRTSPServer* server_ = nullptr;
  guint source_id_ = 0;
  int port_ = -1;
  std::thread thread_;
};

/// What the client's appsink received.
struct Received {
  std::mutex lock;  // protects the counters
  int frames = 0;
  int frames_with_meta = 0;
  guint64 last_frame_index = 0;
  bool indices_in_order = true;
};

GstFlowReturn on_sample(GstAppSink* sink, gpointer data) {
  auto* received = static_cast<Received*>(data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_ERROR;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
  {
    std::lock_guard guard(received->lock);
    if (meta != nullptr) {
      if (received->frames_with_meta > 0 && meta->frame_index != received->last_frame_index + 1)
        received->indices_in_order = false;
      received->last_frame_index = meta->frame_index;
      ++received->frames_with_meta;
    }
    ++received->frames;
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

constexpr double kEosBoundSeconds = 120.0;

/// Runs the client pipeline on rtsp://127.0.0.1:PORT/MOUNT into an appsink named "sink".
vmt::test::PipelineOutcome run_client(const std::string& url, Received* received) {
  // TCP interleaved: nothing may be lost on the way, so "every frame" is an exact count.
  GstElement* pipeline = vmt::test::parse_pipeline(
      "rtspsrc location=" + url + " protocols=tcp latency=200 ! decodebin ! videoconvert ! " +
      vmtsegment() + " ! vmtoverlay ! appsink name=sink sync=false emit-signals=true");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  g_signal_connect(sink, "new-sample", G_CALLBACK(on_sample), received);
  // a bound that only catches a hang: how long inference takes never decides the outcome
  auto outcome = vmt::test::run_until_done(pipeline, kEosBoundSeconds);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return outcome;
}

}  // namespace

// A 24-frame videotestsrc clip served over RTSP reaches the client whole: 24 frames, each with
// a GstVmtFrameMeta counted 0, 1, 2, …, then EOS (from the server's RTCP BYE), with no timeout.
TEST(Rtsp, LoopbackDeliversEveryFrameWithMeta) {
  constexpr int kFrames = 24;
  LoopbackServer server("/test",
                        "( videotestsrc num-buffers=" + std::to_string(kFrames) +
                            " pattern=ball ! video/x-raw,width=96,height=64,framerate=24/1 ! "
                            "x264enc tune=zerolatency speed-preset=ultrafast ! "
                            "rtph264pay name=pay0 pt=96 config-interval=-1 )");
  ASSERT_TRUE(server.listening());
  Received received;
  const auto outcome =
      run_client("rtsp://127.0.0.1:" + std::to_string(server.port()) + "/test", &received);
  EXPECT_FALSE(outcome.timed_out) << "no EOS within " << kEosBoundSeconds << " s";
  EXPECT_TRUE(outcome.reached_eos) << outcome.error_source << ": " << outcome.error_message;
  EXPECT_EQ(received.frames, kFrames);
  EXPECT_EQ(received.frames_with_meta, kFrames);
  EXPECT_TRUE(received.indices_in_order);
}

// The shipped demo video, sent without re-encoding (qtdemux ! h264parse ! rtph264pay), arrives
// with all of its 96 frames.
TEST(Rtsp, LoopbackServesTheDemoVideoUnchanged) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  ASSERT_NE(root, nullptr);
  const std::string video = std::string(root) + "/pipelines/demo/demo.mp4";
  LoopbackServer server("/demo", "( filesrc location=\"" + video +
                                     "\" ! qtdemux ! h264parse ! "
                                     "rtph264pay name=pay0 pt=96 config-interval=-1 )");
  ASSERT_TRUE(server.listening());
  Received received;
  const auto outcome =
      run_client("rtsp://127.0.0.1:" + std::to_string(server.port()) + "/demo", &received);
  EXPECT_FALSE(outcome.timed_out) << "no EOS within " << kEosBoundSeconds << " s";
  EXPECT_TRUE(outcome.reached_eos) << outcome.error_source << ": " << outcome.error_message;
  EXPECT_EQ(received.frames, 96);
  EXPECT_EQ(received.frames_with_meta, 96);
}

// A mount that does not exist: the client ends in an ERROR naming the RTSP failure, not a hang.
TEST(Rtsp, MissingMountIsAnError) {
  LoopbackServer server("/test", "( videotestsrc num-buffers=5 ! x264enc ! rtph264pay name=pay0 )");
  ASSERT_TRUE(server.listening());
  Received received;
  const auto outcome =
      run_client("rtsp://127.0.0.1:" + std::to_string(server.port()) + "/nothing", &received);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_TRUE(outcome.errored);
  // rtspsrc: "Not found", with "Not Found (404)" in the debug text
  EXPECT_NE(outcome.error_debug.find("404"), std::string::npos)
      << outcome.error_message << " / " << outcome.error_debug;
  EXPECT_EQ(received.frames, 0);
}
