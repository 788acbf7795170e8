// Fuzz target for vmt-eval's BDD100K / Scalabel JSON reader (vmt::eval::parse_scalabel): any text
// is either refused with vmt::Error (CorruptData, InvalidArgument) or parsed into frames whose
// masks' runs cover their size; small parsed frames are then scored as their own predictions,
// which may refuse them with the same codes but never crash.
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "vmt/eval.h"

namespace {

constexpr const char* kTarget = "fuzz_bdd100k";

bool small(const std::vector<vmt::eval::ScalabelFrame>& frames) {
  std::uint64_t pixels = 0, labels = 0;
  for (const auto& frame : frames) {
    labels += frame.labels.size();
    for (const auto& label : frame.labels) {
      pixels += label.mask.size.pixels();
      std::uint64_t total = 0;
      for (const auto run : label.mask.counts) total += run;
      if (total != label.mask.size.pixels()) vmt::fuzz::broken(kTarget, "runs do not cover a mask");
    }
  }
  return frames.size() <= 64 && labels <= 128 && pixels <= (1u << 18);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vmt::ErrorCode;
  const std::initializer_list<ErrorCode> refusals = {ErrorCode::CorruptData,
                                                     ErrorCode::InvalidArgument};
  std::vector<vmt::eval::ScalabelFrame> frames;
  if (!vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals, [&] {
        frames = vmt::eval::parse_scalabel(vmt::fuzz::as_text(data, size));
      }))
    return 0;
  if (small(frames))
    vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals,
                                      [&] { vmt::eval::evaluate_bdd100k_mots(frames, frames); });
  return 0;
}
