#!/usr/bin/env python3
"""Reads vmt-synth's YouTube-VIS JSON with pycocotools' mask API, for every style.

usage: check_synth_pycocotools.py <vmt-synth>
For each style (classic, randomised with per-video frame sizes, heldout) generates a small
dataset into a temporary folder, then checks with pycocotools that every segmentation decodes,
that `areas` and `bboxes` equal pycocotools' area / toBbox of the decoded mask, that null
segmentations have null areas and boxes, that masks of one frame never overlap (z-order), that
file names, frame sizes and category ids are consistent, and that the JPEGs have the video's size.
Then checks that bad option combinations exit with status 2 and a message naming the option.
Exits 77 (meson: skipped) when pycocotools or numpy cannot be imported.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from pycocotools import mask as mask_utils
except ImportError as error:  # pragma: no cover - depends on the environment
    print(f"SKIP: pycocotools/numpy not importable ({error})")
    sys.exit(77)

WIDTH, HEIGHT, FRAMES = 97, 61, 12


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def jpeg_size(path):
    """(width, height) from a baseline JPEG's SOF0 marker."""
    with open(path, "rb") as f:
        data = f.read()
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            fail(f"{path}: not a JPEG marker at {i}")
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    fail(f"{path}: no frame header")


def check_split(split_dir, expected_videos, fixed_size):
    with open(os.path.join(split_dir, "instances.json"), encoding="utf-8") as f:
        data = json.load(f)
    videos = {v["id"]: v for v in data["videos"]}
    if len(videos) != expected_videos:
        fail(f"{split_dir}: {len(videos)} videos, expected {expected_videos}")
    category_ids = {c["id"] for c in data["categories"]}
    if category_ids != set(range(1, len(category_ids) + 1)):
        fail(f"category ids are not 1..N: {sorted(category_ids)}")
    for video in videos.values():
        if video["length"] != FRAMES or (fixed_size and (video["width"], video["height"]) != fixed_size):
            fail(f"video {video['id']} has the wrong size or length")
        if len(video["file_names"]) != FRAMES:
            fail(f"video {video['id']}: {len(video['file_names'])} file names")
        for name in video["file_names"]:
            path = os.path.join(split_dir, "JPEGImages", name)
            if not os.path.isfile(path):
                fail(f"missing frame {name}")
            if jpeg_size(path) != (video["width"], video["height"]):
                fail(f"{name} is {jpeg_size(path)}, the video says {video['width']}x{video['height']}")
    checked = 0
    union = {}  # (video, frame) -> pixels claimed so far
    for ann in data["annotations"]:
        video = videos[ann["video_id"]]
        height, width = video["height"], video["width"]
        if ann["category_id"] not in category_ids or ann["iscrowd"] != 0:
            fail(f"annotation {ann['id']}: bad category or iscrowd")
        if (ann["height"], ann["width"]) != (height, width):
            fail(f"annotation {ann['id']}: size differs from its video")
        if not (len(ann["segmentations"]) == len(ann["areas"]) == len(ann["bboxes"]) == video["length"]):
            fail(f"annotation {ann['id']}: per-frame lists do not match the video length")
        if all(s is None for s in ann["segmentations"]):
            fail(f"annotation {ann['id']} is never visible")
        for frame, (seg, area, box) in enumerate(zip(ann["segmentations"], ann["areas"], ann["bboxes"])):
            if seg is None:
                if area is not None or box is not None:
                    fail(f"annotation {ann['id']} frame {frame}: null mask with an area or box")
                continue
            if seg["size"] != [height, width]:
                fail(f"annotation {ann['id']} frame {frame}: size {seg['size']}")
            rle = {"size": seg["size"], "counts": seg["counts"].encode("ascii")}
            mask = mask_utils.decode(rle)
            if mask.shape != (height, width):
                fail(f"annotation {ann['id']} frame {frame}: decoded shape {mask.shape}")
            if int(mask.sum()) != area or int(mask_utils.area(rle)) != area or area == 0:
                fail(f"annotation {ann['id']} frame {frame}: area {area} != {int(mask.sum())}")
            if not np.allclose(mask_utils.toBbox(rle), box):
                fail(f"annotation {ann['id']} frame {frame}: bbox {box} != {mask_utils.toBbox(rle)}")
            if mask_utils.encode(np.asfortranarray(mask))["counts"].decode("ascii") != seg["counts"]:
                fail(f"annotation {ann['id']} frame {frame}: counts are not pycocotools' own encoding")
            key = (ann["video_id"], frame)
            claimed = union.setdefault(key, np.zeros_like(mask))
            if np.any(claimed & mask):
                fail(f"annotation {ann['id']} frame {frame}: overlaps another object's mask")
            claimed |= mask
            checked += 1
    if checked == 0:
        fail(f"{split_dir}: no masks at all")
    return checked, {(v["width"], v["height"]) for v in videos.values()}


def run(tool, *args):
    return subprocess.run([tool, *args, "--quiet"], capture_output=True, text=True, check=False)


def check_styles(tool, out):
    common = ["--seed", "5", "--frames", str(FRAMES), "--objects", "3:6"]
    size = ["--width", str(WIDTH), "--height", str(HEIGHT)]
    runs = [
        ("classic", ["--videos", "3", "--valid", "2", *size], [("train", 3), ("valid", 2)], True),
        ("randomised", ["--videos", "6", "--valid", "2", "--short-side", "40:80"], [("train", 6), ("valid", 2)], False),
        ("heldout", ["--videos", "3", *size], [("valid", 3)], True),
    ]
    for style, args, splits, fixed in runs:
        done = run(tool, "--out", os.path.join(out, style), "--style", style, *common, *args)
        if done.returncode != 0:
            fail(f"vmt-synth --style {style} failed: {done.stderr}")
        for split, count in splits:
            checked, sizes = check_split(os.path.join(out, style, split), count, (WIDTH, HEIGHT) if fixed else None)
            print(f"OK: {style}/{split}: {checked} masks agree with pycocotools; frame sizes {sorted(sizes)}")
            if not fixed and split == "train" and len(sizes) < 2:
                fail("randomised videos should draw several frame sizes")


def check_refusals(tool, out):
    cases = [
        (["--style", "fancy"], "--style"),
        (["--style", "heldout", "--split", "train"], "evaluation only"),
        (["--style", "heldout", "--valid", "2"], "evaluation only"),
        (["--style", "randomised", "--noise", "4"], "--noise"),
        (["--style", "classic", "--short-side", "100:200"], "--short-side"),
        (["--style", "randomised", "--short-side", "300:200"], "--short-side"),
        (["--jobs", "0"], "--jobs"),
        (["--style", "randomised", "--width", "5000", "--height", "100"], "4096"),
        (["--style", "randomised", "--short-side", "100:2000"], "--short-side"),
        (["--style", "heldout", "--width", "4", "--height", "4"], "8..16384"),
    ]
    for args, needle in cases:
        done = run(tool, "--out", os.path.join(out, "refused"), *args)
        if done.returncode != 2 or needle not in done.stderr:
            fail(f"vmt-synth {' '.join(args)}: status {done.returncode}, stderr {done.stderr!r}")
    print(f"OK: {len(cases)} bad command lines refused with status 2")


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as out:
        check_styles(tool, out)
        check_refusals(tool, out)


if __name__ == "__main__":
    main()
