// vmt::Engine on the CPU with model files made at test time (vmt-model init's code path):
// load errors, pixel formats, the online feature cache, determinism.
#include <gtest/gtest.h>

#include <ATen/ops/rand.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "engine/model_file.h"
#include "engine_test_support.h"
#include "model/vmt_detector.h"
#include "vmt/device.h"
#include "vmt/engine.h"
#include "vmt/error.h"
#include "weights/safetensors.h"
#include "weights/state_dict.h"

namespace {

using vmt::Engine;
using vmt::EngineOptions;
using vmt::ErrorCode;
using vmt::PixelFormat;

EngineOptions cpu_options(const std::string& path) {
  EngineOptions o;
  o.model_path = path;
  o.device = vmt::parse_device("cpu");
  o.input_size = 0;  // the test frames are already small
  return o;
}

/// Runs `fn`, expecting a vmt::Error with `code` whose message contains `text`.
template <typename Fn>
void expect_error(Fn&& fn, ErrorCode code, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing '" << text << "'";
  } catch (const vmt::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "-" + std::to_string(::getpid())))
      .string();
}

// --- loading -----------------------------------------------------------------------------------

TEST(EngineLoad, ReportsModelInfo) {
  const Engine engine(cpu_options(vmt_test::make_model_file("small")));
  EXPECT_EQ(engine.model().architecture, "small");
  EXPECT_EQ(engine.model().name, "test_small");
  EXPECT_EQ(engine.model().labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(engine.device().to_string(), "cpu");
}

TEST(EngineLoad, MissingFile) {
  expect_error([] { Engine e(cpu_options("/nonexistent/model.safetensors")); },
               ErrorCode::NotFound, "/nonexistent/model.safetensors");
}

TEST(EngineLoad, CorruptFile) {
  const auto path = temp_file("corrupt.safetensors");
  std::ofstream(path) << "this is not a safetensors file at all";
  expect_error([&] { Engine e(cpu_options(path)); }, ErrorCode::CorruptData,
               "not a valid safetensors file");
}

TEST(EngineLoad, MissingMetadata) {
  const auto path = temp_file("nometa.safetensors");
  vmt::weights::save_state_dict(*vmt::engine::init_model(vmt::model::small(), 1), path, {});
  expect_error([&] { Engine e(cpu_options(path)); }, ErrorCode::CorruptData,
               "'vmt.format_version' is missing");
}

// A valid file whose tensors do not fit the architecture its metadata names.
TEST(EngineLoad, WrongArchitecture) {
  const auto path = temp_file("wrongarch.safetensors");
  vmt::engine::ModelHeader header;
  header.config = vmt::model::preset("small");
  header.config.num_queries = 20;  // the tensors say 16
  header.labels = {"x"};
  vmt::engine::save_model(vmt::engine::init_model(vmt::model::preset("small"), 1), header, path);
  expect_error([&] { Engine e(cpu_options(path)); }, ErrorCode::CorruptData,
               "do not fit the architecture");
}

TEST(EngineLoad, CudaWithoutGpu) {
  if (vmt::cuda_device_count() > 0) GTEST_SKIP() << "a GPU is present";
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.device = vmt::parse_device("cuda:0");
  expect_error([&] { Engine e(o); }, ErrorCode::Unavailable, "cuda");
}

TEST(EngineLoad, HalfPrecisionNeedsCuda) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.precision = vmt::Precision::Float16;
  expect_error([&] { Engine e(o); }, ErrorCode::InvalidArgument, "fp16 needs a CUDA device");
  o.precision = vmt::Precision::BFloat16;
  expect_error([&] { Engine e(o); }, ErrorCode::InvalidArgument, "bf16 needs a CUDA device");
}

// --- running -----------------------------------------------------------------------------------

// Masks at the frames' own size, categories 1-based within the labels, at most K per tube.
TEST(EngineRun, ResultShape) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.input_size = 48;  // the frames are resized to 48 × 64, masks come back at 60 × 80
  o.max_instances = 4;
  Engine engine(o);
  const auto clip = vmt_test::make_clip(3, 80, 60, PixelFormat::RGB);
  const auto r = engine.run_tube(5, vmt_test::views(clip));
  EXPECT_EQ(r.frames.begin, 5);
  EXPECT_EQ(r.frames.end, 8);
  EXPECT_LE(r.instances.size(), 4u);
  EXPECT_GT(r.instances.size(), 0u);
  for (const auto& inst : r.instances) {
    EXPECT_GE(inst.category, 1);
    EXPECT_LE(inst.category, 3);
    EXPECT_GE(inst.score, o.score_threshold);
    // frame masks at the frame size, association masks at 1/4 of the model input (48 × 64)
    ASSERT_EQ(inst.frame_masks.size(), 3u);
    for (const auto& m : inst.frame_masks) EXPECT_EQ(m.frame, (vmt::MaskSize{60, 80}));
    ASSERT_EQ(inst.masks.size(), 3u);
    for (const auto& m : inst.masks) EXPECT_EQ(m.size, (vmt::MaskSize{12, 16}));
  }
}

// Only the frames asked for get frame masks; the others have none. A range outside the tube is
// refused.
TEST(EngineRun, FrameMasksOnlyForTheEmittedFrames) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  Engine engine(o);
  const auto clip = vmt_test::make_clip(4, 64, 48, PixelFormat::RGB);
  const auto v = vmt_test::views(clip);
  const auto r = engine.run_tube(vmt::TubeInput{10, v, {12, 14}});
  ASSERT_GT(r.instances.size(), 0u);
  bool any = false;
  for (const auto& inst : r.instances) {
    ASSERT_EQ(inst.frame_masks.size(), 4u);
    EXPECT_EQ(inst.frame_masks[0], vmt::CroppedMask{});
    EXPECT_EQ(inst.frame_masks[1], vmt::CroppedMask{});
    for (const std::size_t f : {2u, 3u}) {
      EXPECT_EQ(inst.frame_masks[f].frame, (vmt::MaskSize{48, 64}));
      any = any || !inst.frame_masks[f].empty();
    }
  }
  EXPECT_TRUE(any);
  expect_error([&] { engine.run_tube(vmt::TubeInput{10, v, {12, 15}}); },
               ErrorCode::InvalidArgument, "not all in the tube");
}

TEST(EngineRun, RunTwiceGivesIdenticalResults) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  Engine engine(o);
  const auto clip = vmt_test::make_clip(3, 64, 48, PixelFormat::RGB);
  const auto a = engine.run_tube(0, vmt_test::views(clip));
  engine.clear_cache();
  const auto b = engine.run_tube(0, vmt_test::views(clip));
  const auto c = engine.run_tube(0, vmt_test::views(clip));  // from the cache
  ASSERT_EQ(a.instances.size(), b.instances.size());
  ASSERT_EQ(a.instances.size(), c.instances.size());
  for (std::size_t i = 0; i < a.instances.size(); ++i) {
    EXPECT_EQ(a.instances[i].score, b.instances[i].score);
    EXPECT_EQ(a.instances[i].frame_masks, b.instances[i].frame_masks);
    EXPECT_EQ(a.instances[i].masks, b.instances[i].masks);
    EXPECT_EQ(a.instances[i].score, c.instances[i].score);
    EXPECT_EQ(a.instances[i].frame_masks, c.instances[i].frame_masks);
  }
}

// Packed formats give exactly the RGB result; YUV the same instances within conversion noise.
TEST(EngineRun, EveryPixelFormatMatchesRgb) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.feature_cache = false;
  Engine engine(o);
  const auto rgb = engine.run_tube(0, vmt_test::views(vmt_test::make_clip(2, 64, 48, PixelFormat::RGB)));
  ASSERT_GT(rgb.instances.size(), 0u);
  for (const auto format : {PixelFormat::RGBA, PixelFormat::RGBx, PixelFormat::BGRx,
                            PixelFormat::BGRA, PixelFormat::I420, PixelFormat::NV12}) {
    const auto r = engine.run_tube(0, vmt_test::views(vmt_test::make_clip(2, 64, 48, format)));
    const bool yuv = format == PixelFormat::I420 || format == PixelFormat::NV12;
    ASSERT_EQ(r.instances.size(), rgb.instances.size()) << static_cast<int>(format);
    for (std::size_t i = 0; i < r.instances.size(); ++i) {
      const auto& a = r.instances[i];
      const auto& b = rgb.instances[i];
      if (!yuv) {
        EXPECT_EQ(a.score, b.score);
        EXPECT_EQ(a.category, b.category);
        EXPECT_EQ(a.frame_masks, b.frame_masks);
        continue;
      }
      EXPECT_NEAR(a.score, b.score, 0.02) << static_cast<int>(format);
      EXPECT_GE(vmt_test::frame_mask_tube_iou(a, b), 0.8) << static_cast<int>(format);
    }
  }
}

// The detector's per-frame / tube split is forward() itself.
TEST(EngineCache, StagesEqualForward) {
  torch::NoGradGuard no_grad;
  auto model = vmt::engine::init_model(vmt::model::tiny(), 3);
  auto& module = vmt::engine::detector_of(model);
  const auto x = at::rand({3, 3, 64, 96});
  const auto whole = module->forward(x);
  const auto split = module->decode_tube(module->encode_frames(x));
  EXPECT_TRUE(whole.pred_logits.equal(split.pred_logits));
  EXPECT_TRUE(whole.pred_boxes.equal(split.pred_boxes));
  EXPECT_TRUE(whole.mask_head_params.equal(split.mask_head_params));
  EXPECT_TRUE(whole.mask_feats.equal(split.mask_feats));
  EXPECT_TRUE(whole.reference_points.equal(split.reference_points));
}

// Online mode over 100 steps: refining only the emitted (newest) frame gives exactly — bit for
// bit — the classes, scores and masks that refining the whole tube gives for that frame.
TEST(EngineOnline, EmittedFrameEqualsWholeTubeRefinementOver100Steps) {
  constexpr int kTube = 4, kSteps = 100;
  const auto r = vmt_test::compare_online(vmt_test::make_model_file("small"), kTube, kSteps,
                                          vmt::MaskScope::Emitted, vmt::MaskScope::AllFrames,
                                          /*same_cache=*/true);
  EXPECT_EQ(r.steps_compared, kSteps);
  EXPECT_EQ(r.mismatches, 0) << r.first_mismatch;
  EXPECT_GT(r.instances, 0);
}

// Offline clips with overlap: frames emitted by a clip get exactly the masks of refining the
// whole clip.
TEST(EngineOffline, EmittedFramesEqualWholeClipRefinementWithOverlap) {
  const auto r = vmt_test::compare_clips(vmt_test::make_model_file("small"), /*clip=*/8,
                                         /*overlap=*/3, /*frames=*/30);
  EXPECT_GT(r.frames_compared, 20);
  EXPECT_EQ(r.mismatches, 0) << r.first_mismatch;
  EXPECT_GT(r.instances, 0);
}

// The feature cache (one new frame per online step, the rest reused) against recomputing every
// frame as one batch each step: the same instances to fp32 rounding, and at most one tube of
// frames kept.
TEST(EngineCache, CachedEqualsRecomputedOverOnlineSteps) {
  constexpr int kTube = 3, kSteps = 30;
  const auto r = vmt_test::compare_online(vmt_test::make_model_file("small"), kTube, kSteps,
                                          vmt::MaskScope::Emitted, vmt::MaskScope::Emitted,
                                          /*same_cache=*/false);
  EXPECT_EQ(r.steps_compared, kSteps);
  EXPECT_EQ(r.count_mismatches, 0) << r.first_mismatch;
  EXPECT_LE(r.max_score_difference, 1e-4);
  EXPECT_GE(r.min_mask_iou, 0.98);
  EXPECT_LE(r.max_cached_frames, static_cast<std::size_t>(kTube));
}

// Offline clips that share frames reuse them: a clip after an overlapping one encodes only its
// new frames; a flush (clear_cache) or another frame size encodes everything again.
TEST(EngineCache, OverlappingClipsEncodeOnlyNewFrames) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.stage_timings = true;
  Engine engine(o);
  const auto clip = vmt_test::make_clip(10, 64, 48, PixelFormat::RGB);
  const auto v = vmt_test::views(clip);
  engine.run_tube(0, std::span(v).subspan(0, 6));
  EXPECT_EQ(engine.last_timings().frames_encoded, 6);
  engine.run_tube(4, std::span(v).subspan(4, 6));  // frames 4, 5 are shared
  EXPECT_EQ(engine.last_timings().frames_encoded, 4);
  EXPECT_EQ(engine.cached_frames(), 6u);
  engine.clear_cache();
  engine.run_tube(4, std::span(v).subspan(4, 6));
  EXPECT_EQ(engine.last_timings().frames_encoded, 6);
  const auto other = vmt_test::make_clip(6, 96, 64, PixelFormat::RGB);
  engine.run_tube(4, vmt_test::views(other));
  EXPECT_EQ(engine.last_timings().frames_encoded, 6);
  const auto t = engine.last_timings();
  EXPECT_GT(t.total_ms, 0.0);
  EXPECT_GE(t.total_ms + 1e-9, t.preprocess_ms + t.encode_ms + t.decode_ms + t.masks_ms +
                                   t.refine_ms + t.output_ms);
}

// Calls from several threads are serialised and give the single-thread result.
TEST(EngineRun, ConcurrentCallsAreSerialised) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.feature_cache = false;
  Engine engine(o);
  const auto clip = vmt_test::make_clip(2, 48, 32, PixelFormat::RGB);
  const auto v = vmt_test::views(clip);
  const auto expected = engine.run_tube(0, v);
  std::vector<std::future<vmt::TubeResult>> runs;
  for (int i = 0; i < 3; ++i) {
    runs.push_back(std::async(std::launch::async, [&] { return engine.run_tube(0, v); }));
  }
  for (auto& r : runs) {
    const auto got = r.get();
    ASSERT_EQ(got.instances.size(), expected.instances.size());
    for (std::size_t i = 0; i < got.instances.size(); ++i) {
      EXPECT_EQ(got.instances[i].masks, expected.instances[i].masks);
    }
  }
}

TEST(EngineRun, BadTubesAreRefused) {
  Engine engine(cpu_options(vmt_test::make_model_file("small")));
  expect_error([&] { engine.run_tube(0, {}); }, ErrorCode::InvalidArgument, "no frames");
  auto a = vmt_test::make_clip(1, 48, 32, PixelFormat::RGB);
  auto b = vmt_test::make_clip(1, 64, 32, PixelFormat::RGB);
  const std::vector<vmt::ImageView> mixed{a[0].view, b[0].view};
  expect_error([&] { engine.run_tube(0, mixed); }, ErrorCode::InvalidArgument, "one size");
}

}  // namespace
