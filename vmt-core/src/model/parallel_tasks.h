// Independent pieces of one inference step run side by side on the CPU: the frames of an offline
// clip's refinement, the halves of a batch of new frames through the backbone. LibTorch's own
// (intra-op) threads split each operation; on a small model at a small input size its operations
// are too short for that to pay, so whole pieces go to separate threads instead, each running
// its operations on one thread. Internal to vmt-core.
#pragma once

#include <cstdint>
#include <functional>

namespace vmt::model {

/// Runs task(i) for every i in [0, count) on up to `workers` threads: the caller's and LibTorch's
/// inter-op pool (at::launch), which carry the caller's thread-local state (inference mode,
/// autocast). Each i runs exactly once, on one thread; which thread is not defined, so a task
/// must write only its own results. Returns when all have run; the first exception a task threw
/// is rethrown then (the tasks not yet started are skipped). workers <= 1 or count <= 1: in
/// order on the caller's thread.
void run_tasks(std::int64_t count, int workers, const std::function<void(std::int64_t)>& task);

}  // namespace vmt::model
