#!/usr/bin/env python3
"""vmt-segment-video keeps every frame of a video file with its timestamps (issue #14, item 5):
for an AVI with dropped frames, an MP4 and a Matroska file with B-frames, the results hold one
line per input frame with the input's timestamps, and the overlay video has as many frames, at
the same stream times, and the same duration. The CLI's own overlay MP4 read back gives its frames
again.

Before the fix the CLI read files through `filesrc ! queue ! decodebin`: in that push mode
avidemux ignores the empty chunks that stand for dropped frames, so the AVI's later frames came
out earlier (the 2.1 s file became 1.2 s).

Usage: test_segment_video_files.py PATH/TO/vmt-segment-video"""
import json
import sys

from pipeline_test_support import (DEMO_MODEL, TEST_MODEL, Gst, decoded_frames, main, run,
                                   temporary_folder)

TOOL = sys.argv[1] if len(sys.argv) > 1 else "vmt-segment-video"
# the small test model, one frame per tube: quick, and what is checked here is the frames' path
FAST = ["--model", TEST_MODEL or DEMO_MODEL, "--input-size", "48", "--device", "cpu",
        "--mode", "online", "--tube-length", "1", "--no-progress"]
MS = Gst.MSECOND


def jpeg_frames(count):
    """`count` 64x48 JPEG images of a moving ball."""
    pipeline = Gst.parse_launch(f"videotestsrc num-buffers={count} pattern=ball ! "
                                "video/x-raw,width=64,height=48 ! jpegenc ! appsink name=out")
    out = pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    frames = []
    while (sample := out.emit("pull-sample")) is not None:
        buffer = sample.get_buffer()
        frames.append(buffer.extract_dup(0, buffer.get_size()))
    pipeline.set_state(Gst.State.NULL)
    assert len(frames) == count, len(frames)
    return frames


def write_avi_with_dropped_frames(path):
    """An MJPEG AVI at 10 fps with 12 pictures in 21 frame slots: after the 3rd, 6th and 9th
    picture three slots are empty chunks (how capture programs record dropped frames; avimux
    writes a zero-size buffer as one). Returns the stream times of the pictures and the length."""
    pipeline = Gst.parse_launch(
        f'avimux name=mux ! filesink location="{path}" '
        "appsrc name=src format=time caps=image/jpeg,width=64,height=48,framerate=10/1,"
        "pixel-aspect-ratio=1/1 ! mux.video_0")
    src = pipeline.get_by_name("src")
    pipeline.set_state(Gst.State.PLAYING)
    slot, times = 0, []

    def push(data):
        nonlocal slot
        buffer = Gst.Buffer.new_wrapped(data) if data else Gst.Buffer.new()
        buffer.pts, buffer.duration = slot * 100 * MS, 100 * MS
        src.emit("push-buffer", buffer)
        slot += 1

    for i, picture in enumerate(jpeg_frames(12)):
        times.append(slot * 100 * MS)
        push(picture)
        if i % 3 == 2 and i < 11:
            for _ in range(3):
                push(b"")
    src.emit("end-of-stream")
    message = pipeline.get_bus().timed_pop_filtered(
        60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert message is not None and message.type == Gst.MessageType.EOS, "writing the AVI failed"
    assert slot == 21
    return times, slot * 100 * MS


def write_with_b_frames(path, muxer):
    """24 frames at 12 fps, x264 with B-frames (the MP4 then starts its PTS after 0, with an edit
    list), by gst-launch-1.0. Returns the stream times and the length."""
    result = run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=24", "pattern=ball", "!",
                  "video/x-raw,width=64,height=48,framerate=12/1", "!", "x264enc", "bframes=2",
                  "speed-preset=ultrafast", "key-int-max=12", "!", muxer, "!", "filesink",
                  f"location={path}"], timeout=120)
    assert result.returncode == 0, result.stderr
    return [Gst.util_uint64_scale(k, Gst.SECOND, 12) for k in range(24)], 2 * Gst.SECOND


def close(a, b, tolerance=MS):
    return abs(a - b) <= tolerance


def check_cli_keeps_the_frames(path, expected_times, expected_length, folder, name):
    """Runs the CLI on `path`; returns the overlay video it wrote."""
    reference, _ = decoded_frames(path)  # GStreamer's own reading of the input
    assert len(reference) == len(expected_times), (name, reference)
    # Matroska stores milliseconds
    assert all(close(t, e) for (_, t), e in zip(reference, expected_times)), (name, reference)
    overlay, results = f"{folder}/{name}-overlay.mp4", f"{folder}/{name}.jsonl"
    result = run([TOOL, path, "-o", overlay, "--results", results, *FAST], timeout=300)
    assert result.returncode == 0, f"{name}: exit {result.returncode}: {result.stderr}"
    with open(results) as f:
        lines = [json.loads(line) for line in f]
    assert [line["pts"] for line in lines] == [pts for pts, _ in reference], \
        (name, [line["pts"] for line in lines])
    frames, length = decoded_frames(overlay)
    assert len(frames) == len(expected_times), (name, len(frames), len(expected_times))
    assert all(close(t, e) for (_, t), e in zip(frames, expected_times)), (name, frames)
    # the input's length: its last slot ends there (empty AVI slots included)
    assert length is not None and abs(length - expected_length) <= 100 * MS, \
        (name, length, expected_length)
    return overlay


def test_avi_with_dropped_frames():
    with temporary_folder() as folder:
        path = f"{folder}/dropped.avi"
        times, length = write_avi_with_dropped_frames(path)
        check_cli_keeps_the_frames(path, times, length, folder, "avi")


def test_mp4_with_b_frames_and_its_overlay_read_back():
    with temporary_folder() as folder:
        path = f"{folder}/clip.mp4"
        times, length = write_with_b_frames(path, "mp4mux")
        overlay = check_cli_keeps_the_frames(path, times, length, folder, "mp4")
        check_cli_keeps_the_frames(overlay, times, length, folder, "overlay-again")


def test_mkv_with_b_frames():
    with temporary_folder() as folder:
        path = f"{folder}/clip.mkv"
        times, length = write_with_b_frames(path, "matroskamux")
        check_cli_keeps_the_frames(path, times, length, folder, "mkv")


if __name__ == "__main__":
    main([test_avi_with_dropped_frames, test_mp4_with_b_frames_and_its_overlay_read_back,
          test_mkv_with_b_frames])
