#!/usr/bin/env python3
"""The scripts of pipelines/ (docs/pipelines.md) against real GStreamer: camera.sh with its test
source, driving-mots.sh on the demo video, rtsp.sh serving the demo video to an RTSP client,
crowded_overlay.py rendering the PNG of docs/elements.md."""
import os
import re
import select
import signal
import struct
import subprocess
import sys

from pipeline_test_support import (DEMO_MODEL, FIXTURE_VIDEOS, SOURCE_ROOT, Gst,
                                   count_decoded_frames, main, run, temporary_folder)

PIPELINES = os.path.join(SOURCE_ROOT, "pipelines")


def test_camera_dry_run_names_the_camera():
    """--dry-run prints the camera pipeline: v4l2src on the device, vmtsegment online."""
    result = run([f"{PIPELINES}/camera.sh", "--dry-run", "--device", "/dev/video7"], timeout=30)
    assert result.returncode == 0, result.stderr
    assert "v4l2src device=/dev/video7" in result.stdout, result.stdout
    assert "mode=online" in result.stdout and "autovideosink" in result.stdout, result.stdout


def test_camera_test_source_records():
    """--test-source --headless --output: 10 live test frames segmented and recorded to an MP4."""
    with temporary_folder() as folder:
        output = f"{folder}/camera.mp4"
        result = run([f"{PIPELINES}/camera.sh", "--test-source", "--headless",
                      "--num-buffers", "10", "--size", "160x120", "--output", output], timeout=300)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stdout}{result.stderr}"
        assert count_decoded_frames(output) == 10
        assert "camera: recorded" in result.stdout, result.stdout


def test_camera_missing_device():
    """No camera at the device: exit 1 with a hint, not a GStreamer backtrace."""
    result = run([f"{PIPELINES}/camera.sh", "--device", "/nonexistent/video9"], timeout=30)
    assert result.returncode == 1 and "--test-source" in result.stderr, result


def test_driving_mots_writes_mots_txt():
    """A 4-frame clip scaled to 1296x720: MOTSChallenge lines `frame id class h w rle`. (The demo
    model at input size 96; at 720p most of the time goes into full-size masks.)"""
    with temporary_folder() as folder:
        output = f"{folder}/clip.txt"
        result = run([f"{PIPELINES}/driving-mots.sh", f"{FIXTURE_VIDEOS}/truncated-30.mp4", output,
                      "--input-size", "96", "--model", DEMO_MODEL, "--device", "cpu"], timeout=600)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
        with open(output) as f:
            lines = [line.split() for line in f if line.strip()]
        assert lines, "no objects in the MOTS txt"
        for fields in lines:
            assert len(fields) == 6, fields
            frame, object_id, class_id, height, width = map(int, fields[:5])
            assert 1 <= frame <= 4, fields                       # MOTSChallenge: frames from 1
            assert (height, width) == (720, 1296), fields
            assert object_id // 1000 == class_id and object_id % 1000 >= 1, fields
        assert f"{len(lines)} objects in mots-challenge txt" in result.stdout, result.stdout


def test_rtsp_dry_run_uses_uridecodebin():
    """--dry-run prints the served launch line: the input URI, vmtsegment online, payloader pay0."""
    result = run([f"{PIPELINES}/rtsp.sh", "rtsp://camera.local/stream", "--dry-run"], timeout=30)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("( uridecodebin uri=\"rtsp://camera.local/stream\""), line
    assert "mode=online" in line and "name=pay0" in line and line.endswith(")"), line


def test_rtsp_serves_a_clip():
    """rtsp.sh on a 24-frame clip, port 0: an RTSP client gets segmented, re-encoded frames of the
    clip's size, in order, up to the server's end of stream. The client reads until EOS, however
    long inference takes (a bound only catches a hang). RTSP paces delivery to real time, and on a
    busy machine its client (jitter buffer, depayloader) drops frames that arrive late, so the test
    asserts that frames come and the stream ends, not how many: every frame through vmtsegment is
    counted by the element and CLI tests, which have no real-time transport in between."""
    clip = f"{FIXTURE_VIDEOS}/intact.mp4"
    server = subprocess.Popen([f"{PIPELINES}/rtsp.sh", clip, "--port", "0",
                               "--address", "127.0.0.1", "--mount", "/clip"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([server.stdout], [], [], 120)
        assert ready, "rtsp.sh printed nothing within 120 s"
        line = server.stdout.readline().strip()
        match = re.fullmatch(r"serving (rtsp://127\.0\.0\.1:\d+/clip)", line)
        assert match, f"unexpected first line {line!r}; stderr: {server.stderr.read()}"
        frames, ended = receive_frames(match.group(1), timeout=600)
        assert ended, f"no end of stream within 600 s ({len(frames)} frames arrived)"
        total = count_decoded_frames(clip)
        assert total == 24 and 1 <= len(frames) <= total, f"{len(frames)} of {total} frames arrived"
        sizes = {size for size, _ in frames}
        assert sizes == {clip_size(clip)}, f"frame sizes {sizes}, the clip is {clip_size(clip)}"
        stamps = [pts for _, pts in frames]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), stamps
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError("vmt-rtsp-serve did not stop on SIGTERM") from None


def clip_size(path):
    """(width, height) of a video file's first decoded frame."""
    pipeline = Gst.parse_launch(f'filesrc location="{path}" ! decodebin ! appsink name=sink')
    pipeline.set_state(Gst.State.PLAYING)
    try:
        sample = pipeline.get_by_name("sink").emit("try-pull-sample", 60 * Gst.SECOND)
        assert sample is not None, f"no frame decoded from {path}"
        caps = sample.get_caps().get_structure(0)
        return caps.get_value("width"), caps.get_value("height")
    finally:
        pipeline.set_state(Gst.State.NULL)


def test_crowded_overlay_renders_a_small_png():
    """crowded_overlay.py: a 768x576 PNG of 40 instances, under the 200 KB docs/ allows."""
    with temporary_folder() as folder:
        output = f"{folder}/crowded.png"
        result = run([sys.executable, f"{PIPELINES}/crowded_overlay.py", output], timeout=120)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
        with open(output, "rb") as f:
            png = f.read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", png[:16]
        assert struct.unpack(">II", png[16:24]) == (768, 576), struct.unpack(">II", png[16:24])
        assert len(png) < 200_000, f"{len(png)} bytes"


def receive_frames(url, timeout):
    """Decodes `url` until EOS, an error or the timeout: ([((width, height), pts)], whether EOS
    came)."""
    pipeline = Gst.parse_launch(f"rtspsrc location={url} protocols=tcp ! decodebin ! "
                                "fakesink name=sink signal-handoffs=true sync=false")
    frames = []

    def on_frame(_sink, buffer, pad):
        caps = pad.get_current_caps().get_structure(0)
        frames.append(((caps.get_value("width"), caps.get_value("height")), buffer.pts))

    pipeline.get_by_name("sink").connect("handoff", on_frame)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    try:
        message = bus.timed_pop_filtered(timeout * Gst.SECOND,
                                         Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if message is not None and message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            raise AssertionError(f"RTSP client: {error.message} ({debug})")
        return frames, message is not None
    finally:
        pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main([test_camera_dry_run_names_the_camera, test_camera_missing_device,
          test_camera_test_source_records, test_driving_mots_writes_mots_txt,
          test_rtsp_dry_run_uses_uridecodebin, test_rtsp_serves_a_clip,
          test_crowded_overlay_renders_a_small_png])
