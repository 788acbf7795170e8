// Real pipelines through vmtsegment: sources, converters, encoders and muxers from GStreamer.
#include <glib/gstdio.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "gst_test_support.h"

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
