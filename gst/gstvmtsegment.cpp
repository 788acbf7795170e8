/**
 * SECTION:element-vmtsegment
 * @title: vmtsegment
 *
 * Video instance segmentation with Video Mask Transfiner (VMT).
 *
 * This first version selects and validates the compute device in start() and passes every frame
 * through unchanged, with its timestamps. Model inference and per-instance metadata are not
 * implemented yet: no buffer receives segmentation metadata.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! vmtsegment device=cpu ! fakesink
 * ]|
 */
#include "gstvmtsegment.h"

#include <gst/video/video.h>

#include <exception>
#include <string>

#include "vmt/device.h"
#include "vmt/error.h"

GST_DEBUG_CATEGORY_STATIC(gst_vmt_segment_debug);
#define GST_CAT_DEFAULT gst_vmt_segment_debug

#define DEFAULT_DEVICE "auto"

enum { PROP_0, PROP_DEVICE, PROP_ACTIVE_DEVICE };

struct _GstVmtSegment {
  GstBaseTransform parent;

  /* Protected by the object lock: written by set_property, read in start(). */
  gchar* device;
  /* Written in start() from the streaming thread's state change; read under the object lock. */
  gchar* active_device;
};

#define VMT_SEGMENT_CAPS GST_VIDEO_CAPS_MAKE("{ RGB, RGBA, RGBx, BGRx, BGRA, I420, NV12 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_SEGMENT_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VMT_SEGMENT_CAPS));

#define gst_vmt_segment_parent_class parent_class
G_DEFINE_TYPE(GstVmtSegment, gst_vmt_segment, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(vmtsegment, "vmtsegment", GST_RANK_NONE, GST_TYPE_VMT_SEGMENT);

static void gst_vmt_segment_set_property(GObject* object, guint prop_id, const GValue* value,
                                         GParamSpec* pspec) {
  GstVmtSegment* self = GST_VMT_SEGMENT(object);
  switch (prop_id) {
    case PROP_DEVICE:
      GST_OBJECT_LOCK(self);
      g_free(self->device);
      self->device = g_value_dup_string(value);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vmt_segment_get_property(GObject* object, guint prop_id, GValue* value,
                                         GParamSpec* pspec) {
  GstVmtSegment* self = GST_VMT_SEGMENT(object);
  switch (prop_id) {
    case PROP_DEVICE:
      GST_OBJECT_LOCK(self);
      g_value_set_string(value, self->device);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_ACTIVE_DEVICE:
      GST_OBJECT_LOCK(self);
      g_value_set_string(value, self->active_device);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vmt_segment_finalize(GObject* object) {
  GstVmtSegment* self = GST_VMT_SEGMENT(object);
  g_free(self->device);
  g_free(self->active_device);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static gboolean gst_vmt_segment_start(GstBaseTransform* trans) {
  GstVmtSegment* self = GST_VMT_SEGMENT(trans);
  GST_OBJECT_LOCK(self);
  std::string requested = self->device ? self->device : DEFAULT_DEVICE;
  GST_OBJECT_UNLOCK(self);

  try {
    const vmt::DeviceSpec device = vmt::resolve_device(vmt::parse_device(requested));
    const std::string description = vmt::describe_device(device);
    GST_INFO_OBJECT(self, "device \"%s\" resolved to %s", requested.c_str(), description.c_str());
    GST_OBJECT_LOCK(self);
    g_free(self->active_device);
    self->active_device = g_strdup(description.c_str());
    GST_OBJECT_UNLOCK(self);
  } catch (const vmt::Error& error) {
    if (error.code() == vmt::ErrorCode::InvalidArgument) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid device setting: %s", error.what()),
                        ("device=\"%s\"", requested.c_str()));
    } else {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Compute device unavailable: %s", error.what()),
                        ("device=\"%s\"", requested.c_str()));
    }
    return FALSE;
  } catch (const std::exception& error) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Device selection failed: %s", error.what()), (NULL));
    return FALSE;
  }
  return TRUE;
}

static gboolean gst_vmt_segment_stop(GstBaseTransform* trans) {
  GstVmtSegment* self = GST_VMT_SEGMENT(trans);
  GST_OBJECT_LOCK(self);
  g_clear_pointer(&self->active_device, g_free);
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

static GstFlowReturn gst_vmt_segment_transform_ip(GstBaseTransform* trans, GstBuffer* buffer) {
  GST_TRACE_OBJECT(trans, "frame %" GST_TIME_FORMAT, GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
  return GST_FLOW_OK;
}

static void gst_vmt_segment_class_init(GstVmtSegmentClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* transform_class = GST_BASE_TRANSFORM_CLASS(klass);

  gobject_class->set_property = gst_vmt_segment_set_property;
  gobject_class->get_property = gst_vmt_segment_get_property;
  gobject_class->finalize = gst_vmt_segment_finalize;

  /**
   * GstVmtSegment:device:
   *
   * The compute device: "auto" (the first CUDA GPU when one is usable, else the CPU), "cpu",
   * "cuda" or "cuda:N". Asking for CUDA where none is usable is an error at start.
   */
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Compute device: auto, cpu, cuda or cuda:N", DEFAULT_DEVICE,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));
  /**
   * GstVmtSegment:active-device:
   *
   * The device in use after start(), with its name (e.g. "cuda:0 (NVIDIA H100 80GB HBM3)");
   * NULL while stopped.
   */
  g_object_class_install_property(
      gobject_class, PROP_ACTIVE_DEVICE,
      g_param_spec_string("active-device", "Active device",
                          "The device in use while running (read-only)", NULL,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(
      element_class, "VMT video instance segmentation", "Filter/Analyzer/Video",
      "Video instance segmentation with Video Mask Transfiner (device selection; passes frames "
      "through unchanged until model inference lands)",
      "vmt-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  transform_class->start = GST_DEBUG_FUNCPTR(gst_vmt_segment_start);
  transform_class->stop = GST_DEBUG_FUNCPTR(gst_vmt_segment_stop);
  transform_class->transform_ip = GST_DEBUG_FUNCPTR(gst_vmt_segment_transform_ip);
  transform_class->passthrough_on_same_caps = TRUE;

  GST_DEBUG_CATEGORY_INIT(gst_vmt_segment_debug, "vmtsegment", 0, "VMT video segmentation");
}

static void gst_vmt_segment_init(GstVmtSegment* self) {
  self->device = g_strdup(DEFAULT_DEVICE);
  self->active_device = nullptr;
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
