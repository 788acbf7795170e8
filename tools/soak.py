#!/usr/bin/env python3
"""Soak run: a live source through vmtsegment (online) and vmtoverlay for a given time, sampling
the process's resident memory (and the GPU memory it holds, where nvidia-smi is present) at a fixed
interval, then printing the memory growth as a least-squares slope in MB per hour. Not a test:
it prints numbers (docs/benchmarks.md, "Soak").

  GST_PLUGIN_PATH=build/gst .venv/bin/python tools/soak.py --minutes 60 --model FILE
  tools/soak.py --minutes 3 --interval 10          # a quick check of the script itself

The pipeline runs in this process (PyGObject), so vmtsegment's `stats` can be read at each
sample: frames in/out/skipped and the mean inference time. The slope leaves out the warm-up: the
first --warmup-seconds (model load, allocator growth) and the time until tube-length frames were
inferred (the online window and its feature cache fill up; on a CPU a 30-frame window takes
minutes when most live frames pass skipped). Goal: under 1 MB/h. Exit status: 0
done (whatever the slope), 1 the pipeline failed, 2 bad command line."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_MODEL = os.path.join(HERE, "..", "pipelines", "demo", "vmt_demo.safetensors")


def rss_mb(pid="self"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def gpu_mb(pid):
    """GPU memory of `pid` in MB from nvidia-smi, or None (no GPU tools, or not on a GPU)."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) == 2 and fields[0] == str(pid):
            return float(fields[1])
    return None


def slope_per_hour(samples):
    """Least-squares slope of (seconds, MB) points, in MB per hour; None for fewer than 2."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return cov / var * 3600.0


def stats_of(segment):
    structure = segment.get_property("stats")
    if structure is None:
        return {}
    values = {}
    for key in ("frames-in", "frames-out", "frames-skipped", "tubes-run", "instances"):
        ok, value = structure.get_uint64(key)
        values[key] = value if ok else 0
    ok, mean = structure.get_double("mean-tube-ms")
    values["mean-tube-ms"] = mean if ok else 0.0
    return values


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run (60)")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples (30)")
    parser.add_argument("--warmup-seconds", type=float, default=60.0,
                        help="samples before this are left out of the slope (60)")
    parser.add_argument("--model", default=DEMO_MODEL, help="model file (the demo model)")
    parser.add_argument("--device", default="auto", help="vmtsegment device (auto)")
    parser.add_argument("--input-size", type=int, default=None,
                        help="vmtsegment input-size (unset: the model file's preference)")
    parser.add_argument("--size", default="320x240", help="frame size WxH (320x240)")
    parser.add_argument("--fps", type=int, default=10, help="frames per second of the source (10)")
    parser.add_argument("--tube-length", type=int, default=30, help="online window (30)")
    args = parser.parse_args()
    if args.minutes <= 0 or args.interval <= 0 or args.warmup_seconds < 0:
        parser.error("--minutes and --interval must be > 0, --warmup-seconds >= 0")
    width, _, height = args.size.partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        parser.error(f"--size must be WxH, not {args.size!r}")
    if args.fps < 1 or (args.input_size is not None and args.input_size < 0) or args.tube_length < 1:
        parser.error("--fps and --tube-length must be >= 1, --input-size >= 0")
    args.width, args.height = int(width), int(height)
    return args


def main():
    args = parse_args()
    Gst.init(None)
    description = (
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={args.width},"
        f"height={args.height},framerate={args.fps}/1 ! videoconvert ! "
        f"vmtsegment name=segment mode=online tube-length={args.tube_length} "
        + ("" if args.input_size is None else f"input-size={args.input_size} ")
        + f"device={args.device} ! vmtoverlay ! videoconvert ! "
        "fakesink sync=false")
    pipeline = Gst.parse_launch(description)
    segment = pipeline.get_by_name("segment")
    segment.set_property("model", args.model)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        message = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        print(f"soak: the pipeline did not start: {message.parse_error()[0].message if message else ''}",
              file=sys.stderr)
        return 1
    print(f"soak: {description}")
    print(f"soak: model {args.model}, {args.minutes:g} min, a sample every {args.interval:g} s")
    print(f"{'seconds':>8} {'RSS MB':>9} {'GPU MB':>8} {'frames in':>10} {'out':>8} "
          f"{'skipped':>8} {'tube ms':>8}")

    loop = GLib.MainLoop()
    start = time.monotonic()
    samples, gpu_samples, failure = [], [], []

    def sample():
        elapsed = time.monotonic() - start
        rss, gpu = rss_mb(), gpu_mb(os.getpid())
        s = stats_of(segment)
        print(f"{elapsed:8.0f} {rss:9.1f} {'-' if gpu is None else f'{gpu:8.0f}':>8} "
              f"{s.get('frames-in', 0):10d} {s.get('frames-out', 0):8d} "
              f"{s.get('frames-skipped', 0):8d} {s.get('mean-tube-ms', 0):8.1f}", flush=True)
        inferred = s.get("frames-in", 0) - s.get("frames-skipped", 0)
        # the warm-up also lasts until the online window is full (its frames' features cached)
        if elapsed >= args.warmup_seconds and inferred >= args.tube_length:
            samples.append((elapsed, rss))
            if gpu is not None:
                gpu_samples.append((elapsed, gpu))
        if elapsed >= args.minutes * 60:
            loop.quit()
            return False
        return True

    def on_message(_, message):
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            failure.append(f"{message.src.get_name()}: {error.message}")
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            failure.append("unexpected EOS")
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(int(args.interval * 1000), sample)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, lambda: loop.quit() or False)
    sample()
    loop.run()
    final = stats_of(segment)
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    if failure:
        print(f"soak: failed: {failure[0]}", file=sys.stderr)
        return 1

    minutes = (time.monotonic() - start) / 60
    slope = slope_per_hour(samples)
    print(f"soak: {minutes:.1f} min, {final.get('frames-out', 0)} frames out "
          f"({final.get('frames-skipped', 0)} skipped), {len(samples)} samples after the warm-up")
    if slope is None:
        print("soak: RSS slope: not enough samples after the warm-up (run longer)")
    else:
        first, last = samples[0][1], samples[-1][1]
        print(f"soak: RSS slope {slope:+.2f} MB/h (from {first:.1f} to {last:.1f} MB; goal < 1 MB/h)")
    gpu_slope = slope_per_hour(gpu_samples)
    if gpu_slope is not None:
        print(f"soak: GPU memory slope {gpu_slope:+.2f} MB/h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
