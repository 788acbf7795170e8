// Shared helpers for GStreamer tests: GStreamer initialisation with a leak check, and a pipeline
// runner that waits for EOS or an error with a timeout, so no test can hang.
#pragma once

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmt::test {

/// Initialises GStreamer once for the whole test program, with the leaks tracer (unless
/// GST_TRACERS names other tracers), and deinitialises it at the end: a GstObject or GstMiniObject
/// still alive then is a leak. The tracer lists each one on stderr (`object-alive`, with its type
/// and reference count) and the program fails.
class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_setenv("GST_TRACERS", "leaks", FALSE);
    gst_init(nullptr, nullptr);
  }

  void TearDown() override {
    // The leaks tracer logs what is alive at gst_deinit() under GST_TRACER:7, then warns once.
    gst_debug_set_threshold_for_name("GST_TRACER", GST_LEVEL_TRACE);
    leaks_reported() = false;
    const GLogFunc previous = g_log_set_default_handler(note_leak_report, nullptr);
    gst_deinit();
    g_log_set_default_handler(previous, nullptr);
    EXPECT_FALSE(leaks_reported())
        << "GStreamer objects leaked: see the object-alive lines of the leaks tracer above";
  }

 private:
  static bool& leaks_reported() {
    static bool reported = false;
    return reported;
  }

  static void note_leak_report(const gchar* domain, GLogLevelFlags level, const gchar* message,
                               gpointer data) {
    if (message != nullptr && g_str_has_prefix(message, "Leaks detected")) leaks_reported() = true;
    g_log_default_handler(domain, level, message, data);
  }
};

struct PipelineOutcome {
  bool reached_eos = false;
  bool errored = false;
  bool timed_out = false;
  std::string error_message;  ///< the GError message of the first ERROR
  std::string error_debug;    ///< its debug string
  std::string error_source;   ///< the name of the element that posted it
  std::vector<std::string> warnings;  ///< the GError messages of the WARNINGs before the end
};

/// Sets `pipeline` to PLAYING and waits up to `timeout_seconds` for EOS or ERROR, then to NULL.
/// WARNING messages on the way are collected.
inline PipelineOutcome run_until_done(GstElement* pipeline, double timeout_seconds = 60.0) {
  PipelineOutcome outcome;
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout_seconds * 1e6);
  GstMessage* message = nullptr;
  while (true) {
    const gint64 left = deadline - g_get_monotonic_time();
    message = left > 0 ? gst_bus_timed_pop_filtered(
                             bus, static_cast<GstClockTime>(left) * GST_USECOND,
                             static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
                                                         GST_MESSAGE_WARNING))
                       : nullptr;
    if (message == nullptr || GST_MESSAGE_TYPE(message) != GST_MESSAGE_WARNING) break;
    GError* warning = nullptr;
    gst_message_parse_warning(message, &warning, nullptr);
    outcome.warnings.push_back(warning ? warning->message : "");
    g_clear_error(&warning);
    gst_message_unref(message);
  }
  if (message == nullptr) {
    outcome.timed_out = true;
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
    outcome.reached_eos = true;
  } else {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    outcome.errored = true;
    outcome.error_message = error ? error->message : "";
    outcome.error_debug = debug ? debug : "";
    outcome.error_source = GST_OBJECT_NAME(GST_MESSAGE_SRC(message));
    g_clear_error(&error);
    g_free(debug);
  }
  if (message) gst_message_unref(message);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  return outcome;
}

/// Parses a gst-launch description; fails the test on a syntax error.
inline GstElement* parse_pipeline(const std::string& description) {
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  if (error != nullptr) {
    ADD_FAILURE() << "cannot parse \"" << description << "\": " << error->message;
    g_clear_error(&error);
  }
  return pipeline;
}

}  // namespace vmt::test
