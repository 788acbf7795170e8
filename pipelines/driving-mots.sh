#!/usr/bin/env bash
# Driving video → MOTS txt, as in the BDD100K MOTS setting: frames scaled to 1296x720, VMT online
# (a 30-frame tube, input size 720), tube-IoU association, results in MOTSChallenge txt
# (`frame id class_id height width rle`, TrackEval; docs/elements.md) for tools/vmt-eval.
# Usage: pipelines/driving-mots.sh VIDEO OUTPUT.txt [--model FILE] [--kitti] [--input-size N]
#          [--size WxH] [--device DEVICE]
#   --kitti        KITTI-MOTS txt (frames from 0) instead of MOTSChallenge (frames from 1)
#   --input-size   720 by default; the shipped demo model wants 96 (a quick try on demo.mp4)
# The defaults expect a model trained on driving data (converted BDD100K/KITTI-MOTS weights,
# docs/models.md); the shipped demo model only knows synthetic shapes.
# (GST_PLUGIN_PATH must reach the vmt plugin; `tools/dev shell` sets it.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The usage text: on stdout for --help (exit 0), on stderr after a mistake (exit 2).
usage() {
  local status="${1:-2}"
  sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((status ? 2 : 1))"
  exit "$status"
}
# Option values: a missing or malformed one is a usage mistake (exit 2), named.
need() { (($# >= 2)) || { echo "driving-mots.sh: $1 needs a value" >&2; exit 2; }; }
whole_number() {
  [[ "$2" =~ ^-?[0-9]+$ ]] || { echo "driving-mots.sh: $1 expects a whole number, not '$2'" >&2; exit 2; }
}

positional=()
model="$here/demo/vmt_demo.safetensors"
format=mots-challenge
input_size=720
size=1296x720
device=auto
while (($#)); do
  case "$1" in
    --model) need "$@"; model="$2"; shift 2 ;;
    --kitti) format=kitti-mots; shift ;;
    --input-size) need "$@"; input_size="$2"; shift 2 ;;
    --size) need "$@"; size="$2"; shift 2 ;;
    --device) need "$@"; device="$2"; shift 2 ;;
    -h | --help) usage 0 ;;
    -*) echo "driving-mots.sh: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} == 2)) || usage
whole_number --input-size "$input_size"
video="${positional[0]}" output="${positional[1]}"
[[ -r "$video" ]] || { echo "driving-mots.sh: cannot read $video" >&2; exit 1; }
[[ "$size" =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "driving-mots.sh: --size must be WxH" >&2; exit 2; }
width="${BASH_REMATCH[1]}" height="${BASH_REMATCH[2]}"

# queue: the demuxer in push mode, so a damaged file ends in an error (docs/pipelines.md)
gst-launch-1.0 -q filesrc location="$video" ! queue ! decodebin ! videoconvert ! videoscale \
  ! "video/x-raw,width=$width,height=$height,pixel-aspect-ratio=1/1" ! videoconvert \
  ! vmtsegment model="$model" device="$device" mode=online tube-length=30 \
    input-size="$input_size" association=tube-iou \
  ! vmtexport format="$format" location="$output"

echo "driving-mots: $output ($(wc -l <"$output") objects in $format txt)"
