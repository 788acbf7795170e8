// The engine's preprocessing and post-processing rules on controlled inputs (no model).
#include <gtest/gtest.h>

#include <torch/nn/functional/upsampling.h>

#include <ATen/ops/full.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include "engine/mask_output.h"
#include "engine/preprocess.h"
#include "engine_test_support.h"
#include "model/config.h"
#include "model/postprocess.h"
#include "model/refinement_head.h"
#include "vmt/error.h"
#include "vmt/mask.h"

namespace {

using vmt::model::Pick;

torch::Tensor logits_of(const std::vector<std::vector<float>>& scores) {
  // the logits whose sigmoid is `scores`: [Q, C]
  std::vector<float> flat;
  for (const auto& row : scores) {
    for (const auto s : row) flat.push_back(std::log(s / (1 - s)));
  }
  return at::tensor(flat).view({static_cast<std::int64_t>(scores.size()), -1});
}

// torchvision Resize(360): shorter edge 360, longer edge truncated.
TEST(EngineRules, ResizedSizeFollowsTorchvision) {
  using vmt::engine::resized_size;
  using Size = std::pair<std::int64_t, std::int64_t>;
  EXPECT_EQ(resized_size(720, 1280, 360), Size(360, 640));
  EXPECT_EQ(resized_size(1280, 720, 360), Size(640, 360));
  EXPECT_EQ(resized_size(361, 500, 360), Size(360, 498));
  EXPECT_EQ(resized_size(240, 240, 360), Size(360, 360));
  EXPECT_EQ(resized_size(100, 200, 0), Size(100, 200));
}

// A flat picture stays flat through the resize; ToTensor + Normalize arithmetic.
TEST(EngineRules, PreprocessNormalisesLikeTorchvision) {
  std::vector<std::uint8_t> rgb(64 * 48 * 3, 128);
  const auto frame = vmt_test::make_frame(rgb, 64, 48, vmt::PixelFormat::RGB);
  const std::vector<vmt::ImageView> v{frame.view};
  const auto x = vmt::engine::preprocess(v, 36, torch::kCPU, torch::kFloat32);
  ASSERT_EQ(x.sizes(), (std::vector<std::int64_t>{1, 3, 36, 48}));
  EXPECT_FLOAT_EQ(x[0][0][5][7].item<float>(), (128.f / 255.f - 0.485f) / 0.229f);
  EXPECT_FLOAT_EQ(x[0][2][30][40].item<float>(), (128.f / 255.f - 0.406f) / 0.225f);
}

// The resize antialiases as PIL does: the uint8 path agrees with float arithmetic within 1 level.
TEST(EngineRules, ResizeIsAntialiasedBilinear) {
  const auto rgb = vmt_test::rgb_picture(160, 120, 0);
  const auto frame = vmt_test::make_frame(rgb, 160, 120, vmt::PixelFormat::RGB);
  const std::vector<vmt::ImageView> v{frame.view};
  const auto x = vmt::engine::preprocess(v, 30, torch::kCPU, torch::kFloat32);
  namespace F = torch::nn::functional;
  const auto src = vmt::engine::to_rgb(frame.view).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32);
  const auto ref = F::interpolate(src, F::InterpolateFuncOptions()
                                           .size(std::vector<std::int64_t>{30, 40})
                                           .mode(torch::kBilinear)
                                           .align_corners(false)
                                           .antialias(true))
                       .round();
  const auto mean = at::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const auto stdev = at::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  const auto back = ((x * stdev + mean) * 255.f).round();
  EXPECT_LE((back - ref).abs().max().item<float>(), 1.f);
}

// Every packed format gives the RGB bytes exactly; YUV within the BT.601 round trip.
TEST(EngineRules, PixelFormatsConvertToRgb) {
  const int w = 38, h = 26;  // even, with row padding in the 4-byte formats
  const auto rgb = vmt_test::rgb_picture(w, h, 3);
  const auto reference = vmt::engine::to_rgb(vmt_test::make_frame(rgb, w, h, vmt::PixelFormat::RGB).view)
                             .to(torch::kInt32);
  using vmt::PixelFormat;
  for (const auto format : {PixelFormat::RGBA, PixelFormat::RGBx, PixelFormat::BGRx,
                            PixelFormat::BGRA}) {
    const auto f = vmt_test::make_frame(rgb, w, h, format);
    EXPECT_TRUE(vmt::engine::to_rgb(f.view).to(torch::kInt32).equal(reference));
  }
  for (const auto format : {PixelFormat::I420, PixelFormat::NV12}) {
    const auto f = vmt_test::make_frame(rgb, w, h, format);
    const auto diff = (vmt::engine::to_rgb(f.view).to(torch::kInt32) - reference).abs();
    EXPECT_LE(diff.max().item<int>(), 24) << "format " << static_cast<int>(format);
    EXPECT_LE(diff.to(torch::kFloat32).mean().item<float>(), 3.f);
  }
}

// Bad frames are refused with the reason.
TEST(EngineRules, InvalidFramesAreRefused) {
  vmt::ImageView v;
  v.format = vmt::PixelFormat::RGB;
  v.width = 4;
  v.height = 0;
  EXPECT_THROW(vmt::engine::validate_image(v), vmt::Error);
  v.height = 4;
  std::vector<std::uint8_t> p(4 * 4 * 3);
  v.planes = {p.data(), nullptr, nullptr};
  v.strides = {8, 0, 0};
  try {
    vmt::engine::validate_image(v);
    FAIL();
  } catch (const vmt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("stride"), std::string::npos) << e.what();
  }
}

// The model input is bounded for any frame: the longer edge at most 4 × the input size (4096 for
// native frames), the shorter one scaled with it; below 32 pixels it is an error naming the size.
TEST(EngineRules, ModelInputIsBoundedForAnyAspectRatio) {
  using vmt::engine::model_input_size;
  using Size = std::pair<std::int64_t, std::int64_t>;
  EXPECT_EQ(model_input_size(720, 1280, 360), Size(360, 640));  // ordinary frames: unchanged
  EXPECT_EQ(model_input_size(1280, 720, 360), Size(640, 360));
  EXPECT_EQ(model_input_size(40, 400, 96), Size(38, 384));      // 10:1, capped
  EXPECT_EQ(model_input_size(400, 40, 96), Size(384, 38));
  EXPECT_EQ(model_input_size(4320, 7680, 0), Size(2304, 4096));  // native 8K, capped
  for (const auto& [h, w] : {Size(1000, 2), Size(2, 1000), Size(1000, 20)}) {
    try {
      model_input_size(h, w, 96);
      ADD_FAILURE() << w << "x" << h << " was accepted";
    } catch (const vmt::Error& e) {
      EXPECT_EQ(e.code(), vmt::ErrorCode::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(std::to_string(w) + "x" + std::to_string(h)),
                std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("too elongated"), std::string::npos) << e.what();
    }
  }
}

// top-K over the flattened query × class scores, highest first; distinct queries in order of
// first appearance.
TEST(EngineRules, TopPairsOverQueriesAndClasses) {
  const auto logits = logits_of({{0.1f, 0.9f, 0.2f}, {0.8f, 0.3f, 0.95f}, {0.05f, 0.5f, 0.6f}});
  const auto selection = vmt::model::select_instances(logits, 3);
  const auto& picks = selection.picks;
  ASSERT_EQ(picks.size(), 3u);
  EXPECT_EQ(picks[0].query, 1);
  EXPECT_EQ(picks[0].cls, 2);
  EXPECT_NEAR(picks[0].score, 0.95f, 1e-6);
  EXPECT_EQ(picks[1].query, 0);
  EXPECT_EQ(picks[1].cls, 1);
  EXPECT_EQ(picks[2].query, 1);
  EXPECT_EQ(picks[2].cls, 0);
  EXPECT_EQ(selection.queries, (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(vmt::model::select_instances(logits, 100).picks.size(), 9u);  // K larger than Q × C
}

// One instance per object: each query's best class among categories 1 … labels (logit 0 and
// logits past the labels are no class), the top K queries, each once.
TEST(EngineRules, PerObjectTakesEachQuerysBestLabel) {
  // labels 1..2 of 4 logits: logit 0 and logit 3 are no class
  const auto logits = logits_of({{0.99f, 0.3f, 0.9f, 0.1f},     // query 0: label 2 (0.9)
                                 {0.5f, 0.2f, 0.1f, 0.98f},     // query 1: label 1 (0.2)
                                 {0.1f, 0.7f, 0.65f, 0.2f},     // query 2: label 1 (0.7)
                                 {0.1f, 0.05f, 0.04f, 0.01f}});  // query 3: label 1 (0.05)
  const auto s = vmt::model::select_objects(logits, 3, /*num_labels=*/2, /*min_score=*/0.1f);
  ASSERT_EQ(s.picks.size(), 3u);
  EXPECT_EQ(s.picks[0].query, 0);
  EXPECT_EQ(s.picks[0].cls, 2);
  EXPECT_NEAR(s.picks[0].score, 0.9f, 1e-6);
  EXPECT_EQ(s.picks[1].query, 2);
  EXPECT_EQ(s.picks[1].cls, 1);
  EXPECT_EQ(s.picks[2].query, 1);
  EXPECT_EQ(s.picks[2].cls, 1);
  EXPECT_EQ(s.queries, (std::vector<std::int64_t>{0, 2, 1}));  // all ≥ 0.1
  EXPECT_EQ(vmt::model::select_objects(logits, 3, 2, 0.5f).queries,
            (std::vector<std::int64_t>{0, 2}));  // query 1 (0.2) gets no masks
  EXPECT_EQ(s.scores.sizes(), (std::vector<std::int64_t>{4, 4}));
  EXPECT_TRUE(vmt::model::select_objects(logits, 3, 0, 0.f).picks.empty());  // no labels
}

// Threshold, category and empty-mask rules; one query may give several instances; frame masks
// only on the mask frames, association masks on every frame.
TEST(EngineRules, AssembleAppliesOfficialRules) {
  // queries 0, 1, 2; query 2's masks are empty everywhere
  vmt::model::Selection selection{{{0, 1, 0.9f}, {1, 2, 0.8f}, {0, 3, 0.7f}, {2, 1, 0.6f},
                                   {1, 0, 0.5f}, {1, 4, 0.4f}, {0, 2, 0.0005f}},
                                  {0, 1, 2},
                                  {}};
  auto masks = at::full({3, 2, 4, 4}, -5.f);
  masks.index_put_({0, torch::indexing::Slice(), torch::indexing::Slice(0, 2)}, 5.f);
  masks.index_put_({1, 1, 2, 2}, 5.f);
  vmt::engine::TubeLogits logits;
  logits.selection = &selection;
  logits.final_logits = masks;
  logits.tube_frames = 2;  // association on the final masks (no coarse logits)
  const auto instances = vmt::engine::assemble_instances(logits, 8, 8, 0.001f, /*num_labels=*/3);
  // kept: (0,1), (0,3) [query 0]; (1,2) [query 1]; dropped: (2,1) empty masks, (1,0) class 0,
  // (1,4) past the labels, (0,2) under the threshold
  ASSERT_EQ(instances.size(), 3u);
  EXPECT_EQ(instances[0].category, 1);
  EXPECT_EQ(instances[1].category, 3);
  EXPECT_EQ(instances[2].category, 2);
  EXPECT_FLOAT_EQ(instances[2].score, 0.8f);
  EXPECT_EQ(instances[0].frame_masks, instances[1].frame_masks);
  ASSERT_EQ(instances[2].frame_masks.size(), 2u);
  EXPECT_TRUE(instances[2].frame_masks[0].empty());  // frame 0 empty, frame 1 not
  EXPECT_FALSE(instances[2].frame_masks[1].empty());
  EXPECT_EQ(instances[0].frame_masks[0].frame, (vmt::MaskSize{8, 8}));
  EXPECT_EQ(vmt::cropped_area(instances[0].frame_masks[0]), 32u);  // the top half
  EXPECT_EQ(instances[0].frame_masks[0].box, (vmt::BoundingBox{0, 0, 8, 4}));
  EXPECT_EQ(instances[0].masks[0], vmt::rle_encode(instances[0].frame_masks[0]));

  // coarse association masks, final masks of frame 1 only: query 2 (empty final mask) stays
  // when its coarse mask is not empty
  auto coarse = at::full({3, 2, 2, 2}, -5.f);
  coarse.index_put_({2, 0, 0, 0}, 5.f);
  logits.final_logits = masks.slice(1, 1, 2);
  logits.coarse_logits = coarse;
  logits.mask_begin = 1;
  const auto partial = vmt::engine::assemble_instances(logits, 8, 8, 0.001f, 3);
  ASSERT_EQ(partial.size(), 4u);  // (0,1), (0,3), (1,2) and now (2,1)
  EXPECT_EQ(partial[3].category, 1);
  EXPECT_EQ(partial[3].frame_masks[0], vmt::CroppedMask{});  // not a mask frame
  EXPECT_TRUE(partial[3].frame_masks[1].empty());
  ASSERT_EQ(partial[3].masks.size(), 2u);
  EXPECT_EQ(partial[3].masks[0].size, (vmt::MaskSize{2, 2}));
  EXPECT_EQ(vmt::rle_area(partial[3].masks[0]), 1u);
}

// Masks: the logits resized bilinearly (align_corners = false) to the frame size, then
// sigmoid > 0.5 (the official order: interpolate, then sigmoid), cropped to their box.
TEST(EngineRules, MasksResizeBilinearToFrameSize) {
  namespace F = torch::nn::functional;
  const auto logits = at::tensor({-2.f, 1.f, 3.f, -0.5f, 0.25f, -4.f}).view({1, 2, 3});
  const auto masks = vmt::engine::frame_masks(logits, 7, 11);
  ASSERT_EQ(masks.size(), 1u);
  const auto reference = (F::interpolate(logits.unsqueeze(0), F::InterpolateFuncOptions()
                                                                  .size(std::vector<std::int64_t>{7, 11})
                                                                  .mode(torch::kBilinear)
                                                                  .align_corners(false))
                              .sigmoid() > 0.5)
                             .to(torch::kUInt8)
                             .contiguous();
  const vmt::BitmapView expected{{reference.data_ptr<std::uint8_t>(), 77}, {7, 11}};
  EXPECT_EQ(masks[0], vmt::crop_to_box(expected));
  EXPECT_GT(vmt::cropped_area(masks[0]), 0u);
  EXPECT_LT(vmt::cropped_area(masks[0]), 77u);
}

// The JSON form of the config round-trips and refuses unknown fields.
TEST(EngineRules, ConfigJsonRoundTrip) {
  for (const auto& name : vmt::model::preset_names()) {
    const auto c = vmt::model::preset(name);
    const auto back = vmt::model::config_from_json(vmt::model::config_to_json(c));
    EXPECT_EQ(vmt::model::config_to_json(back), vmt::model::config_to_json(c));
    EXPECT_EQ(back.preset, name);
  }
  EXPECT_THROW(vmt::model::config_from_json(R"({"hidden_dim": 256, "bogus": 1})"), vmt::Error);
  EXPECT_THROW(vmt::model::config_from_json(R"({"hidden_dim": "x"})"), vmt::Error);
  EXPECT_THROW(vmt::model::config_from_json("not json"), vmt::Error);
  // Integral fields take integers that fit, nothing else (the model-config fuzz target found
  // 1e30 converted into an int64: undefined behaviour under UBSan).
  for (const char* bad : {R"({"num_queries": 1e30})", R"({"num_queries": 2.5})",
                          R"({"num_queries": 18446744073709551615})", R"({"nheads": true})",
                          R"({"resnet_planes": [64, 1e30, 256, 512]})", R"({"dilation": 1})"}) {
    try {
      vmt::model::config_from_json(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const vmt::Error& e) {
      EXPECT_NE(std::string(e.what()).find("wrong type or is out of range"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(vmt::model::config_from_json(R"({"frozen_bn_eps": 1})").frozen_bn_eps, 1.0);
}

// The refinement head adds lay_hr1's hidden_dim channels to layer1's 4 × resnet_planes[0]: a
// configuration where they differ is refused by name, and the fast preset's sizes reach the
// modules.
TEST(EngineRules, RefinementHeadSizesFollowTheConfig) {
  auto mismatched = vmt::model::fast();
  mismatched.resnet_planes[0] = 64;  // layer1: 256 channels against hidden_dim 64
  try {
    vmt::model::VmtModel model(mismatched);
    ADD_FAILURE() << "accepted layer1 256 with hidden_dim 64";
  } catch (const vmt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer1's channels (4 × resnet_planes[0] = 256)"),
              std::string::npos)
        << e.what();
  }
  auto shape = [](const vmt::model::VmtModel& model, const std::string& key) {
    return model->named_parameters()[key].sizes().vec();
  };
  using Shape = std::vector<std::int64_t>;
  const vmt::model::VmtModel fast(vmt::model::fast());
  EXPECT_EQ(shape(fast, "lay_hr1.weight"), (Shape{64, 64, 3, 3}));
  EXPECT_EQ(shape(fast, "lay2_h.weight"), (Shape{2, 16, 3, 3}));  // hidden_dim / 32 channels
  // 16 wide, hidden_dim / 32 + 3 out (controller_refine's inputs)
  EXPECT_EQ(shape(fast, "conv_norm_relus_fuse_all_1.4.weight"), (Shape{5, 16, 1, 1}));
  EXPECT_EQ(shape(fast, "encoder.layers.0.linear1.weight"), (Shape{128, 64}));
  const vmt::model::VmtModel official(vmt::model::vmt_r50());
  EXPECT_EQ(shape(official, "lay_hr1.weight"), (Shape{256, 256, 3, 3}));
  EXPECT_EQ(shape(official, "conv_norm_relus_fuse_all_1.4.weight"), (Shape{11, 32, 1, 1}));
  EXPECT_EQ(shape(official, "encoder.layers.0.linear1.weight"), (Shape{2048, 64}));
}

}  // namespace
