#!/usr/bin/env bash
# Trains the demo model on domain-randomised synthetic videos and scores it on the two held-out
# splits: the training style's own (randomised, never-trained seeds) and the independent held-out
# style (docs/training.md, "Demo model recipe"). Every step is resumable: run the script again
# after an interruption (or after a TIME_LIMIT stop) and finished steps are skipped, a training
# stage continues from its last checkpoint with the same clips as an uninterrupted run.
#
#   tools/train-demo-model.sh [OUT]        (default run/demo-model)
#
# Writes into OUT:
#   data/randomised/{train,valid}/   data/heldout/valid/         the data sets (vmt-synth)
#   stage{1,2,3}.safetensors(.optim), loss-stage{1,2,3}.csv      the training stages
#   vmt_demo.safetensors                                         the fp16 model file (≤ 20 MB),
#                                                                with its inference defaults
#   results-{randomised,heldout}.json, scores.json, scores.txt   predictions and Tube-Mask AP
#   loss.png  timings.csv  machine.txt
#
# Environment (the defaults are the recipe; TINY=1 gives a minutes-long smoke run):
#   BUILD_DIR (build)  DEVICE (auto)  THREADS (nproc)  JOBS (nproc: vmt-synth processes)
#   TRAIN_VIDEOS (4000)  TRAIN_FRAMES (24)  VALID_VIDEOS (32)  HELDOUT_VIDEOS (32)  EVAL_FRAMES (36)
#   STEPS1 (10000: detector)  STEPS2 (40000: + refinement)  STEPS3 (10000: + refinement, lr / 10)
#   SIZES (96:160:32)  MAX_SIZE (288)  EVAL_SIZE (128)  LR (2e-4)  LR_BACKBONE (1e-4)
#   QSG_POINTS (3000: refinement points per clip, the official number; the CPU profile uses 1000)
#   BATCH (1: clips per step, their gradients averaged; on the CPU they run side by side, one a
#     core, so BATCH=4 with the steps ÷ 4 trains as many clips in less time: docs/training.md)
#   SHORT_SIDE (180:360: training frames' shorter side)  HELDOUT_SIZE (480x360)
#   TIME_LIMIT (0: none; seconds per training stage and invocation, then exit 75 = run again)
#   EVALUATE (1; 0 = train, export and plot only)
# Exit status: 0 done, 75 a stage stopped at TIME_LIMIT (run again to continue), else a failure.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/run/demo-model}"
build="${BUILD_DIR:-$repo_root/build}"
python="$repo_root/.venv/bin/python"
[[ -x "$python" ]] || python=python3
synth="$build/tools/synth/vmt-synth"
train="$build/tools/vmt-train"
evaluate="$build/tools/vmt-eval"
model_tool="$build/tools/vmt-model"
for tool in "$synth" "$train" "$evaluate" "$model_tool"; do
  [[ -x "$tool" ]] || { echo "train-demo-model: $tool not found (build first: tools/dev build)" >&2; exit 1; }
done

cores="$(nproc)"
if [[ "${TINY:-0}" == 1 ]]; then  # the smoke run: every step, minutes of CPU
  : "${TRAIN_VIDEOS:=6}" "${TRAIN_FRAMES:=8}" "${VALID_VIDEOS:=1}" "${HELDOUT_VIDEOS:=1}" "${EVAL_FRAMES:=6}"
  : "${STEPS1:=2}" "${STEPS2:=2}" "${STEPS3:=1}" "${SIZES:=64}" "${MAX_SIZE:=96}" "${EVAL_SIZE:=32}"
  : "${SHORT_SIDE:=64:96}" "${HELDOUT_SIZE:=128x96}" "${QSG_POINTS:=300}" "${BATCH:=2}"
fi
DEVICE="${DEVICE:-auto}" THREADS="${THREADS:-$cores}" JOBS="${JOBS:-$cores}"
TRAIN_VIDEOS="${TRAIN_VIDEOS:-4000}" TRAIN_FRAMES="${TRAIN_FRAMES:-24}"
VALID_VIDEOS="${VALID_VIDEOS:-32}" HELDOUT_VIDEOS="${HELDOUT_VIDEOS:-32}" EVAL_FRAMES="${EVAL_FRAMES:-36}"
STEPS1="${STEPS1:-10000}" STEPS2="${STEPS2:-40000}" STEPS3="${STEPS3:-10000}"
SIZES="${SIZES:-96:160:32}" MAX_SIZE="${MAX_SIZE:-288}" EVAL_SIZE="${EVAL_SIZE:-128}"
LR="${LR:-2e-4}" LR_BACKBONE="${LR_BACKBONE:-1e-4}" TIME_LIMIT="${TIME_LIMIT:-0}" EVALUATE="${EVALUATE:-1}"
SHORT_SIDE="${SHORT_SIDE:-180:360}" HELDOUT_SIZE="${HELDOUT_SIZE:-480x360}" QSG_POINTS="${QSG_POINTS:-3000}"
BATCH="${BATCH:-1}"
mkdir -p "$out"

log() { echo "train-demo-model: $*" >&2; }

# ---- machine ------------------------------------------------------------------------------------
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host cores: $cores; threads: $THREADS; batch: $BATCH; device: $DEVICE"
  grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "gpu: none"
  echo "commit: $(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/machine.txt"

# ---- data -----------------------------------------------------------------------------------------
# A split is reused when its stamp (the exact command) matches; otherwise it is written again.
make_split() {
  local dir="$1" split="$2"; shift 2
  local stamp="$dir/$split/.vmt-synth-command"
  if [[ -f "$dir/$split/instances.json" && -f "$stamp" && "$(cat "$stamp")" == "$*" ]]; then
    log "data $dir/$split: up to date"
    return
  fi
  rm -rf "${dir:?}/$split"
  log "data $dir/$split: $*"
  "$synth" --out "$dir" --split "$split" --jobs "$JOBS" "$@"
  echo "$*" > "$stamp"
}
data="$out/data"
heldout_w="${HELDOUT_SIZE%x*}" heldout_h="${HELDOUT_SIZE#*x}"
make_split "$data/randomised" train --style randomised --seed 1 --videos "$TRAIN_VIDEOS" \
  --frames "$TRAIN_FRAMES" --objects 1:6 --short-side "$SHORT_SIDE"
make_split "$data/randomised" valid --style randomised --seed 1 --videos "$VALID_VIDEOS" \
  --frames "$EVAL_FRAMES" --objects 1:6 --short-side "$SHORT_SIDE"
make_split "$data/heldout" valid --style heldout --seed 2 --videos "$HELDOUT_VIDEOS" \
  --frames "$EVAL_FRAMES" --objects 1:5 --width "$heldout_w" --height "$heldout_h"

# ---- training -------------------------------------------------------------------------------------
[[ -f "$out/timings.csv" ]] || echo "stage,started,seconds,step_before,step_after,target" > "$out/timings.csv"

last_step() {  # the last step logged in a loss CSV (0 without one)
  [[ -f "$1" ]] && tail -n 1 "$1" | cut -d, -f1 | grep -E '^[0-9]+$' || echo 0
}

# run_stage NAME STEPS UPSTREAM [vmt-train train options...]: trains NAME until STEPS (resuming
# its checkpoint), then writes NAME.done. UPSTREAM is the stage it starts from (- for none): when
# that stage has changed since NAME began, NAME starts over. Exits 75 when TIME_LIMIT stopped it.
run_stage() {
  local name="$1" steps="$2" upstream="$3"; shift 3
  local model="$out/$name.safetensors" csv="$out/loss-$name.csv"
  local origin="none"
  [[ "$upstream" == - ]] || origin="$upstream:$(cat "$out/$upstream.done")"
  if [[ -f "$out/$name.origin" && "$(cat "$out/$name.origin")" != "$origin" ]]; then
    log "$name: $upstream changed since $name began; starting $name over"
    rm -f "$model" "$model.optim" "$csv" "$out/$name.done"
  fi
  echo "$origin" > "$out/$name.origin"
  # The stamp names the whole chain (steps of this stage and of every one it started from).
  if [[ -f "$out/$name.done" && "$(cat "$out/$name.done")" == "$steps@$origin" ]]; then
    log "$name: done ($steps steps)"
    return
  fi
  local before started seconds after
  before="$(last_step "$csv")"
  started="$(date +%s)"
  log "$name: training to step $steps (from its checkpoint if there is one)"
  "$train" train --data "$data/randomised/train" -o "$model" --steps "$steps" --log "$csv" \
    --device "$DEVICE" --threads "$THREADS" --sizes "$SIZES" --max-size "$MAX_SIZE" --frames 5 \
    --freeze-stem 0 --save-every 600 --time-limit "$TIME_LIMIT" --name vmt-demo --batch "$BATCH" "$@"
  seconds=$(( $(date +%s) - started ))
  after="$(last_step "$csv")"
  echo "$name,$started,$seconds,$before,$after,$steps" >> "$out/timings.csv"
  if (( after < steps )); then
    log "$name: stopped at step $after of $steps (TIME_LIMIT); run again to continue"
    exit 75
  fi
  echo "$steps@$origin" > "$out/$name.done"
}

run_stage stage1 "$STEPS1" - --preset fast --refine 0 --lr "$LR" --lr-backbone "$LR_BACKBONE" --seed 1
run_stage stage2 "$STEPS2" stage1 --init "$out/stage1.safetensors" --refine 1 --qsg-points "$QSG_POINTS" \
  --lr "$LR" --lr-backbone "$LR_BACKBONE" --seed 2
lr3="$("$python" -c "print($LR / 10)")" lr3_backbone="$("$python" -c "print($LR_BACKBONE / 10)")"
run_stage stage3 "$STEPS3" stage2 --init "$out/stage2.safetensors" --refine 1 --qsg-points "$QSG_POINTS" \
  --lr "$lr3" --lr-backbone "$lr3_backbone" --seed 3

# ---- export ---------------------------------------------------------------------------------------
model="$out/vmt_demo.safetensors"
"$train" export "$out/stage3.safetensors" -o "$model"
# the inference defaults the model file carries (issue 18, item 4): the evaluation's input size
# and the training clips' range of shorter edges
sizes_rest="${SIZES#*:}"
"$model_tool" defaults "$model" -o "$model.defaults" --input-size "$EVAL_SIZE" \
  --trained-sizes "${SIZES%%:*}:${sizes_rest%%:*}" >&2
mv "$model.defaults" "$model"
bytes="$(stat -c %s "$model")"
(( bytes <= 20 * 1024 * 1024 )) || { log "$model is $bytes bytes, over 20 MB"; exit 1; }

# ---- evaluation -----------------------------------------------------------------------------------
# Each query once with its best class (what the element's default output gives), up to all 16
# queries (those with empty masks in every frame are left out, as the official code does).
evaluate_model() {
for split in randomised heldout; do
  dir="$data/$split/valid"
  "$train" predict "$model" --data "$dir" -o "$out/results-$split.json" --size "$EVAL_SIZE" \
    --device "$DEVICE" --threads "$THREADS" --one-per-query 1 --top 16
  "$evaluate" ytvis "$dir/instances.json" "$out/results-$split.json" --iou both --class-agnostic --json \
    > "$out/eval-$split-class-agnostic.json"
done
# Per class only where the classes are the model's (the held-out classes are not).
"$evaluate" ytvis "$data/randomised/valid/instances.json" "$out/results-randomised.json" --iou both --json \
  > "$out/eval-randomised.json"
"$python" - "$out" "$EVAL_SIZE" <<'EOF'
import json, pathlib, sys
out, size = pathlib.Path(sys.argv[1]), sys.argv[2]
names = {c["id"]: c["name"] for c in json.loads((out / "data/randomised/valid/instances.json").read_text())["categories"]}
scores, lines = {}, [f"Tube AP (x100) at input size {size}, one prediction per query (best class):"]
for split in ("randomised", "heldout"):
    agnostic = json.loads((out / f"eval-{split}-class-agnostic.json").read_text())
    m, b = agnostic["mask"]["stats"], agnostic["boundary"]["stats"]
    scores[split] = {"class_agnostic": {"mask_ap": m[0], "mask_ap50": m[1], "mask_ap75": m[2], "mask_ar10": m[7],
                                        "boundary_ap": b[0], "mask_stats": m, "boundary_stats": b}}
    lines.append(f"  {split:10s} class-agnostic: mask AP {100*m[0]:.1f}  AP50 {100*m[1]:.1f}  AP75 {100*m[2]:.1f}  "
                 f"AR@10 {100*m[7]:.1f}  boundary AP {100*b[0]:.1f}")
per_class = json.loads((out / "eval-randomised.json").read_text())
m = per_class["mask"]["stats"]
categories = {names[int(c)]: ap for c, ap in per_class["mask"]["category_ap"].items()}
scores["randomised"]["per_class"] = {"mask_ap": m[0], "mask_stats": m, "boundary_ap": per_class["boundary"]["stats"][0],
                                     "category_mask_ap": categories}
lines.append(f"  randomised per class:      mask AP {100*m[0]:.1f}  (" +
             "  ".join(f"{n} {100*v:.1f}" if v >= 0 else f"{n} n/a" for n, v in categories.items()) + ")")
(out / "scores.json").write_text(json.dumps(scores, indent=1) + "\n")
(out / "scores.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
}
if [[ "$EVALUATE" == 1 ]]; then evaluate_model; else log "evaluation skipped (EVALUATE=$EVALUATE)"; fi

# ---- loss curves ----------------------------------------------------------------------------------
"$python" "$repo_root/tools/plot-training.py" "$out/loss-stage1.csv" "$out/loss-stage2.csv" "$out/loss-stage3.csv" \
  --labels "stage 1: detector,stage 2: + refinement,stage 3: lr / 10" --title "vmt-demo (fast preset)" \
  -o "$out/loss.png"
log "done: $model ($bytes bytes), $out/scores.txt, $out/loss.png"
