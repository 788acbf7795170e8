#include "mask_output.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>

#include "vmt/error.h"

namespace vmt::engine {

namespace F = torch::nn::functional;

namespace {

/// [N, h, w] probabilities' `> 0.5` as contiguous uint8 on the CPU.
torch::Tensor binary_on_host(const torch::Tensor& probabilities) {
  return (probabilities > 0.5).to(torch::kUInt8).cpu().contiguous();
}

MaskSize size_of(const torch::Tensor& binary) {
  return {static_cast<std::uint32_t>(binary.size(1)), static_cast<std::uint32_t>(binary.size(2))};
}

std::span<const std::uint8_t> plane(const torch::Tensor& binary, std::int64_t i, MaskSize size) {
  return {binary.data_ptr<std::uint8_t>() + i * static_cast<std::int64_t>(size.pixels()),
          static_cast<std::size_t>(size.pixels())};
}

}  // namespace

std::vector<CroppedMask> frame_masks(const torch::Tensor& logits, std::int64_t frame_height,
                                     std::int64_t frame_width) {
  const auto resized = F::interpolate(logits.to(torch::kFloat32).unsqueeze(1),
                                      F::InterpolateFuncOptions()
                                          .size(std::vector<std::int64_t>{frame_height, frame_width})
                                          .mode(torch::kBilinear)
                                          .align_corners(false));
  const auto binary = binary_on_host(resized.squeeze(1).sigmoid());
  const auto size = size_of(binary);
  std::vector<CroppedMask> masks;
  masks.reserve(static_cast<std::size_t>(binary.size(0)));
  for (std::int64_t t = 0; t < binary.size(0); ++t) {
    masks.push_back(crop_to_box({plane(binary, t, size), size}));
  }
  return masks;
}

std::vector<Rle> coarse_rles(const torch::Tensor& logits) {
  const auto binary = binary_on_host(logits.to(torch::kFloat32).sigmoid());
  const auto size = size_of(binary);
  std::vector<Rle> rles;
  rles.reserve(static_cast<std::size_t>(binary.size(0)));
  for (std::int64_t t = 0; t < binary.size(0); ++t) {
    rles.push_back(rle_encode(BitmapView{plane(binary, t, size), size}));
  }
  return rles;
}

std::vector<TubeInstance> assemble_instances(const TubeLogits& in, std::int64_t frame_height,
                                             std::int64_t frame_width, float score_threshold,
                                             std::int64_t num_labels) {
  const auto& selection = *in.selection;
  auto wanted = [&](const model::Pick& p) {
    return p.score >= score_threshold && p.cls >= 1 && p.cls <= num_labels;
  };
  const auto t = static_cast<std::size_t>(in.tube_frames);
  const auto begin = static_cast<std::size_t>(in.mask_begin);
  std::vector<TubeInstance> instances;
  for (std::size_t q = 0; q < selection.queries.size(); ++q) {
    const auto query = selection.queries[q];
    const bool any = std::any_of(selection.picks.begin(), selection.picks.end(),
                                 [&](const model::Pick& p) { return p.query == query && wanted(p); });
    if (!any) continue;  // no mask work for queries whose pairs are all dropped
    const auto row = static_cast<std::int64_t>(q);
    TubeInstance masks;
    masks.frame_masks.resize(t);
    const auto final = frame_masks(in.final_logits[row], frame_height, frame_width);
    std::copy(final.begin(), final.end(), masks.frame_masks.begin() + static_cast<std::ptrdiff_t>(begin));
    if (in.coarse_logits.defined()) {
      masks.masks = coarse_rles(in.coarse_logits[row]);
    } else {
      masks.masks.reserve(t);
      for (const auto& m : masks.frame_masks) masks.masks.push_back(rle_encode(m));
    }
    const bool empty =
        std::all_of(final.begin(), final.end(), [](const CroppedMask& m) { return m.empty(); }) &&
        std::all_of(masks.masks.begin(), masks.masks.end(),
                    [](const Rle& m) { return rle_area(m) == 0; });
    if (empty) continue;  // the official 'skip'
    std::vector<float> class_scores;
    if (selection.scores.defined() && num_labels > 0) {
      const auto row = selection.scores[query].narrow(0, 1, num_labels).contiguous();
      class_scores.assign(row.data_ptr<float>(), row.data_ptr<float>() + num_labels);
    }
    for (const auto& p : selection.picks) {
      if (p.query != query || !wanted(p)) continue;
      instances.push_back(
          {p.score, static_cast<int>(p.cls), masks.masks, masks.frame_masks, class_scores});
    }
  }
  return instances;
}

}  // namespace vmt::engine
