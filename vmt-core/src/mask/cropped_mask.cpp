// CroppedMask: a mask as its bounding box's pixels (vmt/mask.h).
#include <algorithm>
#include <string>

#include "rle_runs.h"
#include "vmt/error.h"

namespace vmt {

CroppedMask crop_to_box(BitmapView frame_mask) {
  const MaskSize size = frame_mask.size;
  if (frame_mask.data.size() != size.pixels()) {
    throw Error(ErrorCode::InvalidArgument,
                "crop_to_box: mask data has " + std::to_string(frame_mask.data.size()) +
                    " bytes, expected " + std::to_string(size.pixels()));
  }
  CroppedMask out;
  out.frame = size;
  std::uint32_t x0 = size.width, x1 = 0, y0 = size.height, y1 = 0;  // [x0, x1) × [y0, y1)
  for (std::uint32_t y = 0; y < size.height; ++y) {
    const auto row = frame_mask.data.subspan(std::size_t{y} * size.width, size.width);
    const auto first = std::find_if(row.begin(), row.end(), [](std::uint8_t v) { return v != 0; });
    if (first == row.end()) continue;
    const auto last = std::find_if(row.rbegin(), row.rend(), [](std::uint8_t v) { return v != 0; });
    x0 = std::min(x0, static_cast<std::uint32_t>(first - row.begin()));
    x1 = std::max(x1, static_cast<std::uint32_t>(row.rend() - last));
    y0 = std::min(y0, y);
    y1 = y + 1;
  }
  if (y1 == 0) return out;  // empty
  out.box = {x0, y0, x1 - x0, y1 - y0};
  out.pixels.resize(std::size_t{out.box.width} * out.box.height);
  for (std::uint32_t y = 0; y < out.box.height; ++y) {
    const auto* src = frame_mask.data.data() + std::size_t{y0 + y} * size.width + x0;
    std::transform(src, src + out.box.width, out.pixels.begin() + std::size_t{y} * out.box.width,
                   [](std::uint8_t v) { return static_cast<std::uint8_t>(v != 0); });
  }
  return out;
}

std::uint64_t cropped_area(const CroppedMask& mask) noexcept {
  return static_cast<std::uint64_t>(
      std::count_if(mask.pixels.begin(), mask.pixels.end(), [](std::uint8_t v) { return v != 0; }));
}

Rle rle_encode(const CroppedMask& mask) {
  const MaskSize frame = mask.frame;
  const BoundingBox& box = mask.box;
  if (std::uint64_t{box.x} + box.width > frame.width ||
      std::uint64_t{box.y} + box.height > frame.height ||
      mask.pixels.size() != std::size_t{box.width} * box.height) {
    throw Error(ErrorCode::InvalidArgument,
                "rle_encode: cropped mask " + std::to_string(box.width) + "x" +
                    std::to_string(box.height) + "+" + std::to_string(box.x) + "+" +
                    std::to_string(box.y) + " with " + std::to_string(mask.pixels.size()) +
                    " pixels does not fit its " + std::to_string(frame.width) + "x" +
                    std::to_string(frame.height) + " frame");
  }
  if (mask.empty()) return rle_empty(frame);
  // Column-major runs: the columns left of the box are zeros, then each box column is its zeros
  // above the box, its pixels, its zeros below; then the columns right of the box.
  RunBuilder runs;
  runs.append(false, std::uint64_t{box.x} * frame.height);
  const std::uint32_t below = frame.height - box.y - box.height;
  for (std::uint32_t x = 0; x < box.width; ++x) {
    runs.append(false, box.y);
    for (std::uint32_t y = 0; y < box.height; ++y) {
      runs.append(mask.pixels[std::size_t{y} * box.width + x] != 0, 1);
    }
    runs.append(false, below);
  }
  runs.append(false, std::uint64_t{frame.width - box.x - box.width} * frame.height);
  return Rle{frame, std::move(runs).finish()};
}

}  // namespace vmt
