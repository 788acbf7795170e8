#!/usr/bin/env bash
# A camera (V4L2) through vmtsegment in online mode (each frame final at once), drawn by
# vmtoverlay on screen, and optionally recorded to an MP4. Ctrl-C stops it and finishes the file.
# Usage: pipelines/camera.sh [--device /dev/video0] [--output FILE.mp4] [--model FILE]
#          [--input-size N] [--size WxH] [--tube-length N] [--headless] [--test-source]
#          [--num-buffers N] [--dry-run]
#   --test-source  videotestsrc (a moving ball) instead of the camera, to try it without one
#   --headless     no window (fakesink); with --output, record only
#   --dry-run      print the gst-launch-1.0 command and exit
# (GST_PLUGIN_PATH must reach the vmt plugin; `tools/dev shell` sets it.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The usage text: on stdout for --help (exit 0), on stderr after a mistake (exit 2).
usage() {
  local status="${1:-2}"
  sed -n '4,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((status ? 2 : 1))"
  exit "$status"
}
# Option values: a missing or malformed one is a usage mistake (exit 2), named.
need() { (($# >= 2)) || { echo "camera.sh: $1 needs a value" >&2; exit 2; }; }
whole_number() {
  [[ "$2" =~ ^-?[0-9]+$ ]] || { echo "camera.sh: $1 expects a whole number, not '$2'" >&2; exit 2; }
}

device=/dev/video0
output=""
model="$here/demo/vmt_demo.safetensors"
input_size=""     # empty: the model file's own (96 for the demo model, docs/models.md)
size=640x480
tube_length=30
headless=0
test_source=0
num_buffers=-1
dry_run=0
while (($#)); do
  case "$1" in
    --device) need "$@"; device="$2"; shift 2 ;;
    --output | -o) need "$@"; output="$2"; shift 2 ;;
    --model) need "$@"; model="$2"; shift 2 ;;
    --input-size) need "$@"; input_size="$2"; shift 2 ;;
    --size) need "$@"; size="$2"; shift 2 ;;
    --tube-length) need "$@"; tube_length="$2"; shift 2 ;;
    --num-buffers) need "$@"; num_buffers="$2"; shift 2 ;;
    --headless) headless=1; shift ;;
    --test-source) test_source=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "camera.sh: unknown argument $1" >&2; usage ;;
  esac
done
[[ -z "$input_size" ]] || whole_number --input-size "$input_size"
whole_number --tube-length "$tube_length"
whole_number --num-buffers "$num_buffers"
if [[ ! "$size" =~ ^([0-9]+)x([0-9]+)$ ]]; then
  echo "camera.sh: --size must be WxH, not $size" >&2
  exit 2
fi
width="${BASH_REMATCH[1]}" height="${BASH_REMATCH[2]}"

if ((test_source)); then
  # is-live: frames come at the frame rate, as from a camera
  source=(videotestsrc is-live=true pattern=ball num-buffers="$num_buffers")
else
  if ((!dry_run)) && [[ ! -e "$device" ]]; then
    echo "camera.sh: no camera at $device (try --test-source)" >&2
    exit 1
  fi
  source=(v4l2src device="$device" num-buffers="$num_buffers")
fi
# online: a sliding window of the last tube-length frames, no frames held back
pipeline=("${source[@]}" ! videoconvert ! videoscale ! "video/x-raw,width=$width,height=$height"
  ! videoconvert ! vmtsegment model="$model" mode=online tube-length="$tube_length"
  ${input_size:+input-size="$input_size"} ! vmtoverlay)
display=(queue ! videoconvert ! autovideosink sync=false)
((headless)) && display=(queue ! fakesink sync=false)
if [[ -n "$output" ]]; then
  record=(queue ! videoconvert ! x264enc tune=zerolatency speed-preset=veryfast ! mp4mux
    ! filesink location="$output")
  pipeline+=(! tee name=t t. ! "${display[@]}" t. ! "${record[@]}")
else
  pipeline+=(! "${display[@]}")
fi

# -e: Ctrl-C sends EOS first, so the MP4 gets its index
if ((dry_run)); then
  printf '%q ' gst-launch-1.0 -e "${pipeline[@]}"
  echo
  exit 0
fi
gst-launch-1.0 -e "${pipeline[@]}"
[[ -z "$output" ]] || echo "camera: recorded $output ($(stat -c %s "$output") bytes)"
