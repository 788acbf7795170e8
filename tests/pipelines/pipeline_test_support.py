"""Shared helpers of the Python pipeline tests (tests/pipelines/test_*.py): paths, running a
program with a timeout, counting decoded frames with GStreamer, a minimal check framework.

The tests run under meson (`meson test -C build --suite pipelines`), which sets GST_PLUGIN_PATH,
GI_TYPELIB_PATH, LD_LIBRARY_PATH, GST_REGISTRY, VMT_SOURCE_ROOT and VMT_TEST_MODEL. Exit code 77
means skipped (PyGObject or GStreamer missing)."""
import os
import subprocess
import sys
import tempfile
import traceback

try:
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError) as error:
    print(f"SKIP: {error}")
    sys.exit(77)

Gst.init(None)

SOURCE_ROOT = os.environ.get("VMT_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO_VIDEO = os.path.join(SOURCE_ROOT, "pipelines", "demo", "demo.mp4")
DEMO_MODEL = os.path.join(SOURCE_ROOT, "pipelines", "demo", "vmt_demo.safetensors")
FIXTURE_VIDEOS = os.path.join(SOURCE_ROOT, "tests", "fixtures", "videos")
TEST_MODEL = os.environ.get("VMT_TEST_MODEL", "")


def run(command, timeout, **kwargs):
    """Runs `command`; fails (never hangs) when it takes longer than `timeout` seconds."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(f"{command[0]} did not finish within {timeout} s: "
                             f"{expired.stderr!r}") from None


def count_decoded_frames(path, timeout=60):
    """Frames `filesrc ! decodebin` gets out of `path`; raises on an error or a timeout."""
    pipeline = Gst.parse_launch("filesrc name=src ! decodebin ! fakesink name=sink "
                                "signal-handoffs=true sync=false")
    pipeline.get_by_name("src").set_property("location", path)
    frames = [0]
    pipeline.get_by_name("sink").connect("handoff", lambda *_: frames.__setitem__(0, frames[0] + 1))
    pipeline.set_state(Gst.State.PLAYING)
    message = pipeline.get_bus().timed_pop_filtered(
        timeout * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert message is not None, f"decoding {path} timed out"
    if message.type == Gst.MessageType.ERROR:
        error, _ = message.parse_error()
        raise AssertionError(f"cannot decode {path}: {error.message}")
    return frames[0]


def decoded_frames(path, timeout=60):
    """What `filesrc ! decodebin` gets out of `path`: a list of (PTS, stream time) per frame (the
    stream time is the PTS mapped through the segment, so an MP4 edit list's offset is taken out)
    and the duration the pipeline reports. Raises on an error or a timeout."""
    pipeline = Gst.parse_launch("filesrc name=src ! decodebin ! fakesink name=sink sync=false")
    pipeline.get_by_name("src").set_property("location", path)
    frames = []

    def record(pad, info):
        buffer = info.get_buffer()
        segment = pad.get_sticky_event(Gst.EventType.SEGMENT, 0).parse_segment()
        frames.append((buffer.pts, segment.to_stream_time(Gst.Format.TIME, buffer.pts)))
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, record)
    pipeline.set_state(Gst.State.PLAYING)
    message = pipeline.get_bus().timed_pop_filtered(
        timeout * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    found, duration = pipeline.query_duration(Gst.Format.TIME)
    pipeline.set_state(Gst.State.NULL)
    assert message is not None, f"decoding {path} timed out"
    if message.type == Gst.MessageType.ERROR:
        error, _ = message.parse_error()
        raise AssertionError(f"cannot decode {path}: {error.message}")
    return frames, duration if found else None


def temporary_folder():
    return tempfile.TemporaryDirectory(prefix="vmt-pipeline-test-")


def main(tests):
    """Runs each test function, prints ok/FAIL per test, exits 1 when one failed."""
    failed = 0
    for test in tests:
        try:
            test()
            print(f"ok: {test.__name__}", flush=True)
        except Exception:  # noqa: BLE001 - report every failure, then go on
            failed += 1
            print(f"FAIL: {test.__name__}", flush=True)
            traceback.print_exc()
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
