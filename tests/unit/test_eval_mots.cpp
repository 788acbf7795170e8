// vmt-eval MOTS: TrackEval (KITTI-MOTS, MOTSChallenge) and bdd100k seg_track numbers on the
// committed fixtures (tests/fixtures/eval/README.md), and hand-checked tiny cases.
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

void expect_scores(const ev::MotsScores& s, const nlohmann::json& ref) {
  EXPECT_NEAR(100 * s.smotsa, ref.at("sMOTSA").get<double>(), 0.1);
  EXPECT_NEAR(100 * s.motsa, ref.at("MOTSA").get<double>(), 0.1);
  EXPECT_NEAR(100 * s.motsp, ref.at("MOTSP").get<double>(), 0.1);
  EXPECT_NEAR(100 * s.idf1, ref.at("IDF1").get<double>(), 0.1);
  EXPECT_NEAR(100 * s.hota, ref.at("HOTA").get<double>(), 0.1);
  EXPECT_NEAR(100 * s.deta, ref.at("DetA").get<double>(), 0.1);
  EXPECT_NEAR(100 * s.assa, ref.at("AssA").get<double>(), 0.1);
  EXPECT_EQ(s.idsw, ref.at("IDSW").get<std::int64_t>());
}

/// A 10×10 mask filled in rows [y0, y1).
vmt::Rle band(std::uint32_t y0, std::uint32_t y1) {
  vmt::Bitmap m({10, 10});
  for (std::uint32_t y = y0; y < y1; ++y)
    for (std::uint32_t x = 0; x < 10; ++x) m.set(x, y, true);
  return vmt::rle_encode(m.view());
}

}  // namespace

// KITTI-MOTS car and pedestrian scores equal TrackEval's.
TEST(EvalMots, KittiMatchesTrackEval) {
  const auto ref = read_json(fixture("mots_reference.json")).at("kitti_mots");
  std::vector<ev::MotsSequence> gt, tr;
  for (const char* seq : {"0000", "0001"}) {
    gt.push_back(ev::load_mots_txt(fixture(std::string("kitti_mots/gt/label_02/") + seq + ".txt")));
    tr.push_back(ev::load_mots_txt(fixture(std::string("kitti_mots/trackers/vmt/data/") + seq + ".txt")));
  }
  const std::vector<std::size_t> lengths{6, 5};
  const auto r = ev::evaluate_mots(gt, tr, ev::MotsBenchmark::KittiMots, lengths);
  expect_scores(r.classes.at("car"), ref.at("car"));
  expect_scores(r.classes.at("pedestrian"), ref.at("pedestrian"));
}

// MOTSChallenge (1-based frames, pedestrians only) equals TrackEval's.
TEST(EvalMots, MotsChallengeMatchesTrackEval) {
  const auto ref = read_json(fixture("mots_reference.json")).at("mots_challenge");
  std::vector<ev::MotsSequence> gt, tr;
  for (const char* seq : {"MOTS20-90", "MOTS20-91"}) {
    gt.push_back(ev::load_mots_txt(fixture(std::string("mots_challenge/gt/MOTS-train/") + seq + "/gt/gt.txt")));
    tr.push_back(ev::load_mots_txt(fixture(std::string("mots_challenge/trackers/MOTS-train/vmt/data/") + seq + ".txt")));
  }
  const auto r = ev::evaluate_mots(gt, tr, ev::MotsBenchmark::MotsChallenge);
  expect_scores(r.classes.at("pedestrian"), ref.at("pedestrian"));
}

// A perfect tracker scores 100 everywhere; an id switch costs one IDSW and lowers IDF1 as counted.
TEST(EvalMots, IdSwitchLowersIdf1) {
  ev::MotsSequence gt{"s", {}}, tr{"s", {}};
  for (std::int64_t t = 0; t < 4; ++t) {
    gt.objects.push_back({t, 1001, 1, band(0, 5)});
    tr.objects.push_back({t, 1001, 1, band(0, 5)});
  }
  auto r = ev::evaluate_mots(std::span(&gt, 1), std::span(&tr, 1), ev::MotsBenchmark::KittiMots);
  EXPECT_DOUBLE_EQ(r.classes.at("car").smotsa, 1.0);
  EXPECT_DOUBLE_EQ(r.classes.at("car").idf1, 1.0);
  EXPECT_NEAR(r.classes.at("car").hota, 1.0, 1e-12);
  tr.objects[2].id = tr.objects[3].id = 1002;   // switch at frame 2
  r = ev::evaluate_mots(std::span(&gt, 1), std::span(&tr, 1), ev::MotsBenchmark::KittiMots);
  EXPECT_EQ(r.classes.at("car").idsw, 1);
  EXPECT_DOUBLE_EQ(r.classes.at("car").motsa, 0.75);   // (4 − 0 − 1) / 4
  EXPECT_DOUBLE_EQ(r.classes.at("car").idf1, 0.5);     // IDTP 2 of 4 + 4
}

// An empty tracker: every ground-truth object is a miss, everything is 0.
TEST(EvalMots, EmptyTrackerScoresZero) {
  ev::MotsSequence gt{"s", {{0, 2001, 2, band(0, 5)}, {1, 2001, 2, band(0, 5)}}}, tr{"s", {}};
  const auto r = ev::evaluate_mots(std::span(&gt, 1), std::span(&tr, 1), ev::MotsBenchmark::KittiMots);
  EXPECT_EQ(r.classes.at("pedestrian").fn, 2);
  EXPECT_EQ(r.classes.at("pedestrian").motsa, 0.0);
  EXPECT_EQ(r.classes.at("pedestrian").hota, 0.0);
}

// An unmatched prediction mostly inside an ignore region (class 10) is dropped, not a false positive.
TEST(EvalMots, IgnoreRegionDropsPrediction) {
  ev::MotsSequence gt{"s", {{0, 10000, 10, band(5, 10)}}}, tr{"s", {{0, 1003, 1, band(6, 9)}}};
  const auto r = ev::evaluate_mots(std::span(&gt, 1), std::span(&tr, 1), ev::MotsBenchmark::KittiMots);
  EXPECT_EQ(r.classes.at("car").fp, 0);
}

// BDD100K mMOTSA, mMOTSP, mIDF1 equal the bdd100k toolkit's seg_track.
TEST(EvalBdd, MatchesToolkit) {
  const auto ref = read_json(fixture("bdd100k/reference.json"));
  const auto r = ev::evaluate_bdd100k_mots(ev::load_scalabel(fixture("bdd100k/gt.json")),
                                           ev::load_scalabel(fixture("bdd100k/pred.json")));
  EXPECT_NEAR(r.mmotsa, ref.at("mMOTA").get<double>(), 0.1);
  EXPECT_NEAR(r.mmotsp, ref.at("mMOTP").get<double>(), 0.1);
  EXPECT_NEAR(r.midf1, ref.at("mIDF1").get<double>(), 0.1);
  for (const auto& row : ref.at("MOTA")[0].items())
    EXPECT_NEAR(r.classes.at(row.key()).mota, row.value().get<double>(), 0.1) << row.key();
  for (const auto& row : ref.at("IDF1")[0].items())
    EXPECT_NEAR(r.classes.at(row.key()).idf1, row.value().get<double>(), 0.1) << row.key();
}

// Assignment: the optimal pairing, also for more rows than columns.
TEST(EvalAssignment, FindsMinimumCost) {
  const std::vector<double> cost{4, 1, 3, 2, 0, 5, 3, 2, 2};
  EXPECT_EQ(ev::linear_sum_assignment(cost, 3, 3), (std::vector<int>{1, 0, 2}));
  const std::vector<double> tall{1, 9, 2, 0, 5, 5};
  EXPECT_EQ(ev::linear_sum_assignment(tall, 3, 2), (std::vector<int>{0, 1, -1}));
}

// A frame number no int64 holds (found by fuzz_mots: converting it was undefined behaviour) or
// NaN is refused as corrupt data, as is a malformed line; a fractional frame is truncated as
// TrackEval's int(float(...)) does.
TEST(EvalMots, FrameNumberOutOfRangeIsCorruptData) {
  for (const char* line : {"1e27 1 1 1 1 01\n", "-1e300 1 1 1 1 01\n", "nan 1 1 1 1 01\n",
                           "0 1 1 1\n"}) {
    try {
      vmt::eval::parse_mots_txt(line);
      ADD_FAILURE() << "accepted: " << line;
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::CorruptData) << line;
    }
  }
  EXPECT_EQ(vmt::eval::parse_mots_txt("3.7 1 1 1 1 01\n").objects.at(0).frame, 3);
}
