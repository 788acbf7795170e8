#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build and test run (docs/development.md,
# "Sanitizers"): a build folder of its own, configured with -Db_sanitize=address,undefined, in
# which the test programs of the given suites are built and run. Any report fails the run.
#
#   tools/sanitize.sh [SUITE...]      (default: unit elements pipelines)
#   tools/sanitize.sh unit            (quick: only torch-free code is built)
#
# Only what the suites' tests need is built (a unit-only run compiles no LibTorch code). CUDA
# kernels are left out (nvcc does not instrument); LibTorch, GStreamer and GLib are not
# instrumented but run under the sanitizers' interceptors: tools/sanitize.supp suppresses the
# reports proven to come from inside them, with the evidence. Environment: SANITIZE_BUILD (default
# build-sanitize), MESON_ARGS (extra `meson setup` arguments), JOBS (ninja -j, default 2),
# SANITIZE_TESTS (only these tests, e.g. "convert engine").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SANITIZE_BUILD:-$root/build-sanitize}
jobs=${JOBS:-2}
suites=("$@")
((${#suites[@]})) || suites=(unit elements pipelines)
for suite in "${suites[@]}"; do
  case "$suite" in
    unit | elements | pipelines | runtime) ;;
    *) echo "sanitize.sh: unknown suite '$suite' (unit, elements, pipelines, runtime)" >&2; exit 2 ;;
  esac
done
[[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"
export PATH="$root/.venv/bin:$PATH"

if [[ ! -f "$build/build.ninja" ]]; then
  # b_lundef=false: the plugin is a module whose sanitizer symbols come from the executable
  # shellcheck disable=SC2086
  meson setup "$build" "$root" -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled \
    -Dbenchmarks=false -Dbuildtype=debugoptimized ${MESON_ARGS:-}
fi

# The files the suites' tests run and depend on, from meson's introspection.
mapfile -t targets < <(python3 - "$build" "${suites[@]}" <<'EOF'
import json, os, subprocess, sys
build, suites = sys.argv[1], set(sys.argv[2:])
info = lambda what: json.loads(subprocess.run(["meson", "introspect", f"--{what}", build],
                                              check=True, capture_output=True, text=True).stdout)
files = {t["id"]: t["filename"] for t in info("targets")}
outputs = {os.path.normpath(f) for names in files.values() for f in names}
wanted = set()
for test in info("tests"):
    if not suites & {s.split(":")[-1] for s in test["suite"]}:
        continue
    wanted.update(f for dep in test["depends"] for f in files.get(dep, []))
    # the programs it runs that the build makes (not the scripts of the source tree)
    wanted.update(c for c in test["cmd"] if os.path.normpath(c) in outputs)
for f in sorted(wanted):
    print(os.path.relpath(f, build))
EOF
)
echo "sanitize.sh: building ${#targets[@]} targets for ${suites[*]}"
ninja -C "$build" -j "$jobs" "${targets[@]}"

supp="$root/tools/sanitize.supp"
# halt_on_error: the first report fails the test; detect_leaks: LeakSanitizer at exit.
# The GStreamer leak check of the element tests (GST_TRACERS=leaks) stays on as well.
# fast_unwind_on_malloc=0: whole allocation stacks through libraries built without frame pointers
# (GLib, fontconfig), which the suppressions need to tell their allocations from ours.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_odr_violation=0:print_summary=1:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$supp"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
# Programs that are not instrumented but load instrumented libraries (python3 importing the vmt
# plugin or the GstVmt typelib, gst-inspect-1.0, gst-launch-1.0) need the ASan runtime first.
export VMT_SANITIZE_PRELOAD
VMT_SANITIZE_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
# GStreamer's plugin scanner is a separate, uninstrumented program: it runs with the ASan runtime
# preloaded, else the instrumented plugin fails to load there and is blacklisted.
export GST_PLUGIN_SCANNER="$root/tools/sanitize-plugin-scanner.sh"
# a registry written by an earlier run may hold the plugin blacklisted (e.g. a failed load)
rm -f "$build/tests/gst-registry.bin"
args=()
for suite in "${suites[@]}"; do args+=(--suite "$suite"); done
status=0
# SANITIZE_TESTS: only these tests of the suites (names as `meson test --list` shows them)
# shellcheck disable=SC2206
tests=(${SANITIZE_TESTS:-})
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 "${args[@]}" "${tests[@]}" \
  --wrapper "$root/tools/sanitize-wrapper.sh" || status=$?
# meson names the logs of a wrapped run after the wrapper; the summary reads testlog.*
for log in "$build"/meson-logs/testlog-sanitize-wrapper.sh.*; do
  cp "$log" "$build/meson-logs/testlog.${log##*/testlog-sanitize-wrapper.sh.}"
done
grep -l "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" \
  "$build"/meson-logs/testlog*.txt >/dev/null 2>&1 && echo "sanitize.sh: sanitizer reports in $build/meson-logs/testlog.txt"
python3 "$root/tools/test_summary.py" "$build" || status=1
exit "$status"
