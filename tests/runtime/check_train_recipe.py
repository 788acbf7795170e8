#!/usr/bin/env python3
"""tools/train-demo-model.sh end to end, in its TINY mode (minutes of CPU at most).

usage: check_train_recipe.py SCRIPT BUILD_DIR
Runs the recipe on a few tiny videos into a temporary folder and checks what it leaves: the three
data splits (randomised train/valid, held-out valid), three finished stages trained on batches of
two clips, an fp16 model file of at most 20 MB, one prediction per query (16 a video) on both
held-out splits, scores.json with class-agnostic Tube-Mask AP for both splits and per-class AP
for the randomised one, timings and a PNG of the loss curves. Then runs it again (EVALUATE=0)
and checks that nothing is trained twice (the loss logs keep their rows) while the model file is
exported again.
Exits 77 (skipped) when matplotlib, which draws the curves, is not importable.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

try:
    import matplotlib  # noqa: F401  (the recipe's plot needs it)
except ImportError as error:  # pragma: no cover - depends on the environment
    print(f"SKIP: matplotlib not importable ({error}); tools/requirements.txt installs it")
    sys.exit(77)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(script, build, out, **extra):
    env = dict(os.environ, TINY="1", THREADS="1", JOBS="1", BUILD_DIR=build, DEVICE="cpu", **extra)
    done = subprocess.run(["bash", script, str(out)], env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        fail(f"train-demo-model.sh exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stderr


def rows(path):
    return path.read_text().count("\n")


def main():
    script, build = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "recipe"
        first = run(script, build, out)
        # TINY's batch of 2 clips a step (their gradients averaged) reached every stage
        if first.count("steps of 2 clips") != 3:
            fail("the stages did not train batches of 2 clips:\n" + first[-2000:])
        for split in ("randomised/train", "randomised/valid", "heldout/valid"):
            data = json.loads((out / "data" / split / "instances.json").read_text())
            if not data["videos"] or not data["annotations"]:
                fail(f"{split}: no videos or annotations")
        if json.loads((out / "data/heldout/valid/instances.json").read_text())["info"]["style"] != "heldout":
            fail("the held-out split is not of the held-out style")
        for stage in ("stage1", "stage2", "stage3"):
            if not (out / f"{stage}.done").is_file():
                fail(f"{stage} did not finish")
        model = out / "vmt_demo.safetensors"
        if not 0 < model.stat().st_size <= 20 * 1024 * 1024:
            fail(f"model file is {model.stat().st_size} bytes")
        with model.open("rb") as f:  # the safetensors header: its inference defaults (TINY sizes)
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        metadata = header.get("__metadata__", {})
        defaults = json.loads(metadata.get("vmt.inference", "{}"))
        if defaults != {"input_size": 32, "trained_min_size": 64, "trained_max_size": 64}:
            fail(f"model file's inference defaults: {defaults}")
        if json.loads(metadata["vmt.config"])["preset"] != "fast":
            fail(f"the recipe's model is not the fast preset: {metadata['vmt.config']}")
        for split in ("randomised", "heldout"):
            results = json.loads((out / f"results-{split}.json").read_text())
            videos = json.loads((out / f"data/{split}/valid/instances.json").read_text())["videos"]
            # each query at most once (16), with one mask per frame; as in the official code a
            # query whose masks are empty in every frame is left out (a few-step model has many)
            for video in videos:
                mine = [r for r in results if r["video_id"] == video["id"]]
                if not 1 <= len(mine) <= 16:
                    fail(f"{split} video {video['id']}: {len(mine)} predictions, expected 1..16 (one per query at most)")
                for r in mine:
                    if len(r["segmentations"]) != len(video["file_names"]):
                        fail(f"{split} video {video['id']}: {len(r['segmentations'])} masks for {len(video['file_names'])} frames")
        scores = json.loads((out / "scores.json").read_text())
        for split in ("randomised", "heldout"):
            ap = scores[split]["class_agnostic"]["mask_ap"]
            if not 0.0 <= ap <= 1.0:
                fail(f"{split}: class-agnostic mask AP {ap}")
        if "category_mask_ap" not in scores["randomised"]["per_class"]:
            fail("no per-class AP for the randomised split")
        if (out / "loss.png").read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            fail("loss.png is not a PNG")
        logs = {stage: rows(out / f"loss-{stage}.csv") for stage in ("stage1", "stage2", "stage3")}
        stamp = model.stat().st_mtime_ns

        log = run(script, build, out, EVALUATE="0")  # the evaluation was checked above
        again = {stage: rows(out / f"loss-{stage}.csv") for stage in logs}
        if again != logs:
            fail(f"a second run trained again: loss rows {logs} -> {again}")
        if "stage3: done" not in log:
            fail(f"the second run did not report the finished stages:\n{log[-2000:]}")
        if model.stat().st_mtime_ns == stamp:
            fail("the second run did not export the model again")
    print(f"OK: recipe ran end to end (loss rows {logs}) and a second run trained nothing")


if __name__ == "__main__":
    main()
