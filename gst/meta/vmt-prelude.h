/* The export macro of the gstvmt-1.0 library (VMT instance metadata). */
#pragma once

#include <gst/gst.h>

#ifndef GST_VMT_API
#ifdef BUILDING_GST_VMT
#define GST_VMT_API GST_API_EXPORT /* from the library's own sources */
#else
#define GST_VMT_API GST_API_IMPORT /* from applications and plugins */
#endif
#endif
