#!/usr/bin/env bash
# RTSP in, RTSP out: a camera stream (or a file) through vmtsegment (online) and vmtoverlay,
# encoded with x264 and served again over RTSP by tools/vmt-rtsp-serve (gst-rtsp-server).
# Usage: pipelines/rtsp.sh INPUT [--port 8554] [--mount /vmt] [--address 0.0.0.0] [--model FILE]
#          [--input-size N] [--tube-length N] [--dry-run]
#   INPUT    rtsp://… (an IP camera) or a video file (pipelines/demo/demo.mp4)
#   --port 0 picks a free port; the first line printed is `serving rtsp://HOST:PORT/MOUNT`
#   --dry-run  print the launch line that would be served and exit
# Watch: gst-launch-1.0 rtspsrc location=rtsp://127.0.0.1:8554/vmt ! decodebin ! autovideosink
# (GST_PLUGIN_PATH must reach the vmt plugin; `tools/dev shell` sets it.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The usage text: on stdout for --help (exit 0), on stderr after a mistake (exit 2).
usage() {
  local status="${1:-2}"
  sed -n '4,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((status ? 2 : 1))"
  exit "$status"
}
# Option values: a missing or malformed one is a usage mistake (exit 2), named.
need() { (($# >= 2)) || { echo "rtsp.sh: $1 needs a value" >&2; exit 2; }; }
whole_number() {
  [[ "$2" =~ ^-?[0-9]+$ ]] || { echo "rtsp.sh: $1 expects a whole number, not '$2'" >&2; exit 2; }
}

input=""
port=8554
mount=/vmt
address=0.0.0.0
model="$here/demo/vmt_demo.safetensors"
input_size=""     # empty: the model file's own (96 for the demo model, docs/models.md)
tube_length=30
dry_run=0
while (($#)); do
  case "$1" in
    --port) need "$@"; port="$2"; shift 2 ;;
    --mount) need "$@"; mount="$2"; shift 2 ;;
    --address) need "$@"; address="$2"; shift 2 ;;
    --model) need "$@"; model="$2"; shift 2 ;;
    --input-size) need "$@"; input_size="$2"; shift 2 ;;
    --tube-length) need "$@"; tube_length="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage 0 ;;
    -*) echo "rtsp.sh: unknown option $1" >&2; usage ;;
    *) [[ -z "$input" ]] || usage; input="$1"; shift ;;
  esac
done
[[ -n "$input" ]] || usage
whole_number --port "$port"
[[ -z "$input_size" ]] || whole_number --input-size "$input_size"
whole_number --tube-length "$tube_length"

quote() { local s="${1//\\/\\\\}"; printf '"%s"' "${s//\"/\\\"}"; }  # a launch-line string
# URLs (rtsp://, http://) through uridecodebin; files through filesrc ! queue ! decodebin (the
# queue keeps a damaged file from stalling decodebin, docs/pipelines.md).
if [[ "$input" == *://* ]]; then
  source="uridecodebin uri=$(quote "$input")"
else
  [[ -r "$input" ]] || { echo "rtsp.sh: cannot read $input" >&2; exit 1; }
  source="filesrc location=$(quote "$(realpath "$input")") ! queue ! decodebin"
fi

# Online mode: every frame is final when it leaves vmtsegment (no clip latency); zerolatency
# x264 (no B-frames, no look-ahead) and SPS/PPS with every key frame for clients joining late.
launch="( $source ! videoconvert qos=false ! vmtsegment model=$(quote "$model")"
launch+=" mode=online tube-length=$tube_length${input_size:+ input-size=$input_size} ! vmtoverlay ! videoconvert qos=false"
launch+=" ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=30"
launch+=" ! rtph264pay name=pay0 pt=96 config-interval=-1 )"

if ((dry_run)); then
  echo "$launch"
  exit 0
fi
# Debian's python3 has PyGObject; the project's .venv sees it too.
python=/usr/bin/python3
[[ -x "$here/../.venv/bin/python" ]] && python="$here/../.venv/bin/python"
exec "$python" "$here/../tools/vmt-rtsp-serve" --launch "$launch" --port "$port" \
  --mount "$mount" --address "$address"
