/**
 * SECTION:element-vmtoverlay
 * @title: vmtoverlay
 *
 * Draws the instances of each frame's #GstVmtFrameMeta onto the video, in place: masks filled
 * with a translucent colour, mask contours, boxes and a "label track-id score" caption, rendered
 * with Pango and Cairo in #GstVmtOverlay:font-family at #GstVmtOverlay:font-size (by default a
 * size that follows the frame height). Captions never overlap one another and never leave the
 * frame: a caption moves next to its box, shrinks, or, when there is no room at all, the
 * lowest-scoring captions are hidden and a "+N hidden" counter says how many. Colours are stable
 * per track id (or per class, #GstVmtOverlay:color-by). Instances scoring below
 * #GstVmtOverlay:min-score are not drawn; frames without metadata pass with their pixels
 * untouched.
 *
 * The metadata comes from vmtsegment (or any element or application that attaches
 * #GstVmtFrameMeta). Without it, this pipeline runs and draws nothing:
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! video/x-raw,width=128,height=96 ! vmtsegment device=cpu input-size=96 ! vmtoverlay mask-alpha=0.4 ! videoconvert ! fakesink
 * ]|
 */
#include "gstvmtoverlay.h"

#include <gst/video/video.h>

#include <string>

#include "renderer.h"
#include "scene.h"
#include "vmt.h"

GST_DEBUG_CATEGORY_STATIC(gst_vmt_overlay_debug);
#define GST_CAT_DEFAULT gst_vmt_overlay_debug

#define DEFAULT_DRAW_MASKS TRUE
#define DEFAULT_DRAW_CONTOURS TRUE
#define DEFAULT_DRAW_BOXES TRUE
#define DEFAULT_DRAW_LABELS TRUE
#define DEFAULT_MASK_ALPHA 0.5
#define DEFAULT_MIN_SCORE 0.0
#define DEFAULT_COLOR_BY GST_VMT_OVERLAY_COLOR_BY_TRACK
#define DEFAULT_LINE_WIDTH 2
#define MAX_LINE_WIDTH 16
#define DEFAULT_FONT_FAMILY "Sans"
#define DEFAULT_FONT_SIZE 0
#define MAX_FONT_SIZE 1024

enum {
  PROP_0,
  PROP_DRAW_MASKS,
  PROP_DRAW_CONTOURS,
  PROP_DRAW_BOXES,
  PROP_DRAW_LABELS,
  PROP_MASK_ALPHA,
  PROP_MIN_SCORE,
  PROP_COLOR_BY,
  PROP_LINE_WIDTH,
  PROP_FONT_FAMILY,
  PROP_FONT_SIZE,
};

namespace {

/* What to draw; the properties, copied into a vmt::overlay::Style once per frame. */
struct Settings {
  gboolean draw_masks;
  gboolean draw_contours;
  gboolean draw_boxes;
  gboolean draw_labels;
  gdouble mask_alpha;
  gdouble min_score;
  GstVmtOverlayColorBy color_by;
  guint line_width;
  gchar* font_family; /* owned */
  guint font_size;    /* pixels; 0 = from the frame height */
};

}  // namespace

struct _GstVmtOverlay {
  GstVideoFilter parent;

  /* Protected by the object lock: written by set_property, copied once per frame in
   * transform_frame_ip. */
  Settings settings;

  /* Created in start(), destroyed in stop(); used by the streaming thread only in between. */
  vmt::overlay::Renderer* renderer;
};

#define VMT_OVERLAY_CAPS GST_VIDEO_CAPS_MAKE("{ RGBA, BGRA, RGBx, BGRx, RGB, I420, NV12 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_OVERLAY_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_OVERLAY_CAPS));

#define gst_vmt_overlay_parent_class parent_class
G_DEFINE_TYPE(GstVmtOverlay, gst_vmt_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(vmtoverlay, "vmtoverlay", GST_RANK_NONE, GST_TYPE_VMT_OVERLAY);

GType gst_vmt_overlay_color_by_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VMT_OVERLAY_COLOR_BY_TRACK, "One colour per track id", "track"},
      {GST_VMT_OVERLAY_COLOR_BY_CLASS, "One colour per class id", "class"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType registered = g_enum_register_static("GstVmtOverlayColorBy", values);
    g_once_init_leave(&type, registered);
  }
  return type;
}

/* The one place that reads metadata: fills @scene from a frame's #GstVmtFrameMeta (its own, or
 * one built from its standard analytics metas). FALSE when there is none (the frame passes
 * untouched). The scene points into the meta, which must outlive the drawing. */
static gboolean read_scene(const GstVmtFrameMeta* meta, vmt::overlay::Scene* scene) {
  if (meta == nullptr || meta->width == 0 || meta->height == 0) return FALSE;
  scene->width = meta->width;
  scene->height = meta->height;
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  scene->instances.reserve(n);
  for (guint i = 0; i < n; ++i) {
    const GstVmtInstance* in = gst_vmt_frame_meta_get_instance(meta, i);
    vmt::overlay::Instance out;
    out.track_id = in->track_id;
    out.class_id = in->class_id;
    out.label = in->label;
    out.score = in->score;
    out.x = in->x, out.y = in->y, out.width = in->width, out.height = in->height;
    out.mask = in->mask ? gst_vmt_mask_get_data(in->mask, nullptr) : nullptr;
    scene->instances.push_back(out);
  }
  return TRUE;
}

static vmt::overlay::Style style_from(const Settings& s) {
  vmt::overlay::Style style;
  style.masks = s.draw_masks;
  style.contours = s.draw_contours;
  style.boxes = s.draw_boxes;
  style.labels = s.draw_labels;
  style.mask_alpha = s.mask_alpha;
  style.min_score = s.min_score;
  style.colour_by = s.color_by == GST_VMT_OVERLAY_COLOR_BY_CLASS ? vmt::overlay::ColourBy::kClass
                                                                 : vmt::overlay::ColourBy::kTrack;
  style.line_width = s.line_width;
  style.font_family = s.font_family ? s.font_family : "";
  style.font_size = s.font_size;
  return style;
}

static gboolean gst_vmt_overlay_start(GstBaseTransform* trans) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(trans);
  delete self->renderer;
  self->renderer = new vmt::overlay::Renderer();  // loads the font configuration once
  return TRUE;
}

static gboolean gst_vmt_overlay_stop(GstBaseTransform* trans) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(trans);
  delete self->renderer;
  self->renderer = nullptr;
  return TRUE;
}

static GstFlowReturn gst_vmt_overlay_transform_frame_ip(GstVideoFilter* filter,
                                                        GstVideoFrame* frame) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(filter);
  // The frame's GstVmtFrameMeta, or one read from its standard analytics metas (kept by holder,
  // whose masks the scene points into until it is drawn).
  g_autoptr(GstBuffer) holder = nullptr;
  const GstVmtFrameMeta* meta = gst_buffer_find_vmt_frame_meta(
      frame->buffer, GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame), &holder);
  vmt::overlay::Scene scene;
  if (!read_scene(meta, &scene)) {
    GST_TRACE_OBJECT(self, "no VMT metadata on this frame");
    return GST_FLOW_OK;
  }

  GST_OBJECT_LOCK(self);
  const vmt::overlay::Style style = style_from(self->settings);
  GST_OBJECT_UNLOCK(self);

  const vmt::overlay::DrawReport report = self->renderer->draw(frame, scene, style);
  if (!report.ok) {
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT,
                      ("Cannot allocate a %dx%d drawing surface", GST_VIDEO_FRAME_WIDTH(frame),
                       GST_VIDEO_FRAME_HEIGHT(frame)),
                      ("cairo_image_surface_create failed"));
    return GST_FLOW_ERROR;
  }
  GST_TRACE_OBJECT(self, "drew %zu instances, %zu captions, %d hidden", scene.instances.size(),
                   report.captions.size(), report.hidden);
  return GST_FLOW_OK;
}

static void gst_vmt_overlay_set_property(GObject* object, guint prop_id, const GValue* value,
                                         GParamSpec* pspec) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->settings;
  switch (prop_id) {
    case PROP_DRAW_MASKS: s.draw_masks = g_value_get_boolean(value); break;
    case PROP_DRAW_CONTOURS: s.draw_contours = g_value_get_boolean(value); break;
    case PROP_DRAW_BOXES: s.draw_boxes = g_value_get_boolean(value); break;
    case PROP_DRAW_LABELS: s.draw_labels = g_value_get_boolean(value); break;
    case PROP_MASK_ALPHA: s.mask_alpha = g_value_get_double(value); break;
    case PROP_MIN_SCORE: s.min_score = g_value_get_double(value); break;
    case PROP_COLOR_BY: s.color_by = static_cast<GstVmtOverlayColorBy>(g_value_get_enum(value)); break;
    case PROP_LINE_WIDTH: s.line_width = g_value_get_uint(value); break;
    case PROP_FONT_FAMILY:
      g_free(s.font_family);
      s.font_family = g_value_dup_string(value);
      if (s.font_family == nullptr) s.font_family = g_strdup(DEFAULT_FONT_FAMILY);
      break;
    case PROP_FONT_SIZE: s.font_size = g_value_get_uint(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vmt_overlay_get_property(GObject* object, guint prop_id, GValue* value,
                                         GParamSpec* pspec) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->settings;
  switch (prop_id) {
    case PROP_DRAW_MASKS: g_value_set_boolean(value, s.draw_masks); break;
    case PROP_DRAW_CONTOURS: g_value_set_boolean(value, s.draw_contours); break;
    case PROP_DRAW_BOXES: g_value_set_boolean(value, s.draw_boxes); break;
    case PROP_DRAW_LABELS: g_value_set_boolean(value, s.draw_labels); break;
    case PROP_MASK_ALPHA: g_value_set_double(value, s.mask_alpha); break;
    case PROP_MIN_SCORE: g_value_set_double(value, s.min_score); break;
    case PROP_COLOR_BY: g_value_set_enum(value, s.color_by); break;
    case PROP_LINE_WIDTH: g_value_set_uint(value, s.line_width); break;
    case PROP_FONT_FAMILY: g_value_set_string(value, s.font_family); break;
    case PROP_FONT_SIZE: g_value_set_uint(value, s.font_size); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void install_boolean(GObjectClass* klass, guint id, const char* name, const char* nick,
                            const char* blurb, gboolean default_value) {
  g_object_class_install_property(
      klass, id,
      g_param_spec_boolean(name, nick, blurb, default_value,
                           static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_PLAYING)));
}

static void gst_vmt_overlay_finalize(GObject* object) {
  GstVmtOverlay* self = GST_VMT_OVERLAY(object);
  delete self->renderer;
  self->renderer = nullptr;
  g_free(self->settings.font_family);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_vmt_overlay_class_init(GstVmtOverlayClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = gst_vmt_overlay_set_property;
  gobject_class->get_property = gst_vmt_overlay_get_property;
  gobject_class->finalize = gst_vmt_overlay_finalize;

  /**
   * GstVmtOverlay:draw-masks:
   *
   * Fill each instance's mask with its colour at #GstVmtOverlay:mask-alpha.
   */
  install_boolean(gobject_class, PROP_DRAW_MASKS, "draw-masks", "Draw masks",
                  "Fill instance masks with a translucent colour", DEFAULT_DRAW_MASKS);
  /**
   * GstVmtOverlay:draw-contours:
   *
   * Draw the outline of each mask, opaque, one pixel wide.
   */
  install_boolean(gobject_class, PROP_DRAW_CONTOURS, "draw-contours", "Draw contours",
                  "Draw mask outlines", DEFAULT_DRAW_CONTOURS);
  /**
   * GstVmtOverlay:draw-boxes:
   *
   * Draw each instance's box, #GstVmtOverlay:line-width pixels wide, inside the box.
   */
  install_boolean(gobject_class, PROP_DRAW_BOXES, "draw-boxes", "Draw boxes",
                  "Draw instance boxes", DEFAULT_DRAW_BOXES);
  /**
   * GstVmtOverlay:draw-labels:
   *
   * Write "label track-id score" next to each box: above it where there is room, else inside
   * its top, below it, or further away; smaller, or hidden (lowest scores first, with a
   * "+N hidden" counter) when the frame is too crowded. Captions never overlap each other and
   * never leave the frame.
   */
  install_boolean(gobject_class, PROP_DRAW_LABELS, "draw-labels", "Draw labels",
                  "Write \"label track-id score\" next to each box", DEFAULT_DRAW_LABELS);
  /**
   * GstVmtOverlay:mask-alpha:
   *
   * Opacity of the mask fill: 0 leaves the pixels as they are, 1 paints the colour.
   */
  g_object_class_install_property(
      gobject_class, PROP_MASK_ALPHA,
      g_param_spec_double("mask-alpha", "Mask alpha", "Opacity of the mask fill (0 to 1)", 0.0, 1.0,
                          DEFAULT_MASK_ALPHA, flags));
  /**
   * GstVmtOverlay:min-score:
   *
   * Instances scoring below this are not drawn.
   */
  g_object_class_install_property(
      gobject_class, PROP_MIN_SCORE,
      g_param_spec_double("min-score", "Minimum score",
                          "Instances scoring below this are not drawn (0 to 1)", 0.0, 1.0,
                          DEFAULT_MIN_SCORE, flags));
  /**
   * GstVmtOverlay:color-by:
   *
   * Whether colours follow track ids or class ids.
   */
  g_object_class_install_property(
      gobject_class, PROP_COLOR_BY,
      g_param_spec_enum("color-by", "Colour by", "What picks an instance's colour",
                        GST_TYPE_VMT_OVERLAY_COLOR_BY, DEFAULT_COLOR_BY, flags));
  /**
   * GstVmtOverlay:line-width:
   *
   * Width of box lines in pixels.
   */
  g_object_class_install_property(
      gobject_class, PROP_LINE_WIDTH,
      g_param_spec_uint("line-width", "Line width", "Width of box lines in pixels", 1,
                        MAX_LINE_WIDTH, DEFAULT_LINE_WIDTH, flags));
  /**
   * GstVmtOverlay:font-family:
   *
   * Font family of the captions, as Pango and fontconfig understand it ("Sans", "DejaVu Sans",
   * "Noto Sans CJK JP"); a family that is not installed falls back to fontconfig's choice.
   */
  g_object_class_install_property(
      gobject_class, PROP_FONT_FAMILY,
      g_param_spec_string("font-family", "Font family", "Font family of the captions",
                          DEFAULT_FONT_FAMILY, flags));
  /**
   * GstVmtOverlay:font-size:
   *
   * Caption text size in pixels. 0 follows the frame height: height / 40, at least 7 pixels
   * (27 at 1080p, 14 at 576 lines). Captions shrink to 0.8 and 0.64 of it (not below 7 pixels)
   * where the full size does not fit.
   */
  g_object_class_install_property(
      gobject_class, PROP_FONT_SIZE,
      g_param_spec_uint("font-size", "Font size",
                        "Caption text size in pixels (0 = frame height / 40)", 0, MAX_FONT_SIZE,
                        DEFAULT_FONT_SIZE, flags));

  gst_element_class_set_static_metadata(
      element_class, "VMT instance overlay", "Filter/Effect/Video",
      "Draws VMT instance masks, contours, boxes and labels onto video", "vmt-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_vmt_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_vmt_overlay_stop);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_vmt_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_VMT_OVERLAY_COLOR_BY, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_vmt_overlay_debug, "vmtoverlay", 0, "VMT instance overlay");
}

static void gst_vmt_overlay_init(GstVmtOverlay* self) {
  self->settings = Settings{DEFAULT_DRAW_MASKS, DEFAULT_DRAW_CONTOURS, DEFAULT_DRAW_BOXES,
                            DEFAULT_DRAW_LABELS, DEFAULT_MASK_ALPHA, DEFAULT_MIN_SCORE,
                            DEFAULT_COLOR_BY, DEFAULT_LINE_WIDTH, g_strdup(DEFAULT_FONT_FAMILY),
                            DEFAULT_FONT_SIZE};
  self->renderer = nullptr;
  // GstVideoFilter turns QoS on, which drops frames that a sink reports late; every frame leaves
  // this element (the standard `qos` property turns dropping back on).
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), FALSE);
}
