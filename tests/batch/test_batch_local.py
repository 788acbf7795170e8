#!/usr/bin/env python3
"""vmt-batch with its default local Ray instance (nothing started by hand; in a network
namespace of this test's own) on a folder of video files, one of them corrupt, in every result
format: the good videos' files equal a single-process run of vmt-segment-video, the corrupt one
is reported and the others go on; a rerun skips the finished video and segments again the one
whose file was changed; bad command lines and inputs fail with a message before anything runs.

Usage: test_batch_local.py VMT-SEGMENT-VIDEO"""
import os
import shutil

import loopback_cluster
from batch_test_support import (FIXTURE_VIDEOS, SEGMENT_ARGS, batch, files_of, local_env, main,
                                program, read_json, reference_run, require_ray,
                                temporary_folder)

require_ray()
loopback_cluster.in_private_network()  # Ray's processes reach each other on 127.0.0.1 only
CLI = program(1, "vmt-segment-video")
FORMATS = ["youtube-vis", "jsonl", "mots-challenge", "kitti-mots", "bdd100k"]
GOOD = {"intact": (2, 24), "truncated-70": (3, 14)}  # name: (video id, frames)


def test_folder_corrupt_video_and_resume():
    with temporary_folder() as folder:
        videos = f"{folder}/videos"
        os.makedirs(videos)
        for name in ["garbage.mp4", "intact.mp4", "truncated-70.mp4"]:
            shutil.copy(os.path.join(FIXTURE_VIDEOS, name), videos)
        out = f"{folder}/out"
        args = [videos, "-o", out, "--format", "youtube-vis,jsonl,mots,kitti-mots,bdd100k",
                "--workers", "2", "--segment-video", CLI, *SEGMENT_ARGS]
        result = batch(args, env=local_env())
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-3000:])
        summary = read_json(f"{out}/summary.json")
        assert summary["ray"] == "local Ray, 2 workers", summary["ray"]
        assert summary["videos"] == {"total": 3, "segmented": 2, "resumed": 0, "failed": 1}
        failure, = summary["failures"]
        assert failure["video_id"] == 1 and failure["name"] == "garbage", failure
        assert failure["input"] == f"{videos}/garbage.mp4", failure
        assert "Could not determine type of stream" in failure["error"], failure
        assert summary["frames"] == 24 + 14, summary
        assert "failed: garbage" in result.stderr and "done:   intact" in result.stderr
        assert "videos:     3 (2 segmented, 0 already done, 1 failed)" in result.stdout

        expected = {}
        for name, (vid, frames) in GOOD.items():
            expected[name] = reference_run(CLI, f"{folder}/reference", vid, name, FORMATS,
                                           path=f"{videos}/{name}.mp4")
            assert files_of(out, name, FORMATS) == expected[name], f"{name} differs"
            assert len(expected[name]["jsonl"].splitlines()) == frames
        merged = read_json(f"{out}/results.json")
        assert list(dict.fromkeys(e["video_id"] for e in merged)) == [2, 3], merged[:1]
        assert sorted(os.listdir(f"{out}/records")) == ["intact.json", "truncated-70.json"]

        # Rerun: truncated-70 is finished; intact's JSON Lines file was cut, so it is redone;
        # garbage is tried again (and fails again).
        kept = os.stat(f"{out}/videos/truncated-70.json").st_mtime_ns
        with open(f"{out}/videos/intact.jsonl", "r+b") as f:
            f.truncate(100)
        result = batch(args, env=local_env())
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-3000:])
        summary = read_json(f"{out}/summary.json")
        assert summary["videos"] == {"total": 3, "segmented": 1, "resumed": 1, "failed": 1}
        assert "segmenting intact again: videos/intact.jsonl was changed" in result.stderr
        assert summary["frames"] == 24 and summary["frames_total"] == 24 + 14, summary
        assert os.stat(f"{out}/videos/truncated-70.json").st_mtime_ns == kept
        for name in GOOD:
            assert files_of(out, name, FORMATS) == expected[name], f"{name} differs after resume"
        merged_again = read_json(f"{out}/results.json")
        assert merged_again == merged


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


if __name__ == "__main__":
    main([test_bad_command_lines, test_video_timeout, test_folder_corrupt_video_and_resume])
