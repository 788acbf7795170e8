#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VMT_SEGMENT (gst_vmt_segment_get_type())
G_DECLARE_FINAL_TYPE(GstVmtSegment, gst_vmt_segment, GST, VMT_SEGMENT, GstElement)

GST_ELEMENT_REGISTER_DECLARE(vmtsegment);

/**
 * GstVmtSegmentMode:
 * @GST_VMT_SEGMENT_MODE_ONLINE: a sliding window of past frames, one inference per frame
 * @GST_VMT_SEGMENT_MODE_OFFLINE: overlapping clips of clip-length frames
 */
typedef enum {
  GST_VMT_SEGMENT_MODE_ONLINE,
  GST_VMT_SEGMENT_MODE_OFFLINE,
} GstVmtSegmentMode;

/**
 * GstVmtSegmentAssociation:
 * @GST_VMT_SEGMENT_ASSOCIATION_NONE: fresh track ids for every clip
 * @GST_VMT_SEGMENT_ASSOCIATION_TUBE_IOU: greedy tube-mask-IoU matching on the overlapping frames
 */
typedef enum {
  GST_VMT_SEGMENT_ASSOCIATION_NONE,
  GST_VMT_SEGMENT_ASSOCIATION_TUBE_IOU,
} GstVmtSegmentAssociation;

/**
 * GstVmtSegmentPrecision:
 * @GST_VMT_SEGMENT_PRECISION_FP32: 32-bit float
 * @GST_VMT_SEGMENT_PRECISION_FP16: 16-bit float (CUDA only)
 * @GST_VMT_SEGMENT_PRECISION_BF16: bfloat16 (CUDA only)
 */
typedef enum {
  GST_VMT_SEGMENT_PRECISION_FP32,
  GST_VMT_SEGMENT_PRECISION_FP16,
  GST_VMT_SEGMENT_PRECISION_BF16,
} GstVmtSegmentPrecision;

/**
 * GstVmtSegmentInstances:
 * @GST_VMT_SEGMENT_INSTANCES_PER_OBJECT: one instance per object, with its best class
 * @GST_VMT_SEGMENT_INSTANCES_TOP_PAIRS: the official evaluation rule: the top (object, class)
 *   pairs, so an object may appear under several classes
 */
typedef enum {
  GST_VMT_SEGMENT_INSTANCES_PER_OBJECT,
  GST_VMT_SEGMENT_INSTANCES_TOP_PAIRS,
} GstVmtSegmentInstances;

GType gst_vmt_segment_mode_get_type(void);
GType gst_vmt_segment_instances_get_type(void);
GType gst_vmt_segment_association_get_type(void);
GType gst_vmt_segment_precision_get_type(void);

G_END_DECLS
