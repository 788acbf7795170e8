#!/usr/bin/env bash
# GST_PLUGIN_SCANNER of tools/sanitize.sh: GStreamer's plugin scanner, a separate program that is
# not instrumented, with the ASan runtime preloaded so that it can load the instrumented vmt
# plugin (without it the plugin fails to load and is blacklisted in the registry). The leak
# check is off here: the scanner loads every plugin of the system, and what they keep is not
# ours to judge; the test programs check the vmt plugin's own allocations.
scanner="$(pkg-config --variable=pluginscannerdir gstreamer-1.0)/gst-plugin-scanner"
export LD_PRELOAD="${VMT_SANITIZE_PRELOAD}${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="${ASAN_OPTIONS}:detect_leaks=0"
exec "$scanner" "$@"
