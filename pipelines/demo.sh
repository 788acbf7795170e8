#!/usr/bin/env bash
# The main job of the README's Quick start: the shipped demo video through vmtsegment with the
# shipped demo model, rendered by vmtoverlay into an MP4, and the metadata exported as YouTube-VIS
# results JSON and as JSON Lines.
# Usage: pipelines/demo.sh OUTPUT_FOLDER [VIDEO] [MODEL]   (GST_PLUGIN_PATH must reach the vmt
# plugin; `tools/dev demo` sets it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: pipelines/demo.sh OUTPUT_FOLDER [VIDEO] [MODEL]}"
video="${2:-$here/demo/demo.mp4}"
model="${3:-$here/demo/vmt_demo.safetensors}"
mkdir -p "$out"

# The demo model was trained on 96-pixel-high frames (docs/models.md): input-size=96.
segment() {
  echo "filesrc location=\"$video\" ! decodebin ! videoconvert ! video/x-raw,format=RGB !" \
       "vmtsegment model=\"$model\" mode=offline clip-length=40 clip-overlap=10 input-size=96" \
       "association=tube-iou"
}

# One pipeline per output (a tee into the exporters stalled at preroll; see the issue tracker).
eval gst-launch-1.0 -q "$(segment)" ! vmtoverlay ! videoconvert ! x264enc speed-preset=veryfast \
  ! mp4mux ! filesink location="\"$out/overlay.mp4\""
eval gst-launch-1.0 -q "$(segment)" ! vmtexport format=youtube-vis location="\"$out/results.json\""
eval gst-launch-1.0 -q "$(segment)" ! vmtexport format=jsonl location="\"$out/frames.jsonl\""

echo "demo: overlay video   $out/overlay.mp4 ($(stat -c %s "$out/overlay.mp4") bytes)"
echo "demo: YouTube-VIS     $out/results.json ($(stat -c %s "$out/results.json") bytes)"
echo "demo: JSON Lines      $out/frames.jsonl ($(wc -l <"$out/frames.jsonl") frames)"
