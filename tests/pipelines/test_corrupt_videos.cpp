// Damaged video files (tests/fixtures/videos/, made by make_videos.sh there) through
// `filesrc ! queue ! decodebin ! videoconvert ! vmtsegment ! fakesink`: each one ends in EOS or in
// an ERROR message that names the problem, within a timeout — never a crash, never a hang.
//
// The queue matters. Without it the demuxer runs in pull mode on a thread of its own, started
// while decodebin (GStreamer 1.22) brings it to PAUSED with its error filter on: an error the
// demuxer posts in that window (a file without moov, a broken sample table, no video stream) is
// swallowed and the pipeline waits forever. Behind a queue the demuxer runs in push mode, in the
// thread that links it, and its errors come after the filter is off. The plain form is tested too,
// for the files whose outcome does not depend on that race.
#include <atomic>
#include <iostream>
#include <cctype>
#include <cstdlib>
#include <ostream>
#include <string>

#include "gst_test_support.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

struct DamagedVideo {
  const char* file;
  bool ends_in_eos;   ///< EOS (the frames that could be decoded) rather than ERROR
  int frames;         ///< frames through vmtsegment at EOS; -1 = some, not a fixed number
  const char* names;  ///< for an ERROR: text the message (or its debug string) must contain
  const char* names_plain = nullptr;  ///< the same for plain decodebin, where it differs
  bool demuxer_race = false;  ///< plain decodebin may swallow the error (see the top comment)
};

void PrintTo(const DamagedVideo& video, std::ostream* out) { *out << video.file; }

void count_buffer(GstElement*, GstBuffer*, GstPad*, gpointer counter) {
  ++*static_cast<std::atomic<int>*>(counter);
}

class CorruptVideo : public ::testing::TestWithParam<DamagedVideo> {};
class CorruptVideoPlainDecodebin : public ::testing::TestWithParam<DamagedVideo> {};

// The expected outcome of each fixture (tests/fixtures/videos/README.md has the table).
const DamagedVideo kVideos[] = {
    {"intact.mp4", true, 24, ""},
    {"truncated-30.mp4", true, -1, ""},
    {"truncated-70.mp4", true, -1, ""},
    {"truncated-50.mkv", true, -1, ""},
    {"bitflip-middle.mp4", true, -1, ""},
    {"no-moov-truncated-70.mp4", false, 0, "no playable streams", nullptr, true},
    {"bitflip-sample-table.mp4", false, 0, "corrupt", nullptr, true},
    {"bitflip-avcc.mp4", false, 0, "No valid frames"},
    {"zeroed-header.mp4", false, 0, "Could not determine type of stream"},
    {"garbage.mp4", false, 0, "Could not determine type of stream"},
    {"empty.mp4", false, 0, "doesn't contain enough data", "contains no data"},
    {"audio-only.ogg", false, 0, "not-linked", nullptr, true},
};

/// Runs `path` through `decoder` (the part between filesrc and videoconvert) and vmtsegment, and
/// checks the outcome against `video`.
void expect_outcome(const DamagedVideo& video, const std::string& decoder, const char* names) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  const char* model = std::getenv("VMT_TEST_MODEL");
  ASSERT_NE(root, nullptr);
  const std::string path = std::string(root) + "/tests/fixtures/videos/" + video.file;
  // offline clips of 8: the partial last clip is run at EOS, so truncation meets a held tube
  std::atomic<int> frames{0};
  auto run_once = [&]() {
    GstElement* pipeline = vmt::test::parse_pipeline(
        "filesrc location=\"" + path + "\" ! " + decoder +
        " ! videoconvert ! vmtsegment device=cpu "
        "input-size=48 mode=offline clip-length=8 clip-overlap=2 model=\"" +
        (model ? model : "") + "\" ! fakesink name=sink sync=false signal-handoffs=true");
    EXPECT_NE(pipeline, nullptr);
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    frames = 0;
    g_signal_connect(sink, "handoff", G_CALLBACK(count_buffer), &frames);
    const auto result = vmt::test::run_until_done(pipeline, 60.0);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
    return result;
  };
  auto outcome = run_once();
  if (outcome.timed_out) {
    // Under heavy load decodebin (GStreamer 1.22) has, rarely (1 in ~50 here), lost a demuxer's
    // or decoder's error even behind a queue, with or without vmtsegment. One hang is reported and
    // retried; a second one fails the test.
    std::cout << "[corrupt-videos] " << video.file << ": no EOS or ERROR within 60 s; retrying once\n";
    outcome = run_once();
  }

  ASSERT_FALSE(outcome.timed_out) << video.file << ": neither EOS nor ERROR within 60 s";
  if (video.ends_in_eos) {
    EXPECT_TRUE(outcome.reached_eos) << video.file << ": " << outcome.error_source << ": "
                                     << outcome.error_message << " (" << outcome.error_debug << ")";
    if (video.frames >= 0) {
      EXPECT_EQ(frames.load(), video.frames) << video.file;
    } else {
      EXPECT_GT(frames.load(), 0) << video.file;
    }
  } else {
    ASSERT_TRUE(outcome.errored) << video.file << ": expected an ERROR";
    EXPECT_NE(outcome.error_source.rfind("vmtsegment", 0), 0u)
        << video.file << ": the decoder's problem, not vmtsegment's: " << outcome.error_message;
    EXPECT_TRUE(outcome.error_message.find(names) != std::string::npos ||
                outcome.error_debug.find(names) != std::string::npos)
        << video.file << ": the error does not say \"" << names << "\": " << outcome.error_message
        << " (" << outcome.error_debug << ")";
    EXPECT_EQ(frames.load(), 0) << video.file;
  }
}

std::string test_name(const ::testing::TestParamInfo<DamagedVideo>& info) {
  std::string name = info.param.file;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

}  // namespace

// Each damaged file ends, by itself and in time, the way its README row says.
TEST_P(CorruptVideo, EndsInEosOrANamedError) {
  expect_outcome(GetParam(), "queue ! decodebin", GetParam().names);
}

// The same with filesrc linked straight to decodebin, except where GStreamer's own race decides.
TEST_P(CorruptVideoPlainDecodebin, EndsInEosOrANamedError) {
  const DamagedVideo& video = GetParam();
  if (video.demuxer_race)
    GTEST_SKIP() << "plain decodebin can swallow the demuxer's error (GStreamer 1.22 race)";
  expect_outcome(video, "decodebin", video.names_plain ? video.names_plain : video.names);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CorruptVideo, ::testing::ValuesIn(kVideos), test_name);
INSTANTIATE_TEST_SUITE_P(Fixtures, CorruptVideoPlainDecodebin, ::testing::ValuesIn(kVideos),
                         test_name);
