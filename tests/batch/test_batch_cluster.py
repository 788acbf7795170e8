#!/usr/bin/env python3
"""vmt-batch on a real two-node Ray cluster on 127.0.0.1 (a head and a worker, each `ray start`,
in a network namespace of this test's own): a YouTube-VIS style dataset of four good videos and
one with a damaged frame, the worker killed while it segments a video. Then: every good video's
results are complete and byte-identical to a single-process run of vmt-segment-video, the damaged
one is reported with its frame, the killed task was started again, the merged file holds exactly
the dataset's ids of the good videos in the dataset's order, and --evaluate equals vmt-eval on the
merged file. The dataset has ids of its own (not 1..5), in an order of its own, and one video
with YouTube-VIS's gaps in its frame names.

Usage: test_batch_cluster.py VMT-SEGMENT-VIDEO VMT-EVAL VMT-SYNTH"""
import os
import subprocess
import sys
import time

import loopback_cluster
from batch_test_support import (BATCH, SEGMENT_ARGS, damage_frame, files_of, main, make_dataset,
                                program, read_json, reference_run, renumber_videos, require_ray,
                                spread_frame_names, temporary_folder, vmt_eval_json, write_json)

require_ray()
loopback_cluster.in_private_network()

CLI = program(1, "vmt-segment-video")
VMT_EVAL = program(2, "vmt-eval")
SYNTH = program(3, "vmt-synth")
FORMATS = ["youtube-vis", "jsonl"]
IDS = [37, 11, 58, 23, 42]  # the dataset's ids, in its (new) order
DAMAGED_ID = 58


def test_two_nodes_worker_killed():
    with temporary_folder() as folder:
        gt = make_dataset(SYNTH, f"{folder}/data", videos=5, frames=12)
        frames_root = os.path.join(os.path.dirname(gt), "JPEGImages")
        dataset = read_json(gt)
        videos = renumber_videos(dataset, order=[2, 0, 4, 1, 3], new_ids=IDS)
        spread_frame_names(frames_root, videos[11])
        damage_frame(os.path.join(frames_root, videos[DAMAGED_ID]["file_names"][6]))
        write_json(gt, dataset)
        out = f"{folder}/out"

        with loopback_cluster.LoopbackCluster() as cluster:
            cluster.start_node("head", num_cpus=1, head=True)
            cluster.start_node("worker", num_cpus=1)
            started = time.monotonic()
            run = subprocess.Popen(
                [sys.executable, BATCH, gt, "-o", out, "--address", cluster.address,
                 "--format", ",".join(FORMATS), "--evaluate", gt, "--segment-video", CLI,
                 "--vmt-eval", VMT_EVAL, *SEGMENT_ARGS],
                env=cluster.client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            # The worker dies while one of its videos is being segmented: wait for that (not for
            # a time), then kill every process of the node.
            while run.poll() is None and not cluster.programs_on("worker", CLI):
                if time.monotonic() - started > 240:
                    break
                time.sleep(0.05)
            worker_was_busy = bool(cluster.programs_on("worker", CLI))
            if worker_was_busy:
                cluster.kill_node("worker")
            try:
                stdout, stderr = run.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                run.kill()
                stdout, stderr = run.communicate()
                raise AssertionError(f"vmt-batch did not finish: {stderr[-3000:]}")
            assert worker_was_busy, f"no video ever ran on the worker: {stdout}\n{stderr[-3000:]}"
        assert not cluster.pids(), "processes of the cluster are left"

        print(stdout, end="")  # the summary, for the test log
        assert run.returncode == 1, (run.returncode, stdout, stderr[-3000:])  # one video failed
        summary = read_json(f"{out}/summary.json")
        assert summary["videos"] == {"total": 5, "segmented": 4, "resumed": 0, "failed": 1}, \
            summary["videos"]
        failure, = summary["failures"]
        damaged_frame = videos[DAMAGED_ID]["file_names"][6]
        assert failure["video_id"] == DAMAGED_ID, failure
        assert f"cannot decode frame '{os.path.join(frames_root, damaged_frame)}'" in \
            failure["error"], failure
        assert summary["restarted"], f"the killed video was not started again: {summary}"
        assert summary["frames"] == 4 * 12 and summary["fps"] > 0, summary

        good = [vid for vid in IDS if vid != DAMAGED_ID]
        for vid in good:
            name = os.path.dirname(videos[vid]["file_names"][0])
            frames = [os.path.join(frames_root, n) for n in videos[vid]["file_names"]]
            expected = reference_run(CLI, f"{folder}/reference", vid, name, FORMATS, frames=frames)
            assert files_of(out, name, FORMATS) == expected, f"video {vid} differs"
            assert len(expected["jsonl"].splitlines()) == 12, vid
        assert not os.path.exists(f"{out}/videos/" + os.path.dirname(
            videos[DAMAGED_ID]["file_names"][0]) + ".json")

        merged = read_json(summary["results"])
        merged_ids = [entry["video_id"] for entry in merged]
        assert list(dict.fromkeys(merged_ids)) == good, merged_ids  # all, in the dataset's order
        assert all(len(entry["segmentations"]) == 12 for entry in merged)
        assert summary["evaluation"] == vmt_eval_json(VMT_EVAL, gt, summary["results"])
        assert read_json(f"{out}/evaluation.json") == summary["evaluation"]


if __name__ == "__main__":
    main([test_two_nodes_worker_killed])
