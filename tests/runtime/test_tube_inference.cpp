// infer_tube's device selection against its host selection, at the level of the logits: the
// same Selection (picks, queries, class scores) and, row for row, the same coarse and refined
// mask logits, when the score threshold drops picks whose masks would otherwise change the
// refinement's incoherent points (the union of the refined instances' masks).
#include <gtest/gtest.h>

#include <ATen/ops/rand.h>
#include <ATen/ops/tensor.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <vector>

#include "engine/model_file.h"
#include "model/config.h"
#include "model/refinement_head.h"
#include "model/tube_inference.h"

namespace {

// lowers every instance's incoherent-level logits: masks of 16–68 % of the frame, not all of it
constexpr float kIncShift = 4.0f;

vmt::model::TubeOutput infer(vmt::model::VmtModel& model, const vmt::model::FrameFeatures& f,
                             const torch::Tensor& images, vmt::InstanceSelection rule,
                             float min_score, bool on_device) {
  vmt::model::TubeRequest request;
  request.mask_begin = 0;
  request.mask_end = images.size(0);
  request.selection = rule;
  request.max_instances = 8;
  request.num_labels = 3;
  request.min_score = min_score;
  request.device_selection = on_device;
  return vmt::model::infer_tube(model, f, f, images, request);
}

TEST(TubeInference, DeviceSelectionEqualsHostSelection) {
  c10::InferenceMode guard;
  auto model = vmt::engine::init_model(vmt::model::preset("small"), 11);
  {
    torch::NoGradGuard no_grad;  // refined masks that are not all empty, as the test models
    for (auto& item : model->named_parameters()) {
      if (item.key() == "controller_refine.layers.2.bias") item.value()[-1].add_(3.0);
      // incoherent-level masks that differ between instances (their union then depends on
      // which instances are in it): larger per-instance dynamic parameters
      if (item.key() == "controller_inc.layers.2.weight") item.value().mul_(5.0);
      if (item.key() == "controller_inc.layers.2.bias") item.value()[-1].sub_(kIncShift);
    }
  }
  model->eval();
  at::manual_seed(5);
  const auto images = (at::rand({2, 3, 64, 96}) - 0.5) * 3.0;
  const auto features = model->detector->encode_frames(images);
  for (const auto rule : {vmt::InstanceSelection::TopPairs, vmt::InstanceSelection::PerObject}) {
    const auto all = infer(model, features, images, rule, 0.f, false);
    // a threshold that keeps the picks of the best two queries only
    std::vector<float> first_scores;  // each query's best pick, highest first
    std::vector<std::int64_t> seen;
    for (const auto& p : all.selection.picks) {
      if (std::find(seen.begin(), seen.end(), p.query) != seen.end()) continue;
      seen.push_back(p.query);
      first_scores.push_back(p.score);
    }
    ASSERT_GE(first_scores.size(), 4u);
    ASSERT_GT(first_scores[1], first_scores[2]);
    const float threshold = (first_scores[1] + first_scores[2]) / 2;

    const auto host = infer(model, features, images, rule, threshold, false);
    const auto device = infer(model, features, images, rule, threshold, true);
    ASSERT_EQ(host.selection.picks.size(), device.selection.picks.size());
    for (std::size_t i = 0; i < host.selection.picks.size(); ++i) {
      EXPECT_EQ(host.selection.picks[i].query, device.selection.picks[i].query) << i;
      EXPECT_EQ(host.selection.picks[i].cls, device.selection.picks[i].cls) << i;
      EXPECT_EQ(host.selection.picks[i].score, device.selection.picks[i].score) << i;
    }
    EXPECT_EQ(host.selection.queries, device.selection.queries);
    EXPECT_TRUE(host.selection.scores.equal(device.selection.scores));
    ASSERT_LT(host.selection.queries.size(), all.selection.queries.size());
    ASSERT_EQ(host.final_logits.sizes(), device.final_logits.sizes());
    EXPECT_LE((host.final_logits - device.final_logits).abs().max().item<float>(), 1e-4);
    EXPECT_LE((host.coarse_logits - device.coarse_logits).abs().max().item<float>(), 1e-4);
    // the mechanism, exactly: the device path's incoherent points (every pick refined, the
    // dropped ones out of the union) are the host path's (only the kept picks refined), and
    // differ from those of a union of every pick (what the threshold must change)
    const auto picks = vmt::model::select_on_device(model->detector->decode_tube(features)
                                                        .pred_logits[0],
                                                    rule, 8, 3, threshold);
    auto points = [&](const torch::Tensor& queries, const torch::Tensor& in_union) {
      const auto out = model->detector->decode_tube(features);
      auto wanted = out.frames(0, images.size(0));
      wanted.c1 = features.c1;
      wanted.layer1 = features.layer1;
      wanted.mask_feats_c = features.mask_feats_c;
      vmt::model::RefinementTrace trace;
      vmt::model::PointSampling sampling;
      sampling.in_union = in_union;
      vmt::model::refine_masks(model, wanted, images, queries, &trace, sampling);
      return trace.point_indices;
    };
    const auto on_device = points(picks.queries, picks.valid);
    const auto on_host = points(host.selection.query_tensor(torch::kCPU), {});
    const auto every_pick = points(picks.queries, {});
    bool differs = false;
    for (std::size_t f = 0; f < on_host.size(); ++f) {
      EXPECT_TRUE(on_device[f].equal(on_host[f])) << "frame " << f;
      differs = differs || !every_pick[f].equal(on_host[f]);
    }
    EXPECT_TRUE(differs) << "rule " << static_cast<int>(rule) << ": the dropped picks do not change "
                         << "the points (" << host.selection.queries.size() << " of "
                         << all.selection.queries.size() << " queries kept): the test checks nothing";
  }
}

}  // namespace
