#!/usr/bin/env bash
# meson test --wrapper of tools/sanitize.sh. An instrumented test program runs as it is. Anything
# else (python3, bash) may load instrumented libraries (the vmt plugin, libgstvmt-1.0), which
# needs the ASan runtime loaded first: it runs with it preloaded and without the leak check (the
# interpreters' own allocations at exit are not ours to judge; the programs they start are
# instrumented and checked for everything else).
program=$1
if readelf -d "$program" 2>/dev/null | grep -q 'libasan'; then
  exec "$@"
fi
export LD_PRELOAD="${VMT_SANITIZE_PRELOAD}${LD_PRELOAD:+:$LD_PRELOAD}"
# no leak check, so no whole allocation stacks either (slow for an interpreter's many mallocs)
export ASAN_OPTIONS="${ASAN_OPTIONS}:detect_leaks=0:fast_unwind_on_malloc=1"
exec "$@"
