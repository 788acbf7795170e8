// vmtoverlay in a GstHarness: masks blend with alpha, boxes, captions, scores, colours, formats,
// font properties, and properties changing while crowded frames flow.
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gst_test_support.h"
#include "vmt_meta_helpers.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

constexpr guint kWidth = 64;
constexpr guint kHeight = 48;
constexpr guint8 kGrey = 100;

/// One instance, track 5, box (10, 12) 20×16, mask = the left half of the box.
void annotate(GstVmtFrameMeta* meta, float score = 0.9f) {
  GstVmtMask* mask = vmt::test::make_mask(20, 16, [](guint x, guint) { return x < 10; });
  gst_vmt_frame_meta_add_instance(meta, 5, 1, "car", score, 10, 12, 20, 16, 0, 0, mask);
  gst_vmt_mask_unref(mask);
}

/// A grey frame of `format` with (optionally) the instance above.
GstBuffer* make_frame(GstVideoFormat format, bool with_meta, float score = 0.9f) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, kWidth, kHeight);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(buffer, 0, kGrey, GST_VIDEO_INFO_SIZE(&info));
  if (with_meta) annotate(gst_buffer_add_vmt_frame_meta(buffer, 0, kWidth, kHeight), score);
  return buffer;
}

std::string caps_for(const char* format) {
  return std::string("video/x-raw,format=") + format +
         ",width=64,height=48,framerate=30/1";
}

/// Runs one frame through vmtoverlay with `properties` and returns the output buffer.
GstBuffer* overlay(const std::string& properties, GstBuffer* frame, const char* format = "RGBA") {
  GstHarness* harness = gst_harness_new_parse(("vmtoverlay " + properties).c_str());
  gst_harness_set_src_caps_str(harness, caps_for(format).c_str());
  EXPECT_EQ(gst_harness_push(harness, frame), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(harness);
  gst_harness_teardown(harness);
  return out;
}

/// Component `c` (R, G, B or Y, U, V) of pixel (x, y) in `buffer` of `format`.
guint8 component(GstBuffer* buffer, GstVideoFormat format, int c, guint x, guint y) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, kWidth, kHeight);
  GstVideoFrame frame;
  EXPECT_TRUE(gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ));
  const guint8* data = static_cast<const guint8*>(GST_VIDEO_FRAME_COMP_DATA(&frame, c));
  const int stride = GST_VIDEO_FRAME_COMP_STRIDE(&frame, c);
  const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, c);
  const guint8 value = data[(y >> GST_VIDEO_FORMAT_INFO_H_SUB(info.finfo, c)) * stride +
                            (x >> GST_VIDEO_FORMAT_INFO_W_SUB(info.finfo, c)) * pstride];
  gst_video_frame_unmap(&frame);
  return value;
}

constexpr const char* kMasksOnly = "draw-contours=false draw-boxes=false draw-labels=false";

}  // namespace

// Inside the mask a pixel moves toward the colour by mask-alpha; alpha 1 paints the colour.
TEST(VmtOverlay, MaskPixelsBlendWithAlpha) {
  GstBuffer* opaque = overlay(std::string(kMasksOnly) + " mask-alpha=1.0", make_frame(GST_VIDEO_FORMAT_RGBA, true));
  GstBuffer* half = overlay(std::string(kMasksOnly) + " mask-alpha=0.5", make_frame(GST_VIDEO_FORMAT_RGBA, true));
  bool changed = false;
  for (int c = 0; c < 3; ++c) {
    const int colour = component(opaque, GST_VIDEO_FORMAT_RGBA, c, 15, 20);
    const int blended = component(half, GST_VIDEO_FORMAT_RGBA, c, 15, 20);
    EXPECT_NEAR(blended, (kGrey + colour) / 2.0, 1.0) << "component " << c;
    changed |= colour != kGrey;
  }
  EXPECT_TRUE(changed) << "the mask colour equals the background";
  gst_buffer_unref(opaque);
  gst_buffer_unref(half);
}

// Pixels outside the mask keep their values: in the box's empty half and outside the box.
TEST(VmtOverlay, PixelsOutsideMaskAreUnchanged) {
  GstBuffer* out = overlay(std::string(kMasksOnly) + " mask-alpha=1.0", make_frame(GST_VIDEO_FORMAT_RGBA, true));
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(component(out, GST_VIDEO_FORMAT_RGBA, c < 3 ? c : 3, 25, 20), kGrey);  // box, no mask
    EXPECT_EQ(component(out, GST_VIDEO_FORMAT_RGBA, c < 3 ? c : 3, 50, 40), kGrey);  // no box
  }
  EXPECT_EQ(component(out, GST_VIDEO_FORMAT_RGBA, 3, 15, 20), kGrey) << "alpha channel changed";
  gst_buffer_unref(out);
}

// Boxes are drawn on the box's edge and nowhere inside it.
TEST(VmtOverlay, DrawsBoxOutline) {
  GstBuffer* out = overlay("draw-masks=false draw-contours=false draw-labels=false line-width=2",
                           make_frame(GST_VIDEO_FORMAT_RGBA, true));
  auto painted = [&](guint x, guint y) {
    return component(out, GST_VIDEO_FORMAT_RGBA, 0, x, y) != kGrey ||
           component(out, GST_VIDEO_FORMAT_RGBA, 1, x, y) != kGrey ||
           component(out, GST_VIDEO_FORMAT_RGBA, 2, x, y) != kGrey;
  };
  EXPECT_TRUE(painted(10, 12));  // top-left corner
  EXPECT_TRUE(painted(20, 13));  // top edge
  EXPECT_TRUE(painted(29, 27));  // bottom-right corner
  EXPECT_TRUE(painted(11, 20));  // left edge, second line
  EXPECT_FALSE(painted(15, 20));  // inside
  EXPECT_FALSE(painted(9, 12));   // outside
  gst_buffer_unref(out);
}

// Labels are written above the box.
TEST(VmtOverlay, DrawsLabelAboveBox) {
  GstBuffer* out = overlay("draw-masks=false draw-contours=false draw-boxes=false",
                           make_frame(GST_VIDEO_FORMAT_RGBA, true));
  int painted = 0;
  for (guint y = 0; y < 12; ++y)
    for (guint x = 10; x < 60; ++x) painted += component(out, GST_VIDEO_FORMAT_RGBA, 0, x, y) != kGrey;
  EXPECT_GT(painted, 50);
  EXPECT_EQ(component(out, GST_VIDEO_FORMAT_RGBA, 0, 15, 20), kGrey);
  gst_buffer_unref(out);
}

// A frame without metadata leaves with every byte as it came.
TEST(VmtOverlay, FrameWithoutMetaIsUntouched) {
  GstBuffer* out = overlay("", make_frame(GST_VIDEO_FORMAT_RGBA, false));
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(out, &map, GST_MAP_READ));
  for (gsize i = 0; i < map.size; ++i) ASSERT_EQ(map.data[i], kGrey) << "byte " << i;
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(out);
}

// Instances scoring below min-score are not drawn.
TEST(VmtOverlay, MinScoreHidesLowScores) {
  GstBuffer* out = overlay("min-score=0.5", make_frame(GST_VIDEO_FORMAT_RGBA, true, 0.3f));
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(out, &map, GST_MAP_READ));
  for (gsize i = 0; i < map.size; ++i) ASSERT_EQ(map.data[i], kGrey) << "byte " << i;
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(out);
}

// The same track keeps its colour in every frame; color-by=class gives tracks of a class one colour.
TEST(VmtOverlay, ColoursAreStablePerTrackOrClass) {
  auto colour_of = [](const std::string& properties, guint64 track, gint class_id) {
    GstBuffer* frame = make_frame(GST_VIDEO_FORMAT_RGBA, false);
    GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(frame, 0, kWidth, kHeight);
    vmt::test::add_box_instance(meta, track, class_id, "x", 0.9f, 10, 12, 20, 16);
    GstBuffer* out = overlay(std::string(kMasksOnly) + " mask-alpha=1.0 " + properties, frame);
    const guint32 rgb = component(out, GST_VIDEO_FORMAT_RGBA, 0, 15, 20) << 16 |
                        component(out, GST_VIDEO_FORMAT_RGBA, 1, 15, 20) << 8 |
                        component(out, GST_VIDEO_FORMAT_RGBA, 2, 15, 20);
    gst_buffer_unref(out);
    return rgb;
  };
  EXPECT_EQ(colour_of("", 3, 1), colour_of("", 3, 2));
  EXPECT_NE(colour_of("", 3, 1), colour_of("", 4, 1));
  EXPECT_EQ(colour_of("color-by=class", 3, 1), colour_of("color-by=class", 4, 1));
  EXPECT_NE(colour_of("color-by=class", 3, 1), colour_of("color-by=class", 3, 2));
}

// Every supported format: the mask region changes, the rest of the frame does not.
TEST(VmtOverlay, DrawsInEveryFormat) {
  const std::vector<std::pair<const char*, GstVideoFormat>> formats = {
      {"RGBA", GST_VIDEO_FORMAT_RGBA}, {"BGRA", GST_VIDEO_FORMAT_BGRA}, {"RGBx", GST_VIDEO_FORMAT_RGBx},
      {"BGRx", GST_VIDEO_FORMAT_BGRx}, {"RGB", GST_VIDEO_FORMAT_RGB},   {"I420", GST_VIDEO_FORMAT_I420},
      {"NV12", GST_VIDEO_FORMAT_NV12}};
  for (const auto& [name, format] : formats) {
    GstBuffer* out = overlay(std::string(kMasksOnly) + " mask-alpha=1.0", make_frame(format, true), name);
    ASSERT_NE(out, nullptr) << name;
    bool inside_changed = false;
    for (int c = 0; c < 3; ++c) {
      inside_changed |= component(out, format, c, 14, 20) != kGrey;
      EXPECT_EQ(component(out, format, c, 26, 20), kGrey) << name << " component " << c;
      EXPECT_EQ(component(out, format, c, 50, 40), kGrey) << name << " component " << c;
    }
    EXPECT_TRUE(inside_changed) << name;
    gst_buffer_unref(out);
  }
}

// The font properties: defaults, and a bigger font-size makes a bigger caption.
TEST(VmtOverlay, FontSizeChangesTheCaption) {
  GstElement* element = gst_element_factory_make("vmtoverlay", nullptr);
  ASSERT_NE(element, nullptr);
  gchar* family = nullptr;
  guint size = 99;
  g_object_get(element, "font-family", &family, "font-size", &size, nullptr);
  EXPECT_STREQ(family, "Sans");
  EXPECT_EQ(size, 0u);
  g_free(family);
  gst_object_unref(element);

  auto caption_area = [](const char* size_property) {
    GstBuffer* out = overlay(std::string("draw-masks=false draw-contours=false draw-boxes=false ") +
                                 size_property,
                             make_frame(GST_VIDEO_FORMAT_RGBA, true));
    int painted = 0;
    for (guint y = 0; y < kHeight; ++y)
      for (guint x = 0; x < kWidth; ++x) painted += component(out, GST_VIDEO_FORMAT_RGBA, 0, x, y) != kGrey;
    gst_buffer_unref(out);
    return painted;
  };
  const int small = caption_area("font-size=7"), large = caption_area("font-size=10");
  EXPECT_GT(small, 50);
  EXPECT_GT(large, small * 3 / 2);
}

// Captions are drawn in every format, and leave the rest of the frame alone.
TEST(VmtOverlay, DrawsCaptionsInEveryFormat) {
  const std::vector<std::pair<const char*, GstVideoFormat>> formats = {
      {"RGBA", GST_VIDEO_FORMAT_RGBA}, {"BGRA", GST_VIDEO_FORMAT_BGRA}, {"RGBx", GST_VIDEO_FORMAT_RGBx},
      {"BGRx", GST_VIDEO_FORMAT_BGRx}, {"RGB", GST_VIDEO_FORMAT_RGB},   {"I420", GST_VIDEO_FORMAT_I420},
      {"NV12", GST_VIDEO_FORMAT_NV12}};
  for (const auto& [name, format] : formats) {
    GstBuffer* out = overlay("draw-masks=false draw-contours=false draw-boxes=false",
                             make_frame(format, true), name);
    ASSERT_NE(out, nullptr) << name;
    int above = 0;
    for (guint y = 0; y < 12; ++y)
      for (guint x = 10; x < 40; ++x) above += component(out, format, 0, x, y) != kGrey;
    EXPECT_GT(above, 100) << name;
    for (int c = 0; c < 3; ++c) EXPECT_EQ(component(out, format, c, 50, 40), kGrey) << name;
    gst_buffer_unref(out);
  }
}

// A crowded frame with non-ASCII and invalid UTF-8 labels goes through; every property may change
// while frames flow (GstHarness stress threads), and every frame comes out.
TEST(VmtOverlay, PropertiesChangeWhileCrowdedFramesFlow) {
  GstHarness* harness = gst_harness_new_parse("vmtoverlay");
  gst_harness_set_src_caps_str(harness, "video/x-raw,format=I420,width=160,height=120,framerate=30/1");
  GstElement* element = gst_harness_find_element(harness, "vmtoverlay");
  GValue size = G_VALUE_INIT, family = G_VALUE_INIT, labels = G_VALUE_INIT, width = G_VALUE_INIT;
  g_value_init(&size, G_TYPE_UINT);
  g_value_set_uint(&size, 12);
  g_value_init(&family, G_TYPE_STRING);
  g_value_set_string(&family, "Serif");
  g_value_init(&labels, G_TYPE_BOOLEAN);
  g_value_set_boolean(&labels, FALSE);
  g_value_init(&width, G_TYPE_UINT);
  g_value_set_uint(&width, 5);
  GstHarnessThread* threads[] = {
      gst_harness_stress_property_start_full(harness, "font-size", &size, 1000),
      gst_harness_stress_property_start_full(harness, "font-family", &family, 1000),
      gst_harness_stress_property_start_full(harness, "draw-labels", &labels, 1000),
      gst_harness_stress_property_start_full(harness, "line-width", &width, 1000),
  };
  constexpr int kFrames = 40;
  for (int f = 0; f < kFrames; ++f) {
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, 160, 120);
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    gst_buffer_memset(buffer, 0, kGrey, GST_VIDEO_INFO_SIZE(&info));
    GST_BUFFER_PTS(buffer) = f * GST_SECOND / 30;
    GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, f, 160, 120);
    for (int i = 0; i < 30; ++i)
      vmt::test::add_box_instance(meta, i, i % 3, i % 3 == 0 ? "Fußgänger" : i % 3 == 1 ? "\xff bad" : nullptr,
                                  0.3f + 0.02f * i, (i * 13) % 120, (i * 7) % 90, 30, 25);
    ASSERT_EQ(gst_harness_push(harness, buffer), GST_FLOW_OK) << "frame " << f;
    GstBuffer* out = gst_harness_pull(harness);
    ASSERT_NE(out, nullptr) << "frame " << f;
    EXPECT_EQ(GST_BUFFER_PTS(out), static_cast<GstClockTime>(f * GST_SECOND / 30));
    gst_buffer_unref(out);
  }
  for (GstHarnessThread* thread : threads) gst_harness_stress_thread_stop(thread);
  g_value_unset(&size);
  g_value_unset(&family);
  g_value_unset(&labels);
  g_value_unset(&width);
  gst_object_unref(element);
  gst_harness_teardown(harness);
}
