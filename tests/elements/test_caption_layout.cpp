// layout_captions on its own: positions next to the box, frame edges, shrinking, hiding by score,
// the "+N hidden" counter, and the two guarantees (inside the frame, apart from each other) on
// many random crowded frames.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "caption_layout.h"

namespace {

using vmt::overlay::CaptionLayout;
using vmt::overlay::CaptionMeasure;
using vmt::overlay::CaptionRequest;
using vmt::overlay::layout_captions;
using vmt::overlay::Rect;
using vmt::overlay::Size;

/// Captions of one size per request at full size, 0.8 and 0.64 of it; the counter is 30 × 10.
CaptionMeasure fixed_sizes(std::vector<Size> sizes, int levels = 3) {
  CaptionMeasure measure;
  measure.levels = levels;
  measure.caption_size = [sizes](int request, int level) {
    const double f = level == 0 ? 1.0 : level == 1 ? 0.8 : 0.64;
    return Size{static_cast<int>(sizes[request].w * f), static_cast<int>(sizes[request].h * f)};
  };
  measure.counter_size = [](int) { return Size{30, 10}; };
  return measure;
}

/// Checks the guarantees: inside the frame, `gap` apart, every request placed or hidden once,
/// placed in descending score, counter inside and apart, present exactly when something is hidden.
void expect_valid(const CaptionLayout& layout, const std::vector<CaptionRequest>& requests, int w,
                  int h, int gap, bool counter_fits = true) {
  std::set<int> seen;
  for (std::size_t i = 0; i < layout.placed.size(); ++i) {
    const Rect& a = layout.placed[i].rect;
    EXPECT_TRUE(a.inside(w, h)) << "caption " << layout.placed[i].request << " leaves the frame";
    EXPECT_FALSE(a.empty());
    for (std::size_t j = i + 1; j < layout.placed.size(); ++j)
      EXPECT_FALSE(a.near(layout.placed[j].rect, gap))
          << "captions " << layout.placed[i].request << " and " << layout.placed[j].request;
    if (layout.counter) {
      EXPECT_FALSE(a.near(*layout.counter, gap)) << "caption under the counter";
    }
    if (i > 0) {
      EXPECT_GE(requests[layout.placed[i - 1].request].score, requests[layout.placed[i].request].score);
    }
    EXPECT_TRUE(seen.insert(layout.placed[i].request).second);
  }
  for (int hidden : layout.hidden) EXPECT_TRUE(seen.insert(hidden).second);
  EXPECT_EQ(seen.size(), requests.size());
  if (layout.counter) {
    EXPECT_TRUE(layout.counter->inside(w, h));
  }
  if (counter_fits) {
    EXPECT_EQ(layout.counter.has_value(), !layout.hidden.empty());
  }
}

}  // namespace

// One caption goes right above its box, left-aligned.
TEST(CaptionLayout, CaptionSitsAboveItsBox) {
  const std::vector<CaptionRequest> requests = {{{50, 40, 30, 20}, 0.9}};
  const CaptionLayout layout = layout_captions(200, 100, requests, fixed_sizes({{40, 10}}), 1);
  ASSERT_EQ(layout.placed.size(), 1u);
  EXPECT_EQ(layout.placed[0].rect, (Rect{50, 30, 40, 10}));
  EXPECT_EQ(layout.placed[0].level, 0);
  EXPECT_FALSE(layout.counter);
}

// A box at the top edge gets its caption inside its top; one at the right edge gets it shifted
// left so it stays whole.
TEST(CaptionLayout, CaptionsAtTheEdgesMoveInside) {
  const std::vector<CaptionRequest> requests = {{{10, 0, 30, 30}, 0.9}, {{180, 50, 20, 20}, 0.8}};
  const CaptionLayout layout =
      layout_captions(200, 100, requests, fixed_sizes({{40, 10}, {50, 10}}), 1);
  ASSERT_EQ(layout.placed.size(), 2u);
  EXPECT_EQ(layout.placed[0].rect, (Rect{10, 0, 40, 10}));
  EXPECT_EQ(layout.placed[1].rect, (Rect{150, 40, 50, 10}));
  expect_valid(layout, requests, 200, 100, 1);
}

// Two boxes side by side: the second caption does not overlap the first, it moves.
TEST(CaptionLayout, NeighbouringCaptionsDoNotOverlap) {
  const std::vector<CaptionRequest> requests = {{{20, 40, 20, 20}, 0.9}, {{30, 40, 20, 20}, 0.5}};
  const CaptionLayout layout =
      layout_captions(200, 100, requests, fixed_sizes({{40, 10}, {40, 10}}), 2);
  ASSERT_EQ(layout.placed.size(), 2u);
  EXPECT_EQ(layout.placed[0].rect, (Rect{20, 30, 40, 10}));  // the higher score keeps the best spot
  expect_valid(layout, requests, 200, 100, 2);
}

// A caption that fits only when smaller is shrunk, not hidden.
TEST(CaptionLayout, ShrinksWhenFullSizeDoesNotFit) {
  // A 60 × 12 frame: the 70-pixel caption fits at 0.8 (56 pixels) only.
  const std::vector<CaptionRequest> requests = {{{0, 0, 60, 12}, 0.9}};
  const CaptionLayout layout = layout_captions(60, 12, requests, fixed_sizes({{70, 12}}), 1);
  ASSERT_EQ(layout.placed.size(), 1u);
  EXPECT_EQ(layout.placed[0].level, 1);
  EXPECT_EQ(layout.placed[0].rect.w, 56);
}

// Many instances on one spot: the highest scores get captions, the rest are hidden and counted.
TEST(CaptionLayout, HidesTheLowestScoresWithACounter) {
  std::vector<CaptionRequest> requests;
  std::vector<Size> sizes;
  for (int i = 0; i < 40; ++i) {
    requests.push_back({{60, 40, 40, 20}, (i * 37 % 40) / 40.0});
    sizes.push_back({60, 10});
  }
  const CaptionLayout layout = layout_captions(160, 120, requests, fixed_sizes(sizes), 1);
  expect_valid(layout, requests, 160, 120, 1);
  ASSERT_FALSE(layout.hidden.empty());
  ASSERT_TRUE(layout.counter);
  double lowest_placed = 1.0, highest_hidden = 0.0;
  for (const auto& p : layout.placed) lowest_placed = std::min(lowest_placed, requests[p.request].score);
  for (int i : layout.hidden) highest_hidden = std::max(highest_hidden, requests[i].score);
  EXPECT_GT(lowest_placed, highest_hidden);
}

// With no room for the counter either, the hidden captions are simply not drawn.
TEST(CaptionLayout, NoCounterWhenItCannotFit) {
  const std::vector<CaptionRequest> requests = {{{0, 0, 20, 8}, 0.9}, {{0, 0, 20, 8}, 0.8}};
  CaptionMeasure measure = fixed_sizes({{20, 8}, {20, 8}}, 1);
  measure.counter_size = [](int) { return Size{40, 8}; };  // wider than the frame
  const CaptionLayout layout = layout_captions(20, 8, requests, measure, 1);
  EXPECT_EQ(layout.placed.size(), 1u);
  EXPECT_EQ(layout.hidden.size(), 1u);
  EXPECT_FALSE(layout.counter);
}

// A caption larger than the frame at every size is hidden, never drawn outside.
TEST(CaptionLayout, CaptionLargerThanTheFrameIsHidden) {
  const std::vector<CaptionRequest> requests = {{{0, 0, 10, 10}, 0.9}};
  const CaptionLayout layout = layout_captions(30, 30, requests, fixed_sizes({{20, 60}}), 1);
  EXPECT_TRUE(layout.placed.empty());
  EXPECT_EQ(layout.hidden.size(), 1u);
}

// Random crowded frames of several sizes: every guarantee holds every time.
TEST(CaptionLayout, RandomCrowdedFramesKeepTheGuarantees) {
  std::mt19937 rng(17);
  const std::vector<std::pair<int, int>> frames = {{128, 96}, {320, 240}, {768, 576}, {1920, 1080}};
  for (int trial = 0; trial < 200; ++trial) {
    const auto [w, h] = frames[trial % frames.size()];
    const int n = std::uniform_int_distribution<int>(1, 120)(rng);
    std::vector<CaptionRequest> requests;
    std::vector<Size> sizes;
    for (int i = 0; i < n; ++i) {
      const int bw = std::uniform_int_distribution<int>(1, w / 2)(rng);
      const int bh = std::uniform_int_distribution<int>(1, h / 2)(rng);
      requests.push_back({{std::uniform_int_distribution<int>(0, w - bw)(rng),
                           std::uniform_int_distribution<int>(0, h - bh)(rng), bw, bh},
                          std::uniform_real_distribution<double>(0, 1)(rng)});
      sizes.push_back({std::uniform_int_distribution<int>(h / 12, w)(rng), h / 12});
    }
    const int gap = 1 + trial % 3;
    const CaptionLayout layout = layout_captions(w, h, requests, fixed_sizes(sizes), gap);
    SCOPED_TRACE("trial " + std::to_string(trial));
    expect_valid(layout, requests, w, h, gap);
    if (HasFailure()) break;
  }
}
