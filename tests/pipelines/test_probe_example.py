#!/usr/bin/env python3
"""pipelines/probe_example.py (the Python example of docs/pipelines.md) on the demo video with the
demo model: it reads GstVmtFrameMeta in a pad probe and prints track ids, labels and mask shapes."""
import importlib.util
import re
import sys

from pipeline_test_support import DEMO_VIDEO, SOURCE_ROOT, main, run

if importlib.util.find_spec("numpy") is None:  # the example needs it (the project's .venv has it)
    print("SKIP: numpy is not installed for this interpreter")
    sys.exit(77)

EXAMPLE = f"{SOURCE_ROOT}/pipelines/probe_example.py"
INSTANCE = re.compile(r"^frame (\d+) track (\d+) label (\S+) score ([0-9.]+) "
                      r"box \((\d+), (\d+), (\d+), (\d+)\) mask \((\d+), (\d+)\) area (\d+) "
                      r"full-frame area (\d+)$")


def test_prints_tracks_and_masks():
    """12 frames: instance lines with a track id and a mask whose shape is the box's."""
    result = run([sys.executable, EXAMPLE, DEMO_VIDEO, "--num-frames", "12", "--input-size", "96"],
                 timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    lines = [INSTANCE.match(line) for line in result.stdout.splitlines()]
    instances = [m for m in lines if m]
    assert instances, f"no instance lines: {result.stdout[-2000:]}"
    frames = {int(m.group(1)) for m in instances}
    assert frames <= set(range(12)), frames
    for m in instances:
        box_w, box_h = int(m.group(7)), int(m.group(8))
        mask_h, mask_w = int(m.group(9)), int(m.group(10))
        assert (mask_h, mask_w) == (box_h, box_w), m.group(0)
        assert int(m.group(11)) == int(m.group(12)), f"crop and frame areas differ: {m.group(0)}"
        assert 0.0 <= float(m.group(4)) <= 1.0
    tracks = sorted({int(m.group(2)) for m in instances})
    assert f"tracks seen: {tracks}" in result.stdout, result.stdout[-500:]


def test_missing_video_is_an_error():
    """A missing file: exit status 1 and an error line, no traceback."""
    result = run([sys.executable, EXAMPLE, "/nonexistent/video.mp4", "--num-frames", "2"],
                 timeout=120)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "error from" in result.stderr and "Traceback" not in result.stderr, result.stderr


if __name__ == "__main__":
    main([test_prints_tracks_and_masks, test_missing_video_is_an_error])
