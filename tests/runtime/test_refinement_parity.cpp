// The LibTorch VMT refinement head (vmt-core/src/model/refinement_head.h) against the official
// PyTorch code: weights from the formula of tests/fixtures/parity/make_fixtures.py
// (parity_support.h), the clips from <preset>.safetensors and the official refined masks
// from <preset>_refine.safetensors (make_refine_fixtures.py).
#include <gtest/gtest.h>

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <ATen/ops/equal.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/postprocess.h"
#include "model/refinement_head.h"
#include "model/tube_inference.h"
#include "weights/safetensors.h"
#include "weights/state_dict.h"
#include "parity_support.h"

namespace {

using namespace vmt::parity;
using vmt::model::VmtModel;

void check_full_keys(const std::string& preset) {
  const auto file = vmt::weights::SafetensorsFile::open(fixture_path(preset));
  const auto official = official_state_dict(file);
  VmtModel model(vmt::model::preset(preset));
  std::map<std::string, std::vector<std::int64_t>> mine;
  for (const auto& p : model->named_parameters()) mine[p.key()] = p.value().sizes().vec();
  for (const auto& b : model->named_buffers()) mine[b.key()] = b.value().sizes().vec();
  for (const auto& [name, shape] : official) {
    const auto it = mine.find(name);
    ASSERT_NE(it, mine.end()) << "official key missing from VmtModel: " << name;
    EXPECT_EQ(it->second, shape) << name;
  }
  for (const auto& [name, shape] : mine) EXPECT_TRUE(official.count(name)) << "extra key " << name;
  EXPECT_EQ(mine.size(), official.size());
}

struct Refined {
  torch::Tensor logits;
  vmt::model::RefinementTrace trace;
};

Refined run_refinement(VmtModel& model, const torch::Tensor& frames,
                       const torch::Tensor& queries) {
  torch::NoGradGuard no_grad;
  const auto det = model->detector->forward(frames);
  Refined r;
  r.logits = vmt::model::refine_masks(model, det, frames, queries, &r.trace);
  return r;
}

void check_parity(const std::string& preset) {
  torch::NoGradGuard no_grad;
  const auto clip = vmt::weights::SafetensorsFile::open(fixture_path(preset));
  const auto ref = vmt::weights::SafetensorsFile::open(fixture_path(preset + "_refine"));
  EXPECT_EQ(ref.metadata().at("preset"), preset);
  VmtModel model(vmt::model::preset(preset));
  fill_from_formula(*model);
  model->eval();
  const auto frames = fixture_tensor(clip, "frames");
  const auto queries = fixture_tensor(ref, "query_indices");

  // the official selection is the detector's select_queries (as a set)
  const auto det = model->detector->forward(frames);
  const auto selected = vmt::model::select_instances(det.pred_logits[0], 10);
  EXPECT_TRUE(at::equal(std::get<0>(selected.query_tensor(torch::kCPU).sort()),
                        std::get<0>(queries.sort())));

  vmt::model::RefinementTrace trace;
  const auto logits = vmt::model::refine_masks(model, det, frames, queries, &trace);
  EXPECT_EQ(trace.points, split_ints(ref.metadata().at("points")));
  expect_close(preset + " inc logits", trace.inc_logits, fixture_tensor(ref, "pred_masks_inc"));
  expect_close(preset + " refined logits", logits, fixture_tensor(ref, "pred_masks_refine"));

  const auto size = split_ints(ref.metadata().at("frame_size"));
  const auto masks = vmt::model::final_masks(logits, size[0], size[1]);
  const auto expected = fixture_tensor(ref, "final_masks").to(torch::kBool);
  ASSERT_EQ(masks.sizes(), expected.sizes());
  const double agree = masks.eq(expected).to(torch::kFloat64).mean().item<double>();
  std::cout << "[parity] " << preset << " final masks " << size[0] << "x" << size[1]
            << ": pixel agreement " << agree << " (foreground "
            << expected.to(torch::kFloat64).mean().item<double>() << ")\n";
  EXPECT_GE(agree, 0.999);
}

}  // namespace

// VmtModel's parameter and buffer names and shapes are exactly the official state_dict's.
TEST(RefinementStructure, TinyKeysAreTheFullOfficialStateDict) { check_full_keys("tiny"); }
TEST(RefinementStructure, R50KeysAreTheFullOfficialStateDict) { check_full_keys("vmt_r50"); }

// Thinning keeps every point below the limit and ⌊i·P/limit⌋ of the sorted list above it.
TEST(RefinementPoints, SelectionIsDeterministicAndFollowsTheLimitRule) {
  const auto boundary = (at::rand({37, 53}) > 0.4).to(torch::kFloat32);
  const auto all = vmt::model::select_points(boundary, 1 << 20);
  const auto p = all.size(0);
  ASSERT_GT(p, 300);
  EXPECT_TRUE(at::equal(all, boundary.reshape({-1}).nonzero().reshape({-1})));

  const std::int64_t limit = 300;
  const auto a = vmt::model::select_points(boundary, limit);
  const auto b = vmt::model::select_points(boundary, limit);
  ASSERT_EQ(a.size(0), limit);
  EXPECT_TRUE(at::equal(a, b));
  const auto acc = a.accessor<std::int64_t, 1>();
  const auto all_acc = all.accessor<std::int64_t, 1>();
  for (std::int64_t i = 0; i < limit; ++i) EXPECT_EQ(acc[i], all_acc[i * p / limit]) << i;
  EXPECT_TRUE(at::equal(vmt::model::select_points(boundary, p), all));
}

// Above the point limit the refinement is deterministic and feeds exactly `limit` points.
TEST(RefinementPoints, RefinementAboveTheLimitIsDeterministic) {
  auto config = vmt::model::tiny();
  config.refine_point_limit = 100;
  VmtModel model(config);
  fill_from_formula(*model);
  model->eval();
  const auto clip = vmt::weights::SafetensorsFile::open(fixture_path("tiny"));
  const auto frames = fixture_tensor(clip, "frames");
  const auto queries = at::tensor(std::vector<std::int64_t>{1, 4, 9});
  const auto first = run_refinement(model, frames, queries);
  const auto second = run_refinement(model, frames, queries);
  EXPECT_TRUE(at::equal(first.logits, second.logits));
  EXPECT_EQ(first.trace.points, std::vector<std::int64_t>(3, 100));
  EXPECT_EQ(first.logits.sizes(), (std::vector<std::int64_t>{3, 3, 48, 80}));
}

// The padded selection (static shape, no host sync) holds select_points' points, ascending, then
// the grid size in the unused rows: below, at and above the limit, and for a frame without points.
TEST(RefinementPoints, PaddedSelectionEqualsTheSelection) {
  const auto boundary = (at::rand({37, 53}) > 0.4).to(torch::kFloat32);
  const auto grid = boundary.numel();
  const auto p = vmt::model::select_points(boundary, 1 << 20).size(0);
  for (const std::int64_t limit : {std::int64_t{1}, std::int64_t{7}, std::int64_t{300}, p - 1, p,
                                   p + 1, 2 * p + 3, grid}) {
    const auto expected = vmt::model::select_points(boundary, limit);
    const auto padded = vmt::model::select_points_padded(boundary, limit);
    ASSERT_EQ(padded.indices.sizes(), (std::vector<std::int64_t>{limit})) << limit;
    const auto used = expected.size(0);
    EXPECT_TRUE(at::equal(padded.indices.narrow(0, 0, used), expected)) << "limit " << limit;
    EXPECT_TRUE(padded.indices.narrow(0, used, limit - used).eq(grid).all().item<bool>()) << limit;
    EXPECT_EQ(padded.real.sum().item<std::int64_t>(), used) << "limit " << limit;
  }
  const auto none = vmt::model::select_points_padded(at::zeros({4, 5}), 6);
  EXPECT_TRUE(none.indices.eq(20).all().item<bool>());
  EXPECT_FALSE(none.real.any().item<bool>());
}

// Padded points give the unpadded refinement's logits (to float rounding) and the same points,
// with a limit above the tiny clip's points (2000: many padding rows) and below them (100).
TEST(RefinementPoints, PaddedPointsGiveTheSameRefinement) {
  torch::NoGradGuard no_grad;
  const auto clip = vmt::weights::SafetensorsFile::open(fixture_path("tiny"));
  const auto frames = fixture_tensor(clip, "frames");
  const auto queries = at::tensor(std::vector<std::int64_t>{1, 4, 9});
  for (const std::int64_t limit : {std::int64_t{2000}, std::int64_t{100}}) {
    VmtModel model(vmt::model::tiny());
    fill_from_formula(*model);
    model->eval();
    const auto det = model->detector->forward(frames);
    vmt::model::PointSampling sampling;
    sampling.point_limit = limit;
    vmt::model::RefinementTrace plain_trace, padded_trace;
    const auto plain = vmt::model::refine_masks(model, det, frames, queries, &plain_trace, sampling);
    sampling.padded = true;
    const auto padded =
        vmt::model::refine_masks(model, det, frames, queries, &padded_trace, sampling);
    EXPECT_EQ(padded_trace.points, plain_trace.points) << "limit " << limit;
    ASSERT_EQ(padded.sizes(), plain.sizes());
    const auto scale = plain.abs().max().item<float>();
    EXPECT_LE((padded - plain).abs().max().item<float>(), 1e-5f * scale) << "limit " << limit;
    EXPECT_TRUE(at::equal(vmt::model::final_masks(padded, 48, 80),
                          vmt::model::final_masks(plain, 48, 80)));
    if (limit == 100) EXPECT_EQ(padded_trace.points, std::vector<std::int64_t>(3, 100));
    else EXPECT_LT(padded_trace.points[0], 2000);
  }
}

// No queries: an empty [0, T, H, W] result.
TEST(RefinementPoints, NoQueriesGiveAnEmptyResult) {
  VmtModel model(vmt::model::tiny());
  model->eval();
  const auto frames = at::rand({2, 3, 32, 48});
  const auto r = run_refinement(model, frames, torch::empty({0}, torch::kInt64));
  EXPECT_EQ(r.logits.sizes(), (std::vector<std::int64_t>{0, 2, 32, 48}));
}

// infer_tube refines its mask frames in chunks (a bound on the refinement's temporaries): one
// frame at a time, two, or all at once give the same logits as refine_masks on the whole clip.
TEST(RefinementChunks, ChunkedFramesEqualTheWholeClip) {
  torch::NoGradGuard no_grad;
  const auto clip = vmt::weights::SafetensorsFile::open(fixture_path("tiny"));
  VmtModel model(vmt::model::preset("tiny"));
  fill_from_formula(*model);
  model->eval();
  const auto frames = fixture_tensor(clip, "frames");
  const auto t = frames.size(0);
  ASSERT_GE(t, 3);
  const auto features = model->detector->encode_frames(frames);
  vmt::model::TubeRequest request;
  request.mask_begin = 0;
  request.mask_end = t;
  request.coarse_masks = false;
  const auto whole_run = vmt::model::infer_tube(model, features, features, frames, request);
  const auto queries = whole_run.selection.query_tensor(torch::kCPU);
  ASSERT_GT(queries.size(0), 0);
  const auto whole = vmt::model::refine_masks(model, model->detector->forward(frames), frames, queries);
  const auto whole_masks = vmt::model::final_masks(whole, 48, 80);
  for (const std::int64_t chunk : {std::int64_t{1}, std::int64_t{2}, t}) {
    request.refine_chunk = chunk;
    const auto out = vmt::model::infer_tube(model, features, features, frames, request);
    ASSERT_EQ(out.final_logits.sizes(), whole.sizes()) << "chunk " << chunk;
    // the same sums; oneDNN's convolutions round differently for other batch sizes
    const auto difference = (out.final_logits - whole).abs().max().item<float>();
    EXPECT_LE(difference, 1e-4f) << "chunk " << chunk;
    EXPECT_TRUE(at::equal(vmt::model::final_masks(out.final_logits, 48, 80), whole_masks))
        << "chunk " << chunk;
  }
  // a frame refined alone gives the same bits wherever it sits in the clip
  request.refine_chunk = 1;
  const auto alone = vmt::model::infer_tube(model, features, features, frames, request);
  for (std::int64_t f = 0; f < t; ++f) {
    request.mask_begin = f;
    request.mask_end = f + 1;
    const auto one = vmt::model::infer_tube(model, features, features.slice(f, f + 1),
                                            frames.slice(0, f, f + 1), request);
    EXPECT_TRUE(at::equal(one.final_logits, alone.final_logits.slice(1, f, f + 1))) << "frame " << f;
  }
  // the automatic chunk: one frame on the CPU; on CUDA at least one, fewer for more instances
  EXPECT_EQ(vmt::model::refine_chunk_frames(10, 24, 40, true), 1);
  EXPECT_EQ(vmt::model::refine_chunk_frames(10, 4000, 4000, false), 1);
  EXPECT_GT(vmt::model::refine_chunk_frames(1, 24, 40, false),
            vmt::model::refine_chunk_frames(10, 24, 40, false));
}

// Tiny preset, 3 frames 48x80: refined logits and frame masks of the official top-10 queries.
TEST(RefinementParity, TinyMatchesOfficial) { check_parity("tiny"); }

// Full-size ResNet-50 preset (300 queries), 2 frames 64x96.
TEST(RefinementParity, R50MatchesOfficial) { check_parity("vmt_r50"); }
