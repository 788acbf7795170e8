"""Ray: a local instance or an existing cluster, one task per video, a progress board.

Tasks carry `num_cpus` (and `num_gpus` where the cluster has GPUs), so Ray starts no more of them
on a node than it has CPUs and GPUs for; Ray gives each GPU task its own device through
CUDA_VISIBLE_DEVICES, which the CLI's child process inherits. A task whose worker or node dies
is started again elsewhere, up to `max_retries` times (Ray's retries for system failures; a
video that fails by itself is a result, not a crash, and is not retried).
"""
import logging
import math
import sys

import ray
import ray.cloudpickle
import ray.util.scheduling_strategies

from . import segment

# The task and the board are sent to the workers by value, with segment.py, so workers need not
# import this package: a cluster's other machines need the CLI and the inputs, not this source
# tree on their Python path.
ray.cloudpickle.register_pickle_by_value(segment)
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def connect(address, workers, cpus_per_task, object_store_mb):
    """Joins the cluster at `address`, or starts a local Ray instance with room for `workers`
    tasks at a time (and no dashboard) when it is None. Returns a line saying which."""
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        return f"Ray cluster at {address}"
    ray.init(address="local", num_cpus=math.ceil(workers * cpus_per_task),
             include_dashboard=False, object_store_memory=object_store_mb * 1024 * 1024,
             logging_level=logging.WARNING, log_to_driver=False)
    return f"local Ray, {workers} worker{'s' if workers != 1 else ''}"


def cluster_gpus():
    return ray.cluster_resources().get("GPU", 0)


def disconnect():
    if ray.is_initialized():
        ray.shutdown()


@ray.remote(num_cpus=0)
class ProgressBoard:
    """Where running tasks post their progress (fraction, frames) and count their starts; lives
    on the driver's node and uses no CPU slot."""

    def __init__(self):
        self.progress = {}
        self.starts = {}

    def started(self, index):
        self.starts[index] = self.starts.get(index, 0) + 1
        self.progress.pop(index, None)

    def update(self, index, fraction, frames):
        self.progress[index] = (fraction, frames)

    def snapshot(self):
        return self.progress, self.starts


def start_board():
    """The board, on the driver's node: not soft (Ray then may place it on any node, one that can
    die while the driver goes on)."""
    node = ray.get_runtime_context().get_node_id()
    strategy = ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(node, soft=False)
    return ProgressBoard.options(scheduling_strategy=strategy).remote()


@ray.remote
def _segment_task(job, board):
    index = job["index"]
    if board is not None:
        try:  # waited for, so a start that is cut short by the worker's death still counts
            ray.get(board.started.remote(index), timeout=30)
        except ray.exceptions.RayError:
            board = None

    def report(fraction, frames):
        board.update.remote(index, fraction, frames)
    result = segment.segment_video(job, report if board is not None else None)
    result["node"] = ray.get_runtime_context().get_node_id()
    return result


def submit(job, board, cpus_per_task, gpus_per_task, max_retries):
    """Starts the task of one video; returns its ObjectRef."""
    return _segment_task.options(num_cpus=cpus_per_task, num_gpus=gpus_per_task,
                                 max_retries=max_retries, retry_exceptions=False).remote(job, board)


def cancel(ref):
    """Stops a task (queued or running: its worker, and so its CLI, is killed)."""
    ray.cancel(ref, force=True)


def wait(refs, timeout):
    """The tasks of `refs` that have finished, waiting up to `timeout` s for the first one."""
    ready, rest = ray.wait(refs, num_returns=1, timeout=timeout)
    if ready and rest:
        more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
        ready += more
    return ready


def result_of(ref):
    """The task's result, or a failed result naming the Ray error (a worker that died more often
    than the retries allow, an error inside the task)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return {"status": "failed", "error": f"{type(error).__name__}: {first_line}"}


def poll(board, pending_snapshot):
    """Non-blocking look at the board: (snapshot or None, the request to poll next time)."""
    if pending_snapshot is None:
        return None, board.snapshot.remote()
    ready, _ = ray.wait([pending_snapshot], timeout=0)
    if not ready:
        return None, pending_snapshot
    try:
        snapshot = ray.get(pending_snapshot)
    except ray.exceptions.RayError:
        snapshot = None
    return snapshot, board.snapshot.remote()


def final_snapshot(board, starts):
    """The board after the last task: its progress and start counts (`starts` if it is gone)."""
    try:
        return ray.get(board.snapshot.remote(), timeout=30)
    except ray.exceptions.RayError:
        return {}, starts
