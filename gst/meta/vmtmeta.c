/**
 * SECTION:gstvmtmeta
 * @title: GstVmtFrameMeta
 * @short_description: Video instance segmentation results of one frame
 *
 * #GstVmtFrameMeta carries the instances Video Mask Transfiner (VMT) found in a frame: track id,
 * class id and label, score, box in frame pixels, first and last frame seen, and a binary mask
 * cropped to the box. At most one per buffer.
 *
 * Masks (#GstVmtMask) are refcounted and immutable: copying a buffer shares them. Scaling
 * (videoscale's "gst-video-scale" transform) scales boxes and resamples masks nearest-neighbour,
 * exactly as if the full-frame mask had been scaled; the "gst-vmt-crop" transform translates and
 * clips them. Every other transform (flip, rotation, partial copies, unknown ones) drops the meta
 * rather than keep wrong geometry.
 *
 * From Python (PyGObject, `gi.require_version('GstVmt', '1.0')`):
 * |[
 * meta = GstVmt.buffer_get_vmt_frame_meta(buffer)
 * for i in range(meta.get_n_instances()):
 *     inst = meta.get_instance(i)
 *     mask = inst.get_mask()
 *     bitmap = numpy.frombuffer(mask.get_data(), numpy.uint8).reshape(inst.height, inst.width)
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vmtmeta.h"

#include <string.h>

#include "vmt-config.h"
#if GST_VMT_HAVE_ANALYTICS
#include "vmtmeta-analytics.h"
#endif

#include "vmtmeta-private.h"

/* --- GstVmtMask ------------------------------------------------------------------------------- */

struct _GstVmtMask {
  gint refcount; /* atomic */
  guint width;
  guint height;
  GBytes* bytes; /* width × height bytes, 0 or 1, immutable */
};

G_DEFINE_BOXED_TYPE(GstVmtMask, gst_vmt_mask, gst_vmt_mask_ref, gst_vmt_mask_unref)

static GstVmtMask* gst_vmt_mask_wrap(guint width, guint height, GBytes* bytes /* transfer full */) {
  GstVmtMask* mask = g_new0(GstVmtMask, 1);
  mask->refcount = 1;
  mask->width = width;
  mask->height = height;
  mask->bytes = bytes;
  return mask;
}

/**
 * gst_vmt_mask_new:
 * @width: width in pixels
 * @height: height in pixels
 * @data: (array length=size) (nullable): row-major pixels, nonzero = foreground; %NULL for an
 *   empty (all background) mask
 * @size: number of bytes in @data, @width × @height (ignored when @data is %NULL)
 *
 * Creates a mask from a copy of @data, storing every pixel as 0 or 1.
 *
 * Returns: (transfer full): a new mask, or %NULL if @size does not match
 */
GstVmtMask* gst_vmt_mask_new(guint width, guint height, const guint8* data, gsize size) {
  const gsize pixels = (gsize)width * height;
  g_return_val_if_fail(data == NULL || size == pixels, NULL);

  guint8* copy = g_malloc0(pixels > 0 ? pixels : 1);
  if (data != NULL) {
    for (gsize i = 0; i < pixels; ++i) copy[i] = data[i] != 0;
  }
  return gst_vmt_mask_wrap(width, height, g_bytes_new_take(copy, pixels));
}

/**
 * gst_vmt_mask_new_from_bytes:
 * @width: width in pixels
 * @height: height in pixels
 * @bytes: row-major pixels, nonzero = foreground, @width × @height bytes
 *
 * Creates a mask sharing @bytes when they hold only 0 and 1 (no copy), else from a normalised
 * copy.
 *
 * Returns: (transfer full): a new mask, or %NULL if the size of @bytes does not match
 */
GstVmtMask* gst_vmt_mask_new_from_bytes(guint width, guint height, GBytes* bytes) {
  g_return_val_if_fail(bytes != NULL, NULL);
  gsize size = 0;
  const guint8* data = g_bytes_get_data(bytes, &size);
  g_return_val_if_fail(size == (gsize)width * height, NULL);
  for (gsize i = 0; i < size; ++i) {
    if (data[i] > 1) return gst_vmt_mask_new(width, height, data, size);
  }
  return gst_vmt_mask_wrap(width, height, g_bytes_ref(bytes));
}

/**
 * gst_vmt_mask_ref:
 * @mask: a mask
 *
 * Returns: (transfer full): @mask, with one more reference
 */
GstVmtMask* gst_vmt_mask_ref(GstVmtMask* mask) {
  g_return_val_if_fail(mask != NULL, NULL);
  g_atomic_int_inc(&mask->refcount);
  return mask;
}

/**
 * gst_vmt_mask_unref:
 * @mask: (transfer full): a mask
 *
 * Drops a reference; the last one frees the mask.
 */
void gst_vmt_mask_unref(GstVmtMask* mask) {
  g_return_if_fail(mask != NULL);
  if (g_atomic_int_dec_and_test(&mask->refcount)) {
    g_bytes_unref(mask->bytes);
    g_free(mask);
  }
}

/**
 * gst_vmt_mask_get_width:
 * @mask: a mask
 *
 * Returns: the width in pixels (the instance box's width)
 */
guint gst_vmt_mask_get_width(const GstVmtMask* mask) {
  g_return_val_if_fail(mask != NULL, 0);
  return mask->width;
}

/**
 * gst_vmt_mask_get_height:
 * @mask: a mask
 *
 * Returns: the height in pixels (the instance box's height)
 */
guint gst_vmt_mask_get_height(const GstVmtMask* mask) {
  g_return_val_if_fail(mask != NULL, 0);
  return mask->height;
}

/**
 * gst_vmt_mask_get_data:
 * @mask: a mask
 * @size: (out): number of bytes, width × height
 *
 * The pixels, row-major (`data[y * width + x]`), each 0 or 1; in Python
 * `numpy.frombuffer(mask.get_data(), numpy.uint8).reshape(height, width)`.
 *
 * Returns: (transfer none) (array length=size): the pixels, valid while @mask lives
 */
const guint8* gst_vmt_mask_get_data(const GstVmtMask* mask, gsize* size) {
  g_return_val_if_fail(mask != NULL, NULL);
  return g_bytes_get_data(mask->bytes, size);
}

/**
 * gst_vmt_mask_get_bytes:
 * @mask: a mask
 *
 * Returns: (transfer full): the pixels (see gst_vmt_mask_get_data()) as a #GBytes sharing the
 *   mask's memory
 */
GBytes* gst_vmt_mask_get_bytes(const GstVmtMask* mask) {
  g_return_val_if_fail(mask != NULL, NULL);
  return g_bytes_ref(mask->bytes);
}

/**
 * gst_vmt_mask_get_area:
 * @mask: a mask
 *
 * Returns: the number of foreground pixels
 */
guint64 gst_vmt_mask_get_area(const GstVmtMask* mask) {
  g_return_val_if_fail(mask != NULL, 0);
  gsize size = 0;
  const guint8* data = g_bytes_get_data(mask->bytes, &size);
  guint64 area = 0;
  for (gsize i = 0; i < size; ++i) area += data[i];
  return area;
}

/* A new mask holding the (x, y, width, height) rectangle of @mask. */
static GstVmtMask* gst_vmt_mask_crop(const GstVmtMask* mask, guint x, guint y, guint width,
                                     guint height) {
  const guint8* src = g_bytes_get_data(mask->bytes, NULL);
  guint8* out = g_malloc0(MAX((gsize)width * height, 1));
  for (guint row = 0; row < height; ++row)
    memcpy(out + (gsize)row * width, src + (gsize)(y + row) * mask->width + x, width);
  return gst_vmt_mask_wrap(width, height, g_bytes_new_take(out, (gsize)width * height));
}

/* --- GstVmtInstance --------------------------------------------------------------------------- */

/* Fills @dest from @src: the mask gains a reference, the cached RLE is duplicated. */
/* A copy of @instance's class scores (NULL when it has none). */
static gfloat* gst_vmt_instance_dup_class_scores(const GstVmtInstance* instance) {
  return instance->n_class_scores
             ? g_memdup2(instance->class_scores, instance->n_class_scores * sizeof(gfloat))
             : NULL;
}

/* Fills @dest from @src: the mask gains a reference, the cached RLE and the class scores are
 * duplicated. */
static void gst_vmt_instance_init_copy(GstVmtInstance* dest, const GstVmtInstance* src) {
  *dest = *src;
  if (dest->mask) gst_vmt_mask_ref(dest->mask);
  dest->rle = g_strdup(g_atomic_pointer_get(&((GstVmtInstance*)src)->rle));
  dest->class_scores = gst_vmt_instance_dup_class_scores(src);
}

static void gst_vmt_instance_clear(GstVmtInstance* instance) {
  g_clear_pointer(&instance->mask, gst_vmt_mask_unref);
  g_clear_pointer(&instance->rle, g_free);
  g_clear_pointer(&instance->class_scores, g_free);
  instance->n_class_scores = 0;
}

/**
 * gst_vmt_instance_copy:
 * @instance: an instance
 *
 * Copies @instance; the copy shares the mask.
 *
 * Returns: (transfer full): the copy, free with gst_vmt_instance_free()
 */
GstVmtInstance* gst_vmt_instance_copy(const GstVmtInstance* instance) {
  g_return_val_if_fail(instance != NULL, NULL);
  GstVmtInstance* copy = g_new0(GstVmtInstance, 1);
  gst_vmt_instance_init_copy(copy, instance);
  return copy;
}

/**
 * gst_vmt_instance_free:
 * @instance: (transfer full): an instance made by gst_vmt_instance_copy()
 *
 * Frees @instance and drops its reference to the mask.
 */
void gst_vmt_instance_free(GstVmtInstance* instance) {
  g_return_if_fail(instance != NULL);
  gst_vmt_instance_clear(instance);
  g_free(instance);
}

G_DEFINE_BOXED_TYPE(GstVmtInstance, gst_vmt_instance, gst_vmt_instance_copy, gst_vmt_instance_free)

/**
 * gst_vmt_instance_get_class_scores:
 * @instance: an instance
 * @n_scores: (out): the number of scores
 *
 * The object's score for every category (entry c − 1 for class id c), as the model rated it:
 * with one instance per object, the classes it was not reported under too.
 *
 * Returns: (array length=n_scores) (transfer none) (nullable): the scores, or %NULL when the
 *   producer gave none
 */
const gfloat* gst_vmt_instance_get_class_scores(const GstVmtInstance* instance, guint* n_scores) {
  g_return_val_if_fail(instance != NULL, NULL);
  if (n_scores) *n_scores = instance->n_class_scores;
  return instance->class_scores;
}

/**
 * gst_vmt_instance_set_class_scores:
 * @instance: an instance of a frame meta (gst_vmt_frame_meta_add_instance())
 * @scores: (array length=n_scores) (nullable): the scores, copied
 * @n_scores: their number
 *
 * Sets the object's score for every category, replacing any earlier ones.
 */
void gst_vmt_instance_set_class_scores(GstVmtInstance* instance, const gfloat* scores,
                                       guint n_scores) {
  g_return_if_fail(instance != NULL);
  g_return_if_fail(scores != NULL || n_scores == 0);
  g_free(instance->class_scores);
  instance->class_scores = n_scores ? g_memdup2(scores, n_scores * sizeof(gfloat)) : NULL;
  instance->n_class_scores = n_scores;
}

/**
 * gst_vmt_instance_get_mask:
 * @instance: an instance
 *
 * Returns: (transfer none) (nullable): the mask cropped to the box, or %NULL for a box only
 */
GstVmtMask* gst_vmt_instance_get_mask(const GstVmtInstance* instance) {
  g_return_val_if_fail(instance != NULL, NULL);
  return instance->mask;
}

/* --- GstVmtFrameMeta -------------------------------------------------------------------------- */

static void gst_vmt_instance_array_clear(gpointer element) {
  gst_vmt_instance_clear((GstVmtInstance*)element);
}

static gboolean gst_vmt_frame_meta_init(GstMeta* meta, gpointer params, GstBuffer* buffer) {
  (void)params;
  (void)buffer;
  GstVmtFrameMeta* self = (GstVmtFrameMeta*)meta;
  self->frame_index = 0;
  self->skipped = FALSE;
  self->width = 0;
  self->height = 0;
  self->instances = g_array_new(FALSE, TRUE, sizeof(GstVmtInstance));
  g_array_set_clear_func(self->instances, gst_vmt_instance_array_clear);
  return TRUE;
}

static void gst_vmt_frame_meta_free(GstMeta* meta, GstBuffer* buffer) {
  (void)buffer;
  GstVmtFrameMeta* self = (GstVmtFrameMeta*)meta;
  g_clear_pointer(&self->instances, g_array_unref);
}

static GstVmtFrameMeta* gst_vmt_frame_meta_add_empty(GstBuffer* dest, const GstVmtFrameMeta* src,
                                                     guint width, guint height) {
  if (gst_buffer_get_vmt_frame_meta(dest) != NULL) return NULL;
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(dest, src->frame_index, width, height);
  if (meta) meta->skipped = src->skipped;
  return meta;
}

static void gst_vmt_frame_meta_append(GstVmtFrameMeta* meta, GstVmtInstance* instance) {
  g_array_append_vals(meta->instances, instance, 1);
}

/* Adds to @dest a copy of @src whose instances share @src's masks. */
static gboolean gst_vmt_frame_meta_copy_all(GstBuffer* dest, const GstVmtFrameMeta* src) {
  GstVmtFrameMeta* out = gst_vmt_frame_meta_add_empty(dest, src, src->width, src->height);
  if (out == NULL) return FALSE;
  for (guint i = 0; i < src->instances->len; ++i) {
    GstVmtInstance instance;
    gst_vmt_instance_init_copy(&instance, &g_array_index(src->instances, GstVmtInstance, i));
    gst_vmt_frame_meta_append(out, &instance);
  }
  return TRUE;
}

/* Integer ceil(numerator / denominator) for a positive denominator. */
static gint64 ceil_div(gint64 numerator, gint64 denominator) {
  gint64 quotient = numerator / denominator;
  if (numerator % denominator != 0 && numerator > 0) quotient += 1;
  return quotient;
}

/* First output coordinate whose nearest-neighbour source, floor((2X + 1) * in / (2 * out)), is at
 * or after @edge: scaling a box's edges with it gives the box of the scaled full-frame mask. */
static guint scale_edge(guint edge, guint in, guint out) {
  const gint64 value = ceil_div(2 * (gint64)edge * out - in, 2 * (gint64)in);
  return (guint)CLAMP(value, 0, (gint64)out);
}

static gboolean gst_vmt_frame_meta_scale(GstBuffer* dest, const GstVmtFrameMeta* src,
                                         const GstVideoMetaTransform* transform) {
  const guint in_w = GST_VIDEO_INFO_WIDTH(transform->in_info);
  const guint in_h = GST_VIDEO_INFO_HEIGHT(transform->in_info);
  const guint out_w = GST_VIDEO_INFO_WIDTH(transform->out_info);
  const guint out_h = GST_VIDEO_INFO_HEIGHT(transform->out_info);
  if (in_w != src->width || in_h != src->height || in_w == 0 || in_h == 0 || out_w == 0 ||
      out_h == 0)
    return FALSE; /* the meta does not describe this frame: drop it rather than guess */

  if (in_w == out_w && in_h == out_h)
    return gst_vmt_frame_meta_copy_all(dest, src); /* videoconvert: same size, share masks */

  GstVmtFrameMeta* meta = gst_vmt_frame_meta_add_empty(dest, src, out_w, out_h);
  if (meta == NULL) return FALSE;

  for (guint i = 0; i < src->instances->len; ++i) {
    const GstVmtInstance* in = &g_array_index(src->instances, GstVmtInstance, i);
    GstVmtInstance out = *in;
    out.mask = NULL;
    out.rle = NULL;
    out.class_scores = NULL;
    const guint x0 = scale_edge(in->x, in_w, out_w), x1 = scale_edge(in->x + in->width, in_w, out_w);
    const guint y0 = scale_edge(in->y, in_h, out_h), y1 = scale_edge(in->y + in->height, in_h, out_h);
    out.x = x0;
    out.y = y0;
    out.width = x1 - x0;
    out.height = y1 - y0;
    if ((out.width == 0 || out.height == 0) && in->width > 0 && in->height > 0)
      continue; /* too small to survive the scaling */
    if (in->mask != NULL) {
      const guint8* pixels = g_bytes_get_data(in->mask->bytes, NULL);
      guint8* scaled = g_malloc0(MAX((gsize)out.width * out.height, 1));
      guint* source_x = g_new(guint, MAX(out.width, 1));
      for (guint X = 0; X < out.width; ++X)
        source_x[X] = (guint)((2 * (guint64)(x0 + X) + 1) * in_w / (2 * (guint64)out_w)) - in->x;
      for (guint Y = 0; Y < out.height; ++Y) {
        const guint sy = (guint)((2 * (guint64)(y0 + Y) + 1) * in_h / (2 * (guint64)out_h)) - in->y;
        const guint8* row = pixels + (gsize)sy * in->width;
        guint8* out_row = scaled + (gsize)Y * out.width;
        for (guint X = 0; X < out.width; ++X) out_row[X] = row[source_x[X]];
      }
      g_free(source_x);
      out.mask = gst_vmt_mask_wrap(out.width, out.height,
                                   g_bytes_new_take(scaled, (gsize)out.width * out.height));
    }
    out.class_scores = gst_vmt_instance_dup_class_scores(in);
    gst_vmt_frame_meta_append(meta, &out);
  }
  return TRUE;
}

static gboolean gst_vmt_frame_meta_crop(GstBuffer* dest, const GstVmtFrameMeta* src,
                                        const GstVmtMetaTransformCrop* crop) {
  if (crop->width == 0 || crop->height == 0 || (guint64)crop->x + crop->width > src->width ||
      (guint64)crop->y + crop->height > src->height)
    return FALSE;

  GstVmtFrameMeta* meta = gst_vmt_frame_meta_add_empty(dest, src, crop->width, crop->height);
  if (meta == NULL) return FALSE;

  for (guint i = 0; i < src->instances->len; ++i) {
    const GstVmtInstance* in = &g_array_index(src->instances, GstVmtInstance, i);
    const guint x0 = CLAMP(in->x, crop->x, crop->x + crop->width);
    const guint x1 = CLAMP(in->x + in->width, crop->x, crop->x + crop->width);
    const guint y0 = CLAMP(in->y, crop->y, crop->y + crop->height);
    const guint y1 = CLAMP(in->y + in->height, crop->y, crop->y + crop->height);
    if ((x1 == x0 || y1 == y0) && in->width > 0 && in->height > 0)
      continue; /* entirely outside the kept rectangle */
    GstVmtInstance out = *in;
    out.rle = NULL;
    out.class_scores = gst_vmt_instance_dup_class_scores(in);
    out.x = x0 - crop->x;
    out.y = y0 - crop->y;
    out.width = x1 - x0;
    out.height = y1 - y0;
    if (in->mask == NULL)
      out.mask = NULL;
    else if (out.width == in->width && out.height == in->height)
      out.mask = gst_vmt_mask_ref(in->mask); /* wholly inside: share */
    else
      out.mask = gst_vmt_mask_crop(in->mask, x0 - in->x, y0 - in->y, out.width, out.height);
    gst_vmt_frame_meta_append(meta, &out);
  }
  return TRUE;
}

static gboolean gst_vmt_frame_meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer* buffer,
                                             GQuark type, gpointer data) {
  const GstVmtFrameMeta* src = (const GstVmtFrameMeta*)meta;

  if (GST_META_TRANSFORM_IS_COPY(type)) {
    const GstMetaTransformCopy* copy = data;
    /* A copy of part of the buffer's memory no longer holds this frame. */
    if (copy->region && !(copy->offset == 0 && (copy->size == (gsize)-1 ||
                                                copy->size == gst_buffer_get_size(buffer))))
      return FALSE;
    return gst_vmt_frame_meta_copy_all(dest, src);
  }
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE(type))
    return gst_vmt_frame_meta_scale(dest, src, (const GstVideoMetaTransform*)data);
  if (GST_VMT_META_TRANSFORM_IS_CROP(type))
    return gst_vmt_frame_meta_crop(dest, src, (const GstVmtMetaTransformCrop*)data);

  /* Flip, rotation or a transform this library does not know: the geometry cannot be kept. */
  return FALSE;
}

/**
 * gst_vmt_frame_meta_api_get_type:
 *
 * Returns: the #GType of the GstVmtFrameMeta API, tagged "video", "size" and "orientation"
 */
GType gst_vmt_frame_meta_api_get_type(void) {
  static GType type = 0;
  static const gchar* tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR,
                                GST_META_TAG_VIDEO_ORIENTATION_STR, NULL};
  if (g_once_init_enter(&type)) {
    GType api = gst_meta_api_type_register("GstVmtFrameMetaAPI", tags);
    g_once_init_leave(&type, api);
  }
  return type;
}

/**
 * gst_vmt_frame_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #GstVmtFrameMeta
 */
const GstMetaInfo* gst_vmt_frame_meta_get_info(void) {
  static const GstMetaInfo* info = NULL;
  if (g_once_init_enter((GstMetaInfo**)&info)) {
    const GstMetaInfo* registered = gst_meta_register(
        GST_VMT_FRAME_META_API_TYPE, "GstVmtFrameMeta", sizeof(GstVmtFrameMeta),
        gst_vmt_frame_meta_init, gst_vmt_frame_meta_free, gst_vmt_frame_meta_transform);
    g_once_init_leave((GstMetaInfo**)&info, (GstMetaInfo*)registered);
  }
  return info;
}

/**
 * gst_buffer_add_vmt_frame_meta:
 * @buffer: a writable buffer without a #GstVmtFrameMeta
 * @frame_index: the frame's index in the stream (see #GstVmtFrameMeta.frame_index)
 * @width: width of the frame, pixels
 * @height: height of the frame, pixels
 *
 * Attaches an empty #GstVmtFrameMeta; add instances with gst_vmt_frame_meta_add_instance().
 *
 * Returns: (transfer none) (nullable): the meta, or %NULL when @buffer already has one
 */
GstVmtFrameMeta* gst_buffer_add_vmt_frame_meta(GstBuffer* buffer, guint64 frame_index, guint width,
                                               guint height) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(gst_buffer_get_vmt_frame_meta(buffer) == NULL, NULL);
  GstVmtFrameMeta* meta =
      (GstVmtFrameMeta*)gst_buffer_add_meta(buffer, GST_VMT_FRAME_META_INFO, NULL);
  if (meta == NULL) return NULL;
  meta->frame_index = frame_index;
  meta->width = width;
  meta->height = height;
  return meta;
}

/**
 * gst_buffer_get_vmt_frame_meta:
 * @buffer: a buffer
 *
 * Returns: (transfer none) (nullable): the buffer's #GstVmtFrameMeta, or %NULL
 */
GstVmtFrameMeta* gst_buffer_get_vmt_frame_meta(GstBuffer* buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  return (GstVmtFrameMeta*)gst_buffer_get_meta(buffer, GST_VMT_FRAME_META_API_TYPE);
}

/**
 * gst_buffer_find_vmt_frame_meta:
 * @buffer: a video buffer
 * @width: width of @buffer's video frame, pixels
 * @height: height of @buffer's video frame
 * @holder: (out) (transfer full) (nullable): %NULL, or a new empty buffer that holds an imported
 *   meta; unref it once done with the meta
 *
 * The frame's instances for elements that read them (vmtoverlay, vmtexport): @buffer's own
 * #GstVmtFrameMeta, or, when it has none but carries a standard #GstAnalyticsRelationMeta
 * (GStreamer >= 1.26 builds, see gst_buffer_add_vmt_frame_meta_from_analytics()), one imported
 * from it onto @holder, leaving @buffer as it is (it need not be writable).
 *
 * Returns: (transfer none) (nullable): the meta, valid while @buffer (or @holder) lives, or %NULL
 *   when the frame carries neither
 */
GstVmtFrameMeta* gst_buffer_find_vmt_frame_meta(GstBuffer* buffer, guint width, guint height,
                                                GstBuffer** holder) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(holder != NULL, NULL);
  *holder = NULL;
  GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
  if (meta != NULL) return meta;
#if GST_VMT_HAVE_ANALYTICS
  if (width == 0 || height == 0 || gst_buffer_get_analytics_relation_meta(buffer) == NULL)
    return NULL;
  GstBuffer* carrier = gst_buffer_new();
  meta = gst_buffer_add_vmt_frame_meta_from_analytics(carrier, buffer, width, height);
  if (meta == NULL) {
    gst_buffer_unref(carrier);
    return NULL;
  }
  *holder = carrier;
  return meta;
#else
  (void)width;
  (void)height;
  return NULL;
#endif
}

/**
 * gst_vmt_frame_meta_add_instance:
 * @meta: a frame meta
 * @track_id: the track's id
 * @class_id: the category id
 * @label: (nullable): the category name
 * @score: confidence in [0, 1]
 * @x: box left edge, frame pixels
 * @y: box top edge
 * @width: box width; @x + @width must not exceed the frame width
 * @height: box height; @y + @height must not exceed the frame height
 * @first_seen: frame index where the track first appeared
 * @last_seen: frame index where inference last saw it
 * @mask: (nullable) (transfer none): the mask, exactly @width × @height, or %NULL; the meta takes
 *   its own reference
 *
 * Appends an instance.
 *
 * Returns: (transfer none) (nullable): the stored instance, valid until the next instance is added
 *   or the meta is freed, or %NULL if the box leaves the frame or the mask size differs from the
 *   box
 */
GstVmtInstance* gst_vmt_frame_meta_add_instance(GstVmtFrameMeta* meta, guint64 track_id,
                                                gint class_id, const gchar* label, gfloat score,
                                                guint x, guint y, guint width, guint height,
                                                guint64 first_seen, guint64 last_seen,
                                                GstVmtMask* mask) {
  g_return_val_if_fail(meta != NULL, NULL);
  g_return_val_if_fail((guint64)x + width <= meta->width, NULL);
  g_return_val_if_fail((guint64)y + height <= meta->height, NULL);
  g_return_val_if_fail(mask == NULL || (mask->width == width && mask->height == height), NULL);

  GstVmtInstance instance = {0};
  instance.track_id = track_id;
  instance.class_id = class_id;
  instance.label = label ? g_intern_string(label) : NULL;
  instance.score = score;
  instance.x = x;
  instance.y = y;
  instance.width = width;
  instance.height = height;
  instance.first_seen = first_seen;
  instance.last_seen = last_seen;
  instance.mask = mask ? gst_vmt_mask_ref(mask) : NULL;
  gst_vmt_frame_meta_append(meta, &instance);
  return &g_array_index(meta->instances, GstVmtInstance, meta->instances->len - 1);
}

/**
 * gst_vmt_frame_meta_get_n_instances:
 * @meta: a frame meta
 *
 * Returns: the number of instances
 */
guint gst_vmt_frame_meta_get_n_instances(const GstVmtFrameMeta* meta) {
  g_return_val_if_fail(meta != NULL, 0);
  return meta->instances->len;
}

/**
 * gst_vmt_frame_meta_get_instance:
 * @meta: a frame meta
 * @index: 0 .. n_instances - 1
 *
 * Returns: (transfer none) (nullable): the instance, or %NULL when @index is out of range
 */
GstVmtInstance* gst_vmt_frame_meta_get_instance(const GstVmtFrameMeta* meta, guint index) {
  g_return_val_if_fail(meta != NULL, NULL);
  if (index >= meta->instances->len) return NULL;
  return &g_array_index(meta->instances, GstVmtInstance, index);
}

/* Writes the full-frame mask of @instance (0/1) into @dest with @stride bytes per row. */
static void render_instance(const GstVmtFrameMeta* meta, const GstVmtInstance* instance,
                            guint8* dest, gsize stride) {
  for (guint row = 0; row < meta->height; ++row) memset(dest + row * stride, 0, meta->width);
  if (instance->mask == NULL) return;
  const guint8* pixels = g_bytes_get_data(instance->mask->bytes, NULL);
  for (guint row = 0; row < instance->height; ++row)
    memcpy(dest + (gsize)(instance->y + row) * stride + instance->x,
           pixels + (gsize)row * instance->width, instance->width);
}

/**
 * gst_vmt_frame_meta_render_mask:
 * @meta: a frame meta
 * @index: the instance
 * @dest: (array length=dest_size): where to write height rows of @stride bytes
 * @dest_size: size of @dest in bytes, at least (height - 1) × @stride + width
 * @stride: bytes per row of @dest, at least the frame width
 *
 * Writes the instance's mask at full frame resolution: 1 inside, 0 elsewhere. From Python use
 * gst_vmt_frame_meta_render_mask_bytes().
 *
 * Returns: %TRUE on success, %FALSE for a bad index or a too small @dest
 */
gboolean gst_vmt_frame_meta_render_mask(const GstVmtFrameMeta* meta, guint index, guint8* dest,
                                        gsize dest_size, gsize stride) {
  g_return_val_if_fail(meta != NULL, FALSE);
  g_return_val_if_fail(dest != NULL || meta->height == 0, FALSE);
  if (index >= meta->instances->len || stride < meta->width) return FALSE;
  if (meta->height > 0 && dest_size < (gsize)(meta->height - 1) * stride + meta->width) return FALSE;
  render_instance(meta, &g_array_index(meta->instances, GstVmtInstance, index), dest, stride);
  return TRUE;
}

/**
 * gst_vmt_frame_meta_render_mask_bytes:
 * @meta: a frame meta
 * @index: the instance
 *
 * The instance's mask at full frame resolution, width × height bytes, row-major, 0 or 1.
 *
 * Returns: (transfer full) (nullable): the mask, or %NULL for a bad index
 */
GBytes* gst_vmt_frame_meta_render_mask_bytes(const GstVmtFrameMeta* meta, guint index) {
  g_return_val_if_fail(meta != NULL, NULL);
  if (index >= meta->instances->len) return NULL;
  const gsize size = (gsize)meta->width * meta->height;
  guint8* pixels = g_malloc(MAX(size, 1));
  render_instance(meta, &g_array_index(meta->instances, GstVmtInstance, index), pixels, meta->width);
  return g_bytes_new_take(pixels, size);
}

/**
 * gst_vmt_frame_meta_get_rle:
 * @meta: a frame meta
 * @index: the instance
 *
 * The instance's full-frame mask as COCO RLE: the compressed `counts` string pycocotools
 * `mask.encode` writes, for `size` [#GstVmtFrameMeta.height, #GstVmtFrameMeta.width]. Computed on
 * the first call (by vmt-core's encoder) and cached in the meta; safe from several threads.
 *
 * Returns: (transfer none) (nullable): the counts string, valid while the meta lives, or %NULL for
 *   a bad index
 */
const gchar* gst_vmt_frame_meta_get_rle(const GstVmtFrameMeta* meta, guint index) {
  g_return_val_if_fail(meta != NULL, NULL);
  if (index >= meta->instances->len) return NULL;
  GstVmtInstance* instance = &g_array_index(meta->instances, GstVmtInstance, index);
  gchar* cached = g_atomic_pointer_get(&instance->rle);
  if (cached != NULL) return cached;

  const gsize size = (gsize)meta->width * meta->height;
  guint8* pixels = g_malloc(MAX(size, 1));
  render_instance(meta, instance, pixels, meta->width);
  gchar* counts = gst_vmt_rle_counts_encode(pixels, meta->width, meta->height);
  g_free(pixels);
  if (counts == NULL) return NULL;
  if (!g_atomic_pointer_compare_and_exchange(&instance->rle, NULL, counts)) {
    g_free(counts); /* another thread was first */
  }
  return g_atomic_pointer_get(&instance->rle);
}

/**
 * gst_buffer_add_vmt_roi_metas:
 * @buffer: a writable buffer with a #GstVmtFrameMeta
 *
 * Adds one #GstVideoRegionOfInterestMeta per instance, as DL Streamer writes them, so tools that
 * know ROI metas see the objects: roi_type = the label ("object" without one), id = the track id
 * (truncated to gint), the box, and a "detection" #GstStructure with the normalised box
 * (`x_min`, `y_min`, `x_max`, `y_max`, doubles in [0, 1]), `confidence` (double) and
 * `label_id` (int, the class id).
 *
 * Returns: the number of ROI metas added (0 without a #GstVmtFrameMeta)
 */
guint gst_buffer_add_vmt_roi_metas(GstBuffer* buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), 0);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
  if (meta == NULL || meta->width == 0 || meta->height == 0) return 0;
  const gdouble w = meta->width, h = meta->height;
  guint added = 0;
  for (guint i = 0; i < meta->instances->len; ++i) {
    const GstVmtInstance* instance = &g_array_index(meta->instances, GstVmtInstance, i);
    GstVideoRegionOfInterestMeta* roi = gst_buffer_add_video_region_of_interest_meta(
        buffer, instance->label ? instance->label : "object", instance->x, instance->y,
        instance->width, instance->height);
    if (roi == NULL) continue;
    roi->id = (gint)instance->track_id;
    GstStructure* detection = gst_structure_new(
        "detection", "x_min", G_TYPE_DOUBLE, instance->x / w, "y_min", G_TYPE_DOUBLE,
        instance->y / h, "x_max", G_TYPE_DOUBLE, (instance->x + instance->width) / w, "y_max",
        G_TYPE_DOUBLE, (instance->y + instance->height) / h, "confidence", G_TYPE_DOUBLE,
        (gdouble)instance->score, "label_id", G_TYPE_INT, instance->class_id, NULL);
    gst_video_region_of_interest_meta_add_param(roi, detection);
    ++added;
  }
  return added;
}

/**
 * gst_vmt_meta_transform_crop_get_quark:
 *
 * Returns: the quark of the "gst-vmt-crop" transform (data: #GstVmtMetaTransformCrop)
 */
GQuark gst_vmt_meta_transform_crop_get_quark(void) {
  static GQuark quark = 0;
  if (quark == 0) quark = g_quark_from_static_string("gst-vmt-crop");
  return quark;
}
