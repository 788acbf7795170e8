#!/usr/bin/env bash
# gst-inspect-1.0 finds the plugin through GST_PLUGIN_PATH, lists its elements, and inspects each
# one without warnings (a property without a blurb or a broken pad template shows up here).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

plugin_listing="$(gst-inspect-1.0 vmt 2>&1)" || fail "gst-inspect-1.0 vmt failed: $plugin_listing"
grep -q "vmtsegment" <<<"$plugin_listing" || fail "vmtsegment not listed: $plugin_listing"

for element in $(sed -n 's/^ *\(vmt[a-z]*\): .*/\1/p' <<<"$plugin_listing"); do
  details="$(gst-inspect-1.0 "$element" 2>&1)" || fail "gst-inspect-1.0 $element failed"
  if grep -qiE "critical|warning" <<<"$details"; then fail "$element: $details"; fi
  echo "ok: $element"
done
