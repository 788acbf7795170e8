#!/usr/bin/env python3
"""Plots vmt-train loss logs (loss.csv) as one PNG: the stages one after another on a common
step axis, each curve a moving average over the raw values (drawn faintly behind).

usage: plot-training.py STAGE.csv [STAGE.csv ...] -o loss.png [--labels a,b,c] [--window N]
       [--title TEXT]

A CSV is what `vmt-train train --log` writes (step, total, cls, bbox, giou, mask, dice, aux,
point_l1, point_dice, inc_mask, inc_dice, refined_mask, refined_dice, seconds, height, width).
Rows repeated by a resumed run (steps logged after the last checkpoint, then trained again)
keep their last occurrence. Needs matplotlib (tools/requirements.txt).
"""
import argparse
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

PANELS = [
    ("total loss (weighted)", ["total"]),
    ("detection terms (unweighted)", ["cls", "bbox", "giou"]),
    ("coarse mask terms", ["mask", "dice"]),
    ("refinement terms", ["point_l1", "point_dice", "refined_dice"]),
]


def read_log(path):
    """step → row (the last row logged for that step), in step order."""
    rows = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                rows[int(row["step"])] = {k: float(v) for k, v in row.items()}
            except (KeyError, ValueError) as error:
                sys.exit(f"plot-training: {path}: not a vmt-train loss log ({error})")
    if not rows:
        sys.exit(f"plot-training: {path}: no rows")
    return [rows[s] for s in sorted(rows)]


def moving_average(values, window):
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--labels", default="")
    parser.add_argument("--window", type=int, default=0, help="moving-average length (0: 1/50 of the steps, 5..500)")
    parser.add_argument("--title", default="vmt-train")
    args = parser.parse_args()
    labels = args.labels.split(",") if args.labels else [f"stage {i + 1}" for i in range(len(args.logs))]
    if len(labels) != len(args.logs):
        sys.exit("plot-training: one label per log")
    stages = [read_log(path) for path in args.logs]
    total_steps = sum(len(s) for s in stages)
    window = args.window or max(5, min(500, total_steps // 50))

    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 2.6 * len(PANELS)), sharex=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    offset = 0
    highest = [0.0] * len(PANELS)  # of the averaged curves: the raw values' spikes may go higher
    for stage_index, (rows, label) in enumerate(zip(stages, labels)):
        steps = [offset + r["step"] for r in rows]
        for panel, (axis, (title, keys)) in enumerate(zip(axes, PANELS)):
            for key_index, key in enumerate(keys):
                values = [r.get(key, 0.0) for r in rows]
                if not any(values):
                    continue  # e.g. refinement terms of a detector-only stage
                colour = colours[key_index % len(colours)]
                averaged = moving_average(values, window)
                highest[panel] = max(highest[panel], max(averaged))
                axis.plot(steps, values, color=colour, alpha=0.12, linewidth=0.5)
                axis.plot(steps, averaged, color=colour, linewidth=1.4, label=key)
            axis.set_title(title, fontsize=10)
        if stage_index > 0:
            for axis in axes:
                axis.axvline(offset, color="grey", linestyle="--", linewidth=0.8)
        axes[0].annotate(label, (offset, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                         xytext=(3, -12), textcoords="offset points")
        offset = steps[-1]
    for panel, axis in enumerate(axes):
        handles, names = axis.get_legend_handles_labels()
        unique = dict(zip(names, handles))
        if unique:
            axis.legend(unique.values(), unique.keys(), fontsize=8, loc="upper right")
        if highest[panel] > 0:
            axis.set_ylim(0, 1.15 * highest[panel])
        axis.grid(True, alpha=0.3)
    axes[-1].set_xlabel(f"step (stages one after another; curves: moving average of {window} steps)")
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"plot-training: wrote {args.output} ({total_steps} steps in {len(stages)} stage(s))")


if __name__ == "__main__":
    main()
