"""The shipped demo model's quality on held-out synthetic videos (issue: a stated Tube-Mask AP).

Generates the held-out split the demo model never saw (vmt-synth, the seed and options of
docs/models.md), predicts it with `vmt-train predict` (whole videos, refined masks as the
engine), scores it with `vmt-eval ytvis --iou mask --json` and requires the Tube-Mask AP and AP50
stated in docs/models.md (less a small margin for other CPUs' float rounding).

usage: check_demo_model_ap.py VMT_SYNTH VMT_TRAIN VMT_EVAL MODEL MIN_AP MIN_AP50
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{args[0]} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def main() -> None:
    synth, train, evaluate, model = sys.argv[1:5]
    min_ap, min_ap50 = float(sys.argv[5]), float(sys.argv[6])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        run(synth, "--out", str(data), "--seed", "1", "--split", "valid", "--videos", "8",
            "--frames", "24", "--width", "128", "--height", "96", "--objects", "1:3", "--quiet")
        results = data / "results.json"
        run(train, "predict", model, "--data", str(data / "valid"), "-o", str(results),
            "--size", "96", "--threads", "1")
        stats = json.loads(run(evaluate, "ytvis", str(data / "valid" / "instances.json"),
                               str(results), "--iou", "mask", "--json"))["mask"]["stats"]
    ap, ap50 = stats[0], stats[1]
    print(f"demo model on 8 held-out videos: Tube-Mask AP {ap:.4f}, AP50 {ap50:.4f}, "
          f"AP75 {stats[2]:.4f}, AR@10 {stats[7]:.4f}")
    if ap < min_ap or ap50 < min_ap50:
        sys.exit(f"FAIL: AP {ap:.4f} < {min_ap} or AP50 {ap50:.4f} < {min_ap50}")
    print("OK")


if __name__ == "__main__":
    main()
