#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_VMT_OVERLAY (gst_vmt_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstVmtOverlay, gst_vmt_overlay, GST, VMT_OVERLAY, GstVideoFilter)

/**
 * GstVmtOverlayColorBy:
 * @GST_VMT_OVERLAY_COLOR_BY_TRACK: one colour per track id
 * @GST_VMT_OVERLAY_COLOR_BY_CLASS: one colour per class id
 *
 * What picks an instance's colour; the same id always gets the same colour.
 */
typedef enum {
  GST_VMT_OVERLAY_COLOR_BY_TRACK = 0,
  GST_VMT_OVERLAY_COLOR_BY_CLASS = 1,
} GstVmtOverlayColorBy;

#define GST_TYPE_VMT_OVERLAY_COLOR_BY (gst_vmt_overlay_color_by_get_type())
GType gst_vmt_overlay_color_by_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(vmtoverlay);

G_END_DECLS
