// TubeScheduler: online windows and offline clips, every frame emitted exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "vmt/error.h"
#include "vmt/tube.h"

using vmt::FrameRange;
using vmt::TubeJob;
using vmt::TubeMode;
using vmt::TubeScheduler;
using vmt::TubeSchedulerConfig;

namespace {

TubeSchedulerConfig offline(int clip, int overlap) {
  return {TubeMode::Offline, 30, clip, overlap};
}

TubeSchedulerConfig online(int length) { return {TubeMode::Online, length, 40, 10}; }

struct Issued {
  std::int64_t after_frame;  // the last frame pushed when the job came out (n for flush)
  TubeJob job;
};

// Pushes frames first .. first + n − 1, then flushes; returns every job with when it came out.
std::vector<Issued> run_stream(TubeScheduler& scheduler, std::int64_t n, std::int64_t first = 0) {
  std::vector<Issued> jobs;
  for (std::int64_t f = first; f < first + n; ++f)
    if (auto job = scheduler.push(f)) jobs.push_back({f, *job});
  if (auto job = scheduler.flush()) jobs.push_back({first + n, *job});
  return jobs;
}

// Every frame in exactly one emit range, in order; emit inside the tube; jobs numbered 0, 1, ...
void expect_each_frame_once(const std::vector<Issued>& jobs, std::int64_t n, std::int64_t first = 0) {
  std::int64_t next = first;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const TubeJob& job = jobs[i].job;
    EXPECT_EQ(job.index, i);
    EXPECT_EQ(job.emit.begin, next);
    EXPECT_FALSE(job.emit.empty());
    EXPECT_GE(job.emit.begin, job.frames.begin);
    EXPECT_EQ(job.emit.end, job.frames.end);
    EXPECT_LE(job.frames.end, jobs[i].after_frame + 1) << "a job may only read pushed frames";
    next = job.emit.end;
  }
  EXPECT_EQ(next, first + n);
}

}  // namespace

// Clips of C frames start every C − O frames; each clip runs when its last frame arrives.
TEST(TubeScheduler, OfflineClipsStartEveryClipMinusOverlapFrames) {
  const int clip = 40, overlap = 10;
  TubeScheduler scheduler(offline(clip, overlap));
  const auto jobs = run_stream(scheduler, 130);
  ASSERT_FALSE(jobs.empty());
  for (std::size_t k = 0; k + 1 < jobs.size(); ++k) {
    const std::int64_t start = static_cast<std::int64_t>(k) * (clip - overlap);
    EXPECT_EQ(jobs[k].job.frames, (FrameRange{start, start + clip}));
    EXPECT_EQ(jobs[k].after_frame, start + clip - 1);
    EXPECT_EQ(jobs[k].job.keep_from, start + clip - overlap);
  }
  expect_each_frame_once(jobs, 130);
}

// Each clip after the first re-reads the previous clip's last O frames but emits only new ones.
TEST(TubeScheduler, OverlapFramesAreContextOnly) {
  TubeScheduler scheduler(offline(40, 10));
  const auto jobs = run_stream(scheduler, 100);
  ASSERT_GE(jobs.size(), 2u);
  EXPECT_EQ(jobs[1].job.frames.begin, jobs[0].job.frames.end - 10);
  EXPECT_EQ(jobs[1].job.emit.begin, jobs[0].job.frames.end);
}

// Many clip/overlap/length combinations emit each frame once, in order.
TEST(TubeScheduler, OfflineEmitsEveryFrameOnceInOrder) {
  for (int clip : {1, 2, 5, 40})
    for (int overlap : {0, 1, 4, 39}) {
      if (overlap >= clip) continue;
      for (std::int64_t n : {0, 1, 4, 5, 6, 39, 40, 41, 97}) {
        SCOPED_TRACE(::testing::Message() << "C=" << clip << " O=" << overlap << " n=" << n);
        TubeScheduler scheduler(offline(clip, overlap));
        const auto jobs = run_stream(scheduler, n);
        expect_each_frame_once(jobs, n);
        for (const auto& issued : jobs) EXPECT_LE(issued.job.frames.size(), clip);
      }
    }
}

// A stream shorter than a clip is one clip, run at end of stream.
TEST(TubeScheduler, StreamShorterThanClipIsOneClip) {
  TubeScheduler scheduler(offline(40, 10));
  const auto jobs = run_stream(scheduler, 17);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].after_frame, 17);
  EXPECT_EQ(jobs[0].job.frames, (FrameRange{0, 17}));
  EXPECT_EQ(jobs[0].job.emit, (FrameRange{0, 17}));
}

// C = 0 holds the whole stream and runs it as one clip at end of stream.
TEST(TubeScheduler, ClipLengthZeroIsWholeStream) {
  TubeScheduler scheduler(offline(0, 10));  // the overlap is ignored
  for (std::int64_t f = 0; f < 500; ++f) EXPECT_FALSE(scheduler.push(f));
  EXPECT_EQ(scheduler.pending_frames(), 500);
  const auto job = scheduler.flush();
  ASSERT_TRUE(job);
  EXPECT_EQ(job->frames, (FrameRange{0, 500}));
  EXPECT_EQ(job->emit, (FrameRange{0, 500}));
  EXPECT_EQ(scheduler.pending_frames(), 0);
}

// O = 0 gives disjoint clips that tile the stream.
TEST(TubeScheduler, ZeroOverlapClipsAreDisjoint) {
  TubeScheduler scheduler(offline(8, 0));
  const auto jobs = run_stream(scheduler, 30);
  ASSERT_EQ(jobs.size(), 4u);
  for (const auto& issued : jobs) EXPECT_EQ(issued.job.frames, issued.job.emit);
  EXPECT_EQ(jobs.back().job.frames, (FrameRange{24, 30}));
  expect_each_frame_once(jobs, 30);
}

// End of stream in the middle of a clip runs the partial clip, overlap included as context.
TEST(TubeScheduler, EosMidClipRunsPartialClipWithContext) {
  TubeScheduler scheduler(offline(40, 10));
  const auto jobs = run_stream(scheduler, 55);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[1].after_frame, 55);
  EXPECT_EQ(jobs[1].job.frames, (FrameRange{30, 55}));
  EXPECT_EQ(jobs[1].job.emit, (FrameRange{40, 55}));
  EXPECT_EQ(jobs[1].job.keep_from, 55);
}

// When the stream ends exactly where a clip ends, flush has nothing left to run.
TEST(TubeScheduler, EosAtClipEndNeedsNoFlushJob) {
  TubeScheduler scheduler(offline(40, 10));
  for (std::int64_t f = 0; f < 70; ++f) scheduler.push(f);
  EXPECT_FALSE(scheduler.flush());
  EXPECT_FALSE(scheduler.flush());
}

// Online: frame t runs frames max(0, t − L + 1) … t and is final at once.
TEST(TubeScheduler, OnlineWindowHoldsPreviousFramesUpToLength) {
  const int length = 30;
  TubeScheduler scheduler(online(length));
  for (std::int64_t t = 0; t < 100; ++t) {
    const auto job = scheduler.push(t);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->frames, (FrameRange{std::max<std::int64_t>(0, t - length + 1), t + 1}));
    EXPECT_EQ(job->emit, (FrameRange{t, t + 1}));
    EXPECT_EQ(job->keep_from, std::max<std::int64_t>(0, t - length + 2));
    EXPECT_EQ(scheduler.pending_frames(), 0);
  }
  EXPECT_FALSE(scheduler.flush());
}

// L = 1 runs every frame on its own.
TEST(TubeScheduler, OnlineLengthOneRunsSingleFrames) {
  TubeScheduler scheduler(online(1));
  const auto jobs = run_stream(scheduler, 10);
  ASSERT_EQ(jobs.size(), 10u);
  for (const auto& issued : jobs) {
    EXPECT_EQ(issued.job.frames.size(), 1);
    EXPECT_EQ(issued.job.keep_from, issued.job.frames.end);
  }
  expect_each_frame_once(jobs, 10);
}

// The latency answer is the longest any frame waits: 0 online, C − 1 offline, unbounded for C = 0.
TEST(TubeScheduler, LatencyIsTheLongestWait) {
  EXPECT_EQ(TubeScheduler(online(30)).latency_frames(), 0);
  EXPECT_EQ(TubeScheduler(offline(0, 0)).latency_frames(), std::nullopt);
  for (auto [clip, overlap] : {std::pair{40, 10}, std::pair{5, 0}, std::pair{1, 0}}) {
    TubeScheduler scheduler(offline(clip, overlap));
    std::int64_t longest = 0;
    for (std::int64_t f = 0; f < 200; ++f)
      if (auto job = scheduler.push(f)) longest = std::max(longest, f - job->emit.begin);
    EXPECT_EQ(scheduler.latency_frames(), longest);
  }
}

// keep_from never drops a frame a later job reads.
TEST(TubeScheduler, KeepFromNeverDropsFramesStillNeeded) {
  for (const auto& config : {offline(40, 10), offline(7, 3), online(30), online(1)}) {
    TubeScheduler scheduler(config);
    const auto jobs = run_stream(scheduler, 150);
    for (std::size_t i = 0; i + 1 < jobs.size(); ++i) {
      EXPECT_LE(jobs[i].job.keep_from, jobs[i + 1].job.frames.begin);
      EXPECT_LE(jobs[i].job.keep_from, jobs[i].job.frames.end);
    }
  }
}

// Invalid settings are refused: O ≥ C, O < 0, C < 0, L < 1.
TEST(TubeScheduler, RejectsInvalidConfig) {
  EXPECT_THROW(TubeScheduler(offline(10, 10)), vmt::Error);
  EXPECT_THROW(TubeScheduler(offline(10, 11)), vmt::Error);
  EXPECT_THROW(TubeScheduler(offline(10, -1)), vmt::Error);
  EXPECT_THROW(TubeScheduler(offline(-1, 0)), vmt::Error);
  EXPECT_THROW(TubeScheduler(online(0)), vmt::Error);
}

// Frames must arrive in order without gaps or repeats, and not after end of stream.
TEST(TubeScheduler, RejectsOutOfOrderFramesAndPushAfterEos) {
  TubeScheduler scheduler(offline(4, 1));
  scheduler.push(0);
  EXPECT_THROW(scheduler.push(2), vmt::Error);
  EXPECT_THROW(scheduler.push(0), vmt::Error);
  scheduler.push(1);
  scheduler.flush();
  EXPECT_THROW(scheduler.push(2), vmt::Error);
}

// After reset (flush/seek) a new stream starts at the given index with job numbers from 0.
TEST(TubeScheduler, ResetStartsANewSequence) {
  TubeScheduler scheduler(online(5));
  run_stream(scheduler, 12);
  scheduler.reset(100);
  EXPECT_EQ(scheduler.next_frame(), 100);
  const auto jobs = run_stream(scheduler, 8, 100);
  ASSERT_EQ(jobs.size(), 8u);
  EXPECT_EQ(jobs[0].job.frames, (FrameRange{100, 101}));
  EXPECT_EQ(jobs[7].job.frames, (FrameRange{103, 108}));
  expect_each_frame_once(jobs, 8, 100);
}
