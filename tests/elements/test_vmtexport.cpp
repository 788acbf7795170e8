// vmtexport: every format parses and holds the expected content; EOS without data; write failures.
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gst_test_support.h"
#include "vmt/mask.h"
#include "vmt_meta_helpers.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

using json = nlohmann::json;

constexpr guint kWidth = 32;
constexpr guint kHeight = 24;
constexpr int kFrames = 5;

/// Track 7 (car, class 1, 0.9) in every frame; track 9 (pedestrian, class 2, 0.6) in frames
/// 1..3, overlapping track 7.
void annotate(GstVmtFrameMeta* meta, guint64 index) {
  vmt::test::add_box_instance(meta, 7, 1, "car", 0.9f, 2, 2, 8, 6);
  if (index >= 1 && index <= 3) vmt::test::add_box_instance(meta, 9, 2, "pedestrian", 0.6f, 6, 4, 8, 8);
}

/// A temporary folder removed with its files when the test ends.
class TempFolder {
 public:
  TempFolder() {
    gchar* made = g_dir_make_tmp("vmt-export-XXXXXX", nullptr);
    path_ = made ? made : "";
    g_free(made);
  }
  ~TempFolder() {
    g_chmod(path_.c_str(), 0700);
    GDir* dir = g_dir_open(path_.c_str(), 0, nullptr);
    if (dir) {
      while (const gchar* name = g_dir_read_name(dir)) {
        const std::string child = path_ + "/" + name;
        if (g_rmdir(child.c_str()) != 0) g_remove(child.c_str());
      }
      g_dir_close(dir);
    }
    g_rmdir(path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  /// Names of the files in the folder.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    GDir* dir = g_dir_open(path_.c_str(), 0, nullptr);
    while (const gchar* name = dir ? g_dir_read_name(dir) : nullptr) names.emplace_back(name);
    if (dir) g_dir_close(dir);
    return names;
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  return lines;
}

/// Runs `frames` annotated 32×24 frames into vmtexport with `properties`.
vmt::test::PipelineOutcome run_export(const std::string& properties, int frames = kFrames) {
  GstElement* pipeline = vmt::test::parse_pipeline(
      "videotestsrc num-buffers=" + std::to_string(frames) +
      " ! video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! identity name=annotate ! "
      "vmtexport name=export " + properties);
  GstElement* identity = gst_bin_get_by_name(GST_BIN(pipeline), "annotate");
  vmt::test::attach_meta_probe(identity, kWidth, kHeight, annotate);
  gst_object_unref(identity);
  auto outcome = vmt::test::run_until_done(pipeline);
  gst_object_unref(pipeline);
  return outcome;
}

/// The expected full-frame RLE of a box.
std::string box_rle(guint x, guint y, guint w, guint h) {
  std::vector<std::uint8_t> frame(kWidth * kHeight, 0);
  for (guint r = y; r < y + h; ++r)
    for (guint c = x; c < x + w; ++c) frame[r * kWidth + c] = 1;
  return vmt::rle_to_string(vmt::rle_encode(vmt::BitmapView{frame, {kHeight, kWidth}}));
}

/// Asserts that the RLEs (counts strings of one frame) cover disjoint pixels.
void expect_disjoint(const std::vector<std::string>& counts) {
  for (size_t a = 0; a < counts.size(); ++a)
    for (size_t b = a + 1; b < counts.size(); ++b)
      EXPECT_EQ(vmt::rle_intersection_area(vmt::rle_from_string(counts[a], {kHeight, kWidth}),
                                           vmt::rle_from_string(counts[b], {kHeight, kWidth})),
                0u);
}

}  // namespace

// JSON Lines: one object per frame with its instances, track ids, boxes and full-frame RLE.
TEST(VmtExport, JsonLinesHasOneObjectPerFrame) {
  TempFolder folder;
  const std::string path = folder.file("out.jsonl");
  const auto outcome = run_export("format=jsonl location=" + path);
  ASSERT_TRUE(outcome.reached_eos) << outcome.error_message;
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), std::size_t{kFrames});
  for (int i = 0; i < kFrames; ++i) {
    const json frame = json::parse(lines[i]);
    EXPECT_EQ(frame["frame"], i);
    EXPECT_EQ(frame["skipped"], false);
    EXPECT_EQ(frame["width"], kWidth);
    EXPECT_EQ(frame["instances"].size(), (i >= 1 && i <= 3) ? 2u : 1u);
  }
  const json second = json::parse(lines[1]);
  const json& car = second["instances"][0];
  EXPECT_EQ(car["track_id"], 7);
  EXPECT_EQ(car["label"], "car");
  EXPECT_EQ(car["box"], json({2, 2, 8, 6}));
  EXPECT_EQ(car["rle"]["size"], json({kHeight, kWidth}));
  EXPECT_EQ(car["rle"]["counts"], box_rle(2, 2, 8, 6));
  EXPECT_EQ(second["instances"][1]["track_id"], 9);
  EXPECT_EQ(folder.entries(), std::vector<std::string>{"out.jsonl"}) << "temporary file left";
}

// JSON Lines are flushed per frame to LOCATION.part while playing; LOCATION appears at EOS.
TEST(VmtExport, JsonLinesStreamToPartFileUntilEos) {
  TempFolder folder;
  const std::string path = folder.file("live.jsonl");
  GstHarness* harness = gst_harness_new_parse(("vmtexport location=" + path).c_str());
  gst_harness_set_src_caps_str(harness, "video/x-raw,format=RGB,width=32,height=24,framerate=30/1");
  for (guint64 i = 0; i < 3; ++i) {
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, kWidth * kHeight * 3, nullptr);
    annotate(gst_buffer_add_vmt_frame_meta(buffer, i, kWidth, kHeight), i);
    ASSERT_EQ(gst_harness_push(harness, buffer), GST_FLOW_OK);
  }
  EXPECT_EQ(read_lines(path + ".part").size(), 3u);
  EXPECT_FALSE(g_file_test(path.c_str(), G_FILE_TEST_EXISTS));
  ASSERT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  EXPECT_EQ(read_lines(path).size(), 3u);
  EXPECT_FALSE(g_file_test((path + ".part").c_str(), G_FILE_TEST_EXISTS));
  gst_harness_teardown(harness);
}

// YouTube-VIS: one result per track with one slot per frame, null where the track is absent.
TEST(VmtExport, YoutubeVisHasOneResultPerTrack) {
  TempFolder folder;
  const std::string path = folder.file("results.json");
  const auto outcome = run_export("format=youtube-vis video-id=17 location=" + path);
  ASSERT_TRUE(outcome.reached_eos) << outcome.error_message;
  const json results = json::parse(read_file(path));
  ASSERT_TRUE(results.is_array());
  ASSERT_EQ(results.size(), 2u);
  const json& car = results[0];
  EXPECT_EQ(car["video_id"], 17);
  EXPECT_EQ(car["category_id"], 1);
  EXPECT_NEAR(car["score"].get<double>(), 0.9, 1e-6);
  ASSERT_EQ(car["segmentations"].size(), std::size_t{kFrames});
  EXPECT_EQ(car["segmentations"][0]["counts"], box_rle(2, 2, 8, 6));
  const json& pedestrian = results[1];
  EXPECT_EQ(pedestrian["category_id"], 2);
  ASSERT_EQ(pedestrian["segmentations"].size(), std::size_t{kFrames});
  EXPECT_TRUE(pedestrian["segmentations"][0].is_null());
  EXPECT_EQ(pedestrian["segmentations"][2]["counts"], box_rle(6, 4, 8, 8));
  EXPECT_TRUE(pedestrian["segmentations"][4].is_null());
}

// MOTSChallenge: 1-based frames, id = class*1000 + instance, masks of a frame disjoint with the
// overlap given to the higher score.
TEST(VmtExport, MotsChallengeLinesAreOneBasedAndDisjoint) {
  TempFolder folder;
  const std::string path = folder.file("0002.txt");
  const auto outcome = run_export("format=mots-challenge location=" + path);
  ASSERT_TRUE(outcome.reached_eos) << outcome.error_message;
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 8u);  // 5 cars + 3 pedestrians
  std::map<int, std::vector<std::string>> by_frame;
  for (const auto& line : lines) {
    std::istringstream fields(line);
    int frame = 0, id = 0, class_id = 0, height = 0, width = 0;
    std::string rle;
    ASSERT_TRUE(fields >> frame >> id >> class_id >> height >> width >> rle) << line;
    EXPECT_GE(frame, 1);
    EXPECT_LE(frame, kFrames);
    EXPECT_EQ(id, class_id == 1 ? 1001 : 2001) << line;
    EXPECT_EQ(height, static_cast<int>(kHeight));
    EXPECT_EQ(width, static_cast<int>(kWidth));
    by_frame[frame].push_back(rle);
  }
  EXPECT_EQ(by_frame.begin()->first, 1);
  ASSERT_EQ(by_frame[2].size(), 2u);
  expect_disjoint(by_frame[2]);
  EXPECT_EQ(by_frame[2][0], box_rle(2, 2, 8, 6)) << "the car (higher score) keeps the overlap";
}

// KITTI-MOTS numbers frames from 0; frame-base overrides the format's default.
TEST(VmtExport, KittiMotsIsZeroBasedUnlessFrameBaseSaysOtherwise) {
  TempFolder folder;
  ASSERT_TRUE(run_export("format=kitti-mots location=" + folder.file("a.txt")).reached_eos);
  ASSERT_TRUE(run_export("format=kitti-mots frame-base=1 location=" + folder.file("b.txt")).reached_eos);
  EXPECT_EQ(read_lines(folder.file("a.txt")).front().rfind("0 1001 1 24 32 ", 0), 0u);
  EXPECT_EQ(read_lines(folder.file("b.txt")).front().rfind("1 1001 1 24 32 ", 0), 0u);
}

// BDD100K: a list of frames with names, indices and disjoint RLE labels.
TEST(VmtExport, Bdd100kFramesHaveDisjointLabels) {
  TempFolder folder;
  const std::string path = folder.file("b1c9c847-3bda4659.json");
  const auto outcome = run_export("format=bdd100k location=" + path);
  ASSERT_TRUE(outcome.reached_eos) << outcome.error_message;
  const json frames = json::parse(read_file(path));
  ASSERT_EQ(frames.size(), std::size_t{kFrames});
  EXPECT_EQ(frames[0]["videoName"], "b1c9c847-3bda4659");
  EXPECT_EQ(frames[0]["name"], "b1c9c847-3bda4659-0000001.jpg");
  EXPECT_EQ(frames[3]["frameIndex"], 3);
  const json& labels = frames[2]["labels"];
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0]["id"], "7");
  EXPECT_EQ(labels[0]["category"], "car");
  EXPECT_EQ(labels[1]["category"], "pedestrian");
  expect_disjoint({labels[0]["rle"]["counts"], labels[1]["rle"]["counts"]});
}

// EOS before any frame still writes a complete, valid (empty) file in every format.
TEST(VmtExport, EosWithoutFramesWritesValidEmptyFiles) {
  TempFolder folder;
  for (const char* format : {"jsonl", "youtube-vis", "mots-challenge", "kitti-mots", "bdd100k"}) {
    const std::string path = folder.file(std::string("empty-") + format);
    const auto outcome = run_export(std::string("format=") + format + " location=" + path, 0);
    ASSERT_TRUE(outcome.reached_eos) << format << ": " << outcome.error_message;
    ASSERT_TRUE(g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) << format;
    const std::string text = read_file(path);
    if (std::string(format) == "youtube-vis" || std::string(format) == "bdd100k")
      EXPECT_EQ(json::parse(text), json::array()) << format;
    else
      EXPECT_EQ(text, "") << format;
  }
}

// A read-only folder is a RESOURCE error naming the file, and no file is left behind.
TEST(VmtExport, ReadOnlyFolderIsAnErrorWithoutPartialFile) {
  TempFolder folder;
  ASSERT_EQ(g_chmod(folder.path().c_str(), 0500), 0);
  if (access(folder.path().c_str(), W_OK) == 0)
    GTEST_SKIP() << "running as root: a read-only folder is still writable";
  const auto outcome = run_export("format=jsonl location=" + folder.file("out.jsonl"));
  EXPECT_TRUE(outcome.errored);
  EXPECT_EQ(outcome.error_source, "export");
  EXPECT_NE(outcome.error_message.find("out.jsonl"), std::string::npos) << outcome.error_message;
  EXPECT_TRUE(folder.entries().empty());
}

// A folder that does not exist is an error message naming the file (also when run as root).
TEST(VmtExport, MissingFolderIsAnError) {
  TempFolder folder;
  const auto outcome = run_export("format=youtube-vis location=" + folder.file("no/such/out.json"));
  EXPECT_TRUE(outcome.errored);
  EXPECT_EQ(outcome.error_source, "export");
  EXPECT_NE(outcome.error_message.find("out.json"), std::string::npos) << outcome.error_message;
  EXPECT_TRUE(folder.entries().empty());
}

// A failure when completing the file at EOS (here: the location is a folder) is an error and
// removes the temporary file.
TEST(VmtExport, FailureAtEosLeavesNoPartialFile) {
  TempFolder folder;
  const std::string path = folder.file("taken");
  ASSERT_EQ(g_mkdir(path.c_str(), 0700), 0);
  const auto outcome = run_export("format=bdd100k location=" + path);
  EXPECT_TRUE(outcome.errored);
  EXPECT_EQ(outcome.error_source, "export");
  EXPECT_NE(outcome.error_message.find("taken"), std::string::npos) << outcome.error_message;
  EXPECT_EQ(folder.entries(), std::vector<std::string>{"taken"});
  EXPECT_TRUE(g_file_test(path.c_str(), G_FILE_TEST_IS_DIR));
}
