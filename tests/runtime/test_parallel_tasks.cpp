// model::run_tasks (vmt-core/src/model/parallel_tasks.h): every task once, side by side on
// LibTorch's inter-op threads with the caller's thread-local state, exceptions passed on, and
// nested calls that finish whatever the pool is doing.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "model/parallel_tasks.h"

using vmt::model::run_tasks;

TEST(RunTasks, EveryTaskRunsOnceAndSeveralThreadsTakePart) {
  constexpr int kTasks = 64;
  std::vector<std::atomic<int>> runs(kTasks);
  std::mutex lock;
  std::set<std::thread::id> threads;
  run_tasks(kTasks, 4, [&](std::int64_t i) {
    runs[static_cast<std::size_t>(i)].fetch_add(1);
    // long enough that a helper thread starts before the caller has taken every task
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::lock_guard guard(lock);
    threads.insert(std::this_thread::get_id());
  });
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(runs[static_cast<std::size_t>(i)].load(), 1) << i;
  EXPECT_GE(threads.size(), 2u) << "the inter-op pool has " << at::get_num_interop_threads();
  EXPECT_TRUE(threads.contains(std::this_thread::get_id()));  // the caller works too
}

TEST(RunTasks, OneWorkerRunsInOrderOnTheCaller) {
  std::vector<std::int64_t> order;
  const auto caller = std::this_thread::get_id();
  run_tasks(5, 1, [&](std::int64_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  run_tasks(0, 4, [&](std::int64_t) { FAIL() << "no task to run"; });
}

// The engine runs its steps in inference mode with its intra-op thread count; its tasks must too.
TEST(RunTasks, TasksSeeTheCallersInferenceModeAndIntraOpThreads) {
  const int intra_op = at::get_num_threads();
  std::atomic<int> inference{0}, same_threads{0};
  {
    c10::InferenceMode guard;
    run_tasks(8, 2, [&](std::int64_t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (c10::InferenceMode::is_enabled() && !c10::GradMode::is_enabled()) inference.fetch_add(1);
      if (at::get_num_threads() == intra_op) same_threads.fetch_add(1);
    });
  }
  EXPECT_EQ(inference.load(), 8);
  EXPECT_EQ(same_threads.load(), 8);
  std::atomic<int> outside{0};
  run_tasks(4, 2, [&](std::int64_t) {
    if (!c10::InferenceMode::is_enabled()) outside.fetch_add(1);
  });
  EXPECT_EQ(outside.load(), 4);
}

TEST(RunTasks, TheFirstExceptionReachesTheCallerAfterTheRunningTasksEnd) {
  std::atomic<int> started{0}, finished{0};
  EXPECT_THROW(run_tasks(50, 3,
                         [&](std::int64_t i) {
                           started.fetch_add(1);
                           std::this_thread::sleep_for(std::chrono::milliseconds(1));
                           if (i == 3) throw std::runtime_error("task 3 failed");
                           finished.fetch_add(1);
                         }),
               std::runtime_error);
  // every task that started has ended (none still runs on the caller's stack), and the tasks
  // nobody had taken when the failure came were skipped
  EXPECT_EQ(started.load(), finished.load() + 1);
  EXPECT_LT(started.load(), 50);
}

// Tasks that run tasks themselves, more of them than the pool has threads: every outer task waits
// only for inner tasks that some thread is running, so the call ends (no deadlock).
TEST(RunTasks, NestedCallsFinish) {
  std::atomic<int> inner{0};
  const int outer = 2 * std::max<int>(1, static_cast<int>(at::get_num_interop_threads())) + 1;
  run_tasks(outer, outer, [&](std::int64_t) {
    run_tasks(4, 4, [&](std::int64_t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      inner.fetch_add(1);
    });
  });
  EXPECT_EQ(inner.load(), outer * 4);
}
