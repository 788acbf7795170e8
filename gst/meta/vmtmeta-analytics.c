/**
 * SECTION:gstvmtmeta-analytics
 * @title: GstVmtFrameMeta and GstAnalytics
 * @short_description: VMT instances as standard GstAnalyticsRelationMeta, and back
 *
 * GStreamer 1.26's analytics library is how elements exchange inference results.
 * gst_buffer_add_vmt_analytics_meta() writes a #GstVmtFrameMeta's instances into the buffer's
 * #GstAnalyticsRelationMeta, as upstream producers do, three mtds per instance:
 *
 * - a #GstAnalyticsODMtd: the box in frame pixels, the label as the object type quark, the score
 *   as the location confidence;
 * - a #GstAnalyticsTrackingMtd: the track id, first and last seen as buffer timestamps (see
 *   below), never marked lost (vmtsegment drops a track rather than carry it lost);
 * - a #GstAnalyticsSegmentationMtd of type %GST_SEGMENTATION_TYPE_INSTANCE: the mask cropped to
 *   the box at frame resolution (one GRAY8 buffer with a #GstVideoMeta, GRAY16 when a frame has
 *   more than 255 instances) located at the box, whose pixels hold the instance's region id (its
 *   1-based position in the frame) and 0 elsewhere; region_ids = { 0, region id }. Box-only
 *   instances have no segmentation mtd.
 *
 * Relations (%GST_ANALYTICS_REL_TYPE_RELATE_TO): OD → tracking (as ioutracker), OD → segmentation
 * and segmentation → OD (as yolosegv8tensordec). So from an OD mtd,
 * gst_analytics_relation_meta_get_direct_related() finds its track and its mask.
 *
 * Frame indices become timestamps: the frame itself is the buffer's PTS, and an earlier frame k
 * of the producer's count is PTS − (frame_index − k) × the buffer's duration, clamped at 0 (exact
 * when all frames last equally long; rounded durations, as at 30/1, make it off by up to about a
 * nanosecond per frame back). Without a PTS, or without a duration for an earlier frame, the time
 * is %GST_CLOCK_TIME_NONE.
 *
 * gst_buffer_add_vmt_frame_meta_from_analytics() reads any producer's relation meta back into a
 * #GstVmtFrameMeta (what vmtoverlay and vmtexport do for frames without one, through
 * gst_buffer_find_vmt_frame_meta()): one instance per OD mtd, its box clipped to the frame; the
 * related tracking mtd gives the track id (the OD mtd's id without one) and first/last seen; the
 * related segmentation mtd gives the mask, resampled nearest-neighbour from the mask's own
 * resolution onto the box (masks at a model's resolution, as yolosegv8tensordec writes, work).
 * Foreground are the pixels holding one of the mtd's non-zero region ids, or any non-zero pixel
 * when it lists none. The standard metas carry no class id: imported instances have class_id 0.
 * Timestamps become frame indices by the reverse rule, with frame_index = PTS / duration.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vmtmeta-analytics.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC(gst_vmt_analytics_debug);
#define GST_CAT_DEFAULT gst_vmt_analytics_debug

static void ensure_debug_category(void) {
  static gsize initialised = 0;
  if (g_once_init_enter(&initialised)) {
    GST_DEBUG_CATEGORY_INIT(gst_vmt_analytics_debug, "vmtanalytics", 0,
                            "GstVmtFrameMeta <-> GstAnalyticsRelationMeta");
    g_once_init_leave(&initialised, 1);
  }
}

/* --- frame indices and timestamps ---------------------------------------------------------------- */

/* A buffer's timing, to turn the producer's frame indices into timestamps and back. */
typedef struct {
  guint64 frame_index;   /* the buffer's own frame */
  GstClockTime pts;      /* its PTS, or NONE */
  GstClockTime duration; /* one frame, or NONE */
} FrameClock;

static FrameClock frame_clock(GstBuffer* buffer, guint64 frame_index) {
  FrameClock clock = {frame_index, GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer)};
  if (clock.duration == 0) clock.duration = GST_CLOCK_TIME_NONE;
  return clock;
}

/* The timestamp of frame @index: PTS − (frame_index − index) × duration, clamped at 0. */
static GstClockTime frame_time(const FrameClock* clock, guint64 index) {
  if (!GST_CLOCK_TIME_IS_VALID(clock->pts)) return GST_CLOCK_TIME_NONE;
  if (index == clock->frame_index) return clock->pts;
  if (!GST_CLOCK_TIME_IS_VALID(clock->duration)) return GST_CLOCK_TIME_NONE;
  if (index > clock->frame_index) return clock->pts + (index - clock->frame_index) * clock->duration;
  const guint64 back = (clock->frame_index - index) * clock->duration;
  return back > clock->pts ? 0 : clock->pts - back;
}

/* The frame index of timestamp @time (the reverse of frame_time()); @fallback when unknown. */
static guint64 time_index(const FrameClock* clock, GstClockTime time, guint64 fallback) {
  if (!GST_CLOCK_TIME_IS_VALID(time) || !GST_CLOCK_TIME_IS_VALID(clock->duration)) return fallback;
  return gst_util_uint64_scale_round(time, 1, clock->duration);
}

/* --- GstVmtFrameMeta -> GstAnalyticsRelationMeta --------------------------------------------- */

/* A buffer of the mask's size, GRAY8 or (@wide) GRAY16, @region_id inside the mask, 0 outside. */
static GstBuffer* region_mask_buffer(const GstVmtMask* mask, guint region_id, gboolean wide) {
  const guint width = gst_vmt_mask_get_width(mask), height = gst_vmt_mask_get_height(mask);
  const GstVideoFormat format = !wide                           ? GST_VIDEO_FORMAT_GRAY8
                                : G_BYTE_ORDER == G_LITTLE_ENDIAN ? GST_VIDEO_FORMAT_GRAY16_LE
                                                                  : GST_VIDEO_FORMAT_GRAY16_BE;
  GstVideoInfo info;
  if (!gst_video_info_set_format(&info, format, width, height)) return NULL;

  GstBuffer* buffer = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
  GstMapInfo map;
  if (buffer == NULL || !gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    if (buffer) gst_buffer_unref(buffer);
    return NULL;
  }
  memset(map.data, 0, map.size);
  const guint8* pixels = gst_vmt_mask_get_data(mask, NULL);
  const gsize stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  for (guint y = 0; y < height; ++y) {
    const guint8* in = pixels + (gsize)y * width;
    guint8* out = map.data + GST_VIDEO_INFO_PLANE_OFFSET(&info, 0) + y * stride;
    for (guint x = 0; x < width; ++x) {
      if (!in[x]) continue;
      if (wide)
        ((guint16*)out)[x] = (guint16)region_id; /* native byte order, as the format says */
      else
        out[x] = (guint8)region_id;
    }
  }
  gst_buffer_unmap(buffer, &map);
  gst_buffer_add_video_meta_full(buffer, GST_VIDEO_FRAME_FLAG_NONE, format, width, height,
                                 GST_VIDEO_INFO_N_PLANES(&info), info.offset, info.stride);
  return buffer;
}

/* The OD, tracking and (with a mask) segmentation mtds of one instance, related as upstream's
 * producers relate them; @wide: the frame has more region ids than GRAY8 holds. */
static gboolean add_instance_mtds(GstAnalyticsRelationMeta* relation,
                                  const GstVmtInstance* instance, guint region_id, gboolean wide,
                                  const FrameClock* clock) {
  gchar* fallback_label = instance->label ? NULL : g_strdup_printf("class %d", instance->class_id);
  const GQuark label = g_quark_from_string(instance->label ? instance->label : fallback_label);
  g_free(fallback_label);

  GstAnalyticsODMtd od;
  if (!gst_analytics_relation_meta_add_od_mtd(relation, label, (gint)instance->x,
                                              (gint)instance->y, (gint)instance->width,
                                              (gint)instance->height, instance->score, &od))
    return FALSE;

  GstAnalyticsTrackingMtd track;
  if (!gst_analytics_relation_meta_add_tracking_mtd(
          relation, instance->track_id, frame_time(clock, instance->first_seen), &track))
    return FALSE;
  gst_analytics_tracking_mtd_update_last_seen(&track, frame_time(clock, instance->last_seen));
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id,
                                           track.id);

  if (instance->mask == NULL || instance->width == 0 || instance->height == 0) return TRUE;
  GstBuffer* mask = region_mask_buffer(instance->mask, region_id, wide);
  if (mask == NULL) return FALSE;
  guint region_ids[2] = {0, region_id};
  GstAnalyticsSegmentationMtd segmentation;
  /* The relation meta takes the mask buffer. */
  if (!gst_analytics_relation_meta_add_segmentation_mtd(
          relation, mask, GST_SEGMENTATION_TYPE_INSTANCE, G_N_ELEMENTS(region_ids), region_ids,
          (gint)instance->x, (gint)instance->y, instance->width, instance->height,
          &segmentation)) {
    gst_buffer_unref(mask);
    return FALSE;
  }
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id,
                                           segmentation.id);
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO,
                                           segmentation.id, od.id);
  return TRUE;
}

/**
 * gst_buffer_add_vmt_analytics_meta:
 * @buffer: a writable buffer
 * @meta: the instances to describe: @buffer's own #GstVmtFrameMeta, or one describing the same
 *   frame (its frame_index, with @buffer's PTS and duration, dates first and last seen)
 *
 * Adds @meta's instances to @buffer's #GstAnalyticsRelationMeta (created when @buffer has none;
 * an existing one keeps its mtds): per instance an object-detection, a tracking and, with a mask,
 * an instance segmentation mtd, related to each other (see the section documentation).
 *
 * Returns: (transfer none) (nullable): the relation meta, or %NULL when an mtd could not be added
 */
GstAnalyticsRelationMeta* gst_buffer_add_vmt_analytics_meta(GstBuffer* buffer,
                                                            const GstVmtFrameMeta* meta) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(gst_buffer_is_writable(buffer), NULL);
  g_return_val_if_fail(meta != NULL, NULL);
  ensure_debug_category();

  GstAnalyticsRelationMeta* relation = gst_buffer_get_analytics_relation_meta(buffer);
  if (relation == NULL) relation = gst_buffer_add_analytics_relation_meta(buffer);
  if (relation == NULL) return NULL;

  const FrameClock clock = frame_clock(buffer, meta->frame_index);
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  for (guint i = 0; i < n; ++i) {
    if (!add_instance_mtds(relation, gst_vmt_frame_meta_get_instance(meta, i), i + 1,
                           n > G_MAXUINT8, &clock)) {
      GST_WARNING("could not add the analytics mtds of instance %u of frame %" G_GUINT64_FORMAT, i,
                  meta->frame_index);
      return NULL;
    }
  }
  GST_TRACE("frame %" G_GUINT64_FORMAT ": %u instances as analytics mtds", meta->frame_index, n);
  return relation;
}

/* --- GstAnalyticsRelationMeta -> GstVmtFrameMeta --------------------------------------------- */

/* An mtd of @type related to @id in either direction (producers differ in which they set). */
static gboolean find_related(GstAnalyticsRelationMeta* relation, guint id, GstAnalyticsMtdType type,
                             GstAnalyticsMtd* found) {
  gpointer state = NULL;
  if (gst_analytics_relation_meta_get_direct_related(relation, id, GST_ANALYTICS_REL_TYPE_ANY,
                                                     type, &state, found))
    return TRUE;
  state = NULL;
  while (gst_analytics_relation_meta_iterate(relation, &state, type, found)) {
    if (gst_analytics_relation_meta_get_relation(relation, found->id, id) !=
        GST_ANALYTICS_REL_TYPE_NONE)
      return TRUE;
  }
  return FALSE;
}

/* Whether mask value @value is the instance's: one of the mtd's non-zero region ids, or any
 * non-zero value when it lists none. */
static gboolean is_foreground(const GstAnalyticsSegmentationMtd* segmentation, guint value,
                              gboolean any_nonzero) {
  if (value == 0) return FALSE;
  if (any_nonzero) return TRUE;
  gsize index = 0;
  return gst_analytics_segmentation_mtd_get_region_index(segmentation, &index, value);
}

/* The instance mask on the box (@x, @y, @width, @height) from a segmentation mtd, resampled
 * nearest-neighbour from the mask buffer's resolution onto its location; NULL when the mask
 * cannot be read. */
static GstVmtMask* import_mask(const GstAnalyticsSegmentationMtd* segmentation, guint x, guint y,
                               guint width, guint height) {
  gint loc_x = 0, loc_y = 0;
  guint loc_w = 0, loc_h = 0;
  GstBuffer* buffer =
      gst_analytics_segmentation_mtd_get_mask(segmentation, &loc_x, &loc_y, &loc_w, &loc_h);
  if (buffer == NULL) return NULL;
  GstVideoMeta* video = gst_buffer_get_video_meta(buffer);
  const gboolean gray8 = video && video->format == GST_VIDEO_FORMAT_GRAY8;
  const gboolean gray16 = video && (video->format == GST_VIDEO_FORMAT_GRAY16_LE ||
                                    video->format == GST_VIDEO_FORMAT_GRAY16_BE);
  if (!(gray8 || gray16) || video->width == 0 || video->height == 0 || loc_w == 0 || loc_h == 0) {
    GST_WARNING("segmentation mtd %u: no GRAY8/GRAY16 video meta or an empty location: no mask",
                segmentation->id);
    gst_buffer_unref(buffer);
    return NULL;
  }
  GstMapInfo map;
  gpointer data = NULL;
  gint stride = 0;
  if (!gst_video_meta_map(video, 0, &map, &data, &stride, GST_MAP_READ)) {
    GST_WARNING("segmentation mtd %u: cannot map the mask", segmentation->id);
    gst_buffer_unref(buffer);
    return NULL;
  }

  gboolean any_nonzero = TRUE;
  const gsize n_regions = gst_analytics_segmentation_mtd_get_region_count(segmentation);
  for (gsize i = 0; i < n_regions; ++i)
    if (gst_analytics_segmentation_mtd_get_region_id(segmentation, i) != 0) any_nonzero = FALSE;

  const gboolean big_endian = video->format == GST_VIDEO_FORMAT_GRAY16_BE;
  guint8* pixels = g_malloc0(MAX((gsize)width * height, 1));
  for (guint row = 0; row < height; ++row) {
    /* Pixel centres of the box mapped into the mask's rectangle. */
    const gint64 fy = (gint64)(y + row) - loc_y;
    if (fy < 0 || fy >= (gint64)loc_h) continue;
    const guint my = (guint)(((2 * fy + 1) * video->height) / (2 * (gint64)loc_h));
    const guint8* line = (const guint8*)data + (gsize)my * stride;
    for (guint col = 0; col < width; ++col) {
      const gint64 fx = (gint64)(x + col) - loc_x;
      if (fx < 0 || fx >= (gint64)loc_w) continue;
      const guint mx = (guint)(((2 * fx + 1) * video->width) / (2 * (gint64)loc_w));
      guint value = 0;
      if (gray8) {
        value = line[mx];
      } else {
        const guint8* p = line + 2 * (gsize)mx;
        value = big_endian ? (guint)p[0] << 8 | p[1] : (guint)p[1] << 8 | p[0];
      }
      pixels[(gsize)row * width + col] = is_foreground(segmentation, value, any_nonzero);
    }
  }
  gst_video_meta_unmap(video, 0, &map);
  gst_buffer_unref(buffer);
  return gst_vmt_mask_new_from_bytes(width, height,
                                     g_bytes_new_take(pixels, (gsize)width * height));
}

/* Appends the instance of OD mtd @od, its box clipped to the frame; FALSE when nothing of the box
 * is inside. */
static gboolean import_instance(GstVmtFrameMeta* meta, GstAnalyticsRelationMeta* relation,
                                const GstAnalyticsODMtd* od, const FrameClock* clock) {
  gint bx = 0, by = 0, bw = 0, bh = 0;
  gfloat score = 0.0f;
  if (!gst_analytics_od_mtd_get_location(od, &bx, &by, &bw, &bh, &score)) return FALSE;
  const gint64 x0 = CLAMP((gint64)bx, 0, (gint64)meta->width);
  const gint64 y0 = CLAMP((gint64)by, 0, (gint64)meta->height);
  const gint64 x1 = CLAMP((gint64)bx + bw, 0, (gint64)meta->width);
  const gint64 y1 = CLAMP((gint64)by + bh, 0, (gint64)meta->height);
  if (x1 <= x0 || y1 <= y0) return FALSE;
  const guint x = (guint)x0, y = (guint)y0, width = (guint)(x1 - x0), height = (guint)(y1 - y0);

  guint64 track_id = od->id;
  guint64 first_seen = meta->frame_index, last_seen = meta->frame_index;
  GstAnalyticsMtd related;
  if (find_related(relation, od->id, gst_analytics_tracking_mtd_get_mtd_type(), &related)) {
    GstClockTime first = GST_CLOCK_TIME_NONE, last = GST_CLOCK_TIME_NONE;
    gboolean lost = FALSE;
    gst_analytics_tracking_mtd_get_info((GstAnalyticsTrackingMtd*)&related, &track_id, &first,
                                        &last, &lost);
    last_seen = MIN(time_index(clock, last, meta->frame_index), meta->frame_index);
    first_seen = MIN(time_index(clock, first, last_seen), last_seen);
  }

  GstVmtMask* mask = NULL;
  if (find_related(relation, od->id, gst_analytics_segmentation_mtd_get_mtd_type(), &related))
    mask = import_mask((GstAnalyticsSegmentationMtd*)&related, x, y, width, height);

  const GQuark type = gst_analytics_od_mtd_get_obj_type(od);
  gst_vmt_frame_meta_add_instance(meta, track_id, 0, type ? g_quark_to_string(type) : NULL,
                                  CLAMP(score, 0.0f, 1.0f), x, y, width, height, first_seen,
                                  last_seen, mask);
  if (mask) gst_vmt_mask_unref(mask);
  return TRUE;
}

/**
 * gst_buffer_add_vmt_frame_meta_from_analytics:
 * @buffer: a writable buffer without a #GstVmtFrameMeta (may be @source)
 * @source: a buffer with a #GstAnalyticsRelationMeta (not changed); its PTS and duration turn
 *   tracking timestamps into frame indices
 * @width: width of @source's video frame, pixels
 * @height: height of @source's video frame
 *
 * Adds to @buffer a #GstVmtFrameMeta with one instance per object-detection mtd of @source's
 * relation meta (see the section documentation for how tracking and segmentation mtds are read).
 * The meta's frame_index is @source's PTS / duration (0 without them).
 *
 * Returns: (transfer none) (nullable): the new meta, or %NULL when @source has no relation meta
 *   or @buffer already has a #GstVmtFrameMeta
 */
GstVmtFrameMeta* gst_buffer_add_vmt_frame_meta_from_analytics(GstBuffer* buffer, GstBuffer* source,
                                                              guint width, guint height) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(GST_IS_BUFFER(source), NULL);
  ensure_debug_category();
  GstAnalyticsRelationMeta* relation = gst_buffer_get_analytics_relation_meta(source);
  if (relation == NULL || gst_buffer_get_vmt_frame_meta(buffer) != NULL) return NULL;

  FrameClock clock = frame_clock(source, 0);
  clock.frame_index = time_index(&clock, clock.pts, 0);
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, clock.frame_index, width, height);
  if (meta == NULL) return NULL;

  gpointer state = NULL;
  GstAnalyticsMtd od;
  guint skipped = 0;
  while (gst_analytics_relation_meta_iterate(relation, &state, gst_analytics_od_mtd_get_mtd_type(),
                                             &od)) {
    if (!import_instance(meta, relation, (GstAnalyticsODMtd*)&od, &clock)) ++skipped;
  }
  if (skipped > 0)
    GST_DEBUG("%u object detections outside the %ux%u frame were left out", skipped, width, height);
  return meta;
}
