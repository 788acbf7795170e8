// Where captions go: a greedy placement that keeps every caption inside the frame and apart from
// every other caption. Pure geometry (no drawing), so it is tested on its own.
//
// Rules, in this order:
//  1. Captions are placed in descending score (ties: the earlier instance first); a caption never
//     moves one placed before it.
//  2. Each caption tries positions near its box, nearest first: above the box, inside its top,
//     below it, inside its bottom, each left- then right-aligned with the box; then stacked one
//     and two caption heights further above and below. Every position is shifted into the frame.
//     The first position that keeps `gap` pixels from every placed caption wins.
//  3. When no position is free, the caption tries the next smaller size (the caller's levels).
//  4. A caption that fits nowhere at any size is hidden. When captions are hidden, a counter
//     ("+N hidden") takes the frame corner that the placed captions cover least (ties: top right,
//     bottom right, bottom left, top left) and the captions are laid out again around it.
#pragma once

#include <functional>
#include <optional>
#include <vector>

namespace vmt::overlay {

/// An axis-aligned rectangle in frame pixels: [x, x + w) × [y, y + h).
struct Rect {
  int x = 0, y = 0, w = 0, h = 0;

  int right() const { return x + w; }
  int bottom() const { return y + h; }
  bool empty() const { return w <= 0 || h <= 0; }
  /// Whether the two rectangles share a pixel or come closer than `gap` pixels.
  bool near(const Rect& other, int gap) const;
  bool inside(int frame_w, int frame_h) const;
  friend bool operator==(const Rect&, const Rect&) = default;
};

struct Size {
  int w = 0, h = 0;
};

/// One caption to place: the box it labels (frame pixels) and its score.
struct CaptionRequest {
  Rect box;
  double score = 0.0;
};

struct PlacedCaption {
  int request = 0;  ///< index into the requests
  int level = 0;    ///< size level used (0 = full size)
  Rect rect;
};

struct CaptionLayout {
  std::vector<PlacedCaption> placed;  ///< in placement order (descending score)
  std::vector<int> hidden;            ///< requests that fit nowhere
  std::optional<Rect> counter;        ///< where "+N hidden" goes, when something is hidden and it fits
};

/// Sizes come from the caller, who measures text: `caption_size(request, level)` for levels
/// 0 .. levels - 1 (each smaller than the one before), `counter_size(n)` for the counter showing n.
struct CaptionMeasure {
  int levels = 1;
  std::function<Size(int request, int level)> caption_size;
  std::function<Size(int hidden)> counter_size;
};

/// Lays out `requests` on a frame_w × frame_h frame, keeping `gap` pixels between captions.
CaptionLayout layout_captions(int frame_w, int frame_h, const std::vector<CaptionRequest>& requests,
                              const CaptionMeasure& measure, int gap);

}  // namespace vmt::overlay
