/* Umbrella header of the gstvmt-1.0 library: #include <gst/vmt/vmt.h> */
#pragma once

#include "vmt-config.h"
#include "vmt-prelude.h"
#include "vmtmeta.h"

/* GStreamer >= 1.26 builds: GstVmtFrameMeta <-> GstAnalyticsRelationMeta. */
#if GST_VMT_HAVE_ANALYTICS
#include "vmtmeta-analytics.h"
#endif
