#!/usr/bin/env bash
# Builds one of the fuzz targets of tests/fuzz/ with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, then fuzzes it for SECONDS (docs/development.md, "Fuzzing").
#
#   tools/fuzz.sh TARGET [SECONDS] [libFuzzer options...]     (default: 60 seconds)
#   tools/fuzz.sh list
#
# TARGET: safetensors (model files), rle (COCO RLE strings), model-config (the vmt.config JSON),
# ytvis, mots, bdd100k (vmt-eval's readers). The run starts from the committed corpus
# tests/fuzz/corpus/TARGET/ (only read) and writes new inputs to build-fuzz/corpus-TARGET/ and
# crashers to build-fuzz/artifacts-TARGET/. The vmt-core sources are compiled once into
# build-fuzz/obj/ and again only when a source or header changed.
# Environment: CLANGXX (default clang++), FUZZ_OUT (default build-fuzz), JOBS (parallel fuzzing
# processes, default 1), FUZZ_CXXFLAGS (extra compiler flags, e.g. -fno-sanitize=float-cast-overflow
# to look past a finding while its fix is under way; objects are rebuilt when they change).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
clangxx=${CLANGXX:-clang++}
jobs=${JOBS:-1}

# target: the vmt-core sources it needs (all torch-free), its dictionary and the longest input
declare -A sources=(
  [safetensors]="weights/safetensors.cpp"
  [rle]="mask/rle.cpp mask/rle_ops.cpp mask/bitmap.cpp"
  [model-config]="model/config.cpp"
  [ytvis]="eval/ytvis.cpp eval/json_rle.cpp eval/assignment.cpp mask/rle.cpp mask/rle_ops.cpp mask/bitmap.cpp"
  [mots]="eval/mots.cpp eval/json_rle.cpp eval/assignment.cpp mask/rle.cpp mask/rle_ops.cpp mask/bitmap.cpp"
  [bdd100k]="eval/bdd100k.cpp eval/json_rle.cpp eval/assignment.cpp mask/rle.cpp mask/rle_ops.cpp mask/bitmap.cpp"
)
declare -A dictionaries=(
  [safetensors]=safetensors.dict [rle]=rle.dict [model-config]=json.dict [ytvis]=json.dict
  [mots]=mots.dict [bdd100k]=json.dict
)
declare -A max_len=(
  [safetensors]=4096 [rle]=1024 [model-config]=4096 [ytvis]=16384 [mots]=8192 [bdd100k]=16384
)

target=${1:-}
if [[ "$target" == list || -z "$target" ]]; then
  printf '%s\n' "${!sources[@]}" | sort
  [[ -n "$target" ]] || { echo "usage: tools/fuzz.sh TARGET [SECONDS] [libFuzzer options]" >&2; exit 2; }
  exit 0
fi
[[ -n "${sources[$target]:-}" ]] || { echo "fuzz.sh: unknown target '$target' (tools/fuzz.sh list)" >&2; exit 2; }
seconds=${2:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }
shift $(($# >= 2 ? 2 : 1))

# shellcheck disable=SC2206
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined -I"$root/vmt-core/include" -I"$root/vmt-core/src"
       ${FUZZ_CXXFLAGS:-})
mkdir -p "$out/obj" "$out/corpus-$target" "$out/artifacts-$target"
# objects built with other flags are rebuilt
if [[ "$(cat "$out/obj/flags" 2>/dev/null)" != "${flags[*]}" ]]; then
  rm -f "$out"/obj/*.o
  echo "${flags[*]}" >"$out/obj/flags"
fi
# The newest header: an object older than it is rebuilt (the objects are few and small).
newest_header=$(find "$root/vmt-core/include" "$root/vmt-core/src" -name '*.h' -printf '%T@ %p\n' |
                sort -n | tail -1 | cut -d' ' -f2)
# clang 14 (Debian 12) cannot capture a structured binding in a lambda (C++20, clang >= 16);
# model/config.cpp does so once: compile a copy with that loop variable spelled out.
clang14_copy() {
  mkdir -p "$out/src"
  sed 's/for (const auto& \[key, value\] : j.items()) {/for (const auto\& item : j.items()) { const std::string key = item.key();/' \
    "$1" >"$out/src/$(basename "$1")"
  echo "$out/src/$(basename "$1")"
}
objects=()
for source in common/error.cpp ${sources[$target]}; do
  object="$out/obj/${source//\//_}.o"
  path="$root/vmt-core/src/$source"
  if [[ ! -f "$object" || "$path" -nt "$object" || "$newest_header" -nt "$object" ]]; then
    echo "compiling $source"
    [[ "$source" == model/config.cpp ]] && path=$(clang14_copy "$path")
    # the library code gets the fuzzer's coverage instrumentation, not its main()
    "$clangxx" "${flags[@]}" -I"$root/vmt-core/src/$(dirname "$source")" -fsanitize=fuzzer-no-link \
      -c "$path" -o "$object"
  fi
  objects+=("$object")
done
binary="$out/fuzz-$target"
"$clangxx" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/fuzz_${target//-/_}.cpp" "${objects[@]}" \
  -o "$binary"
echo "built $binary; fuzzing for ${seconds}s"

parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
# The first folder receives new inputs; the committed corpus is only read.
"$binary" "$out/corpus-$target" "$root/tests/fuzz/corpus/$target" \
  -dict="$root/tests/fuzz/${dictionaries[$target]}" \
  -max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts-$target/" -print_final_stats=1 "${parallel[@]}" "$@"
