// The trainer (vmt-core/src/train): assignment, losses, checkpoints, resume, mask degradation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "engine/model_file.h"
#include "model/config.h"
#include "train/dataset.h"
#include "train/degrade.h"
#include "train/hungarian.h"
#include "train/losses.h"
#include "train/trainer.h"
#include "vmt/mask.h"

namespace {

namespace fs = std::filesystem;
using namespace vmt::train;

/// The smallest model: the `small` preset (narrow backbone, 1+1 layers, 16 queries), 3 classes.
vmt::engine::ModelHeader tiny_header() {
  vmt::engine::ModelHeader h;
  h.config = vmt::model::preset("small");
  h.config.num_classes = 3;
  h.labels = {"square", "disc"};
  h.name = "train-test";
  return h;
}

/// A fixed 2-frame 64 × 64 clip: a bright square (class 1) moving right and a disc (class 2).
Clip fixed_clip() {
  const std::int64_t t = 2, s = 64;
  auto masks = torch::zeros({2, t, s, s});
  auto frames = torch::full({t, 3, s, s}, -1.0);
  const auto yy = torch::arange(s).view({s, 1}).expand({s, s});
  const auto xx = torch::arange(s).view({1, s}).expand({s, s});
  for (std::int64_t i = 0; i < t; ++i) {
    using torch::indexing::Slice;
    masks.index_put_({0, i, Slice(10, 30), Slice(8 + 4 * i, 28 + 4 * i)}, 1.0);
    masks[1][i] = ((yy - 44).pow(2) + (xx - 40 + 2 * i).pow(2) < 100).to(torch::kFloat32);
    frames[i][0] += 3 * masks[0][i];
    frames[i][2] += 2 * masks[1][i];
  }
  return {frames, targets_from_masks(torch::tensor({1, 2}, torch::kInt64), masks)};
}

Trainer make_trainer(std::uint64_t seed) {
  const auto header = tiny_header();
  auto model = vmt::engine::init_model(header.config, seed);
  apply_official_init(model);
  return Trainer(model, header, torch::kCPU);
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("vmt-train-test-" + std::to_string(::getpid()) + "-" + name);
}

/// Brute force: the minimum total cost over every injective map of the smaller side.
double brute_force(const std::vector<double>& cost, int rows, int cols) {
  const bool by_rows = rows <= cols;
  const int small = by_rows ? rows : cols, large = by_rows ? cols : rows;
  std::vector<int> perm(large);
  std::iota(perm.begin(), perm.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {  // the first `small` entries of each permutation (duplicates are harmless)
    double sum = 0;
    for (int i = 0; i < small; ++i) sum += by_rows ? cost[i * cols + perm[i]] : cost[perm[i] * cols + i];
    best = std::min(best, sum);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// The Hungarian solver finds the brute-force optimum on random rectangular cases (ties included).
TEST(TrainMatcher, AssignmentMatchesBruteForce) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = std::uniform_int_distribution<int>(1, 6)(rng);
    const int cols = std::uniform_int_distribution<int>(1, 6)(rng);
    std::vector<double> cost(rows * cols);
    const bool integer = trial % 3 == 0;  // many ties
    for (auto& c : cost) {
      c = integer ? std::uniform_int_distribution<int>(0, 3)(rng)
                  : std::uniform_real_distribution<double>(-5, 5)(rng);
    }
    const auto pairs = linear_sum_assignment(cost, rows, cols);
    ASSERT_EQ(static_cast<int>(pairs.size()), std::min(rows, cols));
    std::vector<int> row_used(rows), col_used(cols);
    double total = 0;
    for (const auto& [r, c] : pairs) {
      ASSERT_EQ(row_used[r]++, 0);
      ASSERT_EQ(col_used[c]++, 0);
      total += cost[r * cols + c];
    }
    EXPECT_NEAR(total, brute_force(cost, rows, cols), 1e-9) << rows << "x" << cols;
  }
}

// The matcher gives each target the query whose prediction is that target.
TEST(TrainMatcher, MatchesIdenticalPredictions) {
  const auto clip = fixed_clip();
  const std::int64_t q = 5;
  auto logits = torch::full({q, 3}, -5.0);
  auto boxes = torch::full({2, q, 4}, 0.5);
  logits[3][1] = 5;  // query 3 = target 0 (class 1)
  logits[1][2] = 5;  // query 1 = target 1 (class 2)
  boxes.select(1, 3).copy_(clip.targets.boxes[0]);
  boxes.select(1, 1).copy_(clip.targets.boxes[1]);
  const auto m = hungarian_match({logits, boxes, {}}, clip.targets, {});
  ASSERT_EQ(m.query_indices.numel(), 2);
  EXPECT_EQ(m.query_indices[0].item<std::int64_t>(), 1);
  EXPECT_EQ(m.target_indices[0].item<std::int64_t>(), 1);
  EXPECT_EQ(m.query_indices[1].item<std::int64_t>(), 3);
  EXPECT_EQ(m.target_indices[1].item<std::int64_t>(), 0);
}

// Targets from masks: tight normalised boxes, validity per frame.
TEST(TrainTargets, BoxesFromMasks) {
  const auto clip = fixed_clip();
  const auto b = clip.targets.boxes[0][1];  // square at x 12..31, y 10..29 on frame 1
  EXPECT_NEAR(b[0].item<double>(), 22.0 / 64, 1e-6);
  EXPECT_NEAR(b[1].item<double>(), 20.0 / 64, 1e-6);
  EXPECT_NEAR(b[2].item<double>(), 20.0 / 64, 1e-6);
  EXPECT_NEAR(b[3].item<double>(), 20.0 / 64, 1e-6);
  EXPECT_TRUE(clip.targets.valid.all().item<bool>());
}

// A few AdamW steps on one fixed clip lower its loss (small preset, 2 × 64 × 64).
TEST(TrainStep, StepsLowerTheLossOnAFixedBatch) {
  torch::set_num_threads(2);
  auto trainer = make_trainer(1);
  const auto clip = fixed_clip();
  const double before = trainer.evaluate(clip).at("total");
  for (int i = 0; i < 4; ++i) trainer.step(clip);
  const double after = trainer.evaluate(clip).at("total");
  EXPECT_TRUE(std::isfinite(before));
  EXPECT_LT(after, before);
  EXPECT_EQ(trainer.state().step, 4);
}

// The frozen parts stay frozen: conv1 / layer1 and the frozen batch norms do not change.
TEST(TrainStep, FrozenBackboneStaysFrozen) {
  auto trainer = make_trainer(2);
  const auto before = trainer.model()->named_parameters()["detr.backbone.0.body.layer1.0.conv1.weight"].clone();
  const auto bn = trainer.model()->named_buffers()["detr.backbone.0.body.layer2.0.bn1.running_mean"].clone();
  trainer.step(fixed_clip());
  EXPECT_TRUE(torch::equal(before, trainer.model()->named_parameters()["detr.backbone.0.body.layer1.0.conv1.weight"]));
  EXPECT_TRUE(torch::equal(bn, trainer.model()->named_buffers()["detr.backbone.0.body.layer2.0.bn1.running_mean"]));
}

// A checkpoint is an engine model file: it loads with load_model and gives identical outputs.
TEST(TrainCheckpoint, ReloadsWithIdenticalOutputs) {
  auto trainer = make_trainer(3);
  const auto clip = fixed_clip();
  trainer.step(clip);
  const auto path = temp_file("reload.safetensors");
  trainer.save(path);
  auto loaded = vmt::engine::load_model(path);
  EXPECT_EQ(loaded.header.labels, tiny_header().labels);
  EXPECT_EQ(loaded.header.config.num_classes, 3);
  torch::NoGradGuard no_grad;
  trainer.model()->eval();
  auto& a = vmt::engine::detector_of(trainer.model());
  auto& b = vmt::engine::detector_of(loaded.module);
  const auto oa = a->forward(clip.frames), ob = b->forward(clip.frames);
  EXPECT_TRUE(torch::equal(oa.pred_logits, ob.pred_logits));
  EXPECT_TRUE(torch::equal(oa.pred_boxes, ob.pred_boxes));
  const auto all = torch::arange(oa.pred_logits.size(1));
  EXPECT_TRUE(torch::equal(a->coarse_mask_logits(oa, all), b->coarse_mask_logits(ob, all)));
  fs::remove(path);
  fs::remove(Trainer::sidecar_path(path));
}

// Resuming restores the step, the weights and the optimiser: the next step is the same as the
// uninterrupted run's.
TEST(TrainCheckpoint, ResumeContinuesFromTheSavedStep) {
  const auto clip = fixed_clip();
  auto a = make_trainer(4);
  a.step(clip);
  a.step(clip);
  const auto path = temp_file("resume.safetensors");
  a.save(path);
  auto b = make_trainer(99);  // different initial weights: all must come from the files
  b.resume(path);
  EXPECT_EQ(b.state().step, 2);
  const auto la = a.step(clip), lb = b.step(clip);
  EXPECT_EQ(b.state().step, 3);
  EXPECT_NEAR(la.at("total"), lb.at("total"), 1e-5 * std::abs(la.at("total")));
  const auto pa = a.model()->named_parameters()["detr.class_embed.0.weight"];
  const auto pb = b.model()->named_parameters()["detr.class_embed.0.weight"];
  EXPECT_TRUE(torch::allclose(pa, pb, 1e-5, 1e-6));
  fs::remove(path);
  fs::remove(Trainer::sidecar_path(path));
}

/// IoU of two bitmaps.
double iou(const vmt::Bitmap& a, const vmt::Bitmap& b) {
  std::size_t inter = 0, uni = 0;
  for (std::size_t i = 0; i < a.data().size(); ++i) {
    inter += a.data()[i] & b.data()[i];
    uni += a.data()[i] | b.data()[i];
  }
  return uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0;
}

/// A random blob: the union of 1–3 random ellipses in a 96 × 128 frame.
vmt::Bitmap random_mask(std::mt19937_64& rng) {
  vmt::Bitmap m({96, 128});
  const int blobs = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int k = 0; k < blobs; ++k) {
    const double cx = std::uniform_real_distribution<double>(30, 98)(rng);
    const double cy = std::uniform_real_distribution<double>(25, 70)(rng);
    const double rx = std::uniform_real_distribution<double>(8, 28)(rng);
    const double ry = std::uniform_real_distribution<double>(8, 22)(rng);
    for (std::uint32_t y = 0; y < 96; ++y) {
      for (std::uint32_t x = 0; x < 128; ++x) {
        const double dx = (x - cx) / rx, dy = (y - cy) / ry;
        if (dx * dx + dy * dy <= 1) m.set(x, y, true);
      }
    }
  }
  return m;
}

// Degraded masks stay recognisable: IoU with the original within [0.45, 1] for each of 300 random
// masks, mean within [0.75, 0.97] (they do change); an empty mask stays empty.
TEST(TrainDegrade, KeepsTheObjectRecognisable) {
  std::mt19937_64 rng(11);
  double sum = 0, lowest = 1;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    const auto m = random_mask(rng);
    const double v = iou(m, degrade_mask(m, rng));
    sum += v;
    lowest = std::min(lowest, v);
  }
  EXPECT_GE(lowest, 0.45);
  EXPECT_GE(sum / n, 0.75);
  EXPECT_LE(sum / n, 0.97);
  const vmt::Bitmap empty({8, 8});
  EXPECT_EQ(degrade_mask(empty, rng), empty);
  std::printf("degradation IoU: mean %.3f, min %.3f over %d masks\n", sum / n, lowest, n);
}

// Clip frames: distinct, in order, as many as asked (videos long enough).
TEST(TrainData, SampledFramesAreOrderedWithoutRepetition) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100; ++i) {
    const auto f = YtvisDataset::sample_frames(12, 5, rng);
    ASSERT_EQ(f.size(), 5u);
    for (std::size_t k = 1; k < f.size(); ++k) ASSERT_LT(f[k - 1], f[k]);
    ASSERT_GE(f.front(), 0);
    ASSERT_LT(f.back(), 12);
  }
  const auto [h, w] = resized_size(360, 640, 288, 768, 32);
  EXPECT_EQ(h, 288);
  EXPECT_EQ(w, 512);
}

}  // namespace
