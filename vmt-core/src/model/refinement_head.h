// The Transfiner refinement head of VMT (official models/segmentation.py, the inference path
// VMT.inference → forward_mask_head_train_with_inc → dynamic_mask_with_coords_inc and
// dynamic_mask_with_coords_inc_super), and `VmtModel`, the whole official VMT module (detector +
// refinement head) whose parameter and buffer names are the official state_dict keys.
// Internal to vmt-core.
//
// Per frame, for the K selected queries:
//   1. high-resolution features: lay_hr1(mask_feats_c) (stride 8) + backbone layer1 (stride 4)
//      → lay1_h → lay2_h: 8-channel features at stride 4;
//   2. incoherent-level masks at stride 4 (controller_inc's dynamic convs on
//      [rel. coords, sigmoid(coarse logits), features]);
//   3. incoherent points at stride 2: the union of the K stride-4 masks, nearest-upsampled,
//      through a dilated (3) Laplacian twice, non-zero → point;
//   4. point features at stride 2: lay_hr1_c features + on the points (conv1 features + the RGB
//      encoding conv_norm_relus_fuse_img), sine positions, a 3-layer point transformer (`encoder`,
//      d = 64, 4 heads) over the frame's points, added back at the points;
//   5. per instance, the four dilated fusion branches conv_norm_relus_fuse_all_{1..4} on
//      [features, sigmoid(inc), sigmoid(coarse), box mask, rel. coords], summed, then
//      controller_refine's dynamic convs and aligned_bilinear ×2 → refined logits at stride 1.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "config.h"
#include "deformable_transformer.h"
#include "point_transformer.h"
#include "vmt_detector.h"

namespace vmt::model {

/// The whole official VMT module: the detector's modules (`detr`, `controller`, `mask_head`) and
/// the refinement head's (`controller_inc`, `controller_refine` — MLP C → C → 177 —, `lay_hr1`
/// 3×3 256→256, `lay1_h` 3×3 256→64, `lay2_h` 3×3 64→8, `lay_hr1_c` 1×1 64→64,
/// `conv_norm_relus_fuse_img` (3×3 3→32, 1×1 32→64, 1×1 64→64, ReLU after each),
/// `conv_norm_relus_fuse_all_{1,2,3,4}` (3×3 69→32 with dilation = padding = 3, 5, 7, 1, then
/// 1×1 32→32, 1×1 32→11, ReLU after each) and `encoder` (PointTransformer, FFN 2048)) at the
/// official sizes (C = hidden_dim = 256; other presets scale C, C/4 and C/32, the fusion width
/// fuse_channels and the FFN point_feedforward; the 64-channel point features stay), all
/// registered at the top level, so named_parameters() + named_buffers() are exactly the official
/// state_dict keys.
/// `detector` shares the detector's modules (it is not registered again).
struct VmtModelImpl : torch::nn::Module {
  explicit VmtModelImpl(const ModelConfig& config);

  ModelConfig config;
  VmtDetector detector{nullptr};
  MLP controller_inc{nullptr};
  MLP controller_refine{nullptr};
  torch::nn::Conv2d lay_hr1{nullptr}, lay1_h{nullptr}, lay2_h{nullptr}, lay_hr1_c{nullptr};
  torch::nn::Sequential conv_norm_relus_fuse_img{nullptr};
  torch::nn::Sequential conv_norm_relus_fuse_all_1{nullptr}, conv_norm_relus_fuse_all_2{nullptr},
      conv_norm_relus_fuse_all_3{nullptr}, conv_norm_relus_fuse_all_4{nullptr};
  PointTransformer encoder{nullptr};
};
TORCH_MODULE(VmtModel);

/// Intermediate results of refine_masks, for the training losses, tests and diagnostics
/// (filled when asked for).
struct RefinementTrace {
  torch::Tensor coarse_s8;    ///< [K, T, H/8, W/8] coarse logits before upsampling
  torch::Tensor inc_s4;       ///< [K, T, H/4, W/4] incoherent-level logits
  torch::Tensor inc_logits;   ///< [K, T, H/2, W/2] incoherent-level logits (aligned_bilinear ×2)
  torch::Tensor boundary;     ///< [T, H/2, W/2] float {0, 1}: the detected incoherent pixels
  torch::Tensor refined_s2;   ///< [K, T, H/2, W/2] refined logits before aligned_bilinear ×2
  std::vector<std::int64_t> points;  ///< per frame: number of points fed to the transformer
  /// per frame: the points fed to the transformer, [points[f]] int64 row-major indices into the
  /// H/2 × W/2 grid (ascending)
  std::vector<torch::Tensor> point_indices;
};

/// How refine_masks chooses the incoherent points the point transformer sees.
///
/// Inference (qsg_budget = 0): per frame, all incoherent pixels, thinned deterministically above
/// config.refine_point_limit (see select_points). Training (qsg_budget > 0): the supplement's
/// quadtree sequence grouping — the incoherent points of the whole clip in a random order
/// (torch.randperm seeded with qsg_seed), the first qsg_budget kept (official: 3000 for a
/// 5-frame clip), so every frame contributes in proportion to its points; each frame's kept
/// points then go through the transformer as at inference.
///
/// `point_limit` (inference) bounds the points per frame below config.refine_point_limit: 0 keeps
/// the model's limit (official 12000, the `exact` setting); a smaller limit thins the frame's
/// points by the same deterministic rule, bounding the transformer's cost, which grows with the
/// square of the points.
///
/// `padded` (inference): the same points, chosen without a host synchronisation and with static
/// shapes (select_points_padded: always the limit's number of rows, the unused ones masked out of
/// the attention), as a CUDA graph needs; the transformer then costs its limit whatever the
/// frame's points, so pair it with a point limit. The logits equal the unpadded ones to float
/// rounding.
///
/// `in_union` ([K] bool on the model's device, or undefined for all): the instances whose masks
/// make the union the incoherent points come from. The device selection refines every pick and
/// leaves the ones below the score threshold out of the union here, so the others get the
/// refinement the host selection (which refines only those) gives them.
struct PointSampling {
  std::int64_t qsg_budget = 0;
  std::uint64_t qsg_seed = 0;
  std::int64_t point_limit = 0;
  bool padded = false;
  torch::Tensor in_union;
};

/// The refined mask logits of the queries `query_indices` — the official
/// `outputs['pred_masks_refine']` of VMT.inference.
///
/// model:          a VmtModel (weights loaded, eval mode); its detector produced `detector`.
/// detector:       VmtDetector::forward of the same clip (needs mask_feats_c, layer1, c1,
///                 pred_boxes, reference_points, hs, mask_head_params).
/// images:         [T, 3, H, W] float, the ImageNet-normalised clip given to the detector
///                 (the RGB encoding reads it), on the model's device.
/// query_indices:  [K] int64 query indices (any device; a repeated one gets its masks twice), e.g.
///                 VmtDetectorImpl::select_queries(pred_logits, 10, config.refine_queries);
///                 K = 0 gives an empty result. The official code takes the top-10 (query, class)
///                 pairs, so K ≤ 10 there; any K works here and the cost grows with K, not Q.
/// trace:          when given, receives the intermediate results.
///
/// Returns [K, T, 2·H₂, 2·W₂] float logits on the model's device, where H₂ × W₂ is the size of
/// the backbone's conv1 output (⌈H/2⌉ × ⌈W/2⌉), i.e. [K, T, H, W] for even H and W. The official
/// tools/inference.py turns them into frame masks by bilinear resizing (align_corners = false) to
/// the frame size and sigmoid > 0.5 (see final_masks). Row k belongs to query_indices[k].
///
/// The refinement result depends on the whole set of queries (the incoherent points are those of
/// the union of their masks), as in the official code. Point selection: per frame, the
/// incoherent pixels in row-major order; if there are more than config.refine_point_limit
/// (official: 12000, chosen by torch.randperm) the kept ones are those at positions
/// ⌊i · P / limit⌋, i = 0 … limit−1, of that sorted list (deterministic, the same on every
/// device). Below the limit the result equals the official one (the transformer is
/// permutation-equivariant over points). Host syncs: one per frame (the number of points).
///
/// Every frame is refined on its own (frames are the batch of every convolution, and the points
/// of a frame only attend to each other): refining `detector.frames(b, e)` with
/// `images.slice(0, b, e)` gives exactly rows b … e−1 of refining the whole clip.
///
/// cpu_workers: on the CPU, steps that do not wait for each other run on up to that many threads
/// (run_tasks): the RGB features beside the incoherent regions, the instances' fusion inputs
/// beside the point transformer, the four fusion branches. The logits are the same bits for any
/// number.
torch::Tensor refine_masks(VmtModel& model, const DetectorOutput& detector,
                           const torch::Tensor& images, const torch::Tensor& query_indices,
                           RefinementTrace* trace = nullptr, const PointSampling& sampling = {},
                           int cpu_workers = 1);

/// Binary frame masks as the official tools/inference.py computes them: refined logits
/// [K, T, H', W'] resized bilinearly (align_corners = false) to frame_height × frame_width, then
/// sigmoid > 0.5. Returns [K, T, frame_height, frame_width] bool.
torch::Tensor final_masks(const torch::Tensor& refined_logits, std::int64_t frame_height,
                          std::int64_t frame_width);

/// The incoherent points of one frame: indices (row-major, y · W + x) of the non-zero entries of
/// `boundary` ([H, W]), ascending; more than `limit` are thinned to the entries at ⌊i · P / limit⌋
/// of the sorted list. Returns [min(P, limit)] int64 on boundary's device.
torch::Tensor select_points(const torch::Tensor& boundary, std::int64_t limit);

/// select_points' points with a static shape and no host synchronisation: `indices` [limit]
/// int64 holds them ascending, then boundary.numel() (one past the grid) in the unused rows;
/// `real` [limit] bool marks the used rows. A pixel of rank r among the P incoherent ones is
/// entry ⌊i · P / limit⌋ for some i < limit exactly when ⌈r · limit / P⌉ · P < (r + 1) · limit,
/// which every rank meets when P ≤ limit, so the rule is select_points' in both cases.
struct PaddedPoints {
  torch::Tensor indices;
  torch::Tensor real;
};
PaddedPoints select_points_padded(const torch::Tensor& boundary, std::int64_t limit);

/// QSG (training): the incoherent points of a clip, `boundary` [T, H, W], in a random order
/// (seeded `seed`), the first `budget` kept, split back per frame. Returns T tensors of row-major
/// indices into H × W (ascending), on boundary's device; their total is min(budget, points).
std::vector<torch::Tensor> sample_points_qsg(const torch::Tensor& boundary, std::int64_t budget,
                                             std::uint64_t seed);

}  // namespace vmt::model
