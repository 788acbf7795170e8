#!/usr/bin/env bash
# Builds the core, the CUDA kernels, their tests and benchmarks on a GPU machine without
# GStreamer or package access (its own PyTorch is the LibTorch), runs the test suites and every
# benchmark, and writes the logs to OUT_DIR (default ./gpu-check-out).
#
# Usage: tools/gpu-check.sh [OUT_DIR]
# Header-only dependencies that such a machine lacks (nlohmann-json) can travel in .device/include:
#   mkdir -p .device/include && cp -r /usr/include/nlohmann .device/include/
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/gpu-check-out}"
build="$repo_root/build-gpu"
mkdir -p "$out"
[[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"
[[ -d "$repo_root/.device/include" ]] && export CPLUS_INCLUDE_PATH="$repo_root/.device/include"

{
  echo "== machine"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' || true
  nvcc --version | tail -1
} 2>&1 | tee "$out/machine.txt"

echo "== build" | tee "$out/build.txt"
if [[ ! -f "$build/build.ninja" ]]; then
  meson setup "$build" "$repo_root" -Dgst=disabled -Dbuildtype=release >>"$out/build.txt" 2>&1 \
    || { tail -40 "$out/build.txt"; exit 1; }
fi
ninja -C "$build" -j "$(nproc)" >>"$out/build.txt" 2>&1 || { tail -60 "$out/build.txt"; exit 1; }
tail -3 "$out/build.txt"

echo "== tests (suite gpu; the CPU suites run in CI)"
meson test -C "$build" --no-rebuild --suite gpu --print-errorlogs >"$out/tests.txt" 2>&1
python3 "$repo_root/tools/test_summary.py" "$build" | tee -a "$out/tests.txt"

echo "== benchmarks"
: >"$out/benchmarks.txt"
run_bench() {
  echo "-- $*" | tee -a "$out/benchmarks.txt"
  timeout "${BENCH_TIMEOUT:-150}" "$build/benchmarks/$@" 2>&1 | tee -a "$out/benchmarks.txt"
}
run_bench bench-ms-deform-attn gpu
# vmt_r50 (random weights): offline 40/10 clips at 360p, then online steps at 1296x720 against
# tube length, fp32 and fp16, each beside the all-frames path (--compare) in the same run.
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 640x360 --input-size 360 \
  --mode offline --clip 40 --overlap 10 --clips 3 --repeats 3 --compare
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 640x360 --input-size 360 \
  --mode offline --clip 40 --overlap 10 --clips 3 --repeats 3 --precision fp16
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 1296x720 --input-size 720 \
  --mode online --tubes 1,10,30 --steps 10 --repeats 3 --compare
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 1296x720 --input-size 720 \
  --mode online --tubes 30 --steps 20 --repeats 3 --precision fp16
# the online step's halves on two threads (vmt::EnginePipeline, what vmtsegment does on the CPU;
# off on CUDA until this says whether it pays there), beside the steps one after the other
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 1296x720 --input-size 720 \
  --mode online --tubes 30 --steps 20 --repeats 3 --precision fp16 --compare-pipeline
# the point step without host syncs (static shapes, what a CUDA graph needs) at a 2000-point
# budget, beside the same budget unpadded
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 1296x720 --input-size 720 \
  --mode online --tubes 30 --steps 20 --repeats 3 --precision fp16 --point-limit 2000
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 1296x720 --input-size 720 \
  --mode online --tubes 30 --steps 20 --repeats 3 --precision fp16 --point-limit 2000 --padded-points
# and the selection on the device too: no host synchronisation until the results are copied
run_bench bench-engine --device cuda:0 --preset vmt_r50 --size 1296x720 --input-size 720 \
  --mode online --tubes 30 --steps 20 --repeats 3 --precision fp16 --point-limit 2000 --padded-points \
  --device-selection
run_bench bench-masks
