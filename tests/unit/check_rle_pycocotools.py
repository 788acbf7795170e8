#!/usr/bin/env python3
"""Compares our RLE encoder/decoder (through rle_tool) with pycocotools on fresh random masks.

usage: check_rle_pycocotools.py <rle_tool>
Exits 77 (meson: skipped) when pycocotools or numpy cannot be imported.
"""
import subprocess
import sys

try:
    import numpy as np
    from pycocotools import mask as mask_utils
except ImportError as error:  # pragma: no cover - depends on the environment
    print(f"SKIP: pycocotools/numpy not importable ({error})")
    sys.exit(77)


def random_masks(rng):
    masks = [np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8),
             np.zeros((7, 9), np.uint8), np.ones((13, 5), np.uint8)]
    for _ in range(120):
        h, w = int(rng.integers(1, 160)), int(rng.integers(1, 160))
        kind = rng.integers(0, 3)
        if kind == 0:  # salt and pepper: many short runs
            m = rng.random((h, w)) < rng.random()
        elif kind == 1:  # blocks: long runs, often touching the border
            m = np.zeros((h, w), bool)
            for _ in range(int(rng.integers(1, 5))):
                y0, y1 = sorted(rng.integers(0, h + 1, 2))
                x0, x1 = sorted(rng.integers(0, w + 1, 2))
                m[y0:y1, x0:x1] = True
        else:  # disc, possibly cut by the border
            y, x = np.mgrid[0:h, 0:w]
            cy, cx, r = rng.integers(-10, h + 10), rng.integers(-10, w + 10), rng.integers(1, 80)
            m = (y - cy) ** 2 + (x - cx) ** 2 <= r * r
        masks.append(m.astype(np.uint8))
    # A few full-HD masks: counts need several characters.
    for _ in range(3):
        m = np.zeros((1080, 1920), np.uint8)
        y0, x0 = rng.integers(0, 540), rng.integers(0, 960)
        m[y0:y0 + int(rng.integers(1, 540)), x0:x0 + int(rng.integers(1, 960))] = 1
        masks.append(m)
    return masks


def run(tool, mode, text):
    done = subprocess.run([tool, mode], input=text, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr)
        sys.exit(1)
    return done.stdout.splitlines()


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng()  # fresh masks on every run
    masks = random_masks(rng)
    expected = []
    for m in masks:
        rle = mask_utils.encode(np.asfortranarray(m))
        bbox = " ".join(str(int(v)) for v in mask_utils.toBbox(rle))
        expected.append((rle["counts"].decode("ascii"), int(mask_utils.area(rle)), bbox))

    encode_input = "".join(f"{m.shape[0]} {m.shape[1]} {''.join(map(str, m.reshape(-1)))}\n"
                           for m in masks)
    got = run(tool, "encode", encode_input)
    failures = 0
    for i, (m, line, (counts, area, bbox)) in enumerate(zip(masks, got, expected)):
        want = f"{counts} {area} {bbox}"
        if line != want:
            failures += 1
            print(f"mask {i} ({m.shape[0]}x{m.shape[1]}): ours {line[:80]!r} pycocotools {want[:80]!r}")
    if len(got) != len(masks):
        print(f"rle_tool answered {len(got)} of {len(masks)} masks")
        failures += 1

    decode_input = "".join(f"{m.shape[0]} {m.shape[1]} {c}\n" for m, (c, _, _) in zip(masks, expected))
    decoded = run(tool, "decode", decode_input)
    for i, (m, bits) in enumerate(zip(masks, decoded)):
        if bits != "".join(map(str, m.reshape(-1))):
            failures += 1
            print(f"mask {i}: decoding pycocotools' string does not give the mask back")

    print(f"{len(masks)} masks compared with pycocotools, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
