// IdentityAssigner: score filter, per-frame limit, track ids across clips and online windows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <vector>

#include "mask_test_support.h"
#include "vmt/error.h"
#include "vmt/identity.h"
#include "vmt/tube.h"

using vmt::Association;
using vmt::FrameRange;
using vmt::FrameResult;
using vmt::IdentityAssigner;
using vmt::IdentityConfig;
using vmt::MaskSize;
using vmt::Rle;
using vmt::TubeInstance;
using vmt::TubeJob;
using vmt::TubeResult;

namespace {

const MaskSize kSize{40, 200};

// A 10×10 box whose left edge is at x on every frame of `frames` (x may depend on the frame).
TubeInstance box_tube(FrameRange frames, float score, const std::function<int(std::int64_t)>& x,
                      int category = 1) {
  TubeInstance instance{score, category, {}, {}, {}};
  for (std::int64_t f = frames.begin; f < frames.end; ++f) {
    const int left = x(f);
    const auto l = static_cast<std::uint32_t>(std::max(left, 0));
    const auto box = left < 0 || left + 10 > static_cast<int>(kSize.width)
                         ? vmt::Bitmap(kSize)
                         : vmt::test::rect_bitmap(kSize, l, 5, l + 10, 15);
    // the same mask for association and as the emitted frame mask
    instance.masks.push_back(vmt::rle_encode(box.view()));
    instance.frame_masks.push_back(vmt::crop_to_box(box.view()));
  }
  return instance;
}

TubeInstance still_box(FrameRange frames, float score, int x) {
  return box_tube(frames, score, [x](std::int64_t) { return x; });
}

TubeJob job_for(std::uint64_t index, FrameRange frames, FrameRange emit, std::int64_t keep_from) {
  return TubeJob{index, frames, emit, keep_from};
}

// Track id of the instance on `frame` whose box mask equals `mask`'s left edge x.
std::uint64_t id_at(const FrameResult& frame, int x) {
  const auto expected = vmt::crop_to_box(vmt::test::rect_bitmap(kSize, x, 5, x + 10, 15).view());
  for (const auto& instance : frame.instances)
    if (instance.mask == expected) return instance.track_id;
  return 0;
}

}  // namespace

// Instances scoring below 0.001 are dropped; 0.001 itself is kept.
TEST(Identity, DropsScoresBelowThreshold) {
  IdentityAssigner assigner(IdentityConfig{});
  const FrameRange frames{0, 1};
  const TubeResult result{frames, {still_box(frames, 0.0009f, 0), still_box(frames, 0.001f, 50)}};
  const auto out = assigner.assign(job_for(0, frames, frames, 1), result);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].instances.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].instances[0].score, 0.001f);
}

// At most K instances per frame, the highest scores, in descending order.
TEST(Identity, KeepsTopKPerFrameByScore) {
  IdentityConfig config;
  config.max_instances_per_frame = 2;
  IdentityAssigner assigner(config);
  const FrameRange frames{0, 1};
  const TubeResult result{frames, {still_box(frames, 0.3f, 0), still_box(frames, 0.9f, 20),
                                   still_box(frames, 0.5f, 40)}};
  const auto out = assigner.assign(job_for(0, frames, frames, 1), result);
  ASSERT_EQ(out[0].instances.size(), 2u);
  EXPECT_FLOAT_EQ(out[0].instances[0].score, 0.9f);
  EXPECT_FLOAT_EQ(out[0].instances[1].score, 0.5f);
}

// The limit counts the instances present on each frame, so a frame keeps K visible instances.
TEST(Identity, LimitAppliesPerFrameToPresentInstances) {
  IdentityConfig config;
  config.max_instances_per_frame = 1;
  IdentityAssigner assigner(config);
  const FrameRange frames{0, 2};
  // The best instance leaves the image on frame 1; the second one is then the top one there.
  const TubeResult result{frames, {box_tube(frames, 0.9f, [](auto f) { return f == 0 ? 0 : -50; }),
                                   still_box(frames, 0.5f, 40)}};
  const auto out = assigner.assign(job_for(0, frames, frames, 2), result);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FLOAT_EQ(out[0].instances.at(0).score, 0.9f);
  EXPECT_FLOAT_EQ(out[1].instances.at(0).score, 0.5f);
}

// With K = 0 every instance passing the score filter is kept.
TEST(Identity, ZeroLimitKeepsAll) {
  IdentityConfig config;
  config.max_instances_per_frame = 0;
  IdentityAssigner assigner(config);
  const FrameRange frames{0, 1};
  TubeResult result{frames, {}};
  for (int i = 0; i < 18; ++i) result.instances.push_back(still_box(frames, 0.5f, i * 10));
  EXPECT_EQ(assigner.assign(job_for(0, frames, frames, 1), result)[0].instances.size(), 18u);
}

// One FrameResult per emitted frame, in order, including frames without any instance.
TEST(Identity, EmitsOneResultPerEmittedFrame) {
  IdentityAssigner assigner(IdentityConfig{});
  const FrameRange frames{30, 55};
  const TubeResult result{frames, {box_tube(frames, 0.8f, [](auto f) { return f < 45 ? 3 : -50; })}};
  const auto out = assigner.assign(job_for(0, frames, {40, 55}, 55), result);
  ASSERT_EQ(out.size(), 15u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].frame, 40 + static_cast<std::int64_t>(i));
    EXPECT_EQ(out[i].instances.size(), out[i].frame < 45 ? 1u : 0u);
  }
}

// Default: clips are concatenated without association, each clip's instances get fresh ids.
TEST(Identity, DefaultGivesFreshIdsPerClip) {
  IdentityAssigner assigner(IdentityConfig{});
  const FrameRange c0{0, 40}, c1{30, 70};
  const auto a = assigner.assign(job_for(0, c0, c0, 30), {c0, {still_box(c0, 0.9f, 10)}});
  const auto b = assigner.assign(job_for(1, c1, {40, 70}, 60), {c1, {still_box(c1, 0.9f, 10)}});
  EXPECT_NE(a.back().instances.at(0).track_id, b.front().instances.at(0).track_id);
}

// Option: greedy Tube Mask IoU matching on the overlap frames carries ids into the next clip.
TEST(Identity, TubeIouMatchingCarriesIdsAcrossClips) {
  IdentityConfig config;
  config.association = Association::TubeMaskIoU;
  IdentityAssigner assigner(config);
  const FrameRange c0{0, 40}, c1{30, 70};
  auto moving = [](std::int64_t f) { return static_cast<int>(f) * 2; };
  const auto a = assigner.assign(job_for(0, c0, c0, 30),
                                 {c0, {box_tube(c0, 0.9f, moving), still_box(c0, 0.8f, 150)}});
  // Listed in the other order, with another score: matching is by masks, not by position.
  const auto b = assigner.assign(job_for(1, c1, {40, 70}, 60),
                                 {c1, {still_box(c1, 0.95f, 150), box_tube(c1, 0.7f, moving)}});
  EXPECT_EQ(id_at(b.front(), 80), id_at(a.back(), 78));
  EXPECT_EQ(id_at(b.front(), 150), id_at(a.back(), 150));
  EXPECT_NE(id_at(b.front(), 80), 0u);
}

// Below the IoU threshold a new id is given.
TEST(Identity, MatchBelowThresholdGetsNewId) {
  IdentityConfig config;
  config.association = Association::TubeMaskIoU;
  config.match_iou = 0.5;
  IdentityAssigner assigner(config);
  const FrameRange c0{0, 10}, c1{5, 15};
  const auto a = assigner.assign(job_for(0, c0, c0, 5), {c0, {still_box(c0, 0.9f, 10)}});
  // Shifted by 5 px: IoU = 50 / 150 = 1/3.
  const auto b = assigner.assign(job_for(1, c1, {10, 15}, 15), {c1, {still_box(c1, 0.9f, 15)}});
  EXPECT_NE(b[0].instances.at(0).track_id, a[0].instances.at(0).track_id);
}

// Greedy: the highest-IoU pair links first and each old track is used once.
TEST(Identity, GreedyLinksHighestIouFirst) {
  IdentityConfig config;
  config.association = Association::TubeMaskIoU;
  config.match_iou = 0.1;
  IdentityAssigner assigner(config);
  const FrameRange c0{0, 4}, c1{2, 6};
  const auto a = assigner.assign(job_for(0, c0, c0, 2), {c0, {still_box(c0, 0.9f, 50)}});
  // Both new boxes overlap the old one; the one shifted by 1 px (IoU 9/11) wins over 3 px (7/13).
  const auto b = assigner.assign(job_for(1, c1, {4, 6}, 6),
                                 {c1, {still_box(c1, 0.9f, 53), still_box(c1, 0.5f, 51)}});
  const std::uint64_t old_id = id_at(a[0], 50);
  EXPECT_EQ(id_at(b[0], 51), old_id);
  EXPECT_NE(id_at(b[0], 53), old_id);
}

// Online: ids persist over 100 windows, a new object gets a new id, and no id repeats.
TEST(Identity, OnlineIdsPersistAcross100Windows) {
  vmt::TubeScheduler scheduler({vmt::TubeMode::Online, 5, 40, 10});
  IdentityAssigner assigner(IdentityConfig::online());
  auto first = [](std::int64_t f) { return static_cast<int>(f % 150); };          // drifts right
  auto second = [](std::int64_t f) { return 160 - static_cast<int>(f / 3); };     // drifts left
  auto late = [](std::int64_t f) { return f >= 50 ? 180 : -100; };               // appears at 50
  std::set<std::uint64_t> first_ids, second_ids, late_ids;
  for (std::int64_t t = 0; t < 100; ++t) {
    const auto job = scheduler.push(t);
    ASSERT_TRUE(job);
    const TubeResult result{job->frames, {box_tube(job->frames, 0.9f, first),
                                          box_tube(job->frames, 0.8f, second),
                                          box_tube(job->frames, 0.7f, late)}};
    const auto out = assigner.assign(*job, result);
    ASSERT_EQ(out.size(), 1u);
    first_ids.insert(id_at(out[0], first(t)));
    second_ids.insert(id_at(out[0], second(t)));
    if (t >= 50) late_ids.insert(id_at(out[0], late(t)));
  }
  ASSERT_EQ(first_ids.size(), 1u);
  ASSERT_EQ(second_ids.size(), 1u);
  ASSERT_EQ(late_ids.size(), 1u);
  EXPECT_NE(*first_ids.begin(), *second_ids.begin());
  EXPECT_NE(*late_ids.begin(), *first_ids.begin());
  EXPECT_NE(*late_ids.begin(), *second_ids.begin());
  EXPECT_EQ(first_ids.count(0), 0u);
}

// Online with L = 1 (no shared frame) links the previous frame to the current one.
TEST(Identity, OnlineLengthOneLinksAdjacentFrames) {
  vmt::TubeScheduler scheduler({vmt::TubeMode::Online, 1, 40, 10});
  IdentityAssigner assigner(IdentityConfig::online());
  std::set<std::uint64_t> ids;
  for (std::int64_t t = 0; t < 20; ++t) {
    const auto job = scheduler.push(t);
    const auto out = assigner.assign(*job, {job->frames, {still_box(job->frames, 0.9f, 60)}});
    ids.insert(out[0].instances.at(0).track_id);
  }
  EXPECT_EQ(ids.size(), 1u);
}

// Without association ids never repeat across 100 clips.
TEST(Identity, IdsNeverRepeatWithinAStream) {
  vmt::TubeScheduler scheduler({vmt::TubeMode::Offline, 30, 4, 1});
  IdentityAssigner assigner(IdentityConfig{});
  std::set<std::uint64_t> seen;
  std::size_t emitted = 0;
  std::uint64_t last_clip_first_id = 0;
  for (std::int64_t f = 0; f < 301; ++f) {
    if (auto job = scheduler.push(f)) {
      const auto out = assigner.assign(*job, {job->frames, {still_box(job->frames, 0.9f, 0),
                                                            still_box(job->frames, 0.8f, 100)}});
      std::set<std::uint64_t> clip_ids;
      for (const auto& frame : out)
        for (const auto& instance : frame.instances) clip_ids.insert(instance.track_id);
      ASSERT_EQ(clip_ids.size(), 2u);
      for (auto id : clip_ids) EXPECT_TRUE(seen.insert(id).second) << "id " << id << " repeated";
      last_clip_first_id = *clip_ids.begin();
      emitted += out.size();
    }
  }
  EXPECT_EQ(seen.size(), 200u);  // clips start every 3 frames: 100 clips × 2 instances
  EXPECT_GT(last_clip_first_id, 1u);
  EXPECT_EQ(emitted, 301u);
}

// reset() forgets the previous tube but keeps counting; start_new_stream() restarts at 1.
TEST(Identity, ResetKeepsCountingNewStreamRestarts) {
  IdentityConfig config;
  config.association = Association::TubeMaskIoU;
  IdentityAssigner assigner(config);
  const FrameRange c0{0, 4}, c1{2, 6};
  const auto a = assigner.assign(job_for(0, c0, c0, 2), {c0, {still_box(c0, 0.9f, 10)}});
  assigner.reset();
  const auto b = assigner.assign(job_for(1, c1, {4, 6}, 6), {c1, {still_box(c1, 0.9f, 10)}});
  EXPECT_GT(b[0].instances.at(0).track_id, a[0].instances.at(0).track_id);
  assigner.start_new_stream();
  EXPECT_EQ(assigner.next_track_id(), 1u);
  const auto c = assigner.assign(job_for(0, c0, c0, 2), {c0, {still_box(c0, 0.9f, 10)}});
  EXPECT_EQ(c[0].instances.at(0).track_id, 1u);
}

// Results that do not fit the job, or carry NaN scores, are rejected; so are bad settings.
TEST(Identity, RejectsMismatchedResultsAndBadConfig) {
  IdentityAssigner assigner(IdentityConfig{});
  const FrameRange frames{0, 3};
  EXPECT_THROW(assigner.assign(job_for(0, frames, frames, 3), {{0, 2}, {}}), vmt::Error);
  EXPECT_THROW(assigner.assign(job_for(0, frames, frames, 3), {frames, {still_box({0, 2}, 0.9f, 0)}}),
               vmt::Error);
  EXPECT_THROW(assigner.assign(job_for(0, frames, frames, 3), {frames, {still_box(frames, NAN, 0)}}),
               vmt::Error);
  IdentityConfig bad;
  bad.match_iou = 0.0;
  EXPECT_THROW(IdentityAssigner{bad}, vmt::Error);
  bad = {};
  bad.max_instances_per_frame = -1;
  EXPECT_THROW(IdentityAssigner{bad}, vmt::Error);
}
