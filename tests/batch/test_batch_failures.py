#!/usr/bin/env python3
"""vmt-batch's failures other than a bad video, on its default local Ray instance (in a network
namespace of this test's own): bad command lines and inputs refused before anything runs, a
segmentation option the CLI refuses ending the batch at once, a video that never ends stopped by
--video-timeout.

Usage: test_batch_failures.py VMT-SEGMENT-VIDEO"""
import os
import shutil

import loopback_cluster
from batch_test_support import (FIXTURE_VIDEOS, SEGMENT_ARGS, batch, local_env, main, program,
                                read_json, require_ray, temporary_folder)

require_ray()
loopback_cluster.in_private_network()  # Ray's processes reach each other on 127.0.0.1 only
CLI = program(1, "vmt-segment-video")


def test_options_refused_by_the_cli():
    """A segmentation option the CLI refuses ends the batch at the first video with exit 2 and
    the CLI's reason, instead of failing every video."""
    with temporary_folder() as folder:
        for i in range(3):
            shutil.copy(os.path.join(FIXTURE_VIDEOS, "intact.mp4"), f"{folder}/v{i}.mp4")
        result = batch([folder, "-o", f"{folder}/out", "--workers", "1", "--mode", "sideways",
                        "--segment-video", CLI, *SEGMENT_ARGS], env=local_env())
        assert result.returncode == 2, (result.returncode, result.stdout, result.stderr[-3000:])
        assert "vmt-segment-video refused the options: invalid value 'sideways' for --mode" in \
            result.stderr, result.stderr[-3000:]


def test_bad_command_lines():
    """Refused with exit 2 and the reason, before Ray or any video runs."""
    with temporary_folder() as folder:
        os.makedirs(f"{folder}/empty")
        shutil.copy(os.path.join(FIXTURE_VIDEOS, "intact.mp4"), folder)
        not_a_program = f"{folder}/intact.mp4"
        cases = [
            ([f"{folder}/missing", "-o", f"{folder}/o"], "no such file or folder"),
            ([f"{folder}/empty", "-o", f"{folder}/o"], "no videos in folder"),
            ([folder, "-o", f"{folder}/o", "--format", "csv"], "unknown format 'csv'"),
            ([folder, "-o", f"{folder}/o", "--evaluate", f"{folder}/gt.json"],
             "--evaluate: no such file"),
            ([folder, "-o", f"{folder}/o", "--segment-video", not_a_program],
             "is not an executable program"),
            ([folder, "-o", f"{folder}/o", "--workers", "0"], "--workers must be >= 1"),
            ([folder], "-o/--output"),
        ]
        for args, text in cases:
            result = batch(["--segment-video", CLI, *args] if "--segment-video" not in args
                           else args, env=local_env(), timeout=60)
            assert result.returncode == 2, (args, result.returncode, result.stderr)
            assert text in result.stderr, (args, result.stderr)
            assert "Traceback" not in result.stderr, result.stderr
        assert not os.path.exists(f"{folder}/o"), "a refused run made its output folder"


def test_video_timeout():
    """A video that never ends (a FIFO nobody writes: the CLI blocks opening it) is stopped by
    --video-timeout and recorded as failed; the run ends."""
    with temporary_folder() as folder:
        os.mkfifo(f"{folder}/stuck.mp4")
        with open(f"{folder}/list.txt", "w") as f:
            f.write("stuck.mp4\n")
        result = batch([f"{folder}/list.txt", "-o", f"{folder}/out", "--video-timeout", "3",
                        "--workers", "1", "--segment-video", CLI, *SEGMENT_ARGS],
                       env=local_env())
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-3000:])
        failure, = read_json(f"{folder}/out/summary.json")["failures"]
        assert failure["name"] == "stuck" and "no result within 3 s" in failure["error"], failure


if __name__ == "__main__":
    main([test_bad_command_lines, test_options_refused_by_the_cli, test_video_timeout])
