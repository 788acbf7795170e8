// The LibTorch VMT detector against the official PyTorch code: weights from the formula shared
// with tests/fixtures/parity/make_fixtures.py, the clip and the reference outputs from the
// fixtures that script wrote (see tests/fixtures/parity/README.md).
#include <gtest/gtest.h>

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <ATen/ops/arange.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/tensor.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/postprocess.h"
#include "model/vmt_detector.h"
#include "weights/safetensors.h"
#include "weights/state_dict.h"
#include "vmt/error.h"
#include "parity_support.h"

namespace {

using namespace vmt::parity;
using vmt::model::ModelConfig;
using vmt::model::VmtDetector;

const std::vector<std::string> kRefinementPrefixes = {
    "controller_inc.", "controller_refine.", "lay_hr1.", "lay1_h.", "lay2_h.", "lay_hr1_c.",
    "conv_norm_relus_fuse_", "encoder."};

void check_keys(const std::string& preset) {
  const auto file = vmt::weights::SafetensorsFile::open(fixture_path(preset));
  const auto official = official_state_dict(file);
  VmtDetector model(vmt::model::preset(preset));
  std::map<std::string, std::vector<std::int64_t>> mine;
  for (const auto& p : model->named_parameters()) mine[p.key()] = p.value().sizes().vec();
  for (const auto& b : model->named_buffers()) mine[b.key()] = b.value().sizes().vec();
  for (const auto& [name, shape] : mine) {
    const auto it = official.find(name);
    ASSERT_NE(it, official.end()) << name << " is not an official key";
    EXPECT_EQ(shape, it->second) << name;
  }
  std::size_t refinement = 0;
  for (const auto& [name, shape] : official) {
    if (mine.count(name)) continue;
    bool ok = false;
    for (const auto& prefix : kRefinementPrefixes) ok = ok || name.rfind(prefix, 0) == 0;
    EXPECT_TRUE(ok) << "official key missing from the detector: " << name;
    ++refinement;
  }
  EXPECT_GT(refinement, 0u);
  EXPECT_EQ(mine.size() + refinement, official.size());
}

void check_parity(const std::string& preset, bool with_hs) {
  torch::NoGradGuard no_grad;
  const auto file = vmt::weights::SafetensorsFile::open(fixture_path(preset));
  EXPECT_EQ(file.metadata().at("preset"), preset);
  VmtDetector model(vmt::model::preset(preset));
  fill_from_formula(*model);
  model->eval();
  const auto frames = fixture_tensor(file, "frames");

  const auto layer4 = model->detr->backbone->forward(
      frames, torch::zeros({frames.size(0), frames.size(2), frames.size(3)}, torch::kBool));
  expect_close(preset + " backbone layer4", layer4.features.layer4,
               fixture_tensor(file, "features_layer4"));

  const auto out = model->forward(frames);
  expect_close(preset + " encoder memory", out.memory, fixture_tensor(file, "memory"));
  if (with_hs) expect_close(preset + " decoder hs", out.hs, fixture_tensor(file, "hs"));
  expect_close(preset + " class logits", out.pred_logits, fixture_tensor(file, "pred_logits"));
  expect_close(preset + " boxes", out.pred_boxes, fixture_tensor(file, "pred_boxes"));
  const auto all = at::arange(model->config.num_queries, torch::kInt64);
  expect_close(preset + " coarse mask logits", model->coarse_mask_logits(out, all),
               fixture_tensor(file, "pred_masks"));
}

}  // namespace

// The presets are the official argument defaults of the released checkpoints.
TEST(DetectorConfig, PresetsMatchOfficialDefaults) {
  const auto r50 = vmt::model::vmt_r50();
  EXPECT_EQ(r50.backbone, "resnet50");
  EXPECT_EQ(r50.hidden_dim, 256);
  EXPECT_EQ(r50.nheads, 8);
  EXPECT_EQ(r50.enc_layers, 6);
  EXPECT_EQ(r50.dec_layers, 6);
  EXPECT_EQ(r50.dim_feedforward, 1024);
  EXPECT_EQ(r50.num_queries, 300);
  EXPECT_EQ(r50.num_feature_levels, 4);
  EXPECT_EQ(r50.enc_n_points, 4);
  EXPECT_EQ(r50.dec_n_points, 4);
  EXPECT_EQ(r50.num_classes, 42);
  EXPECT_EQ(r50.mask_head_layout().num_params(), 169);
  EXPECT_EQ(vmt::model::vmt_r101().resnet_blocks(), (std::vector<std::int64_t>{3, 4, 23, 3}));
  EXPECT_NO_THROW(vmt::model::tiny().validate());
}

// An unknown preset or an inconsistent config is an InvalidArgument error.
TEST(DetectorConfig, RejectsUnknownPresetAndBadSizes) {
  EXPECT_THROW(vmt::model::preset("vmt_r18"), vmt::Error);
  auto c = vmt::model::tiny();
  c.hidden_dim = 100;
  EXPECT_THROW(c.validate(), vmt::Error);
  c = vmt::model::tiny();
  c.backbone = "resnet18";
  EXPECT_THROW(c.validate(), vmt::Error);
}

// The ResNet-101 preset has 23 bottlenecks in layer3.
TEST(DetectorStructure, Resnet101Layer3Depth) {
  VmtDetector model(vmt::model::vmt_r101());
  std::size_t blocks = 0;
  for (const auto& p : model->named_parameters()) {
    if (ends_with(p.key(), ".conv1.weight") &&
        p.key().rfind("detr.backbone.0.body.layer3.", 0) == 0) {
      ++blocks;
    }
  }
  EXPECT_EQ(blocks, 23u);
}

// Parameter and buffer names are the official state_dict keys (shapes too); the only official
// keys the detector lacks are those of the refinement head.
TEST(DetectorStructure, TinyKeysAreOfficialStateDictKeys) { check_keys("tiny"); }
TEST(DetectorStructure, R50KeysAreOfficialStateDictKeys) { check_keys("vmt_r50"); }

// The official query selection: top-K (query, class) scores, distinct queries.
TEST(DetectorHeads, SelectionTakesDistinctTopScoringQueries) {
  auto logits = torch::full({5, 3}, -10.0);
  logits[4][1] = 5.0;
  logits[4][2] = 4.0;
  logits[1][0] = 3.0;
  const auto sel = vmt::model::select_instances(logits, 3);
  ASSERT_EQ(sel.picks.size(), 3u);
  EXPECT_EQ(sel.queries, (std::vector<std::int64_t>{4, 1}));
}

// Tiny preset, 3 frames 48x80: backbone, encoder, decoder, heads and coarse masks.
TEST(DetectorParity, TinyMatchesOfficial) { check_parity("tiny", /*with_hs=*/true); }

// Full-size ResNet-50 preset (300 queries, 6+6 layers), 2 frames 64x96.
TEST(DetectorParity, R50MatchesOfficial) { check_parity("vmt_r50", /*with_hs=*/false); }
