// The trainer (vmt-core/src/train): assignment, losses, batches of clips, checkpoints, resume,
// mask degradation.
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
#include "model/refinement_head.h"
#include "train/dataset.h"
#include "train/degrade.h"
#include "train/hungarian.h"
#include "train/losses.h"
#include "train/trainer.h"
#include "vmt/error.h"
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
  torch::set_num_threads(1);  // meson runs two test programs at once on 2 cores
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
  EXPECT_TRUE(loaded.header.config.use_refinement);  // trained jointly: the engine refines
  const auto queries = torch::arange(3);
  EXPECT_TRUE(torch::equal(vmt::model::refine_masks(trainer.model(), oa, clip.frames, queries),
                           vmt::model::refine_masks(loaded.module, ob, clip.frames, queries)));
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

// QSG keeps `budget` of the clip's incoherent points, each a point of its own frame, ascending;
// the same seed draws the same points, another seed others; a budget above the count keeps all.
TEST(TrainQsg, KeepsTheBudgetOfTheClipsPoints) {
  torch::manual_seed(5);
  const auto boundary = (torch::rand({5, 20, 30}) < 0.1).to(torch::kFloat32);
  const auto total = boundary.sum().item<std::int64_t>();
  ASSERT_GT(total, 200);
  const auto a = vmt::model::sample_points_qsg(boundary, 150, 1);
  ASSERT_EQ(a.size(), 5u);
  std::int64_t kept = 0;
  for (std::size_t f = 0; f < a.size(); ++f) {
    const auto& p = a[f];
    kept += p.numel();
    const auto flat = boundary[static_cast<std::int64_t>(f)].flatten();
    for (std::int64_t i = 0; i < p.numel(); ++i) {
      EXPECT_EQ(flat[p[i].item<std::int64_t>()].item<float>(), 1.0f);
      if (i > 0) {
        EXPECT_LT(p[i - 1].item<std::int64_t>(), p[i].item<std::int64_t>());
      }
    }
  }
  EXPECT_EQ(kept, 150);
  const auto again = vmt::model::sample_points_qsg(boundary, 150, 1);
  const auto other = vmt::model::sample_points_qsg(boundary, 150, 2);
  bool all_same = true, other_same = true;
  for (std::size_t f = 0; f < a.size(); ++f) {
    all_same = all_same && torch::equal(a[f], again[f]);
    other_same = other_same && a[f].numel() == other[f].numel() && torch::equal(a[f], other[f]);
  }
  EXPECT_TRUE(all_same);
  EXPECT_FALSE(other_same);
  std::int64_t everything = 0;
  for (const auto& p : vmt::model::sample_points_qsg(boundary, total + 10, 3)) everything += p.numel();
  EXPECT_EQ(everything, total);
}

/// Float64 reference of the refinement losses, by loops over instances, frames and pixels.
std::map<std::string, double> reference_refinement_losses(const vmt::model::RefinementTrace& tr,
                                                          const torch::Tensor& targets) {
  auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  auto bce = [&](double x, double y) { return -(y * std::log(sig(x)) + (1 - y) * std::log(1 - sig(x))); };
  const auto k = tr.refined_s2.size(0), t = tr.refined_s2.size(1);
  const auto tg = targets.to(torch::kFloat64);
  std::map<std::string, double> out;
  // map losses: target pixel of logit (y, x) at stride s is (s/2 + s·y, s/2 + s·x)
  auto map_losses = [&](const torch::Tensor& logits, std::int64_t stride, const std::string& name) {
    const auto l = logits.to(torch::kFloat64);
    double bce_sum = 0, dice_sum = 0;
    for (std::int64_t i = 0; i < k; ++i) {
      for (std::int64_t f = 0; f < t; ++f) {
        double b = 0, pt = 0, ps = 0, ts = 0;
        const auto h = l.size(2), w = l.size(3);
        for (std::int64_t y = 0; y < h; ++y) {
          for (std::int64_t x = 0; x < w; ++x) {
            const double v = l[i][f][y][x].item<double>();
            const double g = tg[i][f][stride / 2 + stride * y][stride / 2 + stride * x].item<double>();
            b += bce(v, g);
            pt += sig(v) * g;
            ps += sig(v);
            ts += g;
          }
        }
        bce_sum += b / static_cast<double>(h * w);
        dice_sum += 1 - (2 * pt + 1) / (ps + ts + 1);
      }
    }
    out[name + "_mask"] = bce_sum / static_cast<double>(k * t);
    out[name + "_dice"] = dice_sum / static_cast<double>(k * t);
  };
  map_losses(tr.inc_s4, 4, "inc");
  map_losses(tr.refined_s2, 2, "refined");
  double l1 = 0, dice = 0;
  const auto r = tr.refined_s2.to(torch::kFloat64);
  const auto w2 = r.size(3);
  for (std::int64_t i = 0; i < k; ++i) {
    double abs_sum = 0, pt = 0, ps = 0, ts = 0;
    std::int64_t n = 0;
    for (std::int64_t f = 0; f < t; ++f) {
      const auto& idx = tr.point_indices[static_cast<std::size_t>(f)];
      for (std::int64_t j = 0; j < idx.numel(); ++j) {
        const auto p = idx[j].item<std::int64_t>();
        const double v = sig(r[i][f][p / w2][p % w2].item<double>());
        const double g = tg[i][f][1 + 2 * (p / w2)][1 + 2 * (p % w2)].item<double>();
        abs_sum += std::abs(v - g);
        pt += v * g;
        ps += v;
        ts += g;
        ++n;
      }
    }
    l1 += abs_sum / static_cast<double>(n);
    dice += 1 - (2 * pt + 1) / (ps + ts + 1);
  }
  out["point_l1"] = l1 / static_cast<double>(k);
  out["point_dice"] = dice / static_cast<double>(k);
  return out;
}

// The refinement losses equal a float64 loop computation on random logits, targets and points.
TEST(TrainRefineLoss, MatchesAFloat64Reference) {
  torch::manual_seed(8);
  const std::int64_t k = 2, t = 3, h = 16, w = 24;
  vmt::model::RefinementTrace tr;
  tr.inc_s4 = torch::randn({k, t, h / 4, w / 4}) * 3;
  tr.refined_s2 = torch::randn({k, t, h / 2, w / 2}) * 3;
  for (std::int64_t f = 0; f < t; ++f) {
    tr.point_indices.push_back(std::get<0>(torch::randperm(h / 2 * w / 2).narrow(0, 0, 10 + 5 * f).sort()));
  }
  const auto targets = (torch::rand({k, t, h, w}) < 0.4).to(torch::kFloat32);
  RefineLossWeights weights;
  weights.point_l1 = 2;
  const auto terms = refinement_losses(tr, targets, weights);
  const auto ref = reference_refinement_losses(tr, targets);
  double total = 0;
  for (const auto& [name, value] : ref) {
    EXPECT_NEAR(terms.at(name).item<double>(), value, 1e-5) << name;
    total += (name == "point_l1" ? 2.0 : 1.0) * value;
  }
  EXPECT_NEAR(terms.at("refine_total").item<double>(), total, 1e-4);
}

// With refinement on, a step trains the refinement head (its controller and fusion change) and
// the saved model says use_refinement; with it off, the head stays as initialised.
TEST(TrainRefineLoss, StepTrainsTheRefinementHeadOnlyWhenEnabled) {
  const auto clip = fixed_clip();
  for (const bool enabled : {true, false}) {
    const auto header = tiny_header();
    auto model = vmt::engine::init_model(header.config, 6);
    apply_official_init(model);
    RefineOptions refine;
    refine.enabled = enabled;
    Trainer trainer(model, header, torch::kCPU, {}, {}, {}, refine);
    auto params = trainer.model()->named_parameters();
    const auto controller = params["controller_refine.layers.0.weight"].clone();
    const auto fusion = params["conv_norm_relus_fuse_all_1.0.weight"].clone();
    const auto loss = trainer.step(clip);
    EXPECT_EQ(trainer.header().config.use_refinement, enabled);
    EXPECT_EQ(!torch::equal(controller, params["controller_refine.layers.0.weight"]), enabled);
    EXPECT_EQ(!torch::equal(fusion, params["conv_norm_relus_fuse_all_1.0.weight"]), enabled);
    EXPECT_EQ(loss.at("refined_dice") > 0, enabled);
  }
}

/// The fixed clip mirrored left to right: other object positions, the same classes.
Clip mirrored_clip() {
  const auto clip = fixed_clip();
  return {clip.frames.flip({-1}), targets_from_masks(clip.targets.labels, clip.targets.masks.flip({-1}))};
}

/// Every parameter of `a` equals the same parameter of `b`, bit for bit.
bool same_weights(Trainer& a, Trainer& b) {
  auto pb = b.model()->named_parameters();
  for (const auto& item : a.model()->named_parameters()) {
    if (!torch::equal(item.value(), pb[item.key()])) return false;
  }
  return true;
}

Trainer detector_trainer(std::uint64_t seed) {  // no refinement head: no QSG draw per clip
  const auto header = tiny_header();
  auto model = vmt::engine::init_model(header.config, seed);
  apply_official_init(model);
  RefineOptions refine;
  refine.enabled = false;
  return Trainer(model, header, torch::kCPU, {}, {}, {}, refine);
}

// A batch's update follows the mean of its clips' gradients: the same clip twice updates the
// weights exactly as that clip alone, and a different second clip changes the update.
TEST(TrainBatch, UpdatesWithTheMeanOfTheClipsGradients) {
  torch::set_num_threads(1);
  const std::vector<Clip> once = {fixed_clip()}, twice = {fixed_clip(), fixed_clip()},
                          mixed = {fixed_clip(), mirrored_clip()};
  auto a = detector_trainer(7), b = detector_trainer(7), c = detector_trainer(7);
  for (int i = 0; i < 2; ++i) {
    const auto la = a.step(once), lb = b.step(twice, 2);
    EXPECT_EQ(la.at("total"), lb.at("total"));
    c.step(mixed, 2);
  }
  EXPECT_TRUE(same_weights(a, b));
  EXPECT_FALSE(same_weights(a, c));
  EXPECT_EQ(b.state().step, 2);  // a batch is one step
}

// Running a batch's clips side by side gives the very update of running them one after the
// other (refinement head included: each clip draws its own QSG points).
TEST(TrainBatch, AnyWorkerCountGivesTheSameUpdate) {
  torch::set_num_threads(1);
  const std::vector<Clip> clips = {fixed_clip(), mirrored_clip(), fixed_clip()};
  auto one = make_trainer(8), three = make_trainer(8);
  for (int i = 0; i < 2; ++i) {
    const auto l1 = one.step(clips, 1), l3 = three.step(clips, 3);
    EXPECT_EQ(l1.at("total"), l3.at("total"));
    EXPECT_EQ(l1.at("refined_dice"), l3.at("refined_dice"));
  }
  EXPECT_TRUE(same_weights(one, three));
  EXPECT_THROW(one.step(std::vector<Clip>{}), vmt::Error);
}

// With two decoder layers the first layer's heads add their own matched losses ("aux"); the
// last layer's layer_heads are the detector's own heads; one layer has no auxiliary loss.
TEST(TrainAux, EarlierDecoderLayersAddTheirLosses) {
  const auto clip = fixed_clip();
  for (const std::int64_t layers : {2, 1}) {
    auto header = tiny_header();
    header.config.dec_layers = layers;
    auto model = vmt::engine::init_model(header.config, 12);
    apply_official_init(model);
    Trainer trainer(model, header, torch::kCPU);
    const auto loss = trainer.evaluate(clip);
    if (layers == 1) {
      EXPECT_EQ(loss.at("aux"), 0.0);
      continue;
    }
    EXPECT_GT(loss.at("aux"), 0.0);
    EXPECT_TRUE(std::isfinite(loss.at("aux")));
    torch::NoGradGuard no_grad;
    auto& det = vmt::engine::detector_of(trainer.model());
    const auto out = det->forward(clip.frames);
    ASSERT_EQ(out.decoder_layers.size(), 2u);
    const auto last = det->layer_heads(out, 1), first = det->layer_heads(out, 0);
    EXPECT_TRUE(torch::equal(last.pred_logits, out.pred_logits));
    EXPECT_TRUE(torch::equal(last.pred_boxes, out.pred_boxes));
    EXPECT_FALSE(torch::equal(first.pred_logits, out.pred_logits));
    // "aux" is the first layer's criterion total
    const auto all = torch::arange(out.pred_logits.size(1));
    const auto expected = compute_losses({first.pred_logits[0], first.pred_boxes[0],
                                          det->coarse_mask_logits(first, all)},
                                         clip.targets, {}, {})
                              .at("total")
                              .item<double>();
    EXPECT_NEAR(loss.at("aux"), expected, 1e-4 * expected);
    EXPECT_THROW(det->layer_heads(out, 2), vmt::Error);
  }
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
