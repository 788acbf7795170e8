#include "vmt/engine_pipeline.h"

#include <ATen/Parallel.h>

#include <utility>

namespace vmt {

EnginePipeline::EnginePipeline(Engine& engine, bool overlap) : engine_(engine), overlap_(overlap) {}

EnginePipeline::~EnginePipeline() {
  discard();
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void EnginePipeline::run_worker() {
  // LibTorch's intra-op thread count is a per-thread OpenMP setting: give this thread the
  // engine's (at::set_num_threads), as LibTorch's own pools do for theirs.
  at::init_num_threads();
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return has_job_ || stop_; });
    if (!has_job_) return;  // stop_
    PendingTube job = std::move(job_);
    lock.unlock();
    std::optional<TubeResult> result;
    std::exception_ptr error;
    try {
      result = engine_.finish_tube(std::move(job));
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    result_ = std::move(result);
    error_ = error;
    has_job_ = false;
    changed_.notify_all();
  }
}

std::optional<TubeResult> EnginePipeline::take() {
  if (!in_flight_) return std::nullopt;
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !has_job_; });
  in_flight_ = false;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return std::exchange(result_, std::nullopt);
}

std::optional<TubeResult> EnginePipeline::push(const TubeInput& input) {
  if (!overlap_) return engine_.run_tube(input);
  PendingTube next;
  try {
    next = engine_.begin_tube(input);  // beside the worker's finish_tube of the tube before
  } catch (...) {
    discard();
    throw;
  }
  auto previous = take();  // on an error `next` is dropped with it
  {
    std::lock_guard lock(mutex_);
    job_ = std::move(next);
    has_job_ = true;
  }
  in_flight_ = true;
  if (!worker_.joinable()) worker_ = std::thread([this] { run_worker(); });
  changed_.notify_all();
  return previous;
}

std::optional<TubeResult> EnginePipeline::flush() { return take(); }

void EnginePipeline::discard() noexcept {
  try {
    take();
  } catch (...) {
    // a dropped tube's error has no one to go to
  }
}

}  // namespace vmt
