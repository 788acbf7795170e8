#!/usr/bin/env python3
"""Renders one crowded vmtoverlay frame to a PNG (the picture in docs/elements.md).

  .venv/bin/python pipelines/crowded_overlay.py docs/vmtoverlay-crowded.png

Two real pipelines: `filesrc (the demo clip) ! decodebin ! videoconvert ! videoscale ! 768x576 !
appsink` takes the first frame of pipelines/demo/demo.mp4, scaled up 3x (nearest neighbour,
which keeps the PNG small); the script gives a copy of it a GstVmtFrameMeta with 40
instances (wobbly ellipse masks, labels in several scripts, scores from 0.2 to 0.99) and pushes
it through `appsrc ! vmtoverlay ! videoconvert ! pngenc ! filesink`. There are more instances
than the frame has room for captions, so the picture shows the caption layout: captions moved
beside and inside their boxes, shrunk, and the lowest-scoring hidden behind a "+N hidden"
counter. (A pad probe cannot add the meta from Python: the buffer it sees is not writable.)
In the build tree set GST_PLUGIN_PATH=build/gst and GI_TYPELIB_PATH, LD_LIBRARY_PATH to
build/gst/meta (docs/pipelines.md).
"""
import argparse
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVmt", "1.0")
from gi.repository import Gst, GstVmt  # noqa: E402
import numpy as np  # noqa: E402

WIDTH, HEIGHT = 768, 576
LABELS = ["pedestrian", "piéton", "Fußgänger", "пешеход", "πεζός", "cyclist", "car", "bicycle"]
DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo", "demo.mp4")


def crowd(count, seed):
    """`count` instances: (track, class, label, score, x, y, w, h, mask bytes), fixed by `seed`.
    Half of them stand in a dense group in the middle of the frame."""
    rng = np.random.default_rng(seed)
    instances = []
    for i in range(count):
        w = int(rng.integers(WIDTH // 20, WIDTH // 6))
        h = int(rng.integers(HEIGHT // 7, HEIGHT * 3 // 8))
        if i % 2:  # the group
            x = int(rng.integers(WIDTH // 3, WIDTH * 2 // 3 - w // 2))
            y = int(rng.integers(HEIGHT * 3 // 10, HEIGHT * 3 // 4 - h // 2))
        else:
            x, y = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
        yy, xx = np.mgrid[0:h, 0:w]
        dx, dy = (xx + 0.5) / w * 2 - 1, (yy + 0.5) / h * 2 - 1
        wobble = 0.08 * np.sin(0.3 * xx + i) * np.cos(0.2 * yy)
        mask = (dx * dx + dy * dy < 0.9 + wobble).astype(np.uint8)
        label = LABELS[i % len(LABELS)]
        score = float(rng.uniform(0.2, 0.99))
        instances.append((i + 1, i % len(LABELS) + 1, label, score, x, y, w, h, mask.tobytes()))
    return instances


def first_frame(video):
    """The first frame of `video` at WIDTH x HEIGHT, RGB, as a Gst.Sample; or an error string."""
    pipeline = Gst.parse_launch(
        "filesrc name=src ! queue ! decodebin ! videoconvert ! videoscale method=nearest-neighbour ! "
        f"video/x-raw,width={WIDTH},height={HEIGHT},format=RGB ! appsink name=sink sync=false")
    pipeline.get_by_name("src").set_property("location", video)
    pipeline.set_state(Gst.State.PLAYING)
    sample = pipeline.get_by_name("sink").emit("try-pull-sample", 60 * Gst.SECOND)
    pipeline.set_state(Gst.State.NULL)
    return sample if sample is not None else f"no frame decoded from {video} within 60 s"


def render(sample, instances, output):
    """Pushes a copy of the sample's frame, with `instances` as its metadata, through vmtoverlay
    into a PNG. Returns an error string or None."""
    buffer = sample.get_buffer().copy_deep()  # a buffer of our own: writable, so it takes a meta
    meta = GstVmt.buffer_add_vmt_frame_meta(buffer, 0, WIDTH, HEIGHT)
    for track, class_id, label, score, x, y, w, h, mask in instances:
        meta.add_instance(track, class_id, label, score, x, y, w, h, 0, 0,
                          GstVmt.Mask.new(w, h, mask))
    pipeline = Gst.parse_launch(
        "appsrc name=src format=time ! vmtoverlay mask-alpha=0.4 ! videoconvert ! "
        "pngenc compression-level=9 ! filesink name=sink")
    source = pipeline.get_by_name("src")
    source.set_property("caps", sample.get_caps())
    pipeline.get_by_name("sink").set_property("location", output)
    pipeline.set_state(Gst.State.PLAYING)
    source.emit("push-buffer", buffer)
    source.emit("end-of-stream")
    message = pipeline.get_bus().timed_pop_filtered(
        60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if message is None:
        return "no EOS within 60 s"
    if message.type == Gst.MessageType.ERROR:
        error, _ = message.parse_error()
        return f"error from {message.src.get_name()}: {error.message}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the PNG to write")
    parser.add_argument("--video", default=DEMO, help="video whose first frame is the background")
    parser.add_argument("--instances", type=int, default=40)
    args = parser.parse_args()

    Gst.init(None)
    sample = first_frame(args.video)
    error = sample if isinstance(sample, str) else render(sample, crowd(args.instances, seed=17),
                                                          args.output)
    if error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
