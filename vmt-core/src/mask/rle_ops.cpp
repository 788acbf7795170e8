// Measures and set operations on COCO RLE, all on runs (no decoding to pixels).
#include <algorithm>
#include <string>

#include "rle_runs.h"
#include "vmt/error.h"

namespace vmt {

namespace {

std::string size_text(MaskSize s) {
  return std::to_string(s.height) + "x" + std::to_string(s.width);
}

void check_same_size(const Rle& a, const Rle& b, const char* what) {
  if (a.size != b.size) {
    throw Error(ErrorCode::InvalidArgument, std::string(what) + ": mask sizes differ (" +
                                                size_text(a.size) + " vs " + size_text(b.size) +
                                                ")");
  }
}

// Walks two RLEs in lockstep, calling `piece(value_a, value_b, length)` for each stretch where
// neither changes. O(runs of a + runs of b).
template <typename Piece>
void walk_pair(const Rle& a, const Rle& b, Piece&& piece) {
  RunCursor ca(a.counts), cb(b.counts);
  while (!ca.done() && !cb.done()) {
    const std::uint64_t step = std::min(ca.left(), cb.left());
    bool va = false, vb = false;
    ca.take(step, va);
    cb.take(step, vb);
    piece(va, vb, step);
  }
}

}  // namespace

std::uint64_t rle_area(const Rle& rle) noexcept {
  std::uint64_t area = 0;
  for (std::size_t i = 1; i < rle.counts.size(); i += 2) area += rle.counts[i];
  return area;
}

BoundingBox rle_bbox(const Rle& rle) noexcept {
  const std::uint64_t h = rle.size.height;
  if (h == 0) return {};
  std::uint64_t xs = UINT64_MAX, xe = 0, ys = UINT64_MAX, ye = 0;
  std::uint64_t pos = 0;
  bool any = false;
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    const std::uint64_t len = rle.counts[i];
    if ((i & 1) && len > 0) {
      const std::uint64_t first = pos, last = pos + len - 1;
      const std::uint64_t x0 = first / h, x1 = last / h;
      xs = std::min(xs, x0);
      xe = std::max(xe, x1);
      if (x0 == x1) {
        ys = std::min(ys, first % h);
        ye = std::max(ye, last % h);
      } else {
        // A run that wraps into the next column covers both the bottom and the top row.
        ys = 0;
        ye = h - 1;
      }
      any = true;
    }
    pos += len;
  }
  if (!any) return {};
  return {static_cast<std::uint32_t>(xs), static_cast<std::uint32_t>(ys),
          static_cast<std::uint32_t>(xe - xs + 1), static_cast<std::uint32_t>(ye - ys + 1)};
}

std::uint64_t rle_intersection_area(const Rle& a, const Rle& b) {
  check_same_size(a, b, "rle_intersection_area");
  std::uint64_t inter = 0;
  walk_pair(a, b, [&](bool va, bool vb, std::uint64_t n) {
    if (va && vb) inter += n;
  });
  return inter;
}

double rle_iou(const Rle& a, const Rle& b) {
  const std::uint64_t inter = rle_intersection_area(a, b);
  const std::uint64_t uni = rle_area(a) + rle_area(b) - inter;
  return uni == 0 ? 0.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

double rle_tube_iou(std::span<const Rle> a, std::span<const Rle> b) {
  if (a.size() != b.size()) {
    throw Error(ErrorCode::InvalidArgument, "rle_tube_iou: tubes have " +
                                                std::to_string(a.size()) + " and " +
                                                std::to_string(b.size()) + " frames");
  }
  std::uint64_t inter = 0, uni = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint64_t in = rle_intersection_area(a[i], b[i]);
    inter += in;
    uni += rle_area(a[i]) + rle_area(b[i]) - in;
  }
  return uni == 0 ? 0.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

Rle rle_merge(std::span<const Rle> masks, bool intersect) {
  if (masks.empty()) throw Error(ErrorCode::InvalidArgument, "rle_merge: no masks");
  Rle merged = masks[0];
  for (std::size_t i = 1; i < masks.size(); ++i) {
    check_same_size(merged, masks[i], "rle_merge");
    RunBuilder runs;
    walk_pair(merged, masks[i], [&](bool va, bool vb, std::uint64_t n) {
      runs.append(intersect ? (va && vb) : (va || vb), n);
    });
    merged.counts = std::move(runs).finish();
  }
  return merged;
}

}  // namespace vmt
