/* Internal bridge from the C library to vmt-core's mask primitives (C++). Not installed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The pycocotools compressed `counts` string of a row-major width × height mask (nonzero =
 * foreground), from vmt::rle_encode + vmt::rle_to_string; NULL on failure. Free with g_free(). */
G_GNUC_INTERNAL gchar* gst_vmt_rle_counts_encode(const guint8* pixels, guint width, guint height);

G_END_DECLS
