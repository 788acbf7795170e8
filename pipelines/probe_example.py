#!/usr/bin/env python3
"""Reads VMT results in a pad probe: track ids, labels, scores, boxes and masks (numpy).

  .venv/bin/python pipelines/probe_example.py pipelines/demo/demo.mp4 --num-frames 12

prints one line per instance and frame (wrapped here):

  frame 0 track 1 label ring score 0.223 box (134, 22, 55, 47) mask (47, 55) area 1297
  full-frame area 1297

The pipeline is `filesrc ! queue ! decodebin ! videoconvert ! vmtsegment ! fakesink` (the queue
keeps a damaged file from stalling decodebin, docs/pipelines.md); the probe sits on vmtsegment's
source pad. GstVmtFrameMeta comes from the GstVmt-1.0 typelib (PyGObject, no custom
bindings): in the build tree set GI_TYPELIB_PATH and LD_LIBRARY_PATH to build/gst/meta and
GST_PLUGIN_PATH to build/gst (docs/pipelines.md). Needs numpy (the project's .venv has it).
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVmt", "1.0")
from gi.repository import GLib, Gst, GstVmt  # noqa: E402
import numpy as np  # noqa: E402


def on_buffer(pad, info, seen):
    """Buffer probe: prints every instance of the frame; never changes the buffer."""
    buffer = info.get_buffer()
    meta = GstVmt.buffer_get_vmt_frame_meta(buffer)
    if meta is None:
        print(f"frame without metadata at pts {buffer.pts}")
        return Gst.PadProbeReturn.OK
    for i in range(meta.get_n_instances()):
        inst = meta.get_instance(i)  # a copy of the instance; shares the mask
        seen.add(inst.track_id)
        mask = inst.get_mask()
        if mask is None:  # a box without a mask
            print(f"frame {meta.frame_index} track {inst.track_id} label {inst.label} no mask")
            continue
        # the mask covers the box: height × width bytes, 0 or 1
        crop = np.frombuffer(mask.get_data(), np.uint8).reshape(mask.get_height(), mask.get_width())
        # the same mask pasted into a frame-sized bitmap
        full = np.frombuffer(meta.render_mask_bytes(i).get_data(), np.uint8)
        full = full.reshape(meta.height, meta.width)
        print(f"frame {meta.frame_index} track {inst.track_id} label {inst.label} "
              f"score {inst.score:.3f} box {(inst.x, inst.y, inst.width, inst.height)} "
              f"mask {crop.shape} area {int(crop.sum())} full-frame area {int(full.sum())}")
    return Gst.PadProbeReturn.OK


def limit_frames(pad, info, state):
    """Sink-pad probe for --num-frames: the first N frames go in, then EOS, the rest is dropped
    (later frames meet an EOS pad, which stops the decoder)."""
    state["seen"] += 1
    if state["seen"] <= state["limit"]:
        return Gst.PadProbeReturn.OK
    if state["seen"] == state["limit"] + 1:
        pad.send_event(Gst.Event.new_eos())
    return Gst.PadProbeReturn.DROP


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", help="any video file GStreamer decodes")
    parser.add_argument("--model", help="model file (default: the shipped demo model)")
    parser.add_argument("--input-size", type=int, default=96, help="vmtsegment input-size (96)")
    parser.add_argument("--mode", choices=["online", "offline"], default="online")
    parser.add_argument("--num-frames", type=int, default=-1, help="stop after N frames")
    args = parser.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        "filesrc name=src ! queue ! decodebin ! videoconvert ! vmtsegment name=seg ! fakesink")
    pipeline.get_by_name("src").set_property("location", args.video)
    segment = pipeline.get_by_name("seg")
    segment.set_property("input-size", args.input_size)
    Gst.util_set_object_arg(segment, "mode", args.mode)
    if args.model:
        segment.set_property("model", args.model)

    tracks = set()
    segment.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_buffer, tracks)
    if args.num_frames > 0:
        segment.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, limit_frames,
                                                 {"seen": 0, "limit": args.num_frames})

    loop = GLib.MainLoop()
    status = {"code": 0}

    def on_message(bus, message):
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print(f"error from {message.src.get_name()}: {error.message}", file=sys.stderr)
            status["code"] = 1
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    pipeline.set_state(Gst.State.PLAYING)
    try:
        loop.run()
    finally:
        pipeline.set_state(Gst.State.NULL)
    print(f"tracks seen: {sorted(tracks)}")
    return status["code"]


if __name__ == "__main__":
    sys.exit(main())
