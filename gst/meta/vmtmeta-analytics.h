/* GstVmtFrameMeta <-> GstAnalyticsRelationMeta (GStreamer >= 1.26, gstreamer-analytics-1.0).
 *
 * Only in builds where vmt-config.h says GST_VMT_HAVE_ANALYTICS; include <gst/vmt/vmt.h>, which
 * includes this header then. */
#pragma once

#include <gst/analytics/analytics.h>

#include "vmtmeta.h"

G_BEGIN_DECLS

GST_VMT_API GstAnalyticsRelationMeta* gst_buffer_add_vmt_analytics_meta(
    GstBuffer* buffer, const GstVmtFrameMeta* meta);

GST_VMT_API GstVmtFrameMeta* gst_buffer_add_vmt_frame_meta_from_analytics(GstBuffer* buffer,
                                                                          GstBuffer* source,
                                                                          guint width,
                                                                          guint height);

G_END_DECLS
