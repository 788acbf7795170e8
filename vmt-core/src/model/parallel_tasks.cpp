#include "parallel_tasks.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

namespace vmt::model {

namespace {

/// What the threads of one run_tasks call share. Helpers hold it by shared_ptr: one that the
/// pool starts after every task was taken finds nothing to do and only touches this.
struct TaskQueue {
  std::int64_t count = 0;
  const std::function<void(std::int64_t)>* task = nullptr;  // valid while tasks are unfinished
  std::atomic<std::int64_t> next{0};
  std::mutex lock;
  std::condition_variable all_done;
  std::int64_t done = 0;  // tasks finished or skipped (guarded by `lock`)
  std::exception_ptr failure;

  /// Runs tasks until none is left to take. A thread waits only for tasks that another thread
  /// has taken and is running, never for a helper still queued in the pool: nested calls (a task
  /// that runs tasks) cannot deadlock the pool.
  void drain() {
    for (auto i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      std::exception_ptr error;
      try {
        (*task)(i);
      } catch (...) {
        error = std::current_exception();
      }
      const std::lock_guard guard(lock);
      if (error && !failure) {
        failure = error;
        // skip what nobody has taken yet
        const auto untaken = std::max<std::int64_t>(0, count - next.exchange(count));
        done += untaken;
      }
      if (++done == count) all_done.notify_all();
    }
  }
};

}  // namespace

void run_tasks(std::int64_t count, int workers, const std::function<void(std::int64_t)>& task) {
  if (workers <= 1 || count <= 1) {
    for (std::int64_t i = 0; i < count; ++i) task(i);
    return;
  }
  auto queue = std::make_shared<TaskQueue>();
  queue->count = count;
  queue->task = &task;
  const auto helpers = std::min<std::int64_t>(workers, count) - 1;
  for (std::int64_t h = 0; h < helpers; ++h) at::launch([queue] { queue->drain(); });
  queue->drain();
  std::unique_lock guard(queue->lock);
  queue->all_done.wait(guard, [&] { return queue->done == count; });
  if (queue->failure) std::rethrow_exception(queue->failure);
}

}  // namespace vmt::model
