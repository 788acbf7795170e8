#!/usr/bin/env python3
"""vmt-batch with its default local Ray instance (nothing started by hand; in a network
namespace of this test's own) on a folder of video files, one of them corrupt, in every result
format: the good videos' files equal a single-process run of vmt-segment-video, the corrupt one
is reported and the others go on; a rerun skips the finished video and segments again the one
whose file was changed.

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
GOOD = {"truncated-30": (2, 4), "truncated-50": (3, 10)}  # name: (video id, frames)


def test_folder_corrupt_video_and_resume():
    with temporary_folder() as folder:
        videos = f"{folder}/videos"
        os.makedirs(videos)
        for name in ["garbage.mp4", "truncated-30.mp4", "truncated-50.mkv"]:
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
        assert summary["frames"] == 4 + 10, summary
        assert "failed: garbage" in result.stderr and "done:   truncated-30" in result.stderr
        assert "videos:     3 (2 segmented, 0 already done, 1 failed)" in result.stdout

        expected = {}
        for name, (vid, frames) in GOOD.items():
            path = f"{videos}/{name}" + (".mkv" if name == "truncated-50" else ".mp4")
            expected[name] = reference_run(CLI, f"{folder}/reference", vid, name, FORMATS,
                                           path=path)
            assert files_of(out, name, FORMATS) == expected[name], f"{name} differs"
            assert len(expected[name]["jsonl"].splitlines()) == frames
        merged = read_json(f"{out}/results.json")
        assert list(dict.fromkeys(e["video_id"] for e in merged)) == [2, 3], merged[:1]
        assert sorted(os.listdir(f"{out}/records")) == ["truncated-30.json", "truncated-50.json"]

        # Rerun: truncated-50 is finished; truncated-30's JSON Lines file was cut, so it is
        # redone; garbage is tried again (and fails again).
        kept = os.stat(f"{out}/videos/truncated-50.json").st_mtime_ns
        with open(f"{out}/videos/truncated-30.jsonl", "r+b") as f:
            f.truncate(100)
        result = batch(args, env=local_env())
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-3000:])
        summary = read_json(f"{out}/summary.json")
        assert summary["videos"] == {"total": 3, "segmented": 1, "resumed": 1, "failed": 1}
        assert "segmenting truncated-30 again: videos/truncated-30.jsonl was changed" in \
            result.stderr, result.stderr[-3000:]
        assert summary["frames"] == 4 and summary["frames_total"] == 4 + 10, summary
        assert os.stat(f"{out}/videos/truncated-50.json").st_mtime_ns == kept
        for name in GOOD:
            assert files_of(out, name, FORMATS) == expected[name], f"{name} differs after resume"
        merged_again = read_json(f"{out}/results.json")
        assert merged_again == merged


if __name__ == "__main__":
    main([test_folder_corrupt_video_and_resume])
