// vmt::Engine on the CPU with model files made at test time (vmt-model init's code path):
// load errors, pixel formats, the online feature cache, determinism.
#include <gtest/gtest.h>

#include <ATen/ops/rand.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
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

using vmt_test::expect_error;

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

TEST(EngineLoad, Float16NeedsCuda) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.precision = vmt::Precision::Float16;
  expect_error([&] { Engine e(o); }, ErrorCode::InvalidArgument, "fp16 needs a CUDA device");
}

// A CPU engine keeps large freed blocks in the heap (engine/cpu_heap.h): touching a 64 MiB block
// again after freeing it maps no fresh pages, where glibc's default would map and zero every page
// (16384 minor faults) each time.
TEST(EngineLoad, CpuEnginesReuseLargeFreedBlocks) {
  const char* choice = std::getenv("VMT_CPU_HEAP");
  if (choice && std::string(choice) == "system") GTEST_SKIP() << "VMT_CPU_HEAP=system is set";
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::string(tunables).find("glibc.malloc.") != std::string::npos) {
    GTEST_SKIP() << "GLIBC_TUNABLES tunes the heap: the engine leaves it alone";
  }
#if !defined(__GLIBC__)
  GTEST_SKIP() << "not glibc: the heap is the C library's own";
#endif
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's heap (tools/sanitize.sh)";
#endif
  Engine engine(cpu_options(vmt_test::make_model_file("small")));  // sets the heap up once
  constexpr std::size_t kBytes = 64u << 20, kPage = 4096;
  auto touch_a_fresh_block = [] {
    auto* block = static_cast<volatile char*>(std::malloc(kBytes));
    ASSERT_NE(block, nullptr);
    for (std::size_t i = 0; i < kBytes; i += kPage) block[i] = 1;
    std::free(const_cast<char*>(block));
  };
  auto minor_faults = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
  };
  touch_a_fresh_block();  // the heap grows to hold it once
  const auto before = minor_faults();
  touch_a_fresh_block();
  EXPECT_LT(minor_faults() - before, static_cast<long>(kBytes / kPage / 10));
}

// --- running -----------------------------------------------------------------------------------

// bf16 on the CPU: refused where the CPU has no bf16 instructions; where it has, the sorted
// instance scores of a clip stay within 0.03 of fp32 (bf16 keeps an 8-bit mantissa), as on CUDA.
TEST(EngineRun, BFloat16OnTheCpu) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.precision = vmt::Precision::BFloat16;
  if (!vmt::cpu_has_bf16_instructions()) {
    expect_error([&] { Engine e(o); }, ErrorCode::InvalidArgument, "bf16 instructions");
    GTEST_SKIP() << "this CPU has no bf16 instructions: only the refusal was checked";
  }
  const auto clip = vmt_test::make_clip(3, 96, 64, vmt::PixelFormat::RGB);
  auto sorted_scores = [&](vmt::Precision p) {
    o.precision = p;
    Engine engine(o);
    std::vector<float> scores;
    for (const auto& inst : engine.run_tube(0, vmt_test::views(clip)).instances) {
      scores.push_back(inst.score);
    }
    std::sort(scores.rbegin(), scores.rend());
    return scores;
  };
  const auto reference = sorted_scores(vmt::Precision::Float32);
  const auto scores = sorted_scores(vmt::Precision::BFloat16);
  ASSERT_FALSE(reference.empty());
  const std::size_t n = std::min(scores.size(), reference.size());
  ASSERT_GT(n, 0u);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(scores[i], reference[i], 0.03f) << i;
}

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
    EXPECT_GE(inst.score, engine.settings().score_threshold);
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

// Padded refinement points (static shapes, no host sync) change nothing a user sees: the same
// instances and scores, the same frame masks up to a rare pixel that float rounding can flip.
TEST(EngineRun, PaddedPointsGiveTheSameInstances) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.point_limit = 400;
  const auto clip = vmt_test::make_clip(3, 96, 64, PixelFormat::RGB);
  auto run = [&](bool padded) {
    o.padded_points = padded;
    Engine engine(o);
    return engine.run_tube(0, vmt_test::views(clip));
  };
  const auto plain = run(false);
  const auto padded = run(true);
  ASSERT_GT(plain.instances.size(), 0u);
  ASSERT_EQ(padded.instances.size(), plain.instances.size());
  for (std::size_t i = 0; i < plain.instances.size(); ++i) {
    const auto& a = plain.instances[i];
    const auto& b = padded.instances[i];
    EXPECT_EQ(a.score, b.score) << i;
    EXPECT_EQ(a.category, b.category) << i;
    ASSERT_EQ(a.frame_masks.size(), b.frame_masks.size());
    for (std::size_t f = 0; f < a.frame_masks.size(); ++f) {
      const double area_a = static_cast<double>(vmt::cropped_area(a.frame_masks[f]));
      const double area_b = static_cast<double>(vmt::cropped_area(b.frame_masks[f]));
      EXPECT_LE(std::abs(area_a - area_b), 2 + 1e-3 * area_a) << "instance " << i << " frame " << f;
    }
  }
}

// The device selection (no host synchronisation before the masks, every pick refined, the picks
// under the threshold kept out of the incoherent points and dropped at the end) gives the host
// selection's instances: both rules, a threshold that drops half of the picks, alone and with
// padded points (the step a CUDA graph can capture). This random model's refined masks hardly
// depend on the points, so TubeInference.DeviceSelectionEqualsHostSelection checks the union
// itself (logits and the exact points).
TEST(EngineRun, DeviceSelectionGivesTheSameInstances) {
  const auto clip = vmt_test::make_clip(3, 96, 64, PixelFormat::RGB);
  auto same_areas = [](const std::vector<vmt::CroppedMask>& a,
                       const std::vector<vmt::CroppedMask>& b, const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t f = 0; f < a.size(); ++f) {
      const double area_a = static_cast<double>(vmt::cropped_area(a[f]));
      const double area_b = static_cast<double>(vmt::cropped_area(b[f]));
      EXPECT_LE(std::abs(area_a - area_b), 2 + 1e-3 * area_a) << what << " frame " << f;
    }
  };
  for (const auto rule : {vmt::InstanceSelection::TopPairs, vmt::InstanceSelection::PerObject}) {
    auto o = cpu_options(vmt_test::make_model_file("small"));
    o.selection = rule;
    o.point_limit = 400;
    o.score_threshold = 0.f;
    std::vector<float> scores;
    for (const auto& inst : Engine(o).run_tube(0, vmt_test::views(clip)).instances)
      scores.push_back(inst.score);
    ASSERT_GE(scores.size(), 4u);
    std::sort(scores.rbegin(), scores.rend());
    const auto half = scores.size() / 2;
    ASSERT_GT(scores[half - 1], scores[half]);
    o.score_threshold = (scores[half - 1] + scores[half]) / 2;  // drops the lower half
    auto run = [&](bool on_device, bool padded) {
      o.device_selection = on_device;
      o.padded_points = padded;
      return Engine(o).run_tube(0, vmt_test::views(clip));
    };
    for (const bool padded : {false, true}) {
      const auto host = run(false, padded);
      const auto device = run(true, padded);
      ASSERT_EQ(host.instances.size(), half) << static_cast<int>(rule);
      ASSERT_EQ(device.instances.size(), host.instances.size());
      for (std::size_t i = 0; i < host.instances.size(); ++i) {
        const auto& a = host.instances[i];
        const auto& b = device.instances[i];
        const auto what = "rule " + std::to_string(static_cast<int>(rule)) + " padded " +
                          std::to_string(padded) + " instance " + std::to_string(i);
        EXPECT_EQ(a.score, b.score) << what;
        EXPECT_EQ(a.category, b.category) << what;
        EXPECT_EQ(a.class_scores, b.class_scores) << what;
        same_areas(a.frame_masks, b.frame_masks, what);
        ASSERT_EQ(a.masks.size(), b.masks.size()) << what;
        for (std::size_t f = 0; f < a.masks.size(); ++f)
          EXPECT_EQ(vmt::rle_area(a.masks[f]), vmt::rle_area(b.masks[f])) << what << " frame " << f;
      }
    }
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

// The `fast` preset (the real-time demo architecture: hidden_dim 64, layer1 planes 16, a narrow
// point transformer and fusion) runs the whole engine, online and in overlapping clips, with
// emitted frames equal to refining every frame.
TEST(EngineOnline, FastPresetEmittedFramesEqualWholeTubeRefinement) {
  const auto model = vmt_test::make_model_file("fast");
  EXPECT_EQ(Engine(cpu_options(model)).model().architecture, "fast");
  const auto online = vmt_test::compare_online(model, /*tube=*/4, /*steps=*/12,
                                               vmt::MaskScope::Emitted, vmt::MaskScope::AllFrames,
                                               /*same_cache=*/true);
  EXPECT_EQ(online.steps_compared, 12);
  EXPECT_EQ(online.mismatches, 0) << online.first_mismatch;
  EXPECT_GT(online.instances, 0);
  const auto clips = vmt_test::compare_clips(model, /*clip=*/8, /*overlap=*/3, /*frames=*/16);
  EXPECT_GT(clips.frames_compared, 10);
  EXPECT_EQ(clips.mismatches, 0) << clips.first_mismatch;
  EXPECT_GT(clips.instances, 0);
}

// EngineOptions::cpu_workers: online steps (the association's coarse masks beside the
// refinement, its fusion branches side by side) give the same bits as one worker; offline clips
// (new frames through the backbone in several batches, frames refined side by side) the same
// instances to fp32 rounding of the batches. Three workers: more than the 2-core machines' pool
// has threads, and clips whose new frames do not split evenly.
TEST(EngineRun, CpuWorkersGiveTheSameInstances) {
  auto o = cpu_options(vmt_test::make_model_file("fast"));
  o.max_instances = 5;
  o.cpu_workers = 1;
  Engine one(o);
  o.cpu_workers = 3;
  Engine three(o);
  EXPECT_EQ(one.settings().cpu_workers, 1);
  EXPECT_EQ(three.settings().cpu_workers, 3);
  const auto pictures = vmt_test::make_clip(16, 48, 40, PixelFormat::RGB);
  const auto all = vmt_test::views(pictures);

  vmt_test::Comparison online;
  constexpr int kTube = 4;
  for (int step = 0; step < 12; ++step) {
    const int begin = std::max(0, step - kTube + 1);
    const vmt::TubeInput input{begin, std::span(all).subspan(begin, step - begin + 1),
                               {step, step + 1}};
    const auto slot = static_cast<std::size_t>(step - begin);
    vmt_test::compare_frame(one.run_tube(input), three.run_tube(input), slot, slot,
                            "step " + std::to_string(step), online);
  }
  EXPECT_EQ(online.mismatches, 0) << online.first_mismatch;
  EXPECT_GT(online.instances, 0);

  one.clear_cache();
  three.clear_cache();
  vmt_test::Comparison offline;
  int emitted = 0;
  for (int begin = 0; emitted < 16; begin += 5) {  // clips of 8 overlapping by 3
    const int end = std::min(16, begin + 8);
    const vmt::TubeInput input{begin, std::span(all).subspan(begin, end - begin), {emitted, end}};
    const auto a = one.run_tube(input), b = three.run_tube(input);
    for (int f = emitted; f < end; ++f) {
      const auto slot = static_cast<std::size_t>(f - begin);
      vmt_test::compare_frame(a, b, slot, slot, "frame " + std::to_string(f), offline);
    }
    emitted = end;
  }
  EXPECT_EQ(offline.frames_compared, 16);
  EXPECT_EQ(offline.count_mismatches, 0) << offline.first_mismatch;
  EXPECT_LE(offline.max_score_difference, 1e-4);
  EXPECT_GE(offline.min_mask_iou, 0.98);
  EXPECT_GT(offline.instances, 0);

  o.cpu_workers = -1;
  expect_error([&] { Engine e(o); }, ErrorCode::InvalidArgument, "cpu_workers must be 0 (auto)");
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
// new frames; emitting shared frames again, a flush (clear_cache) or another frame size encodes
// everything again.
TEST(EngineCache, OverlappingClipsEncodeOnlyNewFrames) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.stage_timings = true;
  Engine engine(o);
  const auto clip = vmt_test::make_clip(10, 64, 48, PixelFormat::RGB);
  const auto v = vmt_test::views(clip);
  engine.run_tube(0, std::span(v).subspan(0, 6));
  EXPECT_EQ(engine.last_timings().frames_encoded, 6);
  const vmt::TubeInput second{4, std::span(v).subspan(4, 6), {6, 10}};  // frames 4, 5 shared
  engine.run_tube(second);
  EXPECT_EQ(engine.last_timings().frames_encoded, 4);
  EXPECT_EQ(engine.cached_frames(), 6u);
  // emitting a shared frame again needs its refinement inputs, which the cache does not keep
  engine.run_tube(4, std::span(v).subspan(4, 6));
  EXPECT_EQ(engine.last_timings().frames_encoded, 6);
  engine.clear_cache();
  engine.run_tube(second);
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

namespace {

/// A copy of `model` whose vmt.inference metadata is `defaults`.
std::string with_defaults(const std::string& model, const vmt::ModelDefaults& defaults,
                          const std::string& name) {
  const auto file = vmt::weights::SafetensorsFile::open(model);
  auto header = vmt::engine::read_header(file);
  header.defaults = defaults;
  auto metadata = file.metadata();
  for (const auto& [key, value] : vmt::engine::make_metadata(header)) metadata[key] = value;
  const auto path = temp_file(name);
  vmt::weights::write_file(path, file.tensors(), metadata);
  return path;
}

}  // namespace

// Settings the caller leaves unset come from the model file, then the built-in defaults; set
// ones win. An input size far from the trained sizes is reported.
TEST(EngineSettings, ModelDefaultsFillWhatTheCallerLeavesUnset) {
  vmt::ModelDefaults d;
  d.input_size = 48;
  d.trained_min_size = 40;
  d.trained_max_size = 64;
  d.score_threshold = 0.25f;
  d.max_instances = 3;
  const auto path = with_defaults(vmt_test::make_model_file("small"), d, "defaults.safetensors");
  EngineOptions o;
  o.model_path = path;
  o.device = vmt::parse_device("cpu");
  const Engine engine(o);
  EXPECT_EQ(engine.model().defaults.input_size, 48);
  EXPECT_EQ(engine.settings().input_size, 48);
  EXPECT_FLOAT_EQ(engine.settings().score_threshold, 0.25f);
  EXPECT_EQ(engine.settings().max_instances, 3);
  EXPECT_EQ(engine.settings().point_limit, vmt::kExactPointLimit);  // built-in
  EXPECT_TRUE(engine.settings().warnings.empty());

  o.input_size = 360;  // set: wins, and is far from 40–64
  o.max_instances = 7;
  const Engine explicit_engine(o);
  EXPECT_EQ(explicit_engine.settings().input_size, 360);
  EXPECT_EQ(explicit_engine.settings().max_instances, 7);
  EXPECT_FLOAT_EQ(explicit_engine.settings().score_threshold, 0.25f);
  ASSERT_EQ(explicit_engine.settings().warnings.size(), 1u);
  const auto& warning = explicit_engine.settings().warnings[0];
  EXPECT_NE(warning.find("input size 360"), std::string::npos) << warning;
  EXPECT_NE(warning.find("40–64"), std::string::npos) << warning;

  // a model without preferences: the built-in defaults
  EngineOptions plain;
  plain.model_path = vmt_test::make_model_file("small");
  plain.device = vmt::parse_device("cpu");
  const Engine built_in(plain);
  EXPECT_EQ(built_in.settings().input_size, vmt::kDefaultInputSize);
  EXPECT_EQ(built_in.settings().max_instances, vmt::kDefaultMaxInstances);
}

// vmt.inference is checked like the rest of the metadata: unknown fields and bad values are
// CorruptData naming the field.
TEST(EngineSettings, BadModelDefaultsAreRefused) {
  const auto model = vmt_test::make_model_file("small");
  const auto file = vmt::weights::SafetensorsFile::open(model);
  for (const auto& [text, field] :
       std::vector<std::pair<std::string, std::string>>{{R"({"input_size": 16})", "input_size"},
                                                        {R"({"score_threshold": 2})", "score_threshold"},
                                                        {R"({"max_instances": "x"})", "max_instances"},
                                                        {R"({"colour": 1})", "colour"},
                                                        {"[1]", "not a JSON object"}}) {
    auto metadata = file.metadata();
    metadata["vmt.inference"] = text;
    const auto path = temp_file("bad-defaults.safetensors");
    vmt::weights::write_file(path, file.tensors(), metadata);
    expect_error([&] { Engine e(cpu_options(path)); }, ErrorCode::CorruptData, field);
  }
}

// One instance per object: its best class among the labels, its score for every label, highest
// first (which query appears once is checked on the rule itself, test_engine_rules.cpp); the
// official rule's instances carry the class scores too.
TEST(EngineSettings, PerObjectSelectionReportsEachQueryOnce) {
  auto o = cpu_options(vmt_test::make_model_file("small"));
  o.max_instances = 6;
  o.feature_cache = false;
  const auto clip = vmt_test::make_clip(2, 64, 48, PixelFormat::RGB);
  o.selection = vmt::InstanceSelection::PerObject;
  Engine per_object(o);
  o.selection = vmt::InstanceSelection::TopPairs;
  Engine top_pairs(o);
  const auto a = per_object.run_tube(0, vmt_test::views(clip));
  const auto b = top_pairs.run_tube(0, vmt_test::views(clip));
  ASSERT_GT(a.instances.size(), 0u);
  for (std::size_t i = 0; i < a.instances.size(); ++i) {
    const auto& inst = a.instances[i];
    ASSERT_EQ(inst.class_scores.size(), 3u);
    EXPECT_FLOAT_EQ(inst.score, *std::max_element(inst.class_scores.begin(), inst.class_scores.end()));
    EXPECT_FLOAT_EQ(inst.score, inst.class_scores[static_cast<std::size_t>(inst.category - 1)]);
    if (i > 0) {
      EXPECT_LE(inst.score, a.instances[i - 1].score);  // highest first
    }
  }
  for (const auto& inst : b.instances) {
    ASSERT_EQ(inst.class_scores.size(), 3u);
    EXPECT_FLOAT_EQ(inst.score, inst.class_scores[static_cast<std::size_t>(inst.category - 1)]);
  }
}
