// Engine::begin_tube / finish_tube and vmt::EnginePipeline: online steps overlapped on two
// threads give the results of steps one after the other, bit for bit, one push late and in order;
// errors reach the caller and leave nothing in flight.
#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine_test_support.h"
#include "vmt/device.h"
#include "vmt/engine.h"
#include "vmt/engine_pipeline.h"
#include "vmt/error.h"

namespace {

using vmt::Engine;
using vmt::EnginePipeline;
using vmt::ErrorCode;
using vmt::PixelFormat;

vmt::EngineOptions cpu_options(const std::string& path) {
  vmt::EngineOptions o;
  o.model_path = path;
  o.device = vmt::parse_device("cpu");
  o.input_size = 0;  // the test frames are already small
  return o;
}

/// The online step that emits frame `newest` with a tube of at most `tube` frames.
vmt::TubeInput online_step(std::span<const vmt::ImageView> frames, int newest, int tube) {
  const int begin = std::max(0, newest - tube + 1);
  return {begin, frames.subspan(begin, newest - begin + 1), {newest, newest + 1}};
}

/// "" when `a` and `b` are the same bits (every instance's score, class, class scores,
/// association masks and frame masks), else the first difference.
std::string difference(const vmt::TubeResult& a, const vmt::TubeResult& b) {
  if (a.frames != b.frames) return "other frames";
  if (a.instances.size() != b.instances.size()) {
    return std::to_string(a.instances.size()) + " instances against " +
           std::to_string(b.instances.size());
  }
  for (std::size_t i = 0; i < a.instances.size(); ++i) {
    const auto &x = a.instances[i], &y = b.instances[i];
    const auto where = "instance " + std::to_string(i) + ": ";
    if (x.score != y.score) return where + "score";
    if (x.category != y.category) return where + "category";
    if (x.class_scores != y.class_scores) return where + "class scores";
    if (x.masks != y.masks) return where + "association masks";
    if (x.frame_masks != y.frame_masks) return where + "frame masks";
  }
  return "";
}

using vmt_test::expect_error;

// finish_tube(begin_tube(x)) is run_tube(x), also with the next tube begun in between (what the
// pipeline does on two threads).
TEST(EngineHalves, BeginThenFinishEqualsRunTube) {
  const auto model = vmt_test::make_model_file("small");
  Engine halves(cpu_options(model)), whole(cpu_options(model));
  const auto pictures = vmt_test::make_clip(6, 48, 40, PixelFormat::RGB);
  const auto all = vmt_test::views(pictures);
  auto first = halves.begin_tube(online_step(all, 2, 3));
  EXPECT_TRUE(first);
  EXPECT_EQ(first.frames(), (vmt::FrameRange{0, 3}));
  auto second = halves.begin_tube(online_step(all, 3, 3));  // before the first is finished
  const auto a = halves.finish_tube(std::move(first));
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): moved from is empty
  const auto b = halves.finish_tube(std::move(second));
  EXPECT_EQ(difference(a, whole.run_tube(online_step(all, 2, 3))), "");
  EXPECT_EQ(difference(b, whole.run_tube(online_step(all, 3, 3))), "");
  EXPECT_FALSE(a.instances.empty());
}

TEST(EngineHalves, FinishRefusesAnEmptyOrForeignTube) {
  const auto model = vmt_test::make_model_file("small");
  Engine one(cpu_options(model)), other(cpu_options(model));
  expect_error([&] { one.finish_tube(vmt::PendingTube{}); }, ErrorCode::InvalidArgument,
               "no tube");
  const auto pictures = vmt_test::make_clip(2, 48, 40, PixelFormat::RGB);
  auto pending = other.begin_tube({0, vmt_test::views(pictures), {}});
  expect_error([&] { one.finish_tube(std::move(pending)); }, ErrorCode::InvalidArgument,
               "another engine");
}

// 30 online steps (tube 4) through the pipeline: each result comes one push late, in order, and
// equals the step run on its own, bit for bit; flush returns the last one.
TEST(EnginePipeline, OverlappedStepsEqualStepsOneAfterTheOther) {
  constexpr int kTube = 4, kSteps = 30;
  const auto model = vmt_test::make_model_file("fast");
  Engine piped(cpu_options(model)), reference(cpu_options(model));
  const auto pictures = vmt_test::make_clip(kSteps, 48, 40, PixelFormat::RGB);
  const auto all = vmt_test::views(pictures);
  std::vector<vmt::TubeResult> got;
  {
    EnginePipeline steps(piped);
    EXPECT_TRUE(steps.overlaps());
    for (int f = 0; f < kSteps; ++f) {
      auto result = steps.push(online_step(all, f, kTube));
      EXPECT_TRUE(steps.in_flight());
      EXPECT_EQ(result.has_value(), f > 0) << "step " << f;
      if (result) got.push_back(std::move(*result));
    }
    auto last = steps.flush();
    ASSERT_TRUE(last.has_value());
    got.push_back(std::move(*last));
    EXPECT_FALSE(steps.in_flight());
    EXPECT_FALSE(steps.flush().has_value());
  }
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kSteps));
  long instances = 0;
  for (int f = 0; f < kSteps; ++f) {
    const auto expected = reference.run_tube(online_step(all, f, kTube));
    EXPECT_EQ(difference(got[static_cast<std::size_t>(f)], expected), "") << "step " << f;
    instances += static_cast<long>(expected.instances.size());
  }
  EXPECT_GT(instances, 0);
}

TEST(EnginePipeline, WithoutOverlapEachPushReturnsItsOwnResult) {
  const auto model = vmt_test::make_model_file("small");
  Engine engine(cpu_options(model)), reference(cpu_options(model));
  const auto pictures = vmt_test::make_clip(3, 48, 40, PixelFormat::RGB);
  const auto all = vmt_test::views(pictures);
  EnginePipeline steps(engine, /*overlap=*/false);
  EXPECT_FALSE(steps.overlaps());
  for (int f = 0; f < 3; ++f) {
    const auto result = steps.push(online_step(all, f, 2));
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(steps.in_flight());
    EXPECT_EQ(difference(*result, reference.run_tube(online_step(all, f, 2))), "");
  }
  EXPECT_FALSE(steps.flush().has_value());
}

// A tube the engine refuses: the error reaches the caller, the tube in flight is dropped with
// it, and the pipeline takes the next stream afresh. discard() drops what is in flight.
TEST(EnginePipeline, ErrorsReachTheCallerAndLeaveNothingInFlight) {
  Engine engine(cpu_options(vmt_test::make_model_file("small")));
  const auto small = vmt_test::make_clip(3, 48, 40, PixelFormat::RGB);
  const auto large = vmt_test::make_clip(1, 64, 40, PixelFormat::RGB);
  const auto all = vmt_test::views(small);
  EnginePipeline steps(engine);
  EXPECT_FALSE(steps.push(online_step(all, 0, 2)).has_value());
  const std::vector<vmt::ImageView> mixed{all[0], large[0].view};
  expect_error([&] { steps.push({0, mixed, {}}); }, ErrorCode::InvalidArgument, "one size");
  EXPECT_FALSE(steps.in_flight());
  EXPECT_FALSE(steps.flush().has_value());

  engine.clear_cache();
  EXPECT_FALSE(steps.push(online_step(all, 0, 2)).has_value());
  const auto second = steps.push(online_step(all, 1, 2));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->frames, (vmt::FrameRange{0, 1}));
  steps.discard();
  EXPECT_FALSE(steps.in_flight());
  EXPECT_FALSE(steps.flush().has_value());
  EXPECT_FALSE(steps.push(online_step(all, 2, 2)).has_value());  // in flight at destruction
}

}  // namespace
