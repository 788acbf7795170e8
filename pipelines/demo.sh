#!/usr/bin/env bash
# The main job of the README's Quick start: the shipped demo video through vmtsegment with the
# shipped demo model, rendered by vmtoverlay into an MP4, and the metadata exported as YouTube-VIS
# results JSON and as JSON Lines.
# Usage: pipelines/demo.sh OUTPUT_FOLDER [VIDEO] [MODEL]   (GST_PLUGIN_PATH must reach the vmt
# plugin; `tools/dev demo` sets it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The usage text: on stdout for --help (exit 0), on stderr after a mistake (exit 2).
usage() {
  local status="${1:-2}"
  sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((status ? 2 : 1))"
  exit "$status"
}
positional=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage 0 ;;
    -*) echo "demo.sh: unknown option $arg" >&2; usage ;;
    *) positional+=("$arg") ;;
  esac
done
((${#positional[@]} >= 1 && ${#positional[@]} <= 3)) || usage
out="${positional[0]}"
video="${positional[1]:-$here/demo/demo.mp4}"
model="${positional[2]:-$here/demo/vmt_demo.safetensors}"
mkdir -p "$out"

# vmtsegment takes its input size (96) and other inference settings from the model file.
# One decode and one inference, teed three ways. Each vmtexport prerolls on its first frame and
# blocks its branch until the pipeline plays, while x264enc takes in a dozen frames or more
# (lookahead, frame threads) before the MP4 branch can preroll; so the exporters' queues are
# bounded by nothing (a default queue holds 1 s, 12 frames here, and the tee would block). They
# stay short once playing: exporting a frame costs far less than encoding it.
export_queue="queue max-size-buffers=0 max-size-bytes=0 max-size-time=0"
# (filesrc ! queue ! decodebin: a damaged file's demuxer error then always reaches the bus;
# docs/pipelines.md.)
gst-launch-1.0 -q filesrc location="$video" ! queue ! decodebin ! videoconvert ! video/x-raw,format=RGB ! \
  vmtsegment model="$model" mode=offline clip-length=40 clip-overlap=10 \
    association=tube-iou ! tee name=t \
  t. ! queue ! vmtoverlay ! videoconvert ! x264enc speed-preset=veryfast ! mp4mux ! \
    filesink location="$out/overlay.mp4" \
  t. ! $export_queue ! vmtexport format=youtube-vis location="$out/results.json" \
  t. ! $export_queue ! vmtexport format=jsonl location="$out/frames.jsonl"

echo "demo: overlay video   $out/overlay.mp4 ($(stat -c %s "$out/overlay.mp4") bytes)"
echo "demo: YouTube-VIS     $out/results.json ($(stat -c %s "$out/results.json") bytes)"
echo "demo: JSON Lines      $out/frames.jsonl ($(wc -l <"$out/frames.jsonl") frames)"
