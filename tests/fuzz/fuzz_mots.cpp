// Fuzz target for vmt-eval's MOTSChallenge / KITTI-MOTS txt reader (vmt::eval::parse_mots_txt):
// any text is either refused with vmt::Error (CorruptData, InvalidArgument) or parsed into
// objects whose masks' runs cover their size; a small parsed sequence is then scored against
// itself with both benchmarks' rules, which may refuse it (overlapping masks, say) with the same
// codes but never crash, and counts no negative TP, FN, FP or ID switch.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "vmt/eval.h"

namespace {

constexpr const char* kTarget = "fuzz_mots";

bool small(const vmt::eval::MotsSequence& sequence) {
  if (sequence.objects.size() > 64) return false;
  std::uint64_t pixels = 0;
  for (const auto& object : sequence.objects) {
    if (object.frame < 0 || object.frame > 256) return false;  // frames are looped over
    pixels += object.mask.size.pixels();
  }
  return pixels <= (1u << 18);
}

void check(const vmt::eval::MotsSequence& sequence) {
  for (const auto& object : sequence.objects) {
    std::uint64_t total = 0;
    for (const auto run : object.mask.counts) total += run;
    if (total != object.mask.size.pixels()) vmt::fuzz::broken(kTarget, "runs do not cover a mask");
  }
}

void score(const vmt::eval::MotsSequence& sequence) {
  const std::vector<vmt::eval::MotsSequence> both{sequence};
  for (const auto benchmark :
       {vmt::eval::MotsBenchmark::KittiMots, vmt::eval::MotsBenchmark::MotsChallenge}) {
    const auto result = vmt::eval::evaluate_mots(both, both, benchmark);
    for (const auto& [name, s] : result.classes)
      if (s.tp < 0 || s.fn < 0 || s.fp < 0 || s.idsw < 0) vmt::fuzz::broken(kTarget, "a negative count");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vmt::ErrorCode;
  const std::initializer_list<ErrorCode> refusals = {ErrorCode::CorruptData,
                                                     ErrorCode::InvalidArgument};
  vmt::eval::MotsSequence sequence;
  if (!vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals, [&] {
        sequence = vmt::eval::parse_mots_txt(vmt::fuzz::as_text(data, size), "fuzz");
      }))
    return 0;
  check(sequence);
  if (small(sequence)) vmt::fuzz::refused_cleanly_or_ran(kTarget, refusals, [&] { score(sequence); });
  return 0;
}
