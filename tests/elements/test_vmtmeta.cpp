// The gstvmt-1.0 metadata library: GstVmtFrameMeta, masks, COCO RLE, transforms and ROI metas.
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gst_test_support.h"
#include "vmt/mask.h"
#include "vmt_meta_helpers.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

constexpr guint kWidth = 32;
constexpr guint kHeight = 24;

GstBuffer* make_buffer() { return gst_buffer_new_allocate(nullptr, kWidth * kHeight * 4, nullptr); }

/// The full-frame mask of instance `index` as rendered by the library.
std::vector<guint8> render(const GstVmtFrameMeta* meta, guint index) {
  GBytes* bytes = gst_vmt_frame_meta_render_mask_bytes(meta, index);
  gsize size = 0;
  const auto* data = static_cast<const guint8*>(g_bytes_get_data(bytes, &size));
  std::vector<guint8> pixels(data, data + size);
  g_bytes_unref(bytes);
  return pixels;
}

/// Nearest-neighbour scaling of a full-frame mask, with the same sampling as videoscale.
std::vector<guint8> nearest_scale(const std::vector<guint8>& in, guint in_w, guint in_h, guint out_w,
                                  guint out_h) {
  std::vector<guint8> out(std::size_t{out_w} * out_h);
  for (guint y = 0; y < out_h; ++y)
    for (guint x = 0; x < out_w; ++x) {
      const guint sx = static_cast<guint>((2 * guint64{x} + 1) * in_w / (2 * guint64{out_w}));
      const guint sy = static_cast<guint>((2 * guint64{y} + 1) * in_h / (2 * guint64{out_h}));
      out[std::size_t{y} * out_w + x] = in[std::size_t{sy} * in_w + sx];
    }
  return out;
}

/// A meta of 32×24 with a patterned instance and a full box instance touching the frame corner.
GstVmtFrameMeta* add_sample_meta(GstBuffer* buffer) {
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, 12, kWidth, kHeight);
  GstVmtMask* mask = vmt::test::make_mask(10, 8, [](guint x, guint y) { return (x * 7 + y * 3) % 5 != 0; });
  gst_vmt_frame_meta_add_instance(meta, 7, 1, "car", 0.9f, 5, 3, 10, 8, 2, 12, mask);
  gst_vmt_mask_unref(mask);
  vmt::test::add_box_instance(meta, 9, 2, "pedestrian", 0.6f, 24, 18, 8, 6);
  return meta;
}

GstVideoInfo video_info(guint width, guint height) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGBA, width, height);
  return info;
}

}  // namespace

// A meta added to a buffer is found again with its frame index, size and skipped flag.
TEST(VmtMeta, AddedMetaIsFoundOnTheBuffer) {
  GstBuffer* buffer = make_buffer();
  EXPECT_EQ(gst_buffer_get_vmt_frame_meta(buffer), nullptr);
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, 42, kWidth, kHeight);
  ASSERT_NE(meta, nullptr);
  meta->skipped = TRUE;
  GstVmtFrameMeta* found = gst_buffer_get_vmt_frame_meta(buffer);
  ASSERT_EQ(found, meta);
  EXPECT_EQ(found->frame_index, 42u);
  EXPECT_EQ(found->width, kWidth);
  EXPECT_EQ(found->height, kHeight);
  EXPECT_TRUE(found->skipped);
  EXPECT_EQ(gst_vmt_frame_meta_get_n_instances(found), 0u);
  gst_buffer_unref(buffer);
}

// Instances keep every field they were added with, in order; labels are interned.
TEST(VmtMeta, InstancesKeepTheirFields) {
  GstBuffer* buffer = make_buffer();
  const GstVmtFrameMeta* meta = add_sample_meta(buffer);
  ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(meta), 2u);
  const GstVmtInstance* first = gst_vmt_frame_meta_get_instance(meta, 0);
  EXPECT_EQ(first->track_id, 7u);
  EXPECT_EQ(first->class_id, 1);
  EXPECT_STREQ(first->label, "car");
  EXPECT_EQ(first->label, g_intern_string("car"));
  EXPECT_FLOAT_EQ(first->score, 0.9f);
  EXPECT_EQ(first->x, 5u);
  EXPECT_EQ(first->y, 3u);
  EXPECT_EQ(first->width, 10u);
  EXPECT_EQ(first->height, 8u);
  EXPECT_EQ(first->first_seen, 2u);
  EXPECT_EQ(first->last_seen, 12u);
  ASSERT_NE(gst_vmt_instance_get_mask(first), nullptr);
  EXPECT_EQ(gst_vmt_mask_get_width(first->mask), 10u);
  EXPECT_EQ(gst_vmt_mask_get_height(first->mask), 8u);
  EXPECT_EQ(gst_vmt_frame_meta_get_instance(meta, 1)->track_id, 9u);
  EXPECT_EQ(gst_vmt_frame_meta_get_instance(meta, 2), nullptr);
  gst_buffer_unref(buffer);
}

// A mask stores 0/1 bytes of exactly its box; bytes already 0/1 are shared without a copy.
TEST(VmtMeta, MaskBytesAreZeroOrOneAndSharedWhenPossible) {
  const guint8 pixels[6] = {0, 255, 3, 0, 1, 0};
  GstVmtMask* copied = gst_vmt_mask_new(3, 2, pixels, sizeof pixels);
  gsize size = 0;
  const guint8* data = gst_vmt_mask_get_data(copied, &size);
  ASSERT_EQ(size, 6u);
  EXPECT_EQ(std::vector<guint8>(data, data + size), (std::vector<guint8>{0, 1, 1, 0, 1, 0}));
  EXPECT_EQ(gst_vmt_mask_get_area(copied), 3u);

  GBytes* binary = g_bytes_new(data, size);
  GstVmtMask* shared = gst_vmt_mask_new_from_bytes(3, 2, binary);
  EXPECT_EQ(gst_vmt_mask_get_data(shared, nullptr), g_bytes_get_data(binary, nullptr));
  GBytes* back = gst_vmt_mask_get_bytes(shared);
  EXPECT_EQ(back, binary);
  g_bytes_unref(back);
  g_bytes_unref(binary);
  gst_vmt_mask_unref(shared);
  gst_vmt_mask_unref(copied);
}

// The full-frame render places the cropped mask at its box and leaves zeros elsewhere, also into
// a caller buffer with padding.
TEST(VmtMeta, RendersFullFrameMask) {
  GstBuffer* buffer = make_buffer();
  const GstVmtFrameMeta* meta = add_sample_meta(buffer);
  const std::vector<guint8> full = render(meta, 0);
  ASSERT_EQ(full.size(), std::size_t{kWidth} * kHeight);
  for (guint y = 0; y < kHeight; ++y)
    for (guint x = 0; x < kWidth; ++x) {
      const bool in_box = x >= 5 && x < 15 && y >= 3 && y < 11;
      const guint8 expected = in_box ? (((x - 5) * 7 + (y - 3) * 3) % 5 != 0) : 0;
      ASSERT_EQ(full[y * kWidth + x], expected) << x << "," << y;
    }

  const gsize stride = kWidth + 8;
  std::vector<guint8> padded(stride * kHeight, 0xAA);
  ASSERT_TRUE(gst_vmt_frame_meta_render_mask(meta, 0, padded.data(), padded.size(), stride));
  for (guint y = 0; y < kHeight; ++y)
    for (guint x = 0; x < kWidth; ++x) ASSERT_EQ(padded[y * stride + x], full[y * kWidth + x]);
  EXPECT_EQ(padded[kWidth], 0xAA) << "padding was written";
  EXPECT_FALSE(gst_vmt_frame_meta_render_mask(meta, 0, padded.data(), 10, stride));
  gst_buffer_unref(buffer);
}

// COCO RLE equals the counts pycocotools wrote for the fixture (tests/fixtures/meta).
TEST(VmtMeta, RleEqualsPycocotoolsFixture) {
  const char* root = g_getenv("VMT_SOURCE_ROOT");
  ASSERT_NE(root, nullptr);
  std::ifstream file(std::string(root) + "/tests/fixtures/meta/rle_fixture.json");
  ASSERT_TRUE(file.good());
  const auto fixture = nlohmann::json::parse(file);

  GstBuffer* buffer = make_buffer();
  GstVmtFrameMeta* meta =
      gst_buffer_add_vmt_frame_meta(buffer, 0, fixture["width"], fixture["height"]);
  for (const auto& entry : fixture["instances"]) {
    const auto box = entry["box"].get<std::vector<guint>>();
    const auto rows = entry["rows"].get<std::vector<std::string>>();
    GstVmtMask* mask = vmt::test::make_mask(box[2], box[3], [&](guint x, guint y) { return rows[y][x] == '1'; });
    gst_vmt_frame_meta_add_instance(meta, 1, 1, nullptr, 1.0f, box[0], box[1], box[2], box[3], 0, 0, mask);
    gst_vmt_mask_unref(mask);
  }
  for (guint i = 0; i < fixture["instances"].size(); ++i) {
    const gchar* counts = gst_vmt_frame_meta_get_rle(meta, i);
    ASSERT_NE(counts, nullptr);
    EXPECT_EQ(std::string(counts), fixture["instances"][i]["counts"].get<std::string>()) << i;
  }
  gst_buffer_unref(buffer);
}

// The RLE is vmt-core's encoding of the full-frame mask, computed once and then cached.
TEST(VmtMeta, RleEqualsVmtCoreEncoderAndIsCached) {
  GstBuffer* buffer = make_buffer();
  const GstVmtFrameMeta* meta = add_sample_meta(buffer);
  for (guint i = 0; i < 2; ++i) {
    const std::vector<guint8> full = render(meta, i);
    const std::string expected = vmt::rle_to_string(
        vmt::rle_encode(vmt::BitmapView{full, vmt::MaskSize{kHeight, kWidth}}));
    const gchar* counts = gst_vmt_frame_meta_get_rle(meta, i);
    ASSERT_NE(counts, nullptr);
    EXPECT_EQ(std::string(counts), expected);
    EXPECT_EQ(gst_vmt_frame_meta_get_rle(meta, i), counts) << "not cached";
  }
  gst_buffer_unref(buffer);
}

// Copying a buffer copies the meta and shares each mask instead of duplicating it.
TEST(VmtMeta, CopySharesMasks) {
  GstBuffer* buffer = make_buffer();
  const GstVmtFrameMeta* meta = add_sample_meta(buffer);
  GstBuffer* copy = gst_buffer_copy(buffer);
  const GstVmtFrameMeta* copied = gst_buffer_get_vmt_frame_meta(copy);
  ASSERT_NE(copied, nullptr);
  ASSERT_NE(copied, meta);
  EXPECT_EQ(copied->frame_index, meta->frame_index);
  ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(copied), 2u);
  for (guint i = 0; i < 2; ++i) {
    EXPECT_EQ(gst_vmt_frame_meta_get_instance(copied, i)->mask,
              gst_vmt_frame_meta_get_instance(meta, i)->mask);
    EXPECT_EQ(gst_vmt_frame_meta_get_instance(copied, i)->track_id,
              gst_vmt_frame_meta_get_instance(meta, i)->track_id);
  }
  gst_buffer_unref(buffer);
  EXPECT_EQ(render(copied, 0).size(), std::size_t{kWidth} * kHeight) << "mask freed with original";
  gst_buffer_unref(copy);
}

// Scaling gives exactly the nearest-neighbour scaling of each full-frame mask, up and down.
TEST(VmtMeta, ScaleEqualsNearestScaledFullFrameMask) {
  for (const auto& [out_w, out_h] : {std::pair<guint, guint>{64, 48}, {20, 15}, {45, 31}}) {
    GstBuffer* buffer = make_buffer();
    GstVmtFrameMeta* meta = add_sample_meta(buffer);
    GstVideoInfo in_info = video_info(kWidth, kHeight), out_info = video_info(out_w, out_h);
    GstVideoMetaTransform transform = {&in_info, &out_info};
    GstBuffer* scaled = make_buffer();
    ASSERT_TRUE(meta->meta.info->transform_func(scaled, &meta->meta, buffer,
                                                gst_video_meta_transform_scale_get_quark(), &transform));
    const GstVmtFrameMeta* out = gst_buffer_get_vmt_frame_meta(scaled);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out->width, out_w);
    EXPECT_EQ(out->height, out_h);
    ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(out), 2u);
    for (guint i = 0; i < 2; ++i) {
      EXPECT_EQ(render(out, i), nearest_scale(render(meta, i), kWidth, kHeight, out_w, out_h))
          << out_w << "x" << out_h << " instance " << i;
      const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(out, i);
      EXPECT_EQ(gst_vmt_mask_get_width(instance->mask), instance->width);
    }
    gst_buffer_unref(scaled);
    gst_buffer_unref(buffer);
  }
}

// videoscale in a real pipeline doubles boxes and masks with the frame.
TEST(VmtMeta, VideoscaleScalesBoxes) {
  GstHarness* harness = gst_harness_new_parse("videoscale");
  gst_harness_set_src_caps_str(harness, "video/x-raw,format=RGBA,width=32,height=24,framerate=30/1");
  gst_harness_set_sink_caps_str(harness, "video/x-raw,format=RGBA,width=64,height=48,framerate=30/1");
  GstBuffer* buffer = make_buffer();
  add_sample_meta(buffer);
  ASSERT_EQ(gst_harness_push(harness, buffer), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(harness);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(out);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->width, 64u);
  const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, 0);
  EXPECT_EQ(instance->x, 10u);
  EXPECT_EQ(instance->y, 6u);
  EXPECT_EQ(instance->width, 20u);
  EXPECT_EQ(instance->height, 16u);
  gst_buffer_unref(out);
  gst_harness_teardown(harness);
}

// The crop transform translates boxes, clips masks to the kept rectangle and drops instances
// entirely outside it.
TEST(VmtMeta, CropTranslatesAndClips) {
  GstBuffer* buffer = make_buffer();
  GstVmtFrameMeta* meta = add_sample_meta(buffer);
  GstVmtMetaTransformCrop crop = {8, 4, 12, 10};  // keeps x 8..19, y 4..13
  GstBuffer* cropped = make_buffer();
  ASSERT_TRUE(meta->meta.info->transform_func(cropped, &meta->meta, buffer,
                                              gst_vmt_meta_transform_crop_get_quark(), &crop));
  const GstVmtFrameMeta* out = gst_buffer_get_vmt_frame_meta(cropped);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->width, 12u);
  EXPECT_EQ(out->height, 10u);
  ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(out), 1u) << "the corner instance lies outside";
  const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(out, 0);
  EXPECT_EQ(instance->track_id, 7u);
  EXPECT_EQ(instance->x, 0u);
  EXPECT_EQ(instance->y, 0u);
  EXPECT_EQ(instance->width, 7u);   // 8..14
  EXPECT_EQ(instance->height, 7u);  // 4..10
  const std::vector<guint8> full = render(meta, 0), kept = render(out, 0);
  for (guint y = 0; y < 10; ++y)
    for (guint x = 0; x < 12; ++x)
      ASSERT_EQ(kept[y * 12 + x], full[(y + 4) * kWidth + x + 8]) << x << "," << y;
  gst_buffer_unref(cropped);
  gst_buffer_unref(buffer);
}

// Class scores are copied with the instance by every transform (copy, scale, crop), replaced by a
// second set, and freed with it (the leaks tracer and ASan check the last part).
TEST(VmtMeta, ClassScoresFollowTheInstance) {
  GstBuffer* buffer = make_buffer();
  GstVmtFrameMeta* meta = add_sample_meta(buffer);
  GstVmtInstance* first = gst_vmt_frame_meta_get_instance(meta, 0);
  guint n = 99;
  EXPECT_EQ(gst_vmt_instance_get_class_scores(first, &n), nullptr);
  EXPECT_EQ(n, 0u);
  const gfloat scores[] = {0.9f, 0.05f, 0.3f};
  gst_vmt_instance_set_class_scores(first, scores, 2);
  gst_vmt_instance_set_class_scores(first, scores, 3);  // replaces
  // the original's array, to tell copies from it (`first` dies with `buffer` below)
  const gfloat* original_scores = first->class_scores;
  auto expect_scores = [&](const GstVmtFrameMeta* m, const char* what) {
    ASSERT_NE(m, nullptr) << what;
    guint count = 0;
    const gfloat* got = gst_vmt_instance_get_class_scores(gst_vmt_frame_meta_get_instance(m, 0), &count);
    ASSERT_EQ(count, 3u) << what;
    EXPECT_EQ(std::vector<gfloat>(got, got + 3), std::vector<gfloat>(scores, scores + 3)) << what;
    EXPECT_NE(got, original_scores) << what << ": a copy, not the same array";
  };
  GstBuffer* copy = gst_buffer_copy(buffer);
  expect_scores(gst_buffer_get_vmt_frame_meta(copy), "copy");
  GstVideoInfo in_info = video_info(kWidth, kHeight), out_info = video_info(20, 15);
  GstVideoMetaTransform scale = {&in_info, &out_info};
  GstBuffer* scaled = make_buffer();
  ASSERT_TRUE(meta->meta.info->transform_func(scaled, &meta->meta, buffer,
                                              gst_video_meta_transform_scale_get_quark(), &scale));
  expect_scores(gst_buffer_get_vmt_frame_meta(scaled), "scale");
  GstVmtMetaTransformCrop crop = {8, 4, 12, 10};
  GstBuffer* cropped = make_buffer();
  ASSERT_TRUE(meta->meta.info->transform_func(cropped, &meta->meta, buffer,
                                              gst_vmt_meta_transform_crop_get_quark(), &crop));
  expect_scores(gst_buffer_get_vmt_frame_meta(cropped), "crop");
  GstVmtInstance* boxed = gst_vmt_instance_copy(first);
  guint boxed_n = 0;
  EXPECT_NE(gst_vmt_instance_get_class_scores(boxed, &boxed_n), nullptr);
  EXPECT_EQ(boxed_n, 3u);
  gst_vmt_instance_free(boxed);
  gst_buffer_unref(buffer);
  expect_scores(gst_buffer_get_vmt_frame_meta(copy), "copy after the original is freed");
  for (GstBuffer* b : {copy, scaled, cropped}) gst_buffer_unref(b);
}

// videoflip cannot be followed exactly: the meta is dropped, not left wrong.
TEST(VmtMeta, FlipDropsMeta) {
  GstHarness* harness = gst_harness_new_parse("videoflip video-direction=horiz");
  gst_harness_set_src_caps_str(harness, "video/x-raw,format=RGBA,width=32,height=24,framerate=30/1");
  GstBuffer* buffer = make_buffer();
  add_sample_meta(buffer);
  ASSERT_EQ(gst_harness_push(harness, buffer), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(harness);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(gst_buffer_get_vmt_frame_meta(out), nullptr);
  gst_buffer_unref(out);
  gst_harness_teardown(harness);
}

// videoconvert changes no geometry: the meta passes with its masks shared.
TEST(VmtMeta, VideoconvertKeepsMeta) {
  GstHarness* harness = gst_harness_new_parse("videoconvert");
  gst_harness_set_src_caps_str(harness, "video/x-raw,format=RGBA,width=32,height=24,framerate=30/1");
  gst_harness_set_sink_caps_str(harness, "video/x-raw,format=I420,width=32,height=24,framerate=30/1");
  GstBuffer* buffer = make_buffer();
  const GstVmtMask* mask = gst_vmt_frame_meta_get_instance(add_sample_meta(buffer), 0)->mask;
  ASSERT_EQ(gst_harness_push(harness, buffer), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(harness);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(out);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(gst_vmt_frame_meta_get_n_instances(meta), 2u);
  EXPECT_EQ(gst_vmt_frame_meta_get_instance(meta, 0)->mask, mask);
  gst_buffer_unref(out);
  gst_harness_teardown(harness);
}

// A transform the library does not know drops the meta.
TEST(VmtMeta, UnknownTransformDropsMeta) {
  GstBuffer* buffer = make_buffer();
  GstVmtFrameMeta* meta = add_sample_meta(buffer);
  GstBuffer* dest = make_buffer();
  int data = 0;
  EXPECT_FALSE(meta->meta.info->transform_func(dest, &meta->meta, buffer,
                                               g_quark_from_static_string("gst-video-rotate"), &data));
  EXPECT_EQ(gst_buffer_get_vmt_frame_meta(dest), nullptr);
  gst_buffer_unref(dest);
  gst_buffer_unref(buffer);
}

// ROI metas as DL Streamer writes them: label, track id, box and a normalised "detection".
TEST(VmtMeta, AddsRoiMetasLikeDlStreamer) {
  GstBuffer* buffer = make_buffer();
  add_sample_meta(buffer);
  EXPECT_EQ(gst_buffer_add_vmt_roi_metas(buffer), 2u);
  GstVideoRegionOfInterestMeta* roi = gst_buffer_get_video_region_of_interest_meta_id(buffer, 7);
  ASSERT_NE(roi, nullptr);
  EXPECT_STREQ(g_quark_to_string(roi->roi_type), "car");
  EXPECT_EQ(roi->x, 5u);
  EXPECT_EQ(roi->y, 3u);
  EXPECT_EQ(roi->w, 10u);
  EXPECT_EQ(roi->h, 8u);
  GstStructure* detection = gst_video_region_of_interest_meta_get_param(roi, "detection");
  ASSERT_NE(detection, nullptr);
  double value = 0;
  gint label_id = 0;
  ASSERT_TRUE(gst_structure_get_double(detection, "x_min", &value));
  EXPECT_DOUBLE_EQ(value, 5.0 / kWidth);
  ASSERT_TRUE(gst_structure_get_double(detection, "y_max", &value));
  EXPECT_DOUBLE_EQ(value, 11.0 / kHeight);
  ASSERT_TRUE(gst_structure_get_double(detection, "confidence", &value));
  EXPECT_NEAR(value, 0.9, 1e-6);
  ASSERT_TRUE(gst_structure_get_int(detection, "label_id", &label_id));
  EXPECT_EQ(label_id, 1);
  EXPECT_NE(gst_buffer_get_video_region_of_interest_meta_id(buffer, 9), nullptr);
  gst_buffer_unref(buffer);
}
