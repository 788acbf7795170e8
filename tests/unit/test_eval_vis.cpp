// vmt-eval YouTube-VIS / HQ-YTVIS: Tube-Mask and Tube-Boundary AP against the numbers the official
// HQ-YTVIS evaluator printed for the committed fixtures (tests/fixtures/eval/README.md).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "vmt/error.h"
#include "vmt/eval.h"

namespace fs = std::filesystem;
namespace ev = vmt::eval;

namespace {

fs::path fixture(const std::string& name) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  return fs::path(root ? root : ".") / "tests" / "fixtures" / "eval" / name;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

/// Our 12 stats and per-category AP equal the reference's to 0.1 on the 0–100 scale.
void expect_matches_reference(const std::string& results, ev::VisIouType type, const char* key) {
  const auto gt = ev::load_vis_ground_truth(fixture("ytvis/gt.json"));
  const auto dts = ev::load_vis_results(fixture("ytvis/" + results), gt);
  const auto ref = read_json(fixture("ytvis/reference.json")).at(results + ":" + key);
  ev::VisParams p;
  p.iou_type = type;
  const auto s = ev::evaluate_vis(gt, dts, p);
  for (std::size_t i = 0; i < 12; ++i)
    EXPECT_NEAR(100 * s.stats[i], 100 * ref.at("stats")[i].get<double>(), 0.1) << key << " stat " << i;
  for (const auto& [cat, ap] : s.category_ap)
    EXPECT_NEAR(100 * ap, 100 * ref.at("category_ap").at(std::to_string(cat)).get<double>(), 0.1);
}

/// A one-video, one-category ground truth with a single 4-frame track absent in frame 2.
ev::VisGroundTruth tiny_gt() {
  vmt::Bitmap m({8, 8});
  for (std::uint32_t y = 2; y < 6; ++y)
    for (std::uint32_t x = 1; x < 7; ++x) m.set(x, y, true);
  ev::VisGroundTruth gt;
  gt.videos.push_back({1, {8, 8}, 4});
  gt.category_ids = {1};
  ev::VisTrack t;
  t.id = 1; t.video_id = 1; t.category_id = 1;
  t.masks = {vmt::rle_encode(m.view()), vmt::rle_encode(m.view()), std::nullopt, vmt::rle_encode(m.view())};
  t.avg_area = 24;
  gt.annotations.push_back(t);
  return gt;
}

}  // namespace

// Class-agnostic AP equals the official ytvoseval run on the fixture with every category mapped
// to one (tests/fixtures/eval/README.md), for mask and boundary IoU.
TEST(EvalVis, ClassAgnosticMatchesOfficialOnRelabelledFiles) {
  const auto ref = read_json(fixture("ytvis/reference_class_agnostic.json"));
  for (const std::string results : {"results.json", "results_perfect.json"})
    for (const auto& [type, key] : {std::pair{ev::VisIouType::Mask, "segm"}, std::pair{ev::VisIouType::Boundary, "boundary"}}) {
      auto gt = ev::load_vis_ground_truth(fixture("ytvis/gt.json"));
      auto dts = ev::load_vis_results(fixture("ytvis/" + results), gt);
      ev::merge_categories(gt, dts);
      ev::VisParams p;
      p.iou_type = type;
      const auto s = ev::evaluate_vis(gt, dts, p);
      const auto& expected = ref.at(results + ":" + key).at("stats");
      for (std::size_t i = 0; i < 12; ++i)
        EXPECT_NEAR(100 * s.stats[i], 100 * expected[i].get<double>(), 0.1) << results << " " << key << " stat " << i;
      ASSERT_EQ(s.category_ap.size(), 1u);
      EXPECT_NEAR(s.category_ap.at(1), s.stats[0], 1e-12);
    }
}

// A track found with the wrong class scores 0 per class and 100 class-agnostic.
TEST(EvalVis, ClassAgnosticForgivesTheWrongClass) {
  auto gt = tiny_gt();
  gt.category_ids = {1, 2};
  std::vector<ev::VisTrack> dts(1, gt.annotations[0]);
  dts[0].id = 1;
  dts[0].category_id = 2;
  dts[0].score = 0.9;
  EXPECT_NEAR(ev::evaluate_vis(gt, dts).stats[0], 0.0, 1e-12);
  ev::merge_categories(gt, dts);
  EXPECT_NEAR(ev::evaluate_vis(gt, dts).stats[0], 1.0, 1e-12);
}

// Tube-Mask AP equals the official ytvoseval (iouType 'segm') on the fixture.
TEST(EvalVis, MaskApMatchesOfficial) { expect_matches_reference("results.json", ev::VisIouType::Mask, "segm"); }

// Tube-Boundary AP equals the official ytvoseval (iouType 'boundary') on the fixture.
TEST(EvalVis, BoundaryApMatchesOfficial) {
  expect_matches_reference("results.json", ev::VisIouType::Boundary, "boundary");
}

// Ground truth given back as results scores AP 100 (and equals the official numbers).
TEST(EvalVis, PerfectResultsMatchOfficial) {
  expect_matches_reference("results_perfect.json", ev::VisIouType::Mask, "segm");
  expect_matches_reference("results_perfect.json", ev::VisIouType::Boundary, "boundary");
}

// An empty results list gives AP 0 and AR 0 (the official loadRes cannot read an empty list).
TEST(EvalVis, EmptyResultsScoreZero) {
  const auto gt = ev::load_vis_ground_truth(fixture("ytvis/gt.json"));
  const auto dts = ev::load_vis_results(fixture("ytvis/results_empty.json"), gt);
  const auto s = ev::evaluate_vis(gt, dts);
  EXPECT_EQ(s.stats[0], 0.0);
  EXPECT_EQ(s.stats[8], 0.0);
  EXPECT_EQ(s.stats[4], -1.0);   // no medium ground truth
}

// One perfect track: AP 100; the same track with a lower IoU loses the high thresholds.
TEST(EvalVis, PerfectTrackIsHundred) {
  const auto gt = tiny_gt();
  std::vector<ev::VisTrack> dts{gt.annotations[0]};
  dts[0].score = 0.9;
  EXPECT_DOUBLE_EQ(ev::evaluate_vis(gt, dts).stats[0], 1.0);
  ev::VisParams b;
  b.iou_type = ev::VisIouType::Boundary;
  EXPECT_DOUBLE_EQ(ev::evaluate_vis(gt, dts, b).stats[0], 1.0);
  // Predicting an object in the frame where the ground truth is absent adds to the union only.
  dts[0].masks[2] = dts[0].masks[0];
  EXPECT_NEAR(ev::vis_tube_iou(dts[0].masks, gt.annotations[0].masks), 0.75, 1e-12);
  EXPECT_NEAR(ev::evaluate_vis(gt, dts).stats[1], 1.0, 1e-12);   // AP50
  EXPECT_NEAR(ev::evaluate_vis(gt, dts).stats[2], 1.0, 1e-12);   // AP75 (IoU 0.75 ≥ 0.75)
  EXPECT_LT(ev::evaluate_vis(gt, dts).stats[0], 1.0);
}

// A crowd ground truth is never a miss and a detection on it is not a false positive.
TEST(EvalVis, CrowdIsIgnored) {
  auto gt = tiny_gt();
  gt.annotations[0].iscrowd = true;
  std::vector<ev::VisTrack> dts{gt.annotations[0]};
  EXPECT_EQ(ev::evaluate_vis(gt, dts).stats[0], -1.0);   // nothing to recall
}

// Results of a video the ground truth does not have are rejected, as the official loadRes does.
TEST(EvalVis, UnknownVideoThrows) {
  const auto gt = tiny_gt();
  EXPECT_THROW(ev::parse_vis_results(R"([{"video_id": 7, "category_id": 1, "score": 1, "segmentations": [null]}])", gt),
               vmt::Error);
}

// Numbers the readers take as whole numbers (sizes, ids, runs): out of range, negative for a size
// or fractional is corrupt data, named. (fuzz_ytvis found a height of 2.8e72: nlohmann converted
// it to uint32 with undefined behaviour; -1 became 4294967295.) A float holding a whole number,
// as Python's json may write, is taken.
TEST(EvalVis, NumbersOutOfRangeAreCorruptData) {
  auto video = [](const std::string& height, const std::string& counts) {
    return R"({"videos": [{"id": 1, "height": )" + height +
           R"(, "width": 3, "length": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1,
           "video_id": 1.0, "category_id": 1, "segmentations": [{"size": [2, 3], "counts": )" +
           counts + "}]}]}";
  };
  for (const auto& [height, counts] : std::vector<std::pair<std::string, std::string>>{
           {"2.8e72", "[6]"}, {"-1", "[6]"}, {"2.5", "[6]"}, {"4294967296", "[6]"},
           {"2", "[1e40, 2]"}, {"2", "[-1, 7]"}, {"2", "[\"6\"]"}}) {
    try {
      ev::parse_vis_ground_truth(video(height, counts));
      ADD_FAILURE() << "accepted height " << height << " counts " << counts;
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::CorruptData) << height << " " << counts;
    }
  }
  const auto gt = ev::parse_vis_ground_truth(video("2.0", "[6]"));
  EXPECT_EQ(gt.videos.at(0).size.height, 2u);
  EXPECT_EQ(gt.annotations.at(0).video_id, 1);
}

// A result whose masks are not of its video's size, or that has another number of frames, is
// refused when read, before anything is decoded (a result claiming 65535x65535 masks would
// otherwise be decoded at that size for the boundary IoU).
TEST(EvalVis, ResultMasksMustFitTheirVideo) {
  const std::string gt_text = R"({"videos": [{"id": 1, "height": 2, "width": 3, "length": 2}],
      "categories": [{"id": 1}], "annotations": []})";
  const auto gt = ev::parse_vis_ground_truth(gt_text);
  const auto result = [](const std::string& segmentations) {
    return R"([{"video_id": 1, "category_id": 1, "score": 0.5, "segmentations": )" +
           segmentations + "}]";
  };
  EXPECT_EQ(ev::parse_vis_results(result(R"([{"size": [2, 3], "counts": [6]}, null])"), gt).size(), 1u);
  for (const char* bad : {R"([{"size": [65535, 65535], "counts": [4294836225]}, null])",
                          R"([{"size": [3, 2], "counts": [6]}, null])", "[null]",
                          "[null, null, null]"}) {
    try {
      ev::parse_vis_results(result(bad), gt);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::InvalidArgument) << bad;
    }
  }
}
