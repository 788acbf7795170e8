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
usage() { sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

positional=()
model="$here/demo/vmt_demo.safetensors"
format=mots-challenge
input_size=720
size=1296x720
device=auto
while (($#)); do
  case "$1" in
    --model) model="${2:?--model needs a value}"; shift 2 ;;
    --kitti) format=kitti-mots; shift ;;
    --input-size) input_size="${2:?--input-size needs a value}"; shift 2 ;;
    --size) size="${2:?--size needs a value}"; shift 2 ;;
    --device) device="${2:?--device needs a value}"; shift 2 ;;
    -h | --help) usage 0 ;;
    -*) echo "driving-mots.sh: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} == 2)) || usage
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
