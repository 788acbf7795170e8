#!/usr/bin/env bash
# Builds the safetensors reader's fuzz target (tests/fuzz/fuzz_safetensors.cpp) with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, then fuzzes it for SECONDS.
#
#   tools/fuzz-safetensors.sh [SECONDS] [libFuzzer options...]     (default: 60 seconds)
#
# The run starts from the committed corpus (tests/fuzz/corpus/safetensors/) and writes new inputs
# to build-fuzz/corpus/ and crashers to build-fuzz/artifacts/; see docs/weights.md for adding
# them to the committed corpus. Environment: CLANGXX (default clang++), FUZZ_OUT (default
# build-fuzz), JOBS (parallel fuzzing processes, default 1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
out=${FUZZ_OUT:-$root/build-fuzz}
clangxx=${CLANGXX:-clang++}
jobs=${JOBS:-1}

mkdir -p "$out/corpus" "$out/artifacts"
"$clangxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/vmt-core/include" -I"$root/vmt-core/src" \
  "$root/tests/fuzz/fuzz_safetensors.cpp" \
  "$root/vmt-core/src/weights/safetensors.cpp" \
  "$root/vmt-core/src/common/error.cpp" \
  -o "$out/fuzz-safetensors"
echo "built $out/fuzz-safetensors; fuzzing for ${seconds}s"

parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
# The first folder receives new inputs; the committed corpus is only read.
"$out/fuzz-safetensors" "$out/corpus" "$root/tests/fuzz/corpus/safetensors" \
  -dict="$root/tests/fuzz/safetensors.dict" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "${parallel[@]}" "$@"
