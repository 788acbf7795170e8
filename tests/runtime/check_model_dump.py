#!/usr/bin/env python3
"""`vmt-model run --raw … --dump` (issue: check a converted checkpoint on given frames).

usage: check_model_dump.py VMT_MODEL MODEL_FILE
Writes three raw RGB24 frames, dumps the model's raw outputs on them and checks them against
independent computations: the input equals the frames normalised with the ImageNet mean and
deviation in numpy (native size, no resize); the refined queries are the best queries by their
best class score, recomputed from the dumped logits; the engine's top score (`vmt-model run`
without --dump, the path vmtsegment takes) equals the best sigmoid of the dumped logits. Then the
errors: a --raw file shorter than --frames, and a missing one.
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

W, H, T = 64, 48, 3


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    tool, model = sys.argv[1:3]
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, size=(T, H, W, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        raw, dump = Path(tmp) / "frames.rgb", Path(tmp) / "raw.safetensors"
        raw.write_bytes(frames.tobytes())
        common = ["--raw", str(raw), "--size", f"{W}x{H}", "--frames", str(T), "--input-size", "0",
                  "--device", "cpu"]
        done = run(tool, "run", model, *common, "--dump", str(dump))
        if done.returncode != 0:
            fail(f"--dump exited {done.returncode}: {done.stderr}")
        out = load_file(str(dump))

        x = out["input_frames"]
        if x.shape != (T, 3, H, W):
            fail(f"input_frames shape {x.shape}")
        mean = np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
        std = np.array([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
        expected = (frames.transpose(0, 3, 1, 2) / 255.0 - mean) / std
        if np.abs(x - expected).max() > 1e-5:
            fail(f"input differs from the normalised frames by {np.abs(x - expected).max()}")

        logits, boxes, coarse = out["pred_logits"], out["pred_boxes"], out["coarse_mask_logits"]
        queries = logits.shape[0]
        if boxes.shape != (T, queries, 4) or coarse.shape != (queries, T, H // 4, W // 4):
            fail(f"shapes: boxes {boxes.shape}, coarse {coarse.shape}, {queries} queries")
        for name, tensor in out.items():
            if tensor.dtype != np.int64 and not np.isfinite(tensor).all():
                fail(f"{name} is not finite")

        labels = int(re.search(r"labels:\s+(\d+)", run(tool, "info", model).stdout).group(1))
        best = 1 / (1 + np.exp(-logits[:, 1:1 + labels].astype(np.float64)))
        best_query_score = best.max(axis=1)
        refined = out["refined_queries"]
        top = min(10, queries)
        if refined.shape != (top,):
            fail(f"refined_queries {refined.shape}, expected ({top},)")
        if sorted(best_query_score[refined]) != sorted(np.sort(best_query_score)[-top:]):
            fail(f"refined queries {refined} are not the {top} best")
        if out["refined_mask_logits"].shape[:2] != (top, T):
            fail(f"refined_mask_logits shape {out['refined_mask_logits'].shape}")

        done = run(tool, "run", model, *common, "--threshold", "0", "--max-instances", "1")
        scores = [float(s) for s in re.findall(r"score (\S+) category", done.stdout)]
        if done.returncode != 0 or len(scores) != 1:
            fail(f"engine run: exit {done.returncode}, {done.stdout} {done.stderr}")
        if abs(scores[0] - best.max()) > 1e-5:
            fail(f"engine top score {scores[0]} != dumped logits' best {best.max()}")

        raw.write_bytes(frames[:2].tobytes())
        done = run(tool, "run", model, *common, "--dump", str(dump))
        if done.returncode != 1 or "fewer than --frames 3" not in done.stderr:
            fail(f"short --raw: exit {done.returncode}, {done.stderr}")
        done = run(tool, "run", model, "--raw", str(raw) + ".missing", "--dump", str(dump))
        if done.returncode != 1 or "cannot open --raw" not in done.stderr:
            fail(f"missing --raw: exit {done.returncode}, {done.stderr}")
    print(f"OK: {len(out)} tensors, {queries} queries, engine top score {scores[0]:.6f}")


if __name__ == "__main__":
    main()
