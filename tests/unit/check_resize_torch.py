#!/usr/bin/env python3
"""Compares resize_probabilities (through rle_tool) with torch F.interpolate(bilinear,
align_corners=False) > 0.5 on random probability maps.

usage: check_resize_torch.py <rle_tool>
Exits 77 (meson: skipped) when torch or numpy cannot be imported. Pixels whose torch value lies
within 1e-6 of 0.5 may differ (float rounding order); every other pixel must agree.
"""
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as error:  # pragma: no cover - depends on the environment
    print(f"SKIP: torch/numpy not importable ({error})")
    sys.exit(77)


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng()
    cases = [((1, 1), (5, 7)), ((2, 2), (1, 1)), ((7, 5), (7, 5)), ((10, 13), (37, 41)),
             ((64, 48), (17, 29)), ((90, 160), (720, 1280)), ((33, 33), (100, 3))]
    for _ in range(10):
        cases.append(((int(rng.integers(1, 60)), int(rng.integers(1, 60))),
                      (int(rng.integers(1, 200)), int(rng.integers(1, 200)))))
    maps, lines = [], []
    for (ih, iw), (oh, ow) in cases:
        p = rng.random((ih, iw), dtype=np.float32)
        maps.append(p)
        values = " ".join(repr(float(v)) for v in p.reshape(-1))
        lines.append(f"{ih} {iw} {oh} {ow} {values}\n")
    done = subprocess.run([tool, "resize"], input="".join(lines), capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr)
        sys.exit(1)
    got = done.stdout.splitlines()
    failures = 0
    for ((ih, iw), (oh, ow)), p, bits in zip(cases, maps, got):
        value = F.interpolate(torch.from_numpy(p)[None, None], size=(oh, ow), mode="bilinear",
                              align_corners=False)[0, 0].numpy()
        ours = np.frombuffer(bits.encode(), np.uint8).reshape(oh, ow) == ord("1")
        differ = (ours != (value > 0.5)) & (np.abs(value - 0.5) > 1e-6)
        if differ.any():
            failures += 1
            print(f"{ih}x{iw} -> {oh}x{ow}: {int(differ.sum())} pixels differ from torch")
    if len(got) != len(cases):
        print(f"rle_tool answered {len(got)} of {len(cases)} maps")
        failures += 1
    print(f"{len(cases)} resizes compared with torch, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
