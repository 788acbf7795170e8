// vmtsegment in a GstHarness and in minimal pipelines: buffers, timestamps, properties, errors.
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <string>

#include "gst_test_support.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

constexpr const char* kCaps = "video/x-raw,format=RGB,width=32,height=24,framerate=30/1";

GstBuffer* make_frame(guint64 index) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, 32 * 24 * 3, nullptr);
  gst_buffer_memset(buffer, 0, static_cast<guint8>(index), 32 * 24 * 3);
  GST_BUFFER_PTS(buffer) = index * GST_SECOND / 30;
  GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
  GST_BUFFER_OFFSET(buffer) = index;
  if (index % 5 == 0) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  return buffer;
}

}  // namespace

// Every input buffer leaves once, in order, with its PTS, duration, offset and flags.
TEST(VmtSegment, PassesEveryBufferInOrderWithTimestamps) {
  GstHarness* harness = gst_harness_new_parse("vmtsegment device=cpu");
  gst_harness_set_src_caps_str(harness, kCaps);
  constexpr guint64 kFrames = 45;
  for (guint64 i = 0; i < kFrames; ++i) ASSERT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_buffers_received(harness), kFrames);
  for (guint64 i = 0; i < kFrames; ++i) {
    GstBuffer* out = gst_harness_pull(harness);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(GST_BUFFER_PTS(out), i * GST_SECOND / 30);
    EXPECT_EQ(GST_BUFFER_DURATION(out), GST_SECOND / 30);
    EXPECT_EQ(GST_BUFFER_OFFSET(out), i);
    EXPECT_EQ(GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_DISCONT), i % 5 == 0);
    guint8 first = 0;
    gst_buffer_extract(out, 0, &first, 1);
    EXPECT_EQ(first, static_cast<guint8>(i)) << "pixels changed";
    gst_buffer_unref(out);
  }
  gst_harness_teardown(harness);
}

// After start, active-device names the device in use; "auto" never leaves it empty.
TEST(VmtSegment, ReportsActiveDevice) {
  GstHarness* harness = gst_harness_new("vmtsegment");
  gst_harness_set_src_caps_str(harness, kCaps);
  ASSERT_EQ(gst_harness_push(harness, make_frame(0)), GST_FLOW_OK);
  gchar* active = nullptr;
  g_object_get(harness->element, "active-device", &active, nullptr);
  ASSERT_NE(active, nullptr);
  const std::string device = active;
  EXPECT_TRUE(device == "cpu" || device.rfind("cuda:0", 0) == 0) << device;
  g_free(active);
  gst_harness_teardown(harness);
}

// The device property keeps what was set and defaults to "auto".
TEST(VmtSegment, DevicePropertyRoundTrips) {
  GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
  ASSERT_NE(element, nullptr);
  gchar* device = nullptr;
  g_object_get(element, "device", &device, nullptr);
  EXPECT_STREQ(device, "auto");
  g_free(device);
  g_object_set(element, "device", "cuda:1", nullptr);
  g_object_get(element, "device", &device, nullptr);
  EXPECT_STREQ(device, "cuda:1");
  g_free(device);
  gst_object_unref(element);
}

// A malformed device is a RESOURCE/SETTINGS error that names the value and the accepted forms.
TEST(VmtSegment, MalformedDeviceIsAnErrorMessage) {
  GstElement* pipeline =
      vmt::test::parse_pipeline("videotestsrc num-buffers=5 ! vmtsegment name=seg device=gpu7 ! fakesink");
  const auto outcome = vmt::test::run_until_done(pipeline);
  EXPECT_TRUE(outcome.errored);
  EXPECT_EQ(outcome.error_source, "seg");
  EXPECT_NE(outcome.error_message.find("gpu7"), std::string::npos) << outcome.error_message;
  EXPECT_NE(outcome.error_message.find("cuda:N"), std::string::npos) << outcome.error_message;
  gst_object_unref(pipeline);
}

// Asking for a CUDA device that does not exist fails at start with the reason, not a crash.
TEST(VmtSegment, MissingCudaDeviceIsAnErrorMessage) {
  GstElement* pipeline = vmt::test::parse_pipeline(
      "videotestsrc num-buffers=5 ! vmtsegment name=seg device=cuda:63 ! fakesink");
  const auto outcome = vmt::test::run_until_done(pipeline);
  EXPECT_TRUE(outcome.errored);
  EXPECT_EQ(outcome.error_source, "seg");
  EXPECT_NE(outcome.error_message.find("cuda:63"), std::string::npos) << outcome.error_message;
  gst_object_unref(pipeline);
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
