// Bridge from the C metadata library to vmt-core's COCO RLE encoder (vmt/mask.h).
#include <exception>
#include <span>
#include <string>

#include "vmt/mask.h"
#include "vmtmeta-private.h"

gchar* gst_vmt_rle_counts_encode(const guint8* pixels, guint width, guint height) {
  try {
    const vmt::MaskSize size{height, width};
    const vmt::BitmapView view{std::span<const std::uint8_t>(pixels, size.pixels()), size};
    const std::string counts = vmt::rle_to_string(vmt::rle_encode(view));
    return g_strdup(counts.c_str());
  } catch (const std::exception& error) {
    g_warning("COCO RLE encoding failed: %s", error.what());
    return nullptr;
  }
}
