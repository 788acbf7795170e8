// Fuzz target for vmt-eval's YouTube-VIS readers (vmt/eval.h): the input is read both as a
// ground-truth document and as a results array against a small fixed ground truth. Each is either
// refused with vmt::Error (CorruptData, InvalidArgument) or parsed; what parsed (when it is small)
// is then evaluated: the input's tracks as perfect results of its own ground truth, the results
// against the fixed one. Evaluation may refuse inconsistent input with the same codes, never
// crash, and its AP numbers are -1 (undefined) or within [0, 1].
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "vmt/eval.h"

namespace {

constexpr const char* kTarget = "fuzz_ytvis";
constexpr std::uint64_t kPixelLimit = 1u << 18;  // keeps one input's evaluation quick

/// Two videos of 3 frames of 4×6 pixels, two categories, one track each.
constexpr std::string_view kGroundTruth = R"({
  "videos": [{"id": 1, "height": 4, "width": 6, "length": 3},
             {"id": 2, "height": 4, "width": 6, "length": 3}],
  "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
  "annotations": [
    {"id": 1, "video_id": 1, "category_id": 1, "iscrowd": 0, "areas": [4, 4, null],
     "segmentations": [{"size": [4, 6], "counts": [5, 2, 2, 2, 13]},
                       {"size": [4, 6], "counts": [9, 2, 2, 2, 9]}, null]},
    {"id": 2, "video_id": 2, "category_id": 2, "iscrowd": 0, "areas": [24, 24, 24],
     "segmentations": [{"size": [4, 6], "counts": [0, 24]}, {"size": [4, 6], "counts": [0, 24]},
                       {"size": [4, 6], "counts": [0, 24]}]}]})";

std::uint64_t pixels(const std::vector<vmt::eval::VisTrack>& tracks) {
  std::uint64_t total = 0;
  for (const auto& track : tracks) {
    for (const auto& mask : track.masks) total += mask ? mask->size.pixels() : 0;
    for (const auto& mask : track.boundary_source) total += mask ? mask->size.pixels() : 0;
  }
  return total;
}

void check_summary(const vmt::eval::VisSummary& summary) {
  for (const double value : summary.stats)
    if (!(value == -1.0 || (value >= 0.0 && value <= 1.0)))
      vmt::fuzz::broken(kTarget, "a summary number outside [0, 1] that is not -1");
}

void evaluate_both_ious(const vmt::eval::VisGroundTruth& gt,
                        const std::vector<vmt::eval::VisTrack>& results) {
  for (const auto iou : {vmt::eval::VisIouType::Mask, vmt::eval::VisIouType::Boundary}) {
    vmt::eval::VisParams params;
    params.iou_type = iou;
    check_summary(vmt::eval::evaluate_vis(gt, results, params));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vmt::ErrorCode;
  const auto text = vmt::fuzz::as_text(data, size);
  const std::initializer_list<ErrorCode> refusals = {ErrorCode::CorruptData,
                                                     ErrorCode::InvalidArgument};
  vmt::eval::VisGroundTruth gt;
  if (vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals,
                                        [&] { gt = vmt::eval::parse_vis_ground_truth(text); }) &&
      pixels(gt.annotations) <= kPixelLimit && gt.annotations.size() <= 64) {
    // the ground truth's own tracks as results: every one found
    std::vector<vmt::eval::VisTrack> perfect = gt.annotations;
    for (auto& track : perfect) track.score = 1.0;
    vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals, [&] { evaluate_both_ious(gt, perfect); });
  }
  static const vmt::eval::VisGroundTruth fixed = vmt::eval::parse_vis_ground_truth(kGroundTruth);
  std::vector<vmt::eval::VisTrack> results;
  if (vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals,
                                        [&] { results = vmt::eval::parse_vis_results(text, fixed); }) &&
      pixels(results) <= kPixelLimit && results.size() <= 64)
    vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals, [&] { evaluate_both_ious(fixed, results); });
  return 0;
}
