// Consecutive engine calls overlapped on two threads: while a worker thread computes tube n's
// final masks (Engine::finish_tube: refinement, crops), the caller's thread preprocesses, encodes
// and decodes tube n + 1 and computes its coarse masks (Engine::begin_tube). Online, the two halves take about the same
// time on the CPU, so on two cores a step then costs the longer half instead of their sum. Each
// result comes back one push later, in order, and equals Engine::run_tube's bit for bit.
//
// One thread drives a pipeline (push / flush / discard); the worker is its own. Torch-free.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "vmt/engine.h"

namespace vmt {

class EnginePipeline {
 public:
  /// `overlap` false: push() runs each tube at once and returns its own result (no worker).
  explicit EnginePipeline(Engine& engine, bool overlap = true);
  /// Waits for the tube in flight and drops its result.
  ~EnginePipeline();
  EnginePipeline(const EnginePipeline&) = delete;
  EnginePipeline& operator=(const EnginePipeline&) = delete;

  /// Begins `input`'s tube (its frames are read before push returns), then returns the result of
  /// the tube in flight before it, if any, and leaves the new tube's masks to the worker.
  /// Without overlap: `input`'s own result. Throws vmt::Error from either tube; the tubes are
  /// then both dropped.
  std::optional<TubeResult> push(const TubeInput& input);
  /// The tube in flight's result (waits for it), if one is in flight.
  std::optional<TubeResult> flush();
  /// Waits for the tube in flight, if any, and drops it (flush, seek).
  void discard() noexcept;
  /// True while a tube's result is owed (push returned without it).
  bool in_flight() const noexcept { return in_flight_; }
  bool overlaps() const noexcept { return overlap_; }

 private:
  void run_worker();
  /// Waits until the worker is idle; returns what it finished (or rethrows its error).
  std::optional<TubeResult> take();

  Engine& engine_;
  bool overlap_;
  bool in_flight_ = false;  // the driving thread's view: a result is owed
  std::mutex mutex_;
  std::condition_variable changed_;
  PendingTube job_;  // handed to the worker (under mutex_)
  bool has_job_ = false, stop_ = false;
  std::optional<TubeResult> result_;
  std::exception_ptr error_;
  std::thread worker_;  // started at the first overlapped push
};

}  // namespace vmt
