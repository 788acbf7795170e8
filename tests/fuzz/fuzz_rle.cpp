// Fuzz target for pycocotools' compressed RLE strings (vmt::rle_from_string, the `counts` of
// every result and ground-truth file). Input: 4 bytes height, 4 bytes width (little endian), then
// the counts string. A string is either refused with vmt::Error(CorruptData) or parses into runs
// that cover height × width exactly, re-encode to a string that parses to the same runs, and (for
// masks up to 2^20 pixels) decode to as many foreground pixels as rle_area says, inside the box.
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_support.h"
#include "vmt/mask.h"

namespace {

constexpr const char* kTarget = "fuzz_rle";
constexpr std::uint64_t kDecodeLimit = 1u << 20;

std::uint32_t read_u32(const std::uint8_t* data) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | data[i];
  return value;
}

void check(const vmt::Rle& rle, vmt::MaskSize size) {
  using vmt::fuzz::broken;
  if (rle.size.height != size.height || rle.size.width != size.width) broken(kTarget, "size changed");
  std::uint64_t total = 0;
  for (const auto run : rle.counts) total += run;
  if (total != size.pixels()) broken(kTarget, "runs do not cover the mask");
  const std::string text = vmt::rle_to_string(rle);
  vmt::Rle again;
  try {
    again = vmt::rle_from_string(text, size);
  } catch (const vmt::Error&) {
    broken(kTarget, "the re-encoded string is refused");
  }
  if (vmt::rle_to_string(again) != text) broken(kTarget, "to_string is not stable");
  if (vmt::rle_area(again) != vmt::rle_area(rle)) broken(kTarget, "area changed in a round trip");
  if (size.pixels() > kDecodeLimit) return;
  const vmt::Bitmap bitmap = vmt::rle_decode(rle);
  std::uint64_t foreground = 0;
  for (const auto pixel : bitmap.data()) foreground += pixel != 0;
  if (foreground != vmt::rle_area(rle)) broken(kTarget, "decoded area differs from rle_area");
  const vmt::BoundingBox box = vmt::rle_bbox(rle);
  if (static_cast<std::uint64_t>(box.x) + box.width > size.width ||
      static_cast<std::uint64_t>(box.y) + box.height > size.height)
    broken(kTarget, "bounding box outside the mask");
  if (vmt::rle_iou(rle, again) != (foreground ? 1.0 : 0.0)) broken(kTarget, "IoU with itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const vmt::MaskSize mask{read_u32(data), read_u32(data + 4)};
  const auto counts = vmt::fuzz::as_text(data + 8, size - 8);
  vmt::fuzz::refused_cleanly_or_ran(kTarget, {vmt::ErrorCode::CorruptData},
                                    [&] { check(vmt::rle_from_string(counts, mask), mask); });
  return 0;
}
