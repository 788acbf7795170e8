// The LibTorch VMT refinement head (vmt-core/src/model/refinement_head.h) against the official
// PyTorch code: weights from the formula of tests/fixtures/parity/make_fixtures.py (also in
// test_detector_parity.cpp), the clips from <preset>.safetensors and the official refined masks
// from <preset>_refine.safetensors (make_refine_fixtures.py).
#include <gtest/gtest.h>

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <ATen/ops/equal.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/tensor.h>

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
#include "model/refinement_head.h"
#include "weights/safetensors.h"
#include "weights/state_dict.h"

namespace {

using vmt::model::VmtModel;

// --- the weight formula (docs/model.md, make_fixtures.py) ------------------------------------

std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char b : text) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

torch::Tensor formula_value(const std::string& name, const std::vector<std::int64_t>& shape) {
  std::string canonical = name;
  const std::string shared = "detr.transformer.decoder.bbox_embed.";
  if (canonical.rfind(shared, 0) == 0) {
    canonical = "detr.bbox_embed." + canonical.substr(shared.size());
  }
  std::int64_t numel = 1;
  for (const auto d : shape) numel *= d;
  const std::uint64_t h = fnv1a64(canonical);
  const bool var = ends_with(name, "running_var"), mean = ends_with(name, "running_mean");
  const bool embed = ends_with(name, "query_embed.weight") || ends_with(name, "level_embed");
  const bool matrix = shape.size() >= 2;
  const bool gain = ends_with(name, "weight");
  const double fan_scale = matrix ? std::sqrt(3.0 / static_cast<double>(numel / shape[0])) : 0.0;
  std::vector<float> values(static_cast<std::size_t>(numel));
  for (std::int64_t i = 0; i < numel; ++i) {
    const double s = static_cast<double>(splitmix64(h + static_cast<std::uint64_t>(i)) >> 40) /
                         static_cast<double>(1 << 24) * 2.0 - 1.0;
    double v;
    if (var) v = 1.0 + 0.25 * (s + 1.0);
    else if (mean) v = 0.1 * s;
    else if (embed) v = s;
    else if (matrix) v = s * fan_scale;
    else if (gain) v = 1.0 + 0.1 * s;
    else v = 0.1 * s;
    values[static_cast<std::size_t>(i)] = static_cast<float>(v);
  }
  return at::tensor(values).reshape(shape);
}

void fill_from_formula(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters()) p.value().copy_(formula_value(p.key(), p.value().sizes().vec()));
  for (auto& b : module.named_buffers()) b.value().copy_(formula_value(b.key(), b.value().sizes().vec()));
}

// --- fixtures --------------------------------------------------------------------------------

std::filesystem::path fixture_path(const std::string& name) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  return std::filesystem::path(root ? root : ".") / "tests" / "fixtures" / "parity" /
         (name + ".safetensors");
}

torch::Tensor fixture_tensor(const vmt::weights::SafetensorsFile& file, const std::string& name) {
  const auto& rec = file.at(name);
  return at::from_blob(const_cast<std::byte*>(rec.data.data()), rec.shape,
                       torch::TensorOptions().dtype(vmt::weights::to_torch(rec.dtype)))
      .clone();
}

std::vector<std::int64_t> split_ints(const std::string& text) {
  std::vector<std::int64_t> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stoll(item));
  }
  return out;
}

/// Max abs difference, asserted ≤ 1e-4 × the reference's largest magnitude.
void expect_close(const std::string& what, const torch::Tensor& actual,
                  const torch::Tensor& expected) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double diff = (actual.to(torch::kFloat32) - expected).abs().max().item<double>();
  const double scale = expected.abs().max().item<double>();
  std::cout << "[parity] " << what << ": max |diff| " << diff << " (max |ref| " << scale
            << ", bound " << 1e-4 * scale << ")\n";
  EXPECT_LE(diff, 1e-4 * scale) << what;
}

void check_full_keys(const std::string& preset) {
  const auto file = vmt::weights::SafetensorsFile::open(fixture_path(preset));
  std::map<std::string, std::vector<std::int64_t>> official;
  std::istringstream lines(file.metadata().at("state_dict"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    official[line.substr(0, tab)] = split_ints(line.substr(tab + 1));
  }
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
  const auto selected = vmt::model::VmtDetectorImpl::select_queries(det.pred_logits, 10, 10);
  EXPECT_TRUE(at::equal(selected, std::get<0>(queries.sort())));

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

// No queries: an empty [0, T, H, W] result.
TEST(RefinementPoints, NoQueriesGiveAnEmptyResult) {
  VmtModel model(vmt::model::tiny());
  model->eval();
  const auto frames = at::rand({2, 3, 32, 48});
  const auto r = run_refinement(model, frames, torch::empty({0}, torch::kInt64));
  EXPECT_EQ(r.logits.sizes(), (std::vector<std::int64_t>{0, 2, 32, 48}));
}

// Tiny preset, 3 frames 48x80: refined logits and frame masks of the official top-10 queries.
TEST(RefinementParity, TinyMatchesOfficial) { check_parity("tiny"); }

// Full-size ResNet-50 preset (300 queries), 2 frames 64x96.
TEST(RefinementParity, R50MatchesOfficial) { check_parity("vmt_r50"); }
