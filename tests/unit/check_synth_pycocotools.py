#!/usr/bin/env python3
"""Reads vmt-synth's YouTube-VIS JSON with pycocotools' mask API.

usage: check_synth_pycocotools.py <vmt-synth>
Generates a small train + valid dataset into a temporary folder, then checks with pycocotools
that every segmentation decodes, that `areas` and `bboxes` equal pycocotools' area / toBbox of the
decoded mask, that null segmentations have null areas and boxes, that masks of one frame never
overlap (z-order), and that the file names, sizes and category ids are consistent.
Exits 77 (meson: skipped) when pycocotools or numpy cannot be imported.
"""
import json
import os
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


def check_split(split_dir, expected_videos):
    with open(os.path.join(split_dir, "instances.json"), encoding="utf-8") as f:
        data = json.load(f)
    videos = {v["id"]: v for v in data["videos"]}
    if len(videos) != expected_videos:
        fail(f"{split_dir}: {len(videos)} videos, expected {expected_videos}")
    category_ids = {c["id"] for c in data["categories"]}
    if category_ids != set(range(1, len(category_ids) + 1)):
        fail(f"category ids are not 1..N: {sorted(category_ids)}")
    for video in videos.values():
        if (video["width"], video["height"], video["length"]) != (WIDTH, HEIGHT, FRAMES):
            fail(f"video {video['id']} has the wrong size or length")
        for name in video["file_names"]:
            if not os.path.isfile(os.path.join(split_dir, "JPEGImages", name)):
                fail(f"missing frame {name}")
    checked = 0
    union = {}  # (video, frame) -> pixels claimed so far
    for ann in data["annotations"]:
        video = videos[ann["video_id"]]
        if ann["category_id"] not in category_ids or ann["iscrowd"] != 0:
            fail(f"annotation {ann['id']}: bad category or iscrowd")
        if not (len(ann["segmentations"]) == len(ann["areas"]) == len(ann["bboxes"]) == video["length"]):
            fail(f"annotation {ann['id']}: per-frame lists do not match the video length")
        if all(s is None for s in ann["segmentations"]):
            fail(f"annotation {ann['id']} is never visible")
        for frame, (seg, area, box) in enumerate(zip(ann["segmentations"], ann["areas"], ann["bboxes"])):
            if seg is None:
                if area is not None or box is not None:
                    fail(f"annotation {ann['id']} frame {frame}: null mask with an area or box")
                continue
            if seg["size"] != [video["height"], video["width"]]:
                fail(f"annotation {ann['id']} frame {frame}: size {seg['size']}")
            rle = {"size": seg["size"], "counts": seg["counts"].encode("ascii")}
            mask = mask_utils.decode(rle)
            if mask.shape != (HEIGHT, WIDTH):
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
    return checked


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [tool, "--out", out, "--seed", "5", "--videos", "3", "--valid", "2", "--width", str(WIDTH),
             "--height", str(HEIGHT), "--frames", str(FRAMES), "--objects", "3:6", "--quiet"],
            capture_output=True, text=True, check=False)
        if done.returncode != 0:
            fail(f"vmt-synth failed: {done.stderr}")
        train = check_split(os.path.join(out, "train"), 3)
        valid = check_split(os.path.join(out, "valid"), 2)
    print(f"OK: {train} train and {valid} valid masks agree with pycocotools")


if __name__ == "__main__":
    main()
