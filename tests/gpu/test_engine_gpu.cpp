// vmt::Engine on CUDA: the same instances as on the CPU (fp32), fp16 / bf16 run, the cache equals
// recomputing. Skips with a message where no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "../runtime/engine_test_support.h"
#include "vmt/device.h"
#include "vmt/engine.h"

namespace {

vmt::EngineOptions options(const std::string& device, vmt::Precision precision) {
  vmt::EngineOptions o;
  o.model_path = vmt_test::make_model_file("small");
  o.device = vmt::parse_device(device);
  o.precision = precision;
  o.input_size = 0;
  return o;
}

#define REQUIRE_CUDA() \
  if (vmt::cuda_device_count() == 0) GTEST_SKIP() << "needs a CUDA GPU (none usable here)"

TEST(EngineGpu, Fp32MatchesCpu) {
  REQUIRE_CUDA();
  const auto clip = vmt_test::make_clip(3, 96, 64, vmt::PixelFormat::RGB);
  vmt::Engine cpu(options("cpu", vmt::Precision::Float32));
  vmt::Engine gpu(options("cuda:0", vmt::Precision::Float32));
  const auto a = cpu.run_tube(0, vmt_test::views(clip));
  const auto b = gpu.run_tube(0, vmt_test::views(clip));
  ASSERT_EQ(a.instances.size(), b.instances.size());
  for (std::size_t i = 0; i < a.instances.size(); ++i) {
    EXPECT_NEAR(a.instances[i].score, b.instances[i].score, 1e-3);
    EXPECT_GE(vmt_test::frame_mask_tube_iou(a.instances[i], b.instances[i]), 0.9);
  }
}

TEST(EngineGpu, HalfPrecisionsRun) {
  REQUIRE_CUDA();
  const auto clip = vmt_test::make_clip(2, 96, 64, vmt::PixelFormat::NV12);
  for (const auto p : {vmt::Precision::Float16, vmt::Precision::BFloat16}) {
    vmt::Engine gpu(options("cuda:0", p));
    const auto r = gpu.run_tube(0, vmt_test::views(clip));
    for (const auto& inst : r.instances) EXPECT_EQ(inst.frame_masks.size(), 2u);
  }
}

// fp16 (half weights) / bf16 (autocast) stay close to fp32: the sorted instance scores of one
// clip agree within 0.01 (fp16) and 0.03 (bf16, 8-bit mantissa).
TEST(EngineGpu, HalfPrecisionScoresMatchFp32) {
  REQUIRE_CUDA();
  const auto clip = vmt_test::make_clip(3, 96, 64, vmt::PixelFormat::RGB);
  auto sorted_scores = [&](vmt::Precision p) {
    vmt::Engine engine(options("cuda:0", p));
    std::vector<float> scores;
    for (const auto& inst : engine.run_tube(0, vmt_test::views(clip)).instances)
      scores.push_back(inst.score);
    std::sort(scores.rbegin(), scores.rend());
    return scores;
  };
  const auto reference = sorted_scores(vmt::Precision::Float32);
  ASSERT_FALSE(reference.empty());
  for (const auto& [p, tolerance] : {std::pair{vmt::Precision::Float16, 0.01f},
                                     std::pair{vmt::Precision::BFloat16, 0.03f}}) {
    const auto scores = sorted_scores(p);
    const std::size_t n = std::min(scores.size(), reference.size());
    ASSERT_GT(n, 0u);
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(scores[i], reference[i], tolerance) << i;
  }
}

// The feature cache against recomputing every frame: the same instances to fp32 rounding.
TEST(EngineGpu, CacheEqualsRecompute) {
  REQUIRE_CUDA();
  auto o = options("cuda:0", vmt::Precision::Float32);
  vmt::Engine cached(o);
  o.feature_cache = false;
  vmt::Engine fresh(o);
  const auto clip = vmt_test::make_clip(12, 96, 64, vmt::PixelFormat::RGB);
  const auto all = vmt_test::views(clip);
  vmt_test::Comparison c;
  for (int step = 0; step + 4 <= 12; ++step) {
    const auto tube = std::span(all).subspan(static_cast<std::size_t>(step), 4);
    const vmt::TubeInput input{step, tube, {step + 3, step + 4}};
    vmt_test::compare_frame(cached.run_tube(input), fresh.run_tube(input), 3, 3,
                            "step " + std::to_string(step), c);
  }
  EXPECT_EQ(c.count_mismatches, 0) << c.first_mismatch;
  EXPECT_LE(c.max_score_difference, 1e-4);
  EXPECT_GE(c.min_mask_iou, 0.98);
}

// Emit-only refinement on the GPU equals refining the whole tube (same kernels, frame by frame).
TEST(EngineGpu, EmittedFrameEqualsWholeTubeRefinement) {
  REQUIRE_CUDA();
  auto o = options("cuda:0", vmt::Precision::Float32);
  vmt::Engine emitted(o);
  o.mask_scope = vmt::MaskScope::AllFrames;
  vmt::Engine whole(o);
  const auto clip = vmt_test::make_clip(10, 96, 64, vmt::PixelFormat::RGB);
  const auto all = vmt_test::views(clip);
  vmt_test::Comparison c;
  for (int step = 0; step + 4 <= 10; ++step) {
    const auto tube = std::span(all).subspan(static_cast<std::size_t>(step), 4);
    vmt_test::compare_frame(emitted.run_tube(vmt::TubeInput{step, tube, {step + 3, step + 4}}),
                            whole.run_tube(vmt::TubeInput{step, tube, {}}), 3, 3,
                            "step " + std::to_string(step), c);
  }
  EXPECT_EQ(c.count_mismatches, 0) << c.first_mismatch;
  EXPECT_LE(c.max_score_difference, 1e-5);
  EXPECT_GE(c.min_mask_iou, 0.999);
}

}  // namespace
