#include "caption_layout.h"

#include <algorithm>
#include <array>
#include <numeric>

namespace vmt::overlay {

bool Rect::near(const Rect& other, int gap) const {
  return x < other.right() + gap && other.x < right() + gap && y < other.bottom() + gap &&
         other.y < bottom() + gap;
}

bool Rect::inside(int frame_w, int frame_h) const {
  return x >= 0 && y >= 0 && right() <= frame_w && bottom() <= frame_h;
}

namespace {

/// Positions for a caption of `size` labelling `box`, nearest first, shifted into the frame.
std::vector<Rect> candidate_positions(const Rect& box, Size size, int frame_w, int frame_h,
                                      int gap) {
  std::vector<Rect> positions;
  if (size.w <= 0 || size.h <= 0 || size.w > frame_w || size.h > frame_h) return positions;
  const int step = size.h + gap;
  const std::array<int, 8> ys = {box.y - size.h,          box.y,
                                 box.bottom(),            box.bottom() - size.h,
                                 box.y - size.h - step,   box.bottom() + step,
                                 box.y - size.h - 2 * step, box.bottom() + 2 * step};
  const std::array<int, 2> xs = {box.x, box.right() - size.w};
  for (int y : ys) {
    for (int x : xs) {
      const Rect rect{std::clamp(x, 0, frame_w - size.w), std::clamp(y, 0, frame_h - size.h),
                      size.w, size.h};
      if (std::find(positions.begin(), positions.end(), rect) == positions.end())
        positions.push_back(rect);
    }
  }
  return positions;
}

/// One greedy pass: every request in descending score, kept `gap` pixels from the captions placed
/// before it and from `obstacle`.
CaptionLayout place_all(int frame_w, int frame_h, const std::vector<CaptionRequest>& requests,
                        const CaptionMeasure& measure, int gap,
                        const std::optional<Rect>& obstacle) {
  std::vector<int> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return requests[a].score > requests[b].score; });

  CaptionLayout layout;
  auto is_free = [&](const Rect& rect) {
    if (obstacle && rect.near(*obstacle, gap)) return false;
    return std::none_of(layout.placed.begin(), layout.placed.end(),
                        [&](const PlacedCaption& p) { return rect.near(p.rect, gap); });
  };
  for (int request : order) {
    bool placed = false;
    for (int level = 0; level < measure.levels && !placed; ++level) {
      const Size size = measure.caption_size(request, level);
      for (const Rect& rect :
           candidate_positions(requests[request].box, size, frame_w, frame_h, gap)) {
        if (!is_free(rect)) continue;
        layout.placed.push_back({request, level, rect});
        placed = true;
        break;
      }
    }
    if (!placed) layout.hidden.push_back(request);
  }
  return layout;
}

/// The counter's rectangle of `size` at corner 0..3: top right, bottom right, bottom left, top left.
Rect corner_rect(int corner, Size size, int frame_w, int frame_h) {
  const int right = frame_w - size.w, bottom = frame_h - size.h;
  switch (corner) {
    case 0: return {right, 0, size.w, size.h};
    case 1: return {right, bottom, size.w, size.h};
    case 2: return {0, bottom, size.w, size.h};
    default: return {0, 0, size.w, size.h};
  }
}

}  // namespace

CaptionLayout layout_captions(int frame_w, int frame_h, const std::vector<CaptionRequest>& requests,
                              const CaptionMeasure& measure, int gap) {
  CaptionLayout first = place_all(frame_w, frame_h, requests, measure, gap, std::nullopt);
  if (first.hidden.empty() || !measure.counter_size) return first;

  // Reserve room for the largest count the counter could show, so the second pass cannot make
  // the counter grow out of its reserved corner.
  const Size reserved = measure.counter_size(static_cast<int>(requests.size()));
  if (reserved.w <= 0 || reserved.h <= 0 || reserved.w > frame_w || reserved.h > frame_h)
    return first;  // no room for a counter: the hidden captions are simply not drawn

  int best_corner = 0;
  double best_cover = -1;
  for (int corner = 0; corner < 4; ++corner) {
    const Rect rect = corner_rect(corner, reserved, frame_w, frame_h);
    double cover = 0;
    for (const PlacedCaption& p : first.placed)
      if (rect.near(p.rect, gap)) cover += requests[p.request].score;
    if (best_cover < 0 || cover < best_cover) best_cover = cover, best_corner = corner;
  }
  const Rect reserved_rect = corner_rect(best_corner, reserved, frame_w, frame_h);
  CaptionLayout second = place_all(frame_w, frame_h, requests, measure, gap, reserved_rect);
  if (second.hidden.empty()) return second;

  // The counter for the actual count, in the same corner, within the reserved rectangle.
  Size actual = measure.counter_size(static_cast<int>(second.hidden.size()));
  actual.w = std::min(actual.w, reserved.w);
  actual.h = std::min(actual.h, reserved.h);
  second.counter = corner_rect(best_corner, actual, frame_w, frame_h);
  return second;
}

}  // namespace vmt::overlay
