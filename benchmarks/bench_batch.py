#!/usr/bin/env python3
"""vmt-batch throughput: videos per minute of a local Ray instance with one worker (one thread,
or --cpus-per-task 2 for two threads) and with two workers, side by side, repeated.

    .venv/bin/python benchmarks/bench_batch.py [--videos 8] [--frames 24] [--repeats 3] \
        [--build build]

A vmt-synth dataset (128x96 frame folders) is segmented with the shipped demo model at input
size 96 on the CPU; each configuration runs in turn in every round (so they see the same load),
with --redo and an output folder of its own. Wall time is vmt-batch's own, from start to summary:
Ray's start-up, the workers' start and model loading included, as a user sees it. Prints each
run, then per configuration the median and minimum videos/min and the median ratio to one
worker. Never run as a test."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = [("1 worker, 1 thread", ["--workers", "1", "--cpus-per-task", "1"]),
           ("1 worker, 2 threads", ["--workers", "1", "--cpus-per-task", "2"]),
           ("2 workers, 1 thread each", ["--workers", "2", "--cpus-per-task", "1"])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    synth = os.path.join(args.build, "tools", "synth", "vmt-synth")
    cli = os.path.join(args.build, "tools", "segment-video", "vmt-segment-video")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst")

    with tempfile.TemporaryDirectory(prefix="vmt-bench-batch-") as folder:
        env["RAY_TMPDIR"] = env["TMPDIR"] = folder  # Ray's sessions and logs go with the folder
        subprocess.run([synth, "--out", folder, "--seed", "5", "--split", "valid", "--videos",
                        str(args.videos), "--frames", str(args.frames), "--width", "128",
                        "--height", "96", "--quiet"], check=True)
        dataset = os.path.join(folder, "valid", "instances.json")
        print(f"{args.videos} videos x {args.frames} frames (128x96), demo model, input size 96, "
              f"CPU; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        rates = {name: [] for name, _ in CONFIGS}
        for round_ in range(args.repeats):
            for i, (name, options) in enumerate(CONFIGS):
                out = os.path.join(folder, f"out-{i}")
                result = subprocess.run(
                    [sys.executable, os.path.join(ROOT, "tools", "batch", "vmt-batch"), dataset,
                     "-o", out, "--redo", "--no-progress", "--segment-video", cli, "--model",
                     os.path.join(ROOT, "pipelines", "demo", "vmt_demo.safetensors"),
                     "--input-size", "96", *options], env=env, capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"vmt-batch failed ({name}): {result.stderr[-2000:]}")
                with open(os.path.join(out, "summary.json")) as f:
                    summary = json.load(f)
                rates[name].append(summary["videos_per_minute"])
                print(f"round {round_ + 1}  {name:26s} {summary['seconds']:6.1f} s  "
                      f"{summary['videos_per_minute']:6.2f} videos/min  "
                      f"{summary['fps']:5.2f} frames/s", flush=True)
        base = rates[CONFIGS[0][0]]
        print(f"\n{'configuration':26s} {'median':>8s} {'min':>8s}  (videos/min)  ratio to 1x1")
        for name, _ in CONFIGS:
            ratio = statistics.median(r / b for r, b in zip(rates[name], base))
            print(f"{name:26s} {statistics.median(rates[name]):8.2f} {min(rates[name]):8.2f}"
                  f"  {'':12s}  {ratio:.2f}")


if __name__ == "__main__":
    main()
