// Test-only helpers that attach GstVmtFrameMeta to buffers: synthetic instances, and a pad probe
// that annotates every buffer leaving an element (an identity in the tests' pipelines). They stand
// in for vmtsegment's inference, which does not produce metadata yet.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "vmt.h"

namespace vmt::test {

/// A mask of `width` × `height` whose pixel (x, y) is `rule(x, y)`.
inline GstVmtMask* make_mask(guint width, guint height,
                             const std::function<bool(guint, guint)>& rule) {
  std::vector<guint8> pixels(std::size_t{width} * height);
  for (guint y = 0; y < height; ++y)
    for (guint x = 0; x < width; ++x) pixels[std::size_t{y} * width + x] = rule(x, y) ? 1 : 0;
  return gst_vmt_mask_new(width, height, pixels.data(), pixels.size());
}

/// A mask covering its whole box.
inline GstVmtMask* make_full_mask(guint width, guint height) {
  return make_mask(width, height, [](guint, guint) { return true; });
}

/// Adds an instance with a full rectangular mask; returns it.
inline GstVmtInstance* add_box_instance(GstVmtFrameMeta* meta, guint64 track_id, gint class_id,
                                        const char* label, float score, guint x, guint y,
                                        guint width, guint height) {
  GstVmtMask* mask = make_full_mask(width, height);
  GstVmtInstance* instance = gst_vmt_frame_meta_add_instance(
      meta, track_id, class_id, label, score, x, y, width, height, meta->frame_index,
      meta->frame_index, mask);
  gst_vmt_mask_unref(mask);
  return instance;
}

/// Called for each buffer with its index; adds whatever the test wants to the meta.
using Annotator = std::function<void(GstVmtFrameMeta* meta, guint64 index)>;

struct ProbeState {
  Annotator annotate;
  guint width;
  guint height;
  guint64 next_index = 0;
};

/// Installs a probe on `element`'s src pad that gives every buffer a GstVmtFrameMeta of
/// `width` × `height` filled by `annotate`. The returned state lives as long as the probe.
inline void attach_meta_probe(GstElement* element, guint width, guint height, Annotator annotate) {
  GstPad* pad = gst_element_get_static_pad(element, "src");
  auto* state = new ProbeState{std::move(annotate), width, height};
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
        auto* probe = static_cast<ProbeState*>(data);
        GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
        GstVmtFrameMeta* meta =
            gst_buffer_add_vmt_frame_meta(buffer, probe->next_index, probe->width, probe->height);
        probe->annotate(meta, probe->next_index++);
        return GST_PAD_PROBE_OK;
      },
      state, [](gpointer data) { delete static_cast<ProbeState*>(data); });
  gst_object_unref(pad);
}

}  // namespace vmt::test
