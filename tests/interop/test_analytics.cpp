// GstVmtFrameMeta as the standard GstAnalyticsRelationMeta (GStreamer >= 1.26) and back: the
// mtds and their relations, checked field by field against the frame meta; vmtsegment attaching
// them (and its property turning that off); vmtoverlay and vmtexport given frames that carry only
// the standard metas; reading other producers' metas (masks at a model's resolution, relations
// set in either direction).
#include <glib/gstdio.h>
#include <gst/analytics/analytics.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gst_test_support.h"
#include "vmt.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

using json = nlohmann::json;

constexpr guint kWidth = 64;
constexpr guint kHeight = 48;
constexpr GstClockTime kFrameDuration = GST_SECOND / 30;
constexpr const char* kCaps = "video/x-raw,format=RGB,width=64,height=48,framerate=30/1";

/// A mask of `width` × `height` whose pixel (x, y) is `rule(x, y)`.
template <typename Rule>
GstVmtMask* make_mask(guint width, guint height, Rule rule) {
  std::vector<guint8> pixels(std::size_t{width} * height);
  for (guint y = 0; y < height; ++y)
    for (guint x = 0; x < width; ++x) pixels[std::size_t{y} * width + x] = rule(x, y) ? 1 : 0;
  return gst_vmt_mask_new(width, height, pixels.data(), pixels.size());
}

/// An RGB frame buffer of frame `index` (PTS index / 30 s, one frame long): a bright square moving
/// over a dark gradient, so the test model finds instances.
GstBuffer* make_frame(guint64 index) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, std::size_t{kWidth} * kHeight * 3, nullptr);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  for (guint y = 0; y < kHeight; ++y)
    for (guint x = 0; x < kWidth; ++x) {
      const bool inside = std::abs(static_cast<int>(x) - static_cast<int>(10 + index % 40)) < 8 &&
                          std::abs(static_cast<int>(y) - 24) < 8;
      guint8* pixel = map.data + (std::size_t{y} * kWidth + x) * 3;
      pixel[0] = inside ? 230 : 20;
      pixel[1] = inside ? 200 : static_cast<guint8>(x * 2);
      pixel[2] = inside ? 40 : static_cast<guint8>(y * 3);
    }
  gst_buffer_unmap(buffer, &map);
  GST_BUFFER_PTS(buffer) = index * kFrameDuration;
  GST_BUFFER_DURATION(buffer) = kFrameDuration;
  return buffer;
}

/// A buffer of frame `index` with a GstVmtFrameMeta: track 7 (full box mask, first seen 3 frames
/// earlier), track 9 (a diagonal mask, carried over from the previous frame) and track 12 (box
/// only).
GstBuffer* make_annotated_frame(guint64 index) {
  GstBuffer* buffer = make_frame(index);
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, index, kWidth, kHeight);
  GstVmtMask* full = make_mask(10, 6, [](guint, guint) { return true; });
  GstVmtMask* diagonal = make_mask(9, 7, [](guint x, guint y) { return x >= y; });
  gst_vmt_frame_meta_add_instance(meta, 7, 1, "car", 0.9f, 2, 3, 10, 6, index - 3, index, full);
  gst_vmt_frame_meta_add_instance(meta, 9, 2, "pedestrian", 0.55f, 30, 20, 9, 7, index - 1,
                                  index - 1, diagonal);
  gst_vmt_frame_meta_add_instance(meta, 12, 1, "car", 0.3f, 50, 40, 14, 8, index, index, nullptr);
  gst_vmt_mask_unref(full);
  gst_vmt_mask_unref(diagonal);
  return buffer;
}

/// The OD mtds of `relation` in the order they were added.
std::vector<GstAnalyticsODMtd> od_mtds(GstAnalyticsRelationMeta* relation) {
  std::vector<GstAnalyticsODMtd> found;
  gpointer state = nullptr;
  GstAnalyticsMtd mtd;
  while (gst_analytics_relation_meta_iterate(relation, &state, gst_analytics_od_mtd_get_mtd_type(),
                                             &mtd))
    found.push_back(mtd);
  return found;
}

std::size_t count_mtds(GstAnalyticsRelationMeta* relation, GstAnalyticsMtdType type) {
  std::size_t count = 0;
  gpointer state = nullptr;
  GstAnalyticsMtd mtd;
  while (gst_analytics_relation_meta_iterate(relation, &state, type, &mtd)) ++count;
  return count;
}

/// Checks that OD mtd `od` describes instance `index` of `meta` (on `buffer`): box, label and score;
/// a related tracking mtd with the id, first and last seen as timestamps from the buffer's PTS
/// and duration, not lost; for an instance with a mask, a related instance segmentation mtd,
/// related back, whose GRAY8 (GRAY16 beyond 255 instances) mask at the box holds the region id
/// (index + 1) exactly where the instance's mask is set. Counts such masks in `masks`.
void expect_instance_matches(GstBuffer* buffer, const GstVmtFrameMeta* meta, guint index,
                             GstAnalyticsRelationMeta* relation, const GstAnalyticsODMtd& od,
                             guint* masks) {
  SCOPED_TRACE("frame " + std::to_string(meta->frame_index) + " instance " + std::to_string(index));
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, index);
  gint x = -1, y = -1, w = -1, h = -1;
  gfloat score = -1.0f;
  ASSERT_TRUE(gst_analytics_od_mtd_get_location(&od, &x, &y, &w, &h, &score));
  EXPECT_EQ(x, static_cast<gint>(instance->x));
  EXPECT_EQ(y, static_cast<gint>(instance->y));
  EXPECT_EQ(w, static_cast<gint>(instance->width));
  EXPECT_EQ(h, static_cast<gint>(instance->height));
  EXPECT_FLOAT_EQ(score, instance->score);
  EXPECT_STREQ(g_quark_to_string(gst_analytics_od_mtd_get_obj_type(&od)), instance->label);

  GstAnalyticsTrackingMtd track;
  ASSERT_TRUE(gst_analytics_relation_meta_get_direct_related(
      relation, od.id, GST_ANALYTICS_REL_TYPE_RELATE_TO, gst_analytics_tracking_mtd_get_mtd_type(),
      nullptr, &track));
  guint64 track_id = 0;
  GstClockTime first = 0, last = 0;
  gboolean lost = TRUE;
  ASSERT_TRUE(gst_analytics_tracking_mtd_get_info(&track, &track_id, &first, &last, &lost));
  EXPECT_EQ(track_id, instance->track_id);
  const GstClockTime pts = GST_BUFFER_PTS(buffer), duration = GST_BUFFER_DURATION(buffer);
  EXPECT_EQ(first, pts - (meta->frame_index - instance->first_seen) * duration);
  EXPECT_EQ(last, pts - (meta->frame_index - instance->last_seen) * duration);
  EXPECT_FALSE(lost);

  GstAnalyticsSegmentationMtd segmentation;
  const gboolean has_segmentation = gst_analytics_relation_meta_get_direct_related(
      relation, od.id, GST_ANALYTICS_REL_TYPE_RELATE_TO,
      gst_analytics_segmentation_mtd_get_mtd_type(), nullptr, &segmentation);
  GstVmtMask* mask = gst_vmt_instance_get_mask(instance);
  ASSERT_EQ(has_segmentation, mask != nullptr);
  if (mask == nullptr) return;
  ++*masks;
  EXPECT_EQ(gst_analytics_relation_meta_get_relation(relation, segmentation.id, od.id),
            GST_ANALYTICS_REL_TYPE_RELATE_TO);
  const guint region_id = index + 1;
  ASSERT_EQ(gst_analytics_segmentation_mtd_get_region_count(&segmentation), 2u);
  EXPECT_EQ(gst_analytics_segmentation_mtd_get_region_id(&segmentation, 0), 0u);
  EXPECT_EQ(gst_analytics_segmentation_mtd_get_region_id(&segmentation, 1), region_id);

  gint loc_x = -1, loc_y = -1;
  guint loc_w = 0, loc_h = 0;
  GstBuffer* mask_buffer =
      gst_analytics_segmentation_mtd_get_mask(&segmentation, &loc_x, &loc_y, &loc_w, &loc_h);
  ASSERT_NE(mask_buffer, nullptr);
  EXPECT_EQ(loc_x, static_cast<gint>(instance->x));
  EXPECT_EQ(loc_y, static_cast<gint>(instance->y));
  EXPECT_EQ(loc_w, instance->width);
  EXPECT_EQ(loc_h, instance->height);
  GstVideoMeta* video = gst_buffer_get_video_meta(mask_buffer);
  GstMapInfo map;
  gpointer data = nullptr;
  gint stride = 0;
  const bool mapped = video && gst_video_meta_map(video, 0, &map, &data, &stride, GST_MAP_READ);
  EXPECT_TRUE(mapped) << "no readable GstVideoMeta on the mask";
  if (mapped) {
    EXPECT_EQ(video->format, n > 255 ? GST_VIDEO_FORMAT_GRAY16_LE : GST_VIDEO_FORMAT_GRAY8);
    EXPECT_EQ(video->width, instance->width);
    EXPECT_EQ(video->height, instance->height);
    const guint8* expected = gst_vmt_mask_get_data(mask, nullptr);
    guint wrong = 0;
    for (guint row = 0; row < instance->height; ++row)
      for (guint col = 0; col < instance->width; ++col) {
        const guint8* line = static_cast<const guint8*>(data) + std::size_t{row} * stride;
        const guint value =
            n > 255 ? reinterpret_cast<const guint16*>(line)[col] : static_cast<guint>(line[col]);
        wrong += value != (expected[std::size_t{row} * instance->width + col] ? region_id : 0u);
      }
    EXPECT_EQ(wrong, 0u) << "mask pixels differing from the GstVmtMask";
    gst_video_meta_unmap(video, 0, &map);
  }
  gst_buffer_unref(mask_buffer);
}

/// Checks that the relation meta on `buffer` describes `meta`'s instances exactly, one OD mtd per
/// instance in order (expect_instance_matches), and holds no other tracking or segmentation mtd.
/// Returns the number of instances.
guint expect_analytics_match(GstBuffer* buffer, const GstVmtFrameMeta* meta) {
  GstAnalyticsRelationMeta* relation = gst_buffer_get_analytics_relation_meta(buffer);
  EXPECT_NE(relation, nullptr) << "frame " << meta->frame_index << " has no relation meta";
  if (relation == nullptr) return 0;
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  const auto ods = od_mtds(relation);
  EXPECT_EQ(ods.size(), n);
  guint masks = 0;
  for (guint i = 0; i < n && i < ods.size(); ++i)
    expect_instance_matches(buffer, meta, i, relation, ods[i], &masks);
  EXPECT_EQ(count_mtds(relation, gst_analytics_tracking_mtd_get_mtd_type()), n);
  EXPECT_EQ(count_mtds(relation, gst_analytics_segmentation_mtd_get_mtd_type()), masks);
  return n;
}

/// A new buffer of the same frame (same memory and timestamps) carrying only the standard metas:
/// the relation meta made from `source`'s GstVmtFrameMeta.
GstBuffer* analytics_only_copy(GstBuffer* source) {
  GstBuffer* copy = gst_buffer_new();
  gst_buffer_copy_into(copy, source,
                       static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_TIMESTAMPS |
                                                       GST_BUFFER_COPY_FLAGS |
                                                       GST_BUFFER_COPY_MEMORY),
                       0, static_cast<gsize>(-1));
  gst_buffer_add_vmt_analytics_meta(copy, gst_buffer_get_vmt_frame_meta(source));
  return copy;
}

/// Checks `imported` equals `original` except for class ids (the standard metas carry none).
void expect_same_instances(const GstVmtFrameMeta* imported, const GstVmtFrameMeta* original) {
  EXPECT_EQ(imported->frame_index, original->frame_index);
  EXPECT_EQ(imported->width, original->width);
  EXPECT_EQ(imported->height, original->height);
  const guint n = gst_vmt_frame_meta_get_n_instances(original);
  ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(imported), n);
  for (guint i = 0; i < n; ++i) {
    SCOPED_TRACE("instance " + std::to_string(i));
    const GstVmtInstance* a = gst_vmt_frame_meta_get_instance(imported, i);
    const GstVmtInstance* b = gst_vmt_frame_meta_get_instance(original, i);
    EXPECT_EQ(a->track_id, b->track_id);
    EXPECT_EQ(a->class_id, 0);
    EXPECT_STREQ(a->label, b->label);
    EXPECT_FLOAT_EQ(a->score, b->score);
    EXPECT_EQ(a->x, b->x);
    EXPECT_EQ(a->y, b->y);
    EXPECT_EQ(a->width, b->width);
    EXPECT_EQ(a->height, b->height);
    EXPECT_EQ(a->first_seen, b->first_seen);
    EXPECT_EQ(a->last_seen, b->last_seen);
    ASSERT_EQ(a->mask == nullptr, b->mask == nullptr);
    if (a->mask == nullptr) continue;
    gsize size_a = 0, size_b = 0;
    const guint8* pixels_a = gst_vmt_mask_get_data(a->mask, &size_a);
    const guint8* pixels_b = gst_vmt_mask_get_data(b->mask, &size_b);
    ASSERT_EQ(size_a, size_b);
    EXPECT_EQ(std::vector<guint8>(pixels_a, pixels_a + size_a),
              std::vector<guint8>(pixels_b, pixels_b + size_b));
  }
}

std::string test_model() {
  const char* path = std::getenv("VMT_TEST_MODEL");
  return path ? path : "";
}

/// vmtsegment with the test model on the CPU, offline clips of 5 frames.
GstHarness* make_segment_harness(const std::string& properties = "") {
  const std::string description = "vmtsegment model=\"" + test_model() +
                                  "\" device=cpu input-size=48 mode=offline clip-length=5 "
                                  "clip-overlap=1 " + properties;
  GstHarness* harness = gst_harness_new_parse(description.c_str());
  gst_harness_set_src_caps_str(harness, kCaps);
  return harness;
}

/// Runs `frames` frames through vmtsegment and returns its output buffers (owned by the caller).
std::vector<GstBuffer*> segment(guint64 frames, const std::string& properties = "") {
  GstHarness* harness = make_segment_harness(properties);
  for (guint64 i = 0; i < frames; ++i) EXPECT_EQ(gst_harness_push(harness, make_frame(i)), GST_FLOW_OK);
  EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
  std::vector<GstBuffer*> out;
  while (GstBuffer* buffer = gst_harness_try_pull(harness)) out.push_back(buffer);
  EXPECT_EQ(out.size(), frames);
  gst_harness_teardown(harness);
  return out;
}

void unref_all(std::vector<GstBuffer*>& buffers) {
  for (GstBuffer* buffer : buffers) gst_buffer_unref(buffer);
  buffers.clear();
}

std::vector<guint8> pixels(GstBuffer* buffer) {
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_READ);
  std::vector<guint8> bytes(map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  return bytes;
}

}  // namespace

// --- the conversion ------------------------------------------------------------------------------

// Each instance becomes an OD, a tracking and (with a mask) a segmentation mtd, related as
// upstream's producers relate them, with the frame meta's values.
TEST(VmtAnalytics, InstancesBecomeRelatedMtds) {
  GstBuffer* buffer = make_annotated_frame(10);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
  ASSERT_NE(gst_buffer_add_vmt_analytics_meta(buffer, meta), nullptr);
  EXPECT_EQ(expect_analytics_match(buffer, meta), 3u);
  gst_buffer_unref(buffer);
}

// More than 255 instances in a frame: masks become GRAY16 so every region id fits.
TEST(VmtAnalytics, ManyInstancesUseGray16Masks) {
  GstBuffer* buffer = gst_buffer_new();
  GST_BUFFER_PTS(buffer) = 0;
  GST_BUFFER_DURATION(buffer) = kFrameDuration;
  GstVmtFrameMeta* meta = gst_buffer_add_vmt_frame_meta(buffer, 0, 640, 480);
  GstVmtMask* mask = make_mask(3, 2, [](guint x, guint) { return x != 1; });
  for (guint i = 0; i < 300; ++i)
    gst_vmt_frame_meta_add_instance(meta, i + 1, 1, "dot", 0.5f, (i % 100) * 6, (i / 100) * 4, 3,
                                    2, 0, 0, mask);
  gst_vmt_mask_unref(mask);
  ASSERT_NE(gst_buffer_add_vmt_analytics_meta(buffer, meta), nullptr);
  EXPECT_EQ(expect_analytics_match(buffer, meta), 300u);
  gst_buffer_unref(buffer);
}

// Without a PTS there is no timestamp to give; without a duration only the frame's own.
TEST(VmtAnalytics, TimestampsNeedPtsAndDuration) {
  GstBuffer* buffer = make_annotated_frame(10);
  GST_BUFFER_PTS(buffer) = GST_CLOCK_TIME_NONE;
  gst_buffer_add_vmt_analytics_meta(buffer, gst_buffer_get_vmt_frame_meta(buffer));
  GstAnalyticsRelationMeta* relation = gst_buffer_get_analytics_relation_meta(buffer);
  GstAnalyticsTrackingMtd track;
  ASSERT_TRUE(gst_analytics_relation_meta_get_direct_related(
      relation, od_mtds(relation)[0].id, GST_ANALYTICS_REL_TYPE_RELATE_TO,
      gst_analytics_tracking_mtd_get_mtd_type(), nullptr, &track));
  GstClockTime first = 0, last = 0;
  gst_analytics_tracking_mtd_get_info(&track, nullptr, &first, &last, nullptr);
  EXPECT_EQ(first, GST_CLOCK_TIME_NONE);
  EXPECT_EQ(last, GST_CLOCK_TIME_NONE);
  gst_buffer_unref(buffer);

  buffer = make_annotated_frame(10);
  GST_BUFFER_DURATION(buffer) = GST_CLOCK_TIME_NONE;
  gst_buffer_add_vmt_analytics_meta(buffer, gst_buffer_get_vmt_frame_meta(buffer));
  relation = gst_buffer_get_analytics_relation_meta(buffer);
  ASSERT_TRUE(gst_analytics_relation_meta_get_direct_related(
      relation, od_mtds(relation)[0].id, GST_ANALYTICS_REL_TYPE_RELATE_TO,
      gst_analytics_tracking_mtd_get_mtd_type(), nullptr, &track));
  gst_analytics_tracking_mtd_get_info(&track, nullptr, &first, &last, nullptr);
  EXPECT_EQ(first, GST_CLOCK_TIME_NONE);  // 3 frames earlier: unknown without a duration
  EXPECT_EQ(last, 10 * kFrameDuration);   // this frame: its PTS
  gst_buffer_unref(buffer);
}

// A relation meta an upstream element attached keeps its mtds; ours are added beside them.
TEST(VmtAnalytics, ExistingRelationMetaKeepsItsMtds) {
  GstBuffer* buffer = make_annotated_frame(10);
  GstAnalyticsRelationMeta* upstream = gst_buffer_add_analytics_relation_meta(buffer);
  GstAnalyticsODMtd face;
  ASSERT_TRUE(gst_analytics_relation_meta_add_od_mtd(upstream, g_quark_from_string("face"), 1, 1,
                                                     4, 4, 0.7f, &face));
  EXPECT_EQ(gst_buffer_add_vmt_analytics_meta(buffer, gst_buffer_get_vmt_frame_meta(buffer)),
            upstream);
  const auto ods = od_mtds(upstream);
  ASSERT_EQ(ods.size(), 4u);
  EXPECT_STREQ(g_quark_to_string(gst_analytics_od_mtd_get_obj_type(&ods[0])), "face");
  EXPECT_STREQ(g_quark_to_string(gst_analytics_od_mtd_get_obj_type(&ods[1])), "car");
  gst_buffer_unref(buffer);
}

// --- reading the standard metas back --------------------------------------------------------------

// Frame meta → relation meta → frame meta gives the same instances (class ids aside), frame index
// from PTS / duration and first/last seen from the tracking timestamps.
TEST(VmtAnalyticsImport, RoundTripKeepsEveryInstance) {
  GstBuffer* original = make_annotated_frame(10);
  GstBuffer* standard = analytics_only_copy(original);
  ASSERT_EQ(gst_buffer_get_vmt_frame_meta(standard), nullptr);
  GstBuffer* holder = nullptr;
  const GstVmtFrameMeta* imported =
      gst_buffer_find_vmt_frame_meta(standard, kWidth, kHeight, &holder);
  ASSERT_NE(imported, nullptr);
  ASSERT_NE(holder, nullptr);
  EXPECT_EQ(gst_buffer_get_vmt_frame_meta(standard), nullptr) << "the frame itself is left alone";
  expect_same_instances(imported, gst_buffer_get_vmt_frame_meta(original));
  gst_buffer_unref(holder);
  gst_buffer_unref(standard);
  gst_buffer_unref(original);
}

// A frame with its own GstVmtFrameMeta gets that one; a frame with neither meta gets none.
TEST(VmtAnalyticsImport, FindPrefersTheFrameMeta) {
  GstBuffer* buffer = make_annotated_frame(10);
  gst_buffer_add_vmt_analytics_meta(buffer, gst_buffer_get_vmt_frame_meta(buffer));
  GstBuffer* holder = nullptr;
  EXPECT_EQ(gst_buffer_find_vmt_frame_meta(buffer, kWidth, kHeight, &holder),
            gst_buffer_get_vmt_frame_meta(buffer));
  EXPECT_EQ(holder, nullptr);
  gst_buffer_unref(buffer);

  GstBuffer* bare = make_frame(0);
  EXPECT_EQ(gst_buffer_find_vmt_frame_meta(bare, kWidth, kHeight, &holder), nullptr);
  EXPECT_EQ(holder, nullptr);
  gst_buffer_unref(bare);
}

// Another producer's metas, as yolosegv8tensordec and ioutracker write them: a mask at a quarter
// of the box's resolution holding the value 3 with only region id 0 listed, related both ways to
// its OD mtd; a tracking mtd related from the OD mtd at running times; a box reaching out of the
// frame; an untracked box without a mask; a box wholly outside the frame.
TEST(VmtAnalyticsImport, ReadsOtherProducersMetas) {
  GstBuffer* buffer = make_frame(4);  // PTS 4/30 s
  GstAnalyticsRelationMeta* relation = gst_buffer_add_analytics_relation_meta(buffer);

  GstAnalyticsODMtd cup;
  ASSERT_TRUE(gst_analytics_relation_meta_add_od_mtd(relation, g_quark_from_string("cup"), -4, 8,
                                                     20, 12, 0.8f, &cup));
  // 5 × 3 mask over the 20 × 12 box: column 0-1 foreground (value 3), the rest background.
  GstBuffer* mask = gst_buffer_new_allocate(nullptr, 8 * 3, nullptr);
  GstMapInfo map;
  gst_buffer_map(mask, &map, GST_MAP_WRITE);
  memset(map.data, 0, map.size);
  for (int row = 0; row < 3; ++row) map.data[row * 8] = map.data[row * 8 + 1] = 3;
  gst_buffer_unmap(mask, &map);
  const gsize offset[GST_VIDEO_MAX_PLANES] = {0};
  const gint stride[GST_VIDEO_MAX_PLANES] = {8};
  gst_buffer_add_video_meta_full(mask, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_GRAY8, 5, 3, 1,
                                 offset, stride);
  guint region_ids[1] = {0};
  GstAnalyticsSegmentationMtd segmentation;
  ASSERT_TRUE(gst_analytics_relation_meta_add_segmentation_mtd(
      relation, mask, GST_SEGMENTATION_TYPE_INSTANCE, 1, region_ids, -4, 8, 20, 12, &segmentation));
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO, cup.id,
                                           segmentation.id);
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO,
                                           segmentation.id, cup.id);
  GstAnalyticsTrackingMtd track;
  ASSERT_TRUE(gst_analytics_relation_meta_add_tracking_mtd(relation, 42, 1 * kFrameDuration, &track));
  gst_analytics_tracking_mtd_update_last_seen(&track, 4 * kFrameDuration);
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO, cup.id,
                                           track.id);

  GstAnalyticsODMtd plate, outside;
  ASSERT_TRUE(gst_analytics_relation_meta_add_od_mtd(relation, g_quark_from_string("plate"), 40,
                                                     30, 10, 10, 0.6f, &plate));
  ASSERT_TRUE(gst_analytics_relation_meta_add_od_mtd(relation, g_quark_from_string("ghost"), 70,
                                                     0, 10, 10, 0.9f, &outside));

  GstBuffer* holder = nullptr;
  const GstVmtFrameMeta* meta = gst_buffer_find_vmt_frame_meta(buffer, kWidth, kHeight, &holder);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->frame_index, 4u);
  ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(meta), 2u);

  const GstVmtInstance* a = gst_vmt_frame_meta_get_instance(meta, 0);
  EXPECT_STREQ(a->label, "cup");
  EXPECT_EQ(a->track_id, 42u);
  EXPECT_EQ(a->first_seen, 1u);
  EXPECT_EQ(a->last_seen, 4u);
  EXPECT_FLOAT_EQ(a->score, 0.8f);
  // Clipped to the frame: x from 0 to 16.
  EXPECT_EQ(a->x, 0u);
  EXPECT_EQ(a->y, 8u);
  EXPECT_EQ(a->width, 16u);
  EXPECT_EQ(a->height, 12u);
  ASSERT_NE(a->mask, nullptr);
  // Independently: box column c lies at mask column floor((c + 4 + 0.5) × 5 / 20); foreground
  // where that is 0 or 1, i.e. c + 4 < 8.
  const guint8* bits = gst_vmt_mask_get_data(a->mask, nullptr);
  for (guint row = 0; row < a->height; ++row)
    for (guint col = 0; col < a->width; ++col)
      EXPECT_EQ(bits[row * a->width + col], col + 4 < 8 ? 1 : 0) << row << "," << col;

  const GstVmtInstance* b = gst_vmt_frame_meta_get_instance(meta, 1);
  EXPECT_STREQ(b->label, "plate");
  EXPECT_EQ(b->track_id, plate.id) << "untracked: the OD mtd's id";
  EXPECT_EQ(b->first_seen, 4u);
  EXPECT_EQ(b->last_seen, 4u);
  EXPECT_EQ(b->mask, nullptr);
  EXPECT_EQ(b->x, 40u);
  EXPECT_EQ(b->width, 10u);
  gst_buffer_unref(holder);
  gst_buffer_unref(buffer);
}

// A tracking mtd related only towards the OD mtd, and a GRAY16 mask naming its region id: the
// pixels of other regions in the same mask are not the instance's.
TEST(VmtAnalyticsImport, Gray16MaskKeepsOnlyItsRegion) {
  GstBuffer* buffer = make_frame(2);
  GstAnalyticsRelationMeta* relation = gst_buffer_add_analytics_relation_meta(buffer);
  GstAnalyticsODMtd od;
  ASSERT_TRUE(gst_analytics_relation_meta_add_od_mtd(relation, g_quark_from_string("cell"), 10, 10,
                                                     4, 2, 0.5f, &od));
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_GRAY16_BE, 4, 2);
  GstBuffer* mask = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(mask, &map, GST_MAP_WRITE);
  memset(map.data, 0, map.size);
  const guint16 values[2][4] = {{700, 700, 5, 0}, {0, 700, 700, 5}};
  for (int row = 0; row < 2; ++row)
    for (int col = 0; col < 4; ++col) {
      guint8* p = map.data + row * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + col * 2;
      p[0] = values[row][col] >> 8;
      p[1] = values[row][col] & 0xff;
    }
  gst_buffer_unmap(mask, &map);
  gst_buffer_add_video_meta_full(mask, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_GRAY16_BE, 4, 2,
                                 1, info.offset, info.stride);
  guint region_ids[2] = {0, 700};
  GstAnalyticsSegmentationMtd segmentation;
  ASSERT_TRUE(gst_analytics_relation_meta_add_segmentation_mtd(
      relation, mask, GST_SEGMENTATION_TYPE_INSTANCE, 2, region_ids, 10, 10, 4, 2, &segmentation));
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id,
                                           segmentation.id);
  GstAnalyticsTrackingMtd track;
  ASSERT_TRUE(gst_analytics_relation_meta_add_tracking_mtd(relation, 5, 0, &track));
  gst_analytics_relation_meta_set_relation(relation, GST_ANALYTICS_REL_TYPE_IS_PART_OF, track.id,
                                           od.id);

  GstBuffer* holder = nullptr;
  const GstVmtFrameMeta* meta = gst_buffer_find_vmt_frame_meta(buffer, kWidth, kHeight, &holder);
  ASSERT_NE(meta, nullptr);
  ASSERT_EQ(gst_vmt_frame_meta_get_n_instances(meta), 1u);
  const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, 0);
  EXPECT_EQ(instance->track_id, 5u);
  ASSERT_NE(instance->mask, nullptr);
  const guint8* bits = gst_vmt_mask_get_data(instance->mask, nullptr);
  EXPECT_EQ(std::vector<guint8>(bits, bits + 8), (std::vector<guint8>{1, 1, 0, 0, 0, 1, 1, 0}));
  gst_buffer_unref(holder);
  gst_buffer_unref(buffer);
}

// --- vmtsegment ------------------------------------------------------------------------------------

// Every frame vmtsegment emits carries a relation meta describing its GstVmtFrameMeta exactly.
TEST(VmtSegmentAnalytics, EveryFrameCarriesMatchingStandardMetas) {
  auto out = segment(10);
  guint instances = 0;
  for (GstBuffer* buffer : out) {
    const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
    ASSERT_NE(meta, nullptr);
    instances += expect_analytics_match(buffer, meta);
  }
  EXPECT_GT(instances, 0u) << "the test model found nothing: the comparison proved nothing";
  RecordProperty("instances", static_cast<int>(instances));
  unref_all(out);
}

// analytics-meta=false leaves the standard metas out; the frame meta is still there.
TEST(VmtSegmentAnalytics, PropertyTurnsTheStandardMetasOff) {
  GstElement* element = gst_element_factory_make("vmtsegment", nullptr);
  ASSERT_NE(element, nullptr);
  gboolean enabled = FALSE;
  g_object_get(element, "analytics-meta", &enabled, nullptr);
  EXPECT_TRUE(enabled) << "on by default";
  g_object_set(element, "analytics-meta", FALSE, nullptr);
  g_object_get(element, "analytics-meta", &enabled, nullptr);
  EXPECT_FALSE(enabled);
  gst_object_unref(element);

  auto out = segment(6, "analytics-meta=false");
  for (GstBuffer* buffer : out) {
    EXPECT_NE(gst_buffer_get_vmt_frame_meta(buffer), nullptr);
    EXPECT_EQ(gst_buffer_get_analytics_relation_meta(buffer), nullptr);
  }
  unref_all(out);
}

// --- vmtoverlay and vmtexport on frames with only the standard metas -------------------------------

// vmtoverlay draws a frame carrying only the relation meta exactly as it draws the frame meta.
TEST(VmtOverlayAnalytics, DrawsStandardMetasLikeTheFrameMeta) {
  auto segmented = segment(8);
  auto draw = [](GstBuffer* buffer) {
    GstHarness* harness = gst_harness_new("vmtoverlay");
    gst_harness_set_src_caps_str(harness, kCaps);
    GstBuffer* drawn = gst_harness_push_and_pull(harness, buffer);
    std::vector<guint8> bytes = pixels(drawn);
    gst_buffer_unref(drawn);
    gst_harness_teardown(harness);
    return bytes;
  };
  guint drawn_frames = 0;
  for (GstBuffer* buffer : segmented) {
    const std::vector<guint8> input = pixels(buffer);
    GstBuffer* standard = analytics_only_copy(buffer);
    const std::vector<guint8> from_frame_meta = draw(gst_buffer_copy_deep(buffer));
    const std::vector<guint8> from_standard = draw(standard);
    EXPECT_EQ(from_standard, from_frame_meta);
    if (from_frame_meta != input) ++drawn_frames;
  }
  EXPECT_GT(drawn_frames, 0u) << "nothing was drawn: the comparison proved nothing";
  unref_all(segmented);
}

// vmtexport writes the same JSON Lines for frames with only the relation meta, class ids aside.
TEST(VmtExportAnalytics, ExportsStandardMetasLikeTheFrameMeta) {
  auto segmented = segment(8);
  gchar* folder = g_dir_make_tmp("vmt-analytics-XXXXXX", nullptr);
  auto export_lines = [&](bool standard, const std::string& name) {
    const std::string path = std::string(folder) + "/" + name;
    GstHarness* harness =
        gst_harness_new_parse(("vmtexport format=jsonl location=" + path).c_str());
    gst_harness_set_src_caps_str(harness, kCaps);
    for (GstBuffer* buffer : segmented)
      EXPECT_EQ(gst_harness_push(harness, standard ? analytics_only_copy(buffer)
                                                   : gst_buffer_ref(buffer)),
                GST_FLOW_OK);
    EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
    gst_harness_teardown(harness);
    std::vector<json> lines;
    std::ifstream file(path);
    for (std::string line; std::getline(file, line);) lines.push_back(json::parse(line));
    g_remove(path.c_str());
    return lines;
  };
  const auto from_frame_meta = export_lines(false, "frame-meta.jsonl");
  const auto from_standard = export_lines(true, "standard.jsonl");
  g_rmdir(folder);
  g_free(folder);
  ASSERT_EQ(from_frame_meta.size(), segmented.size());
  ASSERT_EQ(from_standard.size(), segmented.size());
  std::size_t instances = 0;
  for (std::size_t i = 0; i < segmented.size(); ++i) {
    json expected = from_frame_meta[i];
    for (json& instance : expected["instances"]) instance["class_id"] = 0;
    EXPECT_EQ(from_standard[i], expected) << "frame " << i;
    instances += expected["instances"].size();
  }
  EXPECT_GT(instances, 0u) << "nothing was exported: the comparison proved nothing";
  unref_all(segmented);
}
