// vmt-eval timing: Tube-Mask AP and Tube-Boundary AP on a synthetic YouTube-VIS set of
// 100 videos × 36 frames × 10 instances at 720p (results = ground truth shifted by a few pixels).
#include <chrono>
#include <cstdio>

#include "vmt/eval.h"

namespace ev = vmt::eval;

namespace {

constexpr std::uint32_t kH = 720, kW = 1280;
constexpr std::size_t kVideos = 100, kFrames = 36, kInstances = 10;

/// A filled rectangle, encoded straight to column-major runs.
vmt::Rle box(std::uint32_t x0, std::uint32_t y0, std::uint32_t w, std::uint32_t h) {
  vmt::Rle r{{kH, kW}, {}};
  std::uint32_t zeros = x0 * kH + y0;
  for (std::uint32_t x = 0; x < w; ++x) {
    r.counts.push_back(zeros);
    r.counts.push_back(h);
    zeros = kH - h;
  }
  r.counts.push_back(static_cast<std::uint32_t>(kH * kW - (x0 + w - 1) * kH - y0 - h));
  return r;
}

ev::VisTrack track(std::size_t v, std::size_t i, int shift, double score) {
  ev::VisTrack t;
  t.video_id = static_cast<std::int64_t>(v + 1);
  t.category_id = static_cast<std::int64_t>(i % 5 + 1);
  t.score = score;
  for (std::size_t f = 0; f < kFrames; ++f)
    t.masks.push_back(box(static_cast<std::uint32_t>(20 + 120 * i + f + shift), static_cast<std::uint32_t>(100 + 10 * i), 100, 80 + 20 * static_cast<std::uint32_t>(i % 3)));
  t.avg_area = 100.0 * (80 + 20 * (i % 3));
  return t;
}

}  // namespace

int main() {
  ev::VisGroundTruth gt;
  std::vector<ev::VisTrack> results;
  for (std::int64_t c = 1; c <= 5; ++c) gt.category_ids.push_back(c);
  for (std::size_t v = 0; v < kVideos; ++v) {
    gt.videos.push_back({static_cast<std::int64_t>(v + 1), {kH, kW}, kFrames});
    for (std::size_t i = 0; i < kInstances; ++i) {
      auto g = track(v, i, 0, 1.0);
      g.id = static_cast<std::int64_t>(gt.annotations.size() + 1);
      gt.annotations.push_back(std::move(g));
      auto d = track(v, i, static_cast<int>((v + i) % 7), 0.5 + 0.04 * static_cast<double>(i));
      d.id = static_cast<std::int64_t>(results.size() + 1);
      results.push_back(std::move(d));
    }
  }
  for (auto type : {ev::VisIouType::Mask, ev::VisIouType::Boundary}) {
    ev::VisParams p;
    p.iou_type = type;
    const auto t0 = std::chrono::steady_clock::now();
    const auto s = ev::evaluate_vis(gt, results, p);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-14s %zu videos x %zu frames x %zu instances at %ux%u: %.2f s (AP %.3f)\n",
                type == ev::VisIouType::Mask ? "Tube-Mask AP" : "Tube-Boundary", kVideos, kFrames,
                kInstances, kW, kH, sec, s.stats[0]);
  }
  return 0;
}
