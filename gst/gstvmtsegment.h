#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VMT_SEGMENT (gst_vmt_segment_get_type())
G_DECLARE_FINAL_TYPE(GstVmtSegment, gst_vmt_segment, GST, VMT_SEGMENT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(vmtsegment);

G_END_DECLS
