#!/usr/bin/env bash
# The safetensors reader's fuzz run: tools/fuzz.sh safetensors (kept for docs/weights.md).
#
#   tools/fuzz-safetensors.sh [SECONDS] [libFuzzer options...]     (default: 60 seconds)
exec "$(cd "$(dirname "$0")" && pwd)/fuzz.sh" safetensors "$@"
