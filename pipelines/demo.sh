#!/usr/bin/env bash
# The main job of the README's Quick start: run vmtsegment in a real pipeline and write the result.
# Usage: pipelines/demo.sh OUTPUT_FOLDER   (GST_PLUGIN_PATH must reach the vmt plugin; tools/dev
# demo sets it).
#
# Today vmtsegment selects the compute device and passes frames through (model inference is not
# implemented yet), so the demo encodes a synthetic moving-ball clip through it to MP4.
set -euo pipefail
out="${1:?usage: pipelines/demo.sh OUTPUT_FOLDER}"
mkdir -p "$out"
video="$out/demo.mp4"

gst-launch-1.0 -q \
  videotestsrc num-buffers=120 pattern=ball \
  ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! vmtsegment device=auto \
  ! videoconvert ! x264enc speed-preset=veryfast ! mp4mux \
  ! filesink location="$video"

echo "demo: wrote $video ($(stat -c %s "$video") bytes)"
gst-discoverer-1.0 "$video" | grep -E "Duration|video\(" | sed 's/^/demo:   /' || true
