/**
 * SECTION:element-vmtexport
 * @title: vmtexport
 *
 * Writes the #GstVmtFrameMeta of every frame to #GstVmtExport:location in one of the formats
 * benchmarks read (#GstVmtExport:format):
 *
 * - `jsonl`: JSON Lines, one object per frame, flushed after each frame (live-friendly: follow
 *   `LOCATION.part` while the pipeline runs);
 * - `youtube-vis`: the YouTube-VIS / HQ-YTVIS results JSON, one object per (track, class) with one
 *   COCO RLE (or null) per frame;
 * - `mots-challenge` / `kitti-mots`: TrackEval's MOTS txt, `frame id class_id height width rle`
 *   per object, id = class_id × 1000 + instance, masks of one frame made non-overlapping;
 * - `bdd100k`: BDD100K MOTS Scalabel JSON, a list of frames with non-overlapping RLE labels.
 *
 * The file is written to `LOCATION.part` and renamed to LOCATION at EOS, so LOCATION is either
 * absent or complete; a write failure (full disk, read-only folder) is an error message and removes
 * the `.part` file. Stopping the pipeline without EOS leaves no file (use `gst-launch-1.0 -e`).
 *
 * Frames are counted from 0 in arrival order; a frame without metadata counts as a frame with no
 * instances (marked `"skipped": true` in JSON Lines).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! video/x-raw,width=128,height=96 ! vmtsegment device=cpu input-size=96 ! vmtexport location=out.jsonl format=jsonl
 * ]|
 */
#include "gstvmtexport.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "vmt.h"
#include "vmt/mask.h"

GST_DEBUG_CATEGORY_STATIC(gst_vmt_export_debug);
#define GST_CAT_DEFAULT gst_vmt_export_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_FORMAT GST_VMT_EXPORT_FORMAT_JSONL
#define DEFAULT_FRAME_BASE -1
#define DEFAULT_VIDEO_ID 1
#define DEFAULT_VIDEO_NAME NULL

enum { PROP_0, PROP_LOCATION, PROP_FORMAT, PROP_FRAME_BASE, PROP_VIDEO_ID, PROP_VIDEO_NAME };

using json = nlohmann::ordered_json;

namespace {

/* One (track, class) of the YouTube-VIS output: its RLE per frame where it appears. */
struct VisTrack {
  gint class_id = 0;
  double score_sum = 0;
  guint frames = 0;
  std::map<guint64, json> segmentations; /* frame → {"size", "counts"} */
};

/* Everything one run (start → stop) writes; only the streaming thread touches it. */
struct ExportState {
  GstVmtExportFormat format = DEFAULT_FORMAT;
  int frame_base = 0;
  guint video_id = DEFAULT_VIDEO_ID;
  std::string video_name;
  std::string location;
  std::string temp_location;
  FILE* file = nullptr;
  guint64 frames = 0;
  bool finished = false;
  /* youtube-vis: tracks in order of first appearance */
  std::map<std::pair<guint64, gint>, size_t> vis_index;
  std::vector<VisTrack> vis_tracks;
  /* MOTS: per class, track id → instance number 1..999 */
  std::map<gint, std::map<guint64, guint>> mots_instances;
};

json rle_json(guint height, guint width, const std::string& counts) {
  return json{{"size", {height, width}}, {"counts", counts}};
}

/* The masks of @meta made non-overlapping (a pixel belongs to the highest-scoring instance that
 * covers it), as COCO RLE counts strings; "" for an instance left with no pixel. */
std::vector<std::string> disjoint_rles(const GstVmtFrameMeta* meta) {
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  std::vector<guint> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [meta](guint a, guint b) {
    return gst_vmt_frame_meta_get_instance(meta, a)->score >
           gst_vmt_frame_meta_get_instance(meta, b)->score;
  });
  const vmt::MaskSize size{meta->height, meta->width};
  std::vector<gint32> owner(size.pixels(), -1);
  for (guint i : order) {
    const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, i);
    if (instance->mask == nullptr) continue;
    const guint8* pixels = gst_vmt_mask_get_data(instance->mask, nullptr);
    for (guint y = 0; y < instance->height; ++y)
      for (guint x = 0; x < instance->width; ++x) {
        gint32& o = owner[std::size_t{instance->y + y} * meta->width + instance->x + x];
        if (o < 0 && pixels[std::size_t{y} * instance->width + x]) o = static_cast<gint32>(i);
      }
  }
  std::vector<std::string> rles(n);
  std::vector<std::uint8_t> bitmap(size.pixels());
  for (guint i = 0; i < n; ++i) {
    bool any = false;
    for (std::size_t p = 0; p < bitmap.size(); ++p) {
      bitmap[p] = owner[p] == static_cast<gint32>(i);
      any |= bitmap[p] != 0;
    }
    if (any) rles[i] = vmt::rle_to_string(vmt::rle_encode(vmt::BitmapView{bitmap, size}));
  }
  return rles;
}

}  // namespace

struct _GstVmtExport {
  GstBaseSink parent;

  /* Protected by the object lock: written by set_property, read once in start(). */
  gchar* location;
  GstVmtExportFormat format;
  gint frame_base;
  guint video_id;
  gchar* video_name;

  /* Created in start(), freed in stop(); used only from the streaming thread in between. */
  ExportState* state;
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw(ANY)"));

#define gst_vmt_export_parent_class parent_class
G_DEFINE_TYPE(GstVmtExport, gst_vmt_export, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE(vmtexport, "vmtexport", GST_RANK_NONE, GST_TYPE_VMT_EXPORT);

GType gst_vmt_export_format_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VMT_EXPORT_FORMAT_JSONL, "JSON Lines, one object per frame", "jsonl"},
      {GST_VMT_EXPORT_FORMAT_YOUTUBE_VIS, "YouTube-VIS results JSON", "youtube-vis"},
      {GST_VMT_EXPORT_FORMAT_MOTS_CHALLENGE, "MOTSChallenge txt", "mots-challenge"},
      {GST_VMT_EXPORT_FORMAT_KITTI_MOTS, "KITTI-MOTS txt", "kitti-mots"},
      {GST_VMT_EXPORT_FORMAT_BDD100K, "BDD100K MOTS Scalabel JSON", "bdd100k"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType registered = g_enum_register_static("GstVmtExportFormat", values);
    g_once_init_leave(&type, registered);
  }
  return type;
}

/* Closes and deletes the .part file (after an error or a stop without EOS). */
static void discard_temp(ExportState* state) {
  if (state->file) {
    fclose(state->file);
    state->file = nullptr;
  }
  if (!state->temp_location.empty()) g_unlink(state->temp_location.c_str());
}

/* Writes @text to the .part file, flushing when @flush; posts an error and discards the file on
 * failure. */
static gboolean write_text(GstVmtExport* self, const std::string& text, bool flush) {
  ExportState* state = self->state;
  errno = 0;
  if (fwrite(text.data(), 1, text.size(), state->file) != text.size() ||
      (flush && fflush(state->file) != 0)) {
    const int error = errno;
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Could not write to file \"%s\": %s", state->temp_location.c_str(),
                       g_strerror(error)),
                      ("fwrite/fflush failed, errno %d", error));
    discard_temp(state);
    return FALSE;
  }
  return TRUE;
}

static gboolean gst_vmt_export_start(GstBaseSink* sink) {
  GstVmtExport* self = GST_VMT_EXPORT(sink);
  auto* state = new ExportState;

  GST_OBJECT_LOCK(self);
  state->location = self->location ? self->location : "";
  state->format = self->format;
  state->frame_base = self->frame_base;
  state->video_id = self->video_id;
  state->video_name = self->video_name ? self->video_name : "";
  GST_OBJECT_UNLOCK(self);

  if (state->location.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No file name specified for writing."),
                      ("set the location property"));
    delete state;
    return FALSE;
  }
  if (state->frame_base < 0)
    state->frame_base = state->format == GST_VMT_EXPORT_FORMAT_MOTS_CHALLENGE ? 1 : 0;
  if (state->video_name.empty()) {
    gchar* base = g_path_get_basename(state->location.c_str());
    std::string name = base;
    g_free(base);
    const auto dot = name.find('.');
    state->video_name = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
  }
  state->temp_location = state->location + ".part";
  state->file = g_fopen(state->temp_location.c_str(), "wb");
  if (state->file == nullptr) {
    const int error = errno;
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("Could not open file \"%s\" for writing: %s", state->temp_location.c_str(),
                       g_strerror(error)),
                      ("fopen failed, errno %d; location=\"%s\"", error, state->location.c_str()));
    delete state;
    return FALSE;
  }
  GST_INFO_OBJECT(self, "writing to %s (renamed to %s at EOS)", state->temp_location.c_str(),
                  state->location.c_str());
  self->state = state;

  if (state->format == GST_VMT_EXPORT_FORMAT_BDD100K) return write_text(self, "[", true);
  return TRUE;
}

static gboolean gst_vmt_export_stop(GstBaseSink* sink) {
  GstVmtExport* self = GST_VMT_EXPORT(sink);
  if (self->state) {
    if (!self->state->finished) {
      GST_INFO_OBJECT(self, "stopped before EOS: removing %s", self->state->temp_location.c_str());
      discard_temp(self->state);
    }
    delete self->state;
    self->state = nullptr;
  }
  return TRUE;
}

static json instance_json(const GstVmtFrameMeta* meta, guint index) {
  const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, index);
  json object = {
      {"track_id", instance->track_id},
      {"class_id", instance->class_id},
      {"label", instance->label ? json(instance->label) : json(nullptr)},
      {"score", instance->score},
      {"box", {instance->x, instance->y, instance->width, instance->height}},
      {"first_seen", instance->first_seen},
      {"last_seen", instance->last_seen},
  };
  const gchar* counts = instance->mask ? gst_vmt_frame_meta_get_rle(meta, index) : nullptr;
  object["rle"] = counts ? rle_json(meta->height, meta->width, counts) : json(nullptr);
  return object;
}

static std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/* The frame's GstVmtFrameMeta, or one read from its standard analytics metas onto @holder; those
 * carry no frame size, so it comes from the negotiated caps. */
static const GstVmtFrameMeta* find_frame_meta(GstBaseSink* sink, GstBuffer* buffer,
                                              GstBuffer** holder) {
  GstVideoInfo info;
  gst_video_info_init(&info);
  if (GstCaps* caps = gst_pad_get_current_caps(GST_BASE_SINK_PAD(sink))) {
    if (!gst_video_info_from_caps(&info, caps)) gst_video_info_init(&info);
    gst_caps_unref(caps);
  }
  return gst_buffer_find_vmt_frame_meta(buffer, GST_VIDEO_INFO_WIDTH(&info),
                                        GST_VIDEO_INFO_HEIGHT(&info), holder);
}

static GstFlowReturn gst_vmt_export_render(GstBaseSink* sink, GstBuffer* buffer) {
  GstVmtExport* self = GST_VMT_EXPORT(sink);
  ExportState* state = self->state;
  if (state == nullptr || state->file == nullptr) return GST_FLOW_ERROR;
  g_autoptr(GstBuffer) holder = nullptr;
  const GstVmtFrameMeta* meta = find_frame_meta(sink, buffer, &holder);
  const guint64 frame = state->frames++;
  const guint n = meta ? gst_vmt_frame_meta_get_n_instances(meta) : 0;
  GST_TRACE_OBJECT(self, "frame %" G_GUINT64_FORMAT ": %u instances", frame, n);

  try {
    switch (state->format) {
      case GST_VMT_EXPORT_FORMAT_JSONL: {
        json line = {{"frame", frame}};
        line["pts"] = GST_BUFFER_PTS_IS_VALID(buffer) ? json(GST_BUFFER_PTS(buffer)) : json(nullptr);
        line["skipped"] = meta == nullptr || meta->skipped;
        if (meta) {
          line["frame_index"] = meta->frame_index;
          line["width"] = meta->width;
          line["height"] = meta->height;
        }
        json instances = json::array();
        for (guint i = 0; i < n; ++i) instances.push_back(instance_json(meta, i));
        line["instances"] = std::move(instances);
        if (!write_text(self, dump(line) + "\n", true)) return GST_FLOW_ERROR;
        break;
      }
      case GST_VMT_EXPORT_FORMAT_YOUTUBE_VIS:
        for (guint i = 0; i < n; ++i) {
          const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, i);
          const auto key = std::make_pair(instance->track_id, instance->class_id);
          auto found = state->vis_index.find(key);
          if (found == state->vis_index.end()) {
            found = state->vis_index.emplace(key, state->vis_tracks.size()).first;
            state->vis_tracks.emplace_back();
            state->vis_tracks.back().class_id = instance->class_id;
          }
          VisTrack& track = state->vis_tracks[found->second];
          track.score_sum += instance->score;
          track.frames += 1;
          const gchar* counts = instance->mask ? gst_vmt_frame_meta_get_rle(meta, i) : nullptr;
          if (counts) track.segmentations[frame] = rle_json(meta->height, meta->width, counts);
        }
        break;
      case GST_VMT_EXPORT_FORMAT_MOTS_CHALLENGE:
      case GST_VMT_EXPORT_FORMAT_KITTI_MOTS: {
        if (n == 0) break;
        const std::vector<std::string> rles = disjoint_rles(meta);
        std::string lines;
        for (guint i = 0; i < n; ++i) {
          if (rles[i].empty()) continue;
          const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, i);
          auto& numbers = state->mots_instances[instance->class_id];
          auto number = numbers.find(instance->track_id);
          if (number == numbers.end()) {
            const guint next = static_cast<guint>(numbers.size()) % 999 + 1;
            if (numbers.size() == 999)
              GST_WARNING_OBJECT(self, "class %d has more than 999 tracks: instance ids repeat",
                                 instance->class_id);
            number = numbers.emplace(instance->track_id, next).first;
          }
          lines += std::to_string(frame + state->frame_base) + " " +
                   std::to_string(static_cast<gint64>(instance->class_id) * 1000 + number->second) +
                   " " + std::to_string(instance->class_id) + " " + std::to_string(meta->height) +
                   " " + std::to_string(meta->width) + " " + rles[i] + "\n";
        }
        if (!write_text(self, lines, true)) return GST_FLOW_ERROR;
        break;
      }
      case GST_VMT_EXPORT_FORMAT_BDD100K: {
        char name_suffix[32];
        g_snprintf(name_suffix, sizeof name_suffix, "-%07" G_GUINT64_FORMAT ".jpg", frame + 1);
        json object = {{"videoName", state->video_name},
                       {"name", state->video_name + name_suffix},
                       {"frameIndex", frame}};
        json labels = json::array();
        if (n > 0) {
          const std::vector<std::string> rles = disjoint_rles(meta);
          for (guint i = 0; i < n; ++i) {
            if (rles[i].empty()) continue;
            const GstVmtInstance* instance = gst_vmt_frame_meta_get_instance(meta, i);
            labels.push_back({{"id", std::to_string(instance->track_id)},
                              {"category", instance->label ? std::string(instance->label)
                                                           : std::to_string(instance->class_id)},
                              {"score", instance->score},
                              {"rle", rle_json(meta->height, meta->width, rles[i])}});
          }
        }
        object["labels"] = std::move(labels);
        if (!write_text(self, (frame == 0 ? "\n" : ",\n") + dump(object), true))
          return GST_FLOW_ERROR;
        break;
      }
    }
  } catch (const std::exception& error) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not export frame %" G_GUINT64_FORMAT ": %s",
                                             frame, error.what()), (NULL));
    discard_temp(state);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* Writes what only EOS can complete, then moves the .part file to the location. */
static gboolean gst_vmt_export_finish(GstVmtExport* self) {
  ExportState* state = self->state;
  if (state == nullptr || state->file == nullptr) return FALSE;

  if (state->format == GST_VMT_EXPORT_FORMAT_YOUTUBE_VIS) {
    json results = json::array();
    for (const VisTrack& track : state->vis_tracks) {
      json segmentations = json::array();
      for (guint64 f = 0; f < state->frames; ++f) {
        const auto found = track.segmentations.find(f);
        segmentations.push_back(found == track.segmentations.end() ? json(nullptr) : found->second);
      }
      results.push_back({{"video_id", state->video_id},
                         {"category_id", track.class_id},
                         {"score", track.frames ? track.score_sum / track.frames : 0.0},
                         {"segmentations", std::move(segmentations)}});
    }
    if (!write_text(self, dump(results) + "\n", false)) return FALSE;
  } else if (state->format == GST_VMT_EXPORT_FORMAT_BDD100K) {
    if (!write_text(self, "\n]\n", false)) return FALSE;
  }

  errno = 0;
  int failed = fflush(state->file) != 0 || fsync(fileno(state->file)) != 0;
  int error = errno;
  if (fclose(state->file) != 0 && !failed) {
    failed = 1;
    error = errno;
  }
  state->file = nullptr;
  if (failed) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Could not write to file \"%s\": %s", state->temp_location.c_str(),
                       g_strerror(error)),
                      ("fflush/fsync/fclose failed, errno %d", error));
    discard_temp(state);
    return FALSE;
  }
  if (g_rename(state->temp_location.c_str(), state->location.c_str()) != 0) {
    error = errno;
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Could not rename \"%s\" to \"%s\": %s", state->temp_location.c_str(),
                       state->location.c_str(), g_strerror(error)),
                      ("rename failed, errno %d", error));
    discard_temp(state);
    return FALSE;
  }
  state->finished = true;
  GST_INFO_OBJECT(self, "wrote %" G_GUINT64_FORMAT " frames to %s", state->frames,
                  state->location.c_str());
  return TRUE;
}

static gboolean gst_vmt_export_event(GstBaseSink* sink, GstEvent* event) {
  GstVmtExport* self = GST_VMT_EXPORT(sink);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->state && !self->state->finished) {
    gboolean finished = FALSE;
    try {
      finished = gst_vmt_export_finish(self);
    } catch (const std::exception& error) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not complete the export: %s", error.what()),
                        (NULL));
      discard_temp(self->state);
    }
    if (!finished) {
      gst_event_unref(event);
      return FALSE;
    }
  }
  return GST_BASE_SINK_CLASS(parent_class)->event(sink, event);
}

static void gst_vmt_export_set_property(GObject* object, guint prop_id, const GValue* value,
                                        GParamSpec* pspec) {
  GstVmtExport* self = GST_VMT_EXPORT(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free(self->location);
      self->location = g_value_dup_string(value);
      break;
    case PROP_FORMAT: self->format = static_cast<GstVmtExportFormat>(g_value_get_enum(value)); break;
    case PROP_FRAME_BASE: self->frame_base = g_value_get_int(value); break;
    case PROP_VIDEO_ID: self->video_id = g_value_get_uint(value); break;
    case PROP_VIDEO_NAME:
      g_free(self->video_name);
      self->video_name = g_value_dup_string(value);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vmt_export_get_property(GObject* object, guint prop_id, GValue* value,
                                        GParamSpec* pspec) {
  GstVmtExport* self = GST_VMT_EXPORT(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION: g_value_set_string(value, self->location); break;
    case PROP_FORMAT: g_value_set_enum(value, self->format); break;
    case PROP_FRAME_BASE: g_value_set_int(value, self->frame_base); break;
    case PROP_VIDEO_ID: g_value_set_uint(value, self->video_id); break;
    case PROP_VIDEO_NAME: g_value_set_string(value, self->video_name); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vmt_export_finalize(GObject* object) {
  GstVmtExport* self = GST_VMT_EXPORT(object);
  g_free(self->location);
  g_free(self->video_name);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_vmt_export_class_init(GstVmtExportClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass* sink_class = GST_BASE_SINK_CLASS(klass);
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_vmt_export_set_property;
  gobject_class->get_property = gst_vmt_export_get_property;
  gobject_class->finalize = gst_vmt_export_finalize;

  /**
   * GstVmtExport:location:
   *
   * The file to write. It appears at EOS; until then the data goes to `LOCATION.part`.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location", "The file to write (complete at EOS)",
                          DEFAULT_LOCATION, flags));
  /**
   * GstVmtExport:format:
   *
   * The file format.
   */
  g_object_class_install_property(
      gobject_class, PROP_FORMAT,
      g_param_spec_enum("format", "Format", "The file format", GST_TYPE_VMT_EXPORT_FORMAT,
                        DEFAULT_FORMAT, flags));
  /**
   * GstVmtExport:frame-base:
   *
   * Number of the first frame in the MOTS txt formats: 0 or 1; -1 picks the format's own
   * (1 for mots-challenge, 0 for kitti-mots).
   */
  g_object_class_install_property(
      gobject_class, PROP_FRAME_BASE,
      g_param_spec_int("frame-base", "Frame base",
                       "Number of the first frame in MOTS txt (-1 = the format's: MOTSChallenge 1, "
                       "KITTI-MOTS 0)",
                       -1, 1, DEFAULT_FRAME_BASE, flags));
  /**
   * GstVmtExport:video-id:
   *
   * The `video_id` of every YouTube-VIS result (the video's id in the dataset's annotations).
   */
  g_object_class_install_property(
      gobject_class, PROP_VIDEO_ID,
      g_param_spec_uint("video-id", "Video id", "video_id written in YouTube-VIS results", 0,
                        G_MAXUINT, DEFAULT_VIDEO_ID, flags));
  /**
   * GstVmtExport:video-name:
   *
   * The `videoName` of BDD100K frames (frame names are `NAME-0000001.jpg`, …); NULL uses the
   * location's file name up to its first dot.
   */
  g_object_class_install_property(
      gobject_class, PROP_VIDEO_NAME,
      g_param_spec_string("video-name", "Video name",
                          "videoName written in BDD100K frames (default: from the location)",
                          DEFAULT_VIDEO_NAME, flags));

  gst_element_class_set_static_metadata(
      element_class, "VMT metadata export", "Sink/File",
      "Writes VMT instance metadata as JSON Lines, YouTube-VIS, MOTS txt or BDD100K JSON",
      "vmt-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);

  sink_class->start = GST_DEBUG_FUNCPTR(gst_vmt_export_start);
  sink_class->stop = GST_DEBUG_FUNCPTR(gst_vmt_export_stop);
  sink_class->render = GST_DEBUG_FUNCPTR(gst_vmt_export_render);
  sink_class->event = GST_DEBUG_FUNCPTR(gst_vmt_export_event);

  gst_type_mark_as_plugin_api(GST_TYPE_VMT_EXPORT_FORMAT, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_vmt_export_debug, "vmtexport", 0, "VMT metadata export");
}

static void gst_vmt_export_init(GstVmtExport* self) {
  self->location = nullptr;
  self->format = DEFAULT_FORMAT;
  self->frame_base = DEFAULT_FRAME_BASE;
  self->video_id = DEFAULT_VIDEO_ID;
  self->video_name = nullptr;
  self->state = nullptr;
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}
