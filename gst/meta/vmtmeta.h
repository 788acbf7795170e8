/* GstVmtFrameMeta: the instances (tracks, classes, boxes, cropped masks) VMT found in a frame.
 *
 * One GstVmtFrameMeta per buffer. Boxes and masks are in pixels of the frame the meta describes
 * (GstVmtFrameMeta.width × .height, the buffer's video size). Each instance's mask is a bitmap of
 * exactly its box (width × height bytes, row-major, 0 or 1), never a full-frame bitmap; masks are
 * refcounted and shared between copies of the meta. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include "vmt-prelude.h"

G_BEGIN_DECLS

/* --- GstVmtMask ------------------------------------------------------------------------------- */

typedef struct _GstVmtMask GstVmtMask;

#define GST_VMT_TYPE_MASK (gst_vmt_mask_get_type())
GST_VMT_API GType gst_vmt_mask_get_type(void);

GST_VMT_API GstVmtMask* gst_vmt_mask_new(guint width, guint height, const guint8* data, gsize size);
GST_VMT_API GstVmtMask* gst_vmt_mask_new_from_bytes(guint width, guint height, GBytes* bytes);
GST_VMT_API GstVmtMask* gst_vmt_mask_ref(GstVmtMask* mask);
GST_VMT_API void gst_vmt_mask_unref(GstVmtMask* mask);
GST_VMT_API guint gst_vmt_mask_get_width(const GstVmtMask* mask);
GST_VMT_API guint gst_vmt_mask_get_height(const GstVmtMask* mask);
GST_VMT_API const guint8* gst_vmt_mask_get_data(const GstVmtMask* mask, gsize* size);
GST_VMT_API GBytes* gst_vmt_mask_get_bytes(const GstVmtMask* mask);
GST_VMT_API guint64 gst_vmt_mask_get_area(const GstVmtMask* mask);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GstVmtMask, gst_vmt_mask_unref)

/* --- GstVmtInstance --------------------------------------------------------------------------- */

/**
 * GstVmtInstance:
 * @track_id: identity of the object across frames (stable while the tracker keeps it)
 * @class_id: category id of the dataset the model was trained on (YouTube-VIS ids are 1-based;
 *   KITTI-MOTS car = 1, pedestrian = 2)
 * @label: category name (interned string, never freed), or %NULL
 * @score: confidence in [0, 1]
 * @x: left edge of the box, pixels of the frame
 * @y: top edge of the box, pixels of the frame
 * @width: box width in pixels (the mask's width)
 * @height: box height in pixels (the mask's height)
 * @first_seen: frame index (see #GstVmtFrameMeta.frame_index) where the track first appeared
 * @last_seen: frame index where inference last saw the track (older than the frame's own index
 *   when the instance was carried over a skipped frame)
 * @mask: (nullable): the instance's mask, @width × @height bytes, or %NULL for a box only
 * @class_scores: (array length=n_class_scores) (nullable): the object's score for every category:
 *   class_scores[c − 1] for class id c, or %NULL when the producer gave none
 * @n_class_scores: number of entries in @class_scores
 *
 * One object in one frame. The box is whole pixels inside the frame; the mask covers exactly the
 * box. Read @mask with gst_vmt_instance_get_mask() and @class_scores with
 * gst_vmt_instance_get_class_scores() from bindings.
 */
typedef struct {
  guint64 track_id;
  gint class_id;
  const gchar* label;
  gfloat score;
  guint x;
  guint y;
  guint width;
  guint height;
  guint64 first_seen;
  guint64 last_seen;
  GstVmtMask* mask;
  gfloat* class_scores;
  guint n_class_scores;

  /*< private >*/
  gchar* rle; /* cached full-frame COCO RLE counts, set once (atomically) */
  gpointer _gst_reserved[GST_PADDING - 2];
} GstVmtInstance;

#define GST_VMT_TYPE_INSTANCE (gst_vmt_instance_get_type())
GST_VMT_API GType gst_vmt_instance_get_type(void);
GST_VMT_API GstVmtInstance* gst_vmt_instance_copy(const GstVmtInstance* instance);
GST_VMT_API void gst_vmt_instance_free(GstVmtInstance* instance);
GST_VMT_API GstVmtMask* gst_vmt_instance_get_mask(const GstVmtInstance* instance);
GST_VMT_API const gfloat* gst_vmt_instance_get_class_scores(const GstVmtInstance* instance,
                                                          guint* n_scores);
GST_VMT_API void gst_vmt_instance_set_class_scores(GstVmtInstance* instance, const gfloat* scores,
                                                   guint n_scores);

/* --- GstVmtFrameMeta -------------------------------------------------------------------------- */

/**
 * GstVmtFrameMeta:
 * @meta: the parent #GstMeta
 * @frame_index: index of this frame in the stream as counted by the element that produced the
 *   metadata (0 = its first frame); #GstVmtInstance.first_seen and .last_seen use the same count
 * @skipped: %TRUE when inference could not process this frame (it fell behind); the instances,
 *   if any, were carried over from the last processed frame
 * @width: width of the frame the boxes and masks refer to (the buffer's video width)
 * @height: height of that frame
 *
 * The instances segmented in one video frame. Get them with gst_vmt_frame_meta_get_n_instances()
 * and gst_vmt_frame_meta_get_instance().
 */
typedef struct {
  GstMeta meta;

  guint64 frame_index;
  gboolean skipped;
  guint width;
  guint height;

  /*< private >*/
  GArray* instances; /* of GstVmtInstance */
  gpointer _gst_reserved[GST_PADDING];
} GstVmtFrameMeta;

#define GST_VMT_FRAME_META_API_TYPE (gst_vmt_frame_meta_api_get_type())
#define GST_VMT_FRAME_META_INFO (gst_vmt_frame_meta_get_info())

GST_VMT_API GType gst_vmt_frame_meta_api_get_type(void);
GST_VMT_API const GstMetaInfo* gst_vmt_frame_meta_get_info(void);

GST_VMT_API GstVmtFrameMeta* gst_buffer_add_vmt_frame_meta(GstBuffer* buffer, guint64 frame_index,
                                                           guint width, guint height);
GST_VMT_API GstVmtFrameMeta* gst_buffer_get_vmt_frame_meta(GstBuffer* buffer);
GST_VMT_API GstVmtFrameMeta* gst_buffer_find_vmt_frame_meta(GstBuffer* buffer, guint width,
                                                            guint height, GstBuffer** holder);

GST_VMT_API GstVmtInstance* gst_vmt_frame_meta_add_instance(
    GstVmtFrameMeta* meta, guint64 track_id, gint class_id, const gchar* label, gfloat score,
    guint x, guint y, guint width, guint height, guint64 first_seen, guint64 last_seen,
    GstVmtMask* mask);
GST_VMT_API guint gst_vmt_frame_meta_get_n_instances(const GstVmtFrameMeta* meta);
GST_VMT_API GstVmtInstance* gst_vmt_frame_meta_get_instance(const GstVmtFrameMeta* meta,
                                                            guint index);
GST_VMT_API const gchar* gst_vmt_frame_meta_get_rle(const GstVmtFrameMeta* meta, guint index);
GST_VMT_API gboolean gst_vmt_frame_meta_render_mask(const GstVmtFrameMeta* meta, guint index,
                                                    guint8* dest, gsize dest_size, gsize stride);
GST_VMT_API GBytes* gst_vmt_frame_meta_render_mask_bytes(const GstVmtFrameMeta* meta, guint index);

GST_VMT_API guint gst_buffer_add_vmt_roi_metas(GstBuffer* buffer);

/* --- cropping ----------------------------------------------------------------------------------- */

/**
 * GstVmtMetaTransformCrop:
 * @x: left edge of the kept rectangle in the input frame
 * @y: top edge of the kept rectangle
 * @width: width of the kept rectangle (the output frame's width)
 * @height: height of the kept rectangle (the output frame's height)
 *
 * Data of the "gst-vmt-crop" transform (gst_vmt_meta_transform_crop_get_quark()): an element that
 * cuts @width × @height pixels at (@x, @y) out of its input passes this to the meta's transform
 * function so boxes are translated and clipped and masks cropped.
 */
typedef struct {
  guint x;
  guint y;
  guint width;
  guint height;
} GstVmtMetaTransformCrop;

GST_VMT_API GQuark gst_vmt_meta_transform_crop_get_quark(void);
#define GST_VMT_META_TRANSFORM_IS_CROP(type) ((type) == gst_vmt_meta_transform_crop_get_quark())

G_END_DECLS
