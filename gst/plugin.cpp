// The `vmt` plugin: registers the elements; nothing else lives here.
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstvmtexport.h"
#include "gstvmtoverlay.h"
#include "gstvmtsegment.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(vmtsegment, plugin);
  ok |= GST_ELEMENT_REGISTER(vmtoverlay, plugin);
  ok |= GST_ELEMENT_REGISTER(vmtexport, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, vmt,
                  "Video Mask Transfiner (VMT) video instance segmentation", plugin_init, VERSION,
                  GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
