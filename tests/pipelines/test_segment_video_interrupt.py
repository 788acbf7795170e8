#!/usr/bin/env python3
"""Ctrl-C in vmt-segment-video (issue #14, item 2), with real signals on a real 2-minute video:
the first SIGINT ends the run with finished files holding the frames done so far (exit 130), in
online mode and in offline mode (the frames of a clip not inferred yet are left out); a second
signal aborts at once and leaves no file, neither finished nor partly written.

Before the fix the first SIGINT sent EOS to the pipeline from the main thread, which blocked until
the file reader got past a full queue, then every queued frame was still segmented; a second
SIGINT did nothing.

Usage: test_segment_video_interrupt.py PATH/TO/vmt-segment-video"""
import json
import os
import signal
import subprocess
import sys
import time

from pipeline_test_support import (DEMO_MODEL, TEST_MODEL, decoded_frames, main, run,
                                   temporary_folder)

TOOL = sys.argv[1] if len(sys.argv) > 1 else "vmt-segment-video"
FAST = ["--model", TEST_MODEL or DEMO_MODEL, "--input-size", "48", "--device", "cpu",
        "--no-progress"]
FRAMES = 3000  # 2 minutes at 25 fps: far more than get done before the signal


def write_long_video(path):
    result = run(["gst-launch-1.0", "-q", "videotestsrc", f"num-buffers={FRAMES}", "pattern=ball",
                  "!", "video/x-raw,width=64,height=48,framerate=25/1", "!", "jpegenc", "!",
                  "avimux", "!", "filesink", f"location={path}"], timeout=120)
    assert result.returncode == 0, result.stderr


def start_and_wait_for_frames(command, results, frames=5, timeout=120):
    """Starts `command` and returns it once vmtexport wrote `frames` JSON lines (to
    RESULTS.part)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(results + ".part") as f:
                if sum(1 for _ in f) >= frames:
                    return process
        except FileNotFoundError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"no {frames} frames done (exit {process.returncode}): {err}")
        time.sleep(0.05)


def finish(process, timeout=120):
    """Waits for the process (a bound against hangs, not a speed requirement)."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"still running {timeout} s after the signal") from None
    return process.returncode, out, err


def check_interrupted_files(folder, mode_args):
    video, overlay, results = f"{folder}/long.avi", f"{folder}/out.mp4", f"{folder}/out.jsonl"
    process = start_and_wait_for_frames(
        [TOOL, video, "-o", overlay, "--results", results, *mode_args, *FAST], results)
    process.send_signal(signal.SIGINT)
    status, out, err = finish(process)
    assert status == 130, f"exit {status}: {err}"
    assert "interrupted" in err, err
    summary = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    done = int(summary["frames"])
    assert 5 <= done < FRAMES, done
    with open(results) as f:
        lines = [json.loads(line) for line in f]
    # the first frames, in order, each once, with their timestamps
    assert [line["frame"] for line in lines] == list(range(done)), [l["frame"] for l in lines]
    assert all(line["pts"] == i * 40_000_000 for i, line in enumerate(lines))
    frames, _ = decoded_frames(overlay)
    assert len(frames) == done, (len(frames), done)
    leftovers = [name for name in os.listdir(folder) if name.endswith(".part")]
    assert not leftovers, leftovers


def test_first_interrupt_online():
    with temporary_folder() as folder:
        write_long_video(f"{folder}/long.avi")
        check_interrupted_files(folder, ["--mode", "online", "--tube-length", "1"])


def test_first_interrupt_offline():
    """Offline, the frames of the clip being gathered are dropped rather than inferred."""
    with temporary_folder() as folder:
        write_long_video(f"{folder}/long.avi")
        check_interrupted_files(folder, ["--mode", "offline", "--clip-length", "8",
                                         "--clip-overlap", "2"])


def test_second_interrupt_aborts():
    """SIGINT then SIGTERM (two signals, which the kernel does not merge into one): the program
    ends at once and removes the files it was writing."""
    with temporary_folder() as folder:
        video, overlay, results = f"{folder}/long.avi", f"{folder}/out.mp4", f"{folder}/out.jsonl"
        write_long_video(video)
        process = start_and_wait_for_frames(
            [TOOL, video, "-o", overlay, "--results", results, "--mode", "online",
             "--tube-length", "1", *FAST], results)
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGTERM)
        status, _, err = finish(process, timeout=60)
        assert status == 130, f"exit {status}: {err}"
        assert "aborted" in err, err
        assert sorted(os.listdir(folder)) == ["long.avi"], os.listdir(folder)


if __name__ == "__main__":
    main([test_first_interrupt_online, test_first_interrupt_offline, test_second_interrupt_aborts])
