#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VMT_EXPORT (gst_vmt_export_get_type())
G_DECLARE_FINAL_TYPE(GstVmtExport, gst_vmt_export, GST, VMT_EXPORT, GstBaseSink)

/**
 * GstVmtExportFormat:
 * @GST_VMT_EXPORT_FORMAT_JSONL: JSON Lines, one object per frame, written as frames arrive
 * @GST_VMT_EXPORT_FORMAT_YOUTUBE_VIS: YouTube-VIS results JSON, one object per track
 * @GST_VMT_EXPORT_FORMAT_MOTS_CHALLENGE: MOTSChallenge txt (frames 1-based by default)
 * @GST_VMT_EXPORT_FORMAT_KITTI_MOTS: KITTI-MOTS txt (frames 0-based by default)
 * @GST_VMT_EXPORT_FORMAT_BDD100K: BDD100K MOTS Scalabel JSON, one object per frame
 *
 * The file format vmtexport writes.
 */
typedef enum {
  GST_VMT_EXPORT_FORMAT_JSONL = 0,
  GST_VMT_EXPORT_FORMAT_YOUTUBE_VIS = 1,
  GST_VMT_EXPORT_FORMAT_MOTS_CHALLENGE = 2,
  GST_VMT_EXPORT_FORMAT_KITTI_MOTS = 3,
  GST_VMT_EXPORT_FORMAT_BDD100K = 4,
} GstVmtExportFormat;

#define GST_TYPE_VMT_EXPORT_FORMAT (gst_vmt_export_format_get_type())
GType gst_vmt_export_format_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(vmtexport);

G_END_DECLS
