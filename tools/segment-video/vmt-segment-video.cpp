// vmt-segment-video: one video file (or a list of frame images) through vmtsegment, rendered by
// vmtoverlay into an MP4 and exported by vmtexport, with a progress bar and a summary. See
// docs/pipelines.md.
//
//   vmt-segment-video INPUT [-o overlay.mp4] [--results FILE [--format FORMAT]]... [--model FILE]
//                     [--mode online|offline] [--input-size N] [--device auto|cpu|cuda:N] ...
//   vmt-segment-video --frame-list FRAMES.txt [--frame-rate 6] ...
//
// Exit status: 0 done, 1 the video could not be processed (the message says why), 2 bad command
// line, 130 interrupted (Ctrl-C). GST_PLUGIN_PATH must reach the vmt plugin (tools/dev shell sets
// it).
#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include "vmt.h"  // gst/meta/: the gstvmt-1.0 library (installed as <gst/vmt/vmt.h>)
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace {

constexpr std::string_view kUsage = R"(usage: vmt-segment-video INPUT [options]
       vmt-segment-video --frame-list FRAMES.txt [options]

Decodes INPUT (any file GStreamer reads), segments it with vmtsegment, draws the instances with
vmtoverlay into an H.264 video and writes the metadata with vmtexport. Prints a progress bar on
stderr and a summary (frames, instances, tracks, fps, wall time) on stdout.

options:
  --frame-list FILE        instead of INPUT: a text file naming JPEG or PNG frames, one per line
                           (relative to the list's folder), read in that order
  --frame-rate N[/D]       frames per second given to a frame list's frames (default 6)
  -o, --output FILE        overlay video (.mp4, or .mkv for Matroska); none if not given
  --results FILE           metadata file written by vmtexport; none if not given; repeat it for
                           several files (one vmtexport each)
  --format FORMAT          jsonl, youtube-vis, mots (= mots-challenge), kitti-mots, bdd100k, for
                           the --results before it; default from the results' extension: .jsonl
                           jsonl, .txt mots-challenge, anything else youtube-vis
  --video-id N             video_id of YouTube-VIS results (default 1)
  --video-name NAME        videoName of BDD100K results (default: the results' file name)
  --model FILE             .safetensors model (default: the shipped demo model)
  --device DEVICE          auto, cpu, cuda, cuda:N (default auto)
  --mode MODE              online or offline (default offline)
  --input-size N           shorter edge the model sees, 0 = native (default: the model's,
                           96 for the demo model)
  --tube-length N          online window length (default 30)
  --clip-length N          offline clip length (default 40)
  --clip-overlap N         offline clip overlap (default 10)
  --association A          none or tube-iou (default none)
  --score-threshold T      drop instances scoring below T (default: the model's, else 0.001)
  --max-instances K        instances per tube and frame (default: the model's, else 10)
  --instances MODE         per-object (each object once, its best class) or top-pairs (the
                           official top-K over object-class pairs) (default per-object)
  --point-limit N          refinement points per frame, 0 = the official 12000 (default: the
                           model's, else 0)
  --set NAME=VALUE         any other vmtsegment property (repeatable)
  --max-frames N           stop after the first N frames
  --no-progress            no progress bar
  -h, --help               this text

Ctrl-C stops after the frame being segmented and finishes the files with the frames done; a second
Ctrl-C aborts and removes them.

exit status: 0 done, 1 the video could not be processed, 2 bad command line, 130 interrupted
)";

/// Exit status after Ctrl-C (128 + SIGINT, as shells report it).
constexpr int kInterruptedStatus = 130;

/// Where a file is written until it is complete (vmtexport uses the same name for its results).
std::string unfinished_name(const std::string& path) { return path + ".part"; }

/// A file's identity and last change, to tell whether the run replaced it.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  std::int64_t modified_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

std::optional<FileStamp> file_stamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{st.st_dev, st.st_ino,
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

/// A command-line mistake: printed with the usage hint, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A failure while processing: printed as is, exit status 1.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Ctrl-C before anything could be written: printed as is, exit status 130.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One vmtexport: its file and format.
struct ResultsFile {
  std::string location;
  std::string format;  ///< vmtexport format nick; empty until resolved
};

struct CommandLine {
  std::string input;        ///< a video file, or the frame list with --frame-list
  bool frame_list = false;  ///< input names JPEG/PNG frames, one per line
  int frame_rate_num = 6;
  int frame_rate_den = 1;
  std::string output;                ///< overlay video, empty = none
  std::vector<ResultsFile> results;  ///< one vmtexport each, in the given order
  std::vector<std::pair<std::string, std::string>> export_properties;   ///< on every vmtexport
  std::vector<std::pair<std::string, std::string>> segment_properties;  ///< in the given order
  long long max_frames = -1;
  bool progress = true;
};

std::string resolve_format(const std::string& format, const std::string& results) {
  if (format == "mots") return "mots-challenge";
  if (!format.empty()) return format;
  const auto extension = std::filesystem::path(results).extension().string();
  if (extension == ".jsonl") return "jsonl";
  if (extension == ".txt") return "mots-challenge";
  return "youtube-vis";
}

/// "N" or "N/D" with N, D >= 1, for --frame-rate.
std::pair<int, int> parse_frame_rate(const std::string& text) {
  const auto slash = text.find('/');
  const std::string num = text.substr(0, slash);
  const std::string den = slash == std::string::npos ? "1" : text.substr(slash + 1);
  char* end_num = nullptr;
  char* end_den = nullptr;
  const long n = std::strtol(num.c_str(), &end_num, 10);
  const long d = std::strtol(den.c_str(), &end_den, 10);
  if (num.empty() || den.empty() || *end_num != '\0' || *end_den != '\0' || n < 1 || d < 1 ||
      n > 1000000 || d > 1000000)
    throw UsageError("--frame-rate expects N or N/D (whole numbers >= 1), not '" + text + "'");
  return {static_cast<int>(n), static_cast<int>(d)};
}

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine cmd;
  std::string early_format;  // a --format before any --results applies to the first one
  // options that set a vmtsegment property of the same name
  const std::set<std::string, std::less<>> segment_options = {
      "model",       "device",       "mode",        "input-size",      "tube-length",
      "clip-length", "clip-overlap", "association", "score-threshold", "max-instances",
      "instances",   "point-limit"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    }
    if (arg == "--no-progress") {
      cmd.progress = false;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg == "-o") arg = "--output";
      std::string value;
      if (const auto eq = arg.find('=');
          arg.rfind("--", 0) == 0 && eq != std::string::npos && arg.substr(2, eq - 2) != "set") {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else {
        if (i + 1 >= argc) throw UsageError(arg + " needs a value");
        value = argv[++i];
      }
      const std::string name = arg.rfind("--", 0) == 0 ? arg.substr(2) : arg;
      if (name == "output") {
        cmd.output = value;
      } else if (name == "results") {
        for (const auto& r : cmd.results)
          if (r.location == value) throw UsageError("--results '" + value + "' given twice");
        cmd.results.push_back({value, ""});
      } else if (name == "format") {
        std::string& target = cmd.results.empty() ? early_format : cmd.results.back().format;
        if (!target.empty())
          throw UsageError(cmd.results.empty()
                               ? std::string("--format given twice")
                               : "two --format for '" + cmd.results.back().location + "'");
        target = value;
      } else if (name == "frame-list") {
        if (!cmd.input.empty())
          throw UsageError("--frame-list and an input: '" + cmd.input + "' and '" + value + "'");
        cmd.input = value;
        cmd.frame_list = true;
      } else if (name == "frame-rate") {
        std::tie(cmd.frame_rate_num, cmd.frame_rate_den) = parse_frame_rate(value);
      } else if (name == "video-id") {
        // checked here: GLib's unsigned parser takes "-1" as the largest value
        errno = 0;
        const unsigned long long id = std::strtoull(value.c_str(), nullptr, 10);
        if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
            errno == ERANGE || id > G_MAXUINT)
          throw UsageError("--video-id expects a whole number 0-" + std::to_string(G_MAXUINT) +
                           ", not '" + value + "'");
        cmd.export_properties.emplace_back(name, value);
      } else if (name == "video-name") {
        cmd.export_properties.emplace_back(name, value);
      } else if (name == "max-frames") {
        char* end = nullptr;
        cmd.max_frames = std::strtoll(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || cmd.max_frames < 1)
          throw UsageError("--max-frames expects a whole number >= 1, not '" + value + "'");
      } else if (name == "set") {
        const auto eq = value.find('=');
        if (eq == std::string::npos || eq == 0)
          throw UsageError("--set expects NAME=VALUE, not '" + value + "'");
        cmd.segment_properties.emplace_back(value.substr(0, eq), value.substr(eq + 1));
      } else if (segment_options.contains(name)) {
        cmd.segment_properties.emplace_back(name, value);
      } else {
        throw UsageError("unknown option " + arg);
      }
    } else if (cmd.input.empty()) {
      cmd.input = arg;
    } else {
      throw UsageError(
          std::string(cmd.frame_list ? "--frame-list and an input" : "more than one input") +
          ": '" + cmd.input + "' and '" + arg + "'");
    }
  }
  if (cmd.input.empty()) throw UsageError("no input video");
  if (!early_format.empty()) {
    if (cmd.results.empty()) throw UsageError("--format needs --results FILE");
    if (!cmd.results.front().format.empty())
      throw UsageError("two --format for '" + cmd.results.front().location + "'");
    cmd.results.front().format = early_format;
  }
  for (auto& r : cmd.results) r.format = resolve_format(r.format, r.location);
  return cmd;
}

/// Fails with a clear message unless `path` is a readable regular file.
void check_input(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw RunError("cannot read '" + path + "': no such file");
  if (std::filesystem::is_directory(status))
    throw RunError("cannot read '" + path + "': it is a folder");
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    throw RunError("cannot read '" + path + "': " + std::strerror(errno));
  }
}

/// A property's value from its text form, with the type and range of its GParamSpec, or fails
/// (UsageError naming the option). The caller unsets the value.
GValue parse_property(GstElement* element, const std::string& name, const std::string& text) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), name.c_str());
  const std::string what = std::string(GST_OBJECT_NAME(element)) + " property '" + name + "'";
  if (spec == nullptr)
    throw UsageError(GST_ELEMENT_NAME(element) + std::string(" has no property '") + name + "'");
  if (!(spec->flags & G_PARAM_WRITABLE)) throw UsageError(what + " is read-only");
  GValue value = G_VALUE_INIT;
  g_value_init(&value, spec->value_type);
  const bool parsed = gst_value_deserialize_with_pspec(&value, text.c_str(), spec);
  // g_param_value_validate clamps an out-of-range value and says so
  const bool in_range = parsed && !g_param_value_validate(spec, &value);
  if (!parsed || !in_range) {
    std::string hint;
    if (G_IS_PARAM_SPEC_ENUM(spec)) {
      for (guint i = 0; i < G_PARAM_SPEC_ENUM(spec)->enum_class->n_values; ++i)
        hint += std::string(i ? ", " : " (one of ") +
                G_PARAM_SPEC_ENUM(spec)->enum_class->values[i].value_nick;
      hint += ")";
    }
    g_value_unset(&value);
    throw UsageError("invalid value '" + text + "' for --" + name + hint);
  }
  return value;
}

/// Sets a property from its text form with the type and range of its GParamSpec, or fails.
void set_property(GstElement* element, const std::string& name, const std::string& text) {
  GValue value = parse_property(element, name, text);
  g_object_set_property(G_OBJECT(element), name.c_str(), &value);
  g_value_unset(&value);
}

/// A uint property given as text (checked like any property), else its current value.
guint uint_option(GstElement* element, const char* name, const std::optional<std::string>& text) {
  guint value = 0;
  if (text) {
    GValue parsed = parse_property(element, name, *text);
    value = g_value_get_uint(&parsed);
    g_value_unset(&parsed);
  } else {
    g_object_get(element, name, &value, nullptr);
  }
  return value;
}

/// The nick of an enum property's current value ("offline").
std::string enum_nick(GstElement* element, const char* name) {
  gint value = 0;
  g_object_get(element, name, &value, nullptr);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), name);
  const GEnumValue* found = g_enum_get_value(G_PARAM_SPEC_ENUM(spec)->enum_class, value);
  return found ? found->value_nick : "";
}

/// Sets vmtsegment's properties in the given order, except clip-length and clip-overlap: their
/// last values are checked together first (the overlap must be smaller, as vmtsegment requires;
/// the message names the options), then set in an order vmtsegment takes.
void set_segment_properties(GstElement* segment,
                            const std::vector<std::pair<std::string, std::string>>& properties) {
  std::optional<std::string> length_text, overlap_text;
  for (const auto& [name, value] : properties) {
    if (name == "clip-length") {
      length_text = value;
    } else if (name == "clip-overlap") {
      overlap_text = value;
    } else {
      set_property(segment, name, value);
    }
  }
  const guint length = uint_option(segment, "clip-length", length_text);
  const guint overlap = uint_option(segment, "clip-overlap", overlap_text);
  // vmtsegment checks a default overlap in offline mode only (online mode has no clips)
  if (length != 0 && overlap >= length && (overlap_text || enum_nick(segment, "mode") == "offline"))
    throw UsageError((overlap_text ? "--clip-overlap " : "the default --clip-overlap ") +
                     std::to_string(overlap) + " must be smaller than --clip-length " +
                     std::to_string(length) + (length_text ? "" : " (the default)"));
  const guint current_length = uint_option(segment, "clip-length", std::nullopt);
  // a clip shorter than the current one: the overlap first
  if (overlap_text && (current_length == 0 || overlap < current_length))
    g_object_set(segment, "clip-overlap", overlap, nullptr);
  if (length_text) g_object_set(segment, "clip-length", length, nullptr);
  if (overlap_text) g_object_set(segment, "clip-overlap", overlap, nullptr);
}

/// vmtsegment's settings errors ("Invalid settings: property 'device' is …") name the CLI's
/// options instead; nullopt for any other error.
std::optional<std::string> settings_error(GstMessage* message) {
  if (std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) != "segment") return std::nullopt;
  GError* error = nullptr;
  gst_message_parse_error(message, &error, nullptr);
  std::string text = error ? error->message : "";
  g_clear_error(&error);
  constexpr std::string_view kPrefix = "Invalid settings: ";
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text = text.substr(kPrefix.size());
  for (std::size_t at; (at = text.find("property '")) != std::string::npos;) {
    const std::size_t end = text.find('\'', at + 10);
    if (end == std::string::npos) break;
    text.replace(at, end + 1 - at, "--" + text.substr(at + 10, end - at - 10));
  }
  return text;
}

GstElement* make(const char* factory, const char* name = nullptr) {
  GstElement* element = gst_element_factory_make(factory, name);
  if (element == nullptr) {
    throw RunError(std::string("GStreamer element '") + factory + "' is missing" +
                   (std::string_view(factory).starts_with("vmt")
                        ? " (is GST_PLUGIN_PATH set to the folder of libgstvmt.so?)"
                        : " (install the GStreamer plugins: tools/setup.sh)"));
  }
  return element;
}

/// --frame-list: the frames in order, and which of them the decoder let through. A frame a
/// decoder drops (GStreamer's JPEG decoder skips some damaged frames without a word) makes the run
/// fail naming it: no frame is lost silently.
struct FrameList {
  std::vector<std::string> paths;
  bool png = false;  ///< else JPEG; every frame must be of the first one's kind
  int rate_num = 6;
  int rate_den = 1;
  std::size_t next = 0;       ///< the next frame to push; appsrc's streaming thread only
  std::mutex lock;            // protects everything below
  std::string failure;        ///< why the feeder stopped (a frame unreadable or of another kind)
  std::size_t entering = 0;   ///< the last frame that went into the decoder
  std::vector<bool> decoded;  ///< by frame, set when the decoder outputs it

  GstClockTime pts(std::size_t i) const {
    return gst_util_uint64_scale(i, GST_SECOND * static_cast<guint64>(rate_den),
                                 static_cast<guint64>(rate_num));
  }
  /// The frame whose timestamp is `pts`, or paths.size() for none.
  std::size_t index_of(GstClockTime pts_in) const {
    const std::size_t i = gst_util_uint64_scale_round(pts_in, static_cast<guint64>(rate_num),
                                                      GST_SECOND * static_cast<guint64>(rate_den));
    return i < paths.size() && pts(i) == pts_in ? i : paths.size();
  }
};

bool is_png(std::string_view bytes) { return bytes.starts_with("\x89PNG\r\n\x1a\n"); }
bool is_jpeg(std::string_view bytes) { return bytes.starts_with("\xff\xd8\xff"); }

/// Reads the list (one frame per line, relative to the list's folder; blank lines and lines
/// starting with # are skipped) and checks that every frame is a readable file.
void read_frame_list(const std::string& list_path, FrameList& frames) {
  check_input(list_path);
  std::ifstream in(list_path);
  const std::filesystem::path folder = std::filesystem::path(list_path).parent_path();
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line.front() == '#') continue;
    const std::filesystem::path frame(line);
    frames.paths.push_back(frame.is_absolute() ? line : (folder / frame).string());
  }
  if (frames.paths.empty()) throw RunError("frame list '" + list_path + "' names no frames");
  for (const auto& path : frames.paths) check_input(path);
  std::string head(8, '\0');
  std::ifstream first(frames.paths.front(), std::ios::binary);
  first.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(first.gcount()));
  frames.png = is_png(head);
  if (!frames.png && !is_jpeg(head))
    throw RunError("frame '" + frames.paths.front() + "' is neither a JPEG nor a PNG image");
  frames.decoded.assign(frames.paths.size(), false);
}

/// appsrc need-data: pushes the next frame's file as one buffer, or EOS after the last one.
void push_next_frame(GstAppSrc* src, guint, gpointer data) {
  auto* frames = static_cast<FrameList*>(data);
  if (frames->next >= frames->paths.size()) {
    gst_app_src_end_of_stream(src);
    return;
  }
  const std::size_t i = frames->next;
  const std::string& path = frames->paths[i];
  gchar* contents = nullptr;
  gsize size = 0;
  GError* error = nullptr;
  std::string failure;
  if (!g_file_get_contents(path.c_str(), &contents, &size, &error)) {
    failure = "cannot read frame '" + path + "': " + error->message;
    g_clear_error(&error);
  } else if (const std::string_view bytes(contents, size);
             frames->png ? !is_png(bytes) : !is_jpeg(bytes)) {
    failure = "frame '" + path + "' is not a " + (frames->png ? "PNG" : "JPEG") +
              " image like the first frame";
    g_free(contents);
  }
  if (!failure.empty()) {
    // no more buffers: the ERROR ends the run (appsrc waits for data until then)
    {
      std::lock_guard guard(frames->lock);
      frames->failure = failure;
    }
    GError* posted =
        g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, failure.c_str());
    gst_element_post_message(GST_ELEMENT(src),
                             gst_message_new_error(GST_OBJECT(src), posted, nullptr));
    g_error_free(posted);
    return;
  }
  ++frames->next;
  GstBuffer* buffer = gst_buffer_new_wrapped(contents, size);
  GST_BUFFER_PTS(buffer) = frames->pts(i);
  GST_BUFFER_DURATION(buffer) = frames->pts(i + 1) - frames->pts(i);
  GST_BUFFER_OFFSET(buffer) = i;
  gst_app_src_push_buffer(src, buffer);  // takes the buffer
}

GstPadProbeReturn frame_entering_decoder(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* frames = static_cast<FrameList*>(data);
  std::lock_guard guard(frames->lock);
  frames->entering = GST_BUFFER_OFFSET(GST_PAD_PROBE_INFO_BUFFER(info));
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn frame_decoded(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* frames = static_cast<FrameList*>(data);
  const std::size_t i = frames->index_of(GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)));
  std::lock_guard guard(frames->lock);
  if (i < frames->decoded.size()) frames->decoded[i] = true;
  return GST_PAD_PROBE_OK;
}

/// The source half for a frame list: appsrc ! jpegdec|pngdec, the decoder linked to `convert`.
void add_frame_source(GstBin* bin, FrameList& frames, GstElement* convert) {
  GstElement* src = make("appsrc", "frames");
  GstElement* decode = make(frames.png ? "pngdec" : "jpegdec", "frame-decode");
  gst_bin_add_many(bin, src, decode, nullptr);
  // parsed=true: one buffer is one whole image, so the JPEG decoder does not search for frames
  GstCaps* caps = gst_caps_new_simple(frames.png ? "image/png" : "image/jpeg", "framerate",
                                      GST_TYPE_FRACTION, frames.rate_num, frames.rate_den, "parsed",
                                      G_TYPE_BOOLEAN, TRUE, nullptr);
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "duration",
               frames.pts(frames.paths.size()), nullptr);
  gst_caps_unref(caps);
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = push_next_frame;
  gst_app_src_set_callbacks(GST_APP_SRC(src), &callbacks, &frames, nullptr);
  gst_element_link_many(src, decode, convert, nullptr);
  GstPad* decode_sink = gst_element_get_static_pad(decode, "sink");
  gst_pad_add_probe(decode_sink, GST_PAD_PROBE_TYPE_BUFFER, frame_entering_decoder, &frames,
                    nullptr);
  gst_object_unref(decode_sink);
  GstPad* decode_src = gst_element_get_static_pad(decode, "src");
  gst_pad_add_probe(decode_src, GST_PAD_PROBE_TYPE_BUFFER, frame_decoded, &frames, nullptr);
  gst_object_unref(decode_src);
}

/// Whether a demuxer's pad carries the picture: video or images (a tag demuxer's single pad, which
/// holds the inner stream, counts too).
bool is_picture_pad(GstPad* pad, GstElement* demuxer) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  const char* name = gst_caps_is_empty(caps) || gst_caps_is_any(caps)
                         ? ""
                         : gst_structure_get_name(gst_caps_get_structure(caps, 0));
  const bool picture = g_str_has_prefix(name, "video/") || g_str_has_prefix(name, "image/");
  gst_caps_unref(caps);
  const char* klass = gst_element_get_metadata(demuxer, GST_ELEMENT_METADATA_KLASS);
  return picture || (klass != nullptr && std::strstr(klass, "Metadata") != nullptr);
}

/// decodebin's video pad is linked to the converter when it appears; other streams stay unlinked.
void link_decoded_video(GstElement*, GstPad* pad, gpointer convert) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  const bool video =
      g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
  gst_caps_unref(caps);
  GstPad* sink = gst_element_get_static_pad(GST_ELEMENT(convert), "sink");
  if (video && !gst_pad_is_linked(sink)) gst_pad_link(pad, sink);
  gst_object_unref(sink);
}

/// A decodebin for one elementary stream (push mode), added to the pipeline and started.
GstElement* add_decoder(GstBin* bin, GstElement* convert) {
  GstElement* decode = gst_element_factory_make("decodebin", nullptr);
  gst_bin_add(bin, decode);
  g_signal_connect(decode, "pad-added", G_CALLBACK(link_decoded_video), convert);
  gst_element_sync_state_with_parent(decode);
  return decode;
}

/// The container's first video stream goes to a decodebin of its own; later ones and other
/// streams (audio, subtitles) stay unlinked. Runs in the demuxer's streaming thread.
void link_demuxed_stream(GstElement* demuxer, GstPad* pad, gpointer convert) {
  if (!is_picture_pad(pad, demuxer)) return;
  auto* bin = GST_BIN(gst_element_get_parent(demuxer));
  if (bin == nullptr) return;
  if (g_object_get_data(G_OBJECT(demuxer), "vmt-video-linked") == nullptr) {
    g_object_set_data(G_OBJECT(demuxer), "vmt-video-linked", GINT_TO_POINTER(1));
    GstElement* decode = add_decoder(bin, GST_ELEMENT(convert));
    GstPad* sink = gst_element_get_static_pad(decode, "sink");
    gst_pad_link(pad, sink);
    gst_object_unref(sink);
  }
  gst_object_unref(bin);
}

/// The highest-ranked demuxer for `caps`, or nullptr when the type is not a container.
GstElement* make_demuxer(GstCaps* caps) {
  GList* all = gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_DEMUXER,
                                                     GST_RANK_MARGINAL);
  GList* fitting = gst_element_factory_list_filter(all, caps, GST_PAD_SINK, FALSE);
  fitting = g_list_sort(fitting, gst_plugin_feature_rank_compare_func);
  GstElement* demuxer =
      fitting ? gst_element_factory_create(GST_ELEMENT_FACTORY(fitting->data), nullptr) : nullptr;
  gst_plugin_feature_list_free(fitting);
  gst_plugin_feature_list_free(all);
  return demuxer;
}

/// typefind found the file's type (in its streaming thread): a container gets its demuxer, linked
/// straight to typefind, so the demuxer reads the file in pull mode; anything else (an elementary
/// stream, an image) goes through queue ! decodebin.
void plug_after_typefind(GstElement* typefind, guint, GstCaps* caps, gpointer convert) {
  auto* bin = GST_BIN(gst_element_get_parent(typefind));
  if (bin == nullptr) return;
  if (GstElement* demuxer = make_demuxer(caps)) {
    gst_bin_add(bin, demuxer);
    g_signal_connect(demuxer, "pad-added", G_CALLBACK(link_demuxed_stream), convert);
    gst_element_link(typefind, demuxer);
    gst_element_sync_state_with_parent(demuxer);
  } else {
    GstElement* queue = gst_element_factory_make("queue", nullptr);
    gst_bin_add(bin, queue);
    GstElement* decode = add_decoder(bin, GST_ELEMENT(convert));
    gst_element_link_many(typefind, queue, decode, nullptr);
    gst_element_sync_state_with_parent(queue);
  }
  gst_object_unref(bin);
}

/// The source half for a file: filesrc ! typefind ! DEMUXER ! decodebin (one per video stream),
/// linked to `convert`. The demuxer is ours, not decodebin's, for two reasons:
/// - it runs in pull mode, the mode demuxers read their index in: in push mode (filesrc ! queue !
///   decodebin) avidemux ignores the empty chunks that stand for dropped frames, so every later
///   frame gets an earlier timestamp (tree.avi: 29.5 s became 4.5 s);
/// - its errors reach the pipeline's bus. Inside decodebin (GStreamer 1.22) a pull-mode demuxer
///   posts its error (no moov box, a broken sample table, no video) while decodebin still filters
///   the errors of the element it is bringing to PAUSED, the error is lost and the pipeline never
///   ends (tests/pipelines/test_corrupt_videos.cpp shows it).
void add_file_source(GstBin* bin, const std::string& location, GstElement* convert) {
  GstElement* src = make("filesrc", "source");
  GstElement* typefind = make("typefind", "typefind");
  gst_object_unref(gst_object_ref_sink(make("decodebin")));  // missing: fail now, with the hint
  gst_bin_add_many(bin, src, typefind, nullptr);
  g_object_set(src, "location", location.c_str(), nullptr);
  gst_element_link(src, typefind);
  g_signal_connect(typefind, "have-type", G_CALLBACK(plug_after_typefind), convert);
}

/// What the probe on vmtsegment's source pad saw; written by the streaming thread.
struct Counts {
  std::mutex lock;  // protects everything below
  std::uint64_t frames = 0;
  std::uint64_t instances = 0;
  std::set<std::uint64_t> tracks;
  GstClockTime last_end = GST_CLOCK_TIME_NONE;  ///< end of the last frame out, in stream time
};

/// A buffer's end (PTS + duration) in stream time, the time the duration query answers in (an
/// MP4 edit list, for one, starts its PTS after 0).
GstClockTime stream_end(GstPad* pad, GstBuffer* buffer) {
  if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_CLOCK_TIME_NONE;
  GstClockTime end =
      GST_BUFFER_PTS(buffer) + (GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : 0);
  if (GstEvent* event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(event, &segment);
    if (segment->format == GST_FORMAT_TIME)
      end = gst_segment_to_stream_time(segment, GST_FORMAT_TIME, end);
    gst_event_unref(event);
  }
  return end;
}

GstPadProbeReturn count_frame(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* counts = static_cast<Counts*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
  const GstClockTime end = stream_end(pad, buffer);
  std::lock_guard guard(counts->lock);
  ++counts->frames;
  if (GST_CLOCK_TIME_IS_VALID(end)) counts->last_end = end;
  if (meta == nullptr) return GST_PAD_PROBE_OK;
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  counts->instances += n;
  for (guint i = 0; i < n; ++i)
    counts->tracks.insert(gst_vmt_frame_meta_get_instance(meta, i)->track_id);
  return GST_PAD_PROBE_OK;
}

/// Set by the first Ctrl-C (in the signal handler): vmtsegment gets no further frame.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set in a signal handler");

/// What goes into vmtsegment: every frame until --max-frames is reached or the first Ctrl-C asks
/// to stop. Used by the streaming thread only.
struct Feed {
  long long limit = -1;  ///< --max-frames, -1 for none
  long long seen = 0;
  bool cut = false;      ///< the stream was ended early (limit or Ctrl-C)
  std::atomic<bool> dropping_flush{false};  ///< the flush of a stop must not leave vmtsegment
  bool interrupted = false;       ///< set once the stop took effect (streaming thread)
};

/// Buffer probe on vmtsegment's sink pad, in the streaming thread. At the first frame past
/// --max-frames it sends EOS into the pad: vmtsegment finishes its tube, the sinks finish their
/// files. At the first frame after a Ctrl-C it first flushes vmtsegment, which drops the frames it
/// holds for a clip not yet inferred (the flush is kept from going further downstream by
/// drop_stop_flush), so the files end with the frames already done instead of after another
/// inference. The frame is dropped; later frames meet an EOS pad and get GST_FLOW_EOS, which stops
/// the decoder and the demuxer. (identity eos-after is not used: in GStreamer 1.22 it lets frames
/// a decoder drains after its EOS flow pass again.)
GstPadProbeReturn feed_frames(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* feed = static_cast<Feed*>(data);
  if (feed->cut) return GST_PAD_PROBE_DROP;
  const bool stop = stop_requested.load();
  if (!stop && (feed->limit < 0 || ++feed->seen <= feed->limit)) return GST_PAD_PROBE_OK;
  feed->cut = true;
  if (stop) {
    feed->interrupted = true;
    feed->dropping_flush = true;
    gst_pad_send_event(pad, gst_event_new_flush_start());
    gst_pad_send_event(pad, gst_event_new_flush_stop(FALSE));
    feed->dropping_flush = false;
  }
  gst_pad_send_event(pad, gst_event_new_eos());
  return GST_PAD_PROBE_DROP;
}

/// Event probe on vmtsegment's source pad: the flush feed_frames sends for a stop goes no further
/// (the encoder, muxer and exporters keep what they have and finish at EOS).
GstPadProbeReturn drop_stop_flush(GstPad*, GstPadProbeInfo*, gpointer data) {
  return static_cast<Feed*>(data)->dropping_flush ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/// The progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1) {}

  void update(double fraction, std::uint64_t frames, double seconds) {
    if (!enabled_) return;
    fraction = std::clamp(fraction, 0.0, 1.0);
    const int percent = static_cast<int>(fraction * 100.0);
    const double fps = seconds > 0 ? static_cast<double>(frames) / seconds : 0.0;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(fraction * kWidth);
      std::fprintf(stderr, "\r[%s%s] %3d%%  %llu frames  %.1f fps ",
                   std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
                   percent, static_cast<unsigned long long>(frames), fps);
      drawn_ = true;
    } else if (percent / 10 > last_decile_) {
      last_decile_ = percent / 10;
      std::fprintf(stderr, "progress: %3d%%  %llu frames  %.1f fps\n", percent,
                   static_cast<unsigned long long>(frames), fps);
    }
  }
  void finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  int last_decile_ = 0;
};

/// Files a second Ctrl-C removes before it ends the program: the unfinished overlay video and
/// the results vmtexport is writing (LOCATION.part). Filled before the handler is installed and
/// not changed after, so the handler may read it.
std::vector<std::string> unfinished_files;
std::atomic<int> interrupts{0};

/// SIGINT/SIGTERM. The first one is handled by the main loop (the stream ends, the files are
/// finished); a second one aborts here and now, whatever the other threads are doing (an
/// inference can take long), leaving no partly written file. Async-signal-safe calls only.
extern "C" void on_interrupt(int) {
  if (interrupts.fetch_add(1) == 0) {
    stop_requested = true;
    return;
  }
  for (const std::string& path : unfinished_files) unlink(path.c_str());
  constexpr char kMessage[] = "\nvmt-segment-video: aborted; unfinished files removed\n";
  [[maybe_unused]] const auto written = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  _exit(kInterruptedStatus);
}

/// Turns an ERROR message into one line that names the problem (and the input for decoding).
std::string describe_error(GstMessage* message, const CommandLine& cmd) {
  GError* error = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message, &error, &debug);
  const std::string source = GST_OBJECT_NAME(GST_MESSAGE_SRC(message));
  const std::string text = error ? error->message : "unknown error";
  const std::string details = debug ? debug : "";
  const bool stream_error = error && error->domain == GST_STREAM_ERROR;
  g_clear_error(&error);
  g_free(debug);
  if (source == "segment" || source == "overlay" || source.starts_with("export"))
    return source + ": " + text;
  if (details.find("not-linked") != std::string::npos)
    return "'" + cmd.input + "' has no video stream (" + text + ")";
  if (stream_error) return "cannot decode '" + cmd.input + "': " + text;
  return source + ": " + text + (details.empty() ? "" : " (" + details + ")");
}

/// An ERROR while reading a frame list: the feeder's own reason, else the decoder's (or appsrc's,
/// when the decoder returned an error) message with the frame that was being decoded.
std::string describe_frame_error(GstMessage* message, FrameList& frames) {
  const std::string source = GST_OBJECT_NAME(GST_MESSAGE_SRC(message));
  if (source == "segment" || source == "overlay" || source.starts_with("export")) {
    const CommandLine none;
    return describe_error(message, none);
  }
  GError* error = nullptr;
  gst_message_parse_error(message, &error, nullptr);
  const std::string text = error ? error->message : "unknown error";
  g_clear_error(&error);
  std::lock_guard guard(frames.lock);
  if (!frames.failure.empty()) return frames.failure;
  return "cannot decode frame '" + frames.paths[frames.entering] + "': " + text;
}

/// After EOS: empty when the decoder output every frame (the first `max_frames` with
/// --max-frames), else a message naming the first frame it dropped.
std::string lost_frames(FrameList& frames, long long max_frames) {
  std::lock_guard guard(frames.lock);
  std::size_t wanted = frames.decoded.size();
  if (max_frames > 0) wanted = std::min(wanted, static_cast<std::size_t>(max_frames));
  const auto first_lost = std::find(frames.decoded.begin(), frames.decoded.begin() + wanted, false);
  if (first_lost == frames.decoded.begin() + wanted) return "";
  const auto lost = std::count(frames.decoded.begin(), frames.decoded.begin() + wanted, false);
  return "cannot decode frame '" + frames.paths[first_lost - frames.decoded.begin()] + "' (" +
         std::to_string(lost) + " of " + std::to_string(wanted) + " frames not decoded)";
}

struct Summary {
  bool interrupted = false;  ///< Ctrl-C ended the stream early; the files hold the frames done
  std::uint64_t frames = 0;
  std::uint64_t instances = 0;
  std::size_t tracks = 0;
  double seconds = 0;
};

Summary run(const CommandLine& cmd) {
  // Declared before the pipeline, so they outlive the pipeline's streaming threads.
  FrameList frame_list;
  Feed feed;
  if (cmd.frame_list) {
    frame_list.rate_num = cmd.frame_rate_num;
    frame_list.rate_den = cmd.frame_rate_den;
    read_frame_list(cmd.input, frame_list);
  } else {
    check_input(cmd.input);
  }
  for (const auto& r : cmd.results)
    if (r.location == cmd.output) throw UsageError("--output and --results name the same file");
  // What each results path held before the run: on a failure, a file this run's vmtexport wrote
  // (EOS can reach it just before a decoder's error ends the run) is removed, a file it never
  // touched is left alone.
  std::vector<std::optional<FileStamp>> results_before;
  for (const auto& r : cmd.results) results_before.push_back(file_stamp(r.location));

  GstElement* pipeline = gst_pipeline_new("vmt-segment-video");
  auto* bin = GST_BIN(pipeline);
  // Everything is added to the pipeline at once, so one unref frees it on any failure.
  struct PipelineGuard {
    GstElement* pipeline;
    ~PipelineGuard() {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
  } guard{pipeline};

  GstElement* convert = make("videoconvert", "convert");
  GstElement* segment = make("vmtsegment", "segment");
  gst_bin_add_many(bin, convert, segment, nullptr);
  if (cmd.frame_list) {
    add_frame_source(bin, frame_list, convert);
  } else {
    add_file_source(bin, cmd.input, convert);
  }

  gst_element_link(convert, segment);
  feed.limit = cmd.max_frames;
  GstPad* segment_sink = gst_element_get_static_pad(segment, "sink");
  gst_pad_add_probe(segment_sink, GST_PAD_PROBE_TYPE_BUFFER, feed_frames, &feed, nullptr);
  gst_object_unref(segment_sink);
  GstPad* segment_out = gst_element_get_static_pad(segment, "src");
  gst_pad_add_probe(segment_out, GST_PAD_PROBE_TYPE_EVENT_FLUSH, drop_stop_flush, &feed, nullptr);
  gst_object_unref(segment_out);
  set_segment_properties(segment, cmd.segment_properties);

  // Branches after vmtsegment: the overlay video and the export (a tee when both).
  std::vector<std::pair<GstElement*, GstElement*>> branches;  // first, last element of each
  if (!cmd.output.empty()) {
    const bool matroska = std::filesystem::path(cmd.output).extension() == ".mkv";
    GstElement* queue = make("queue");
    GstElement* overlay = make("vmtoverlay", "overlay");
    GstElement* convert_out = make("videoconvert");
    GstElement* encode = make("x264enc", "encode");
    GstElement* mux = make(matroska ? "matroskamux" : "mp4mux", "mux");
    GstElement* sink = make("filesink", "video-sink");
    gst_util_set_object_arg(G_OBJECT(encode), "speed-preset", "veryfast");
    // written under a temporary name, renamed once complete (as vmtexport does with results)
    g_object_set(sink, "location", unfinished_name(cmd.output).c_str(), nullptr);
    gst_bin_add_many(bin, queue, overlay, convert_out, encode, mux, sink, nullptr);
    gst_element_link_many(queue, overlay, convert_out, encode, mux, sink, nullptr);
    branches.emplace_back(queue, sink);
  }
  for (std::size_t i = 0; i < cmd.results.size(); ++i) {
    // Unbounded: the exporter prerolls on the first frame while x264enc still gathers its
    // look-ahead; a bounded queue here would stall the tee (and so both branches) at preroll.
    GstElement* queue = make("queue");
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64{0},
                 nullptr);
    const std::string name = i == 0 ? "export" : "export-" + std::to_string(i + 1);
    GstElement* exporter = make("vmtexport", name.c_str());
    g_object_set(exporter, "location", cmd.results[i].location.c_str(), nullptr);
    set_property(exporter, "format", cmd.results[i].format);
    for (const auto& [property, value] : cmd.export_properties)
      set_property(exporter, property, value);
    gst_bin_add_many(bin, queue, exporter, nullptr);
    gst_element_link(queue, exporter);
    branches.emplace_back(queue, exporter);
  }
  if (branches.empty()) {
    GstElement* sink = make("fakesink");
    gst_bin_add(bin, sink);
    branches.emplace_back(sink, sink);
  }
  if (branches.size() == 1) {
    gst_element_link(segment, branches[0].first);
  } else {
    GstElement* tee = make("tee");
    gst_bin_add(bin, tee);
    gst_element_link(segment, tee);
    for (auto& branch : branches) gst_element_link(tee, branch.first);
  }

  Counts counts;
  GstPad* segment_src = gst_element_get_static_pad(segment, "src");
  gst_pad_add_probe(segment_src, GST_PAD_PROBE_TYPE_BUFFER, count_frame, &counts, nullptr);
  gst_object_unref(segment_src);

  if (!cmd.output.empty()) unfinished_files.push_back(unfinished_name(cmd.output));
  for (const auto& r : cmd.results) unfinished_files.push_back(unfinished_name(r.location));
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  Progress progress(cmd.progress);
  std::string failure;

  GstBus* bus = gst_element_get_bus(pipeline);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // an element that failed to start (vmtsegment without its model) posted why
    GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (const auto settings = message ? settings_error(message) : std::nullopt) {
      gst_message_unref(message);
      gst_object_unref(bus);
      throw UsageError(*settings);
    }
    failure = message == nullptr ? "the pipeline did not start"
              : cmd.frame_list   ? describe_frame_error(message, frame_list)
                                 : describe_error(message, cmd);
    if (message) gst_message_unref(message);
  }
  gint64 duration = -1;
  bool stop_noted = false;
  while (failure.empty()) {
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, 200 * GST_MSECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (message != nullptr) {
      const bool eos = GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
      if (!eos)
        failure = cmd.frame_list ? describe_frame_error(message, frame_list)
                                 : describe_error(message, cmd);
      gst_message_unref(message);
      if (eos) break;
      continue;
    }
    // The first Ctrl-C ends the stream at vmtsegment's input (feed_frames, in the streaming
    // thread: nothing here waits for it); a second one aborts in on_interrupt.
    if (interrupts.load() > 0 && !stop_noted) {
      std::fputs("\ninterrupted: finishing the files with the frames done (Ctrl-C again to "
                 "abort)\n", stderr);
      stop_noted = true;
    }
    if (duration <= 0) gst_element_query_duration(pipeline, GST_FORMAT_TIME, &duration);
    std::uint64_t frames;
    GstClockTime position;
    {
      std::lock_guard lock(counts.lock);
      frames = counts.frames;
      position = counts.last_end;
    }
    double fraction = 0;
    if (duration > 0 && GST_CLOCK_TIME_IS_VALID(position))
      fraction = static_cast<double>(position) / static_cast<double>(duration);
    if (cmd.max_frames > 0)
      fraction =
          std::max(fraction, static_cast<double>(frames) / static_cast<double>(cmd.max_frames));
    if (cmd.frame_list)
      fraction = std::max(
          fraction, static_cast<double>(frames) / static_cast<double>(frame_list.paths.size()));
    progress.update(fraction, frames, elapsed());
  }
  gst_object_unref(bus);
  const double seconds = elapsed();
  gst_element_set_state(pipeline, GST_STATE_NULL);

  Summary summary;
  {
    std::lock_guard lock(counts.lock);
    summary.frames = counts.frames;
    summary.instances = counts.instances;
    summary.tracks = counts.tracks.size();
  }
  summary.seconds = seconds;
  summary.interrupted = feed.interrupted;
  bool files_finished = false;  // EOS reached: vmtexport has written its files
  if (failure.empty()) {
    files_finished = true;
    if (!summary.interrupted) progress.update(1.0, summary.frames, seconds);
    // an interrupted frame list was not fed to its end on purpose
    if (cmd.frame_list && !summary.interrupted) failure = lost_frames(frame_list, cmd.max_frames);
    if (failure.empty() && summary.frames == 0)
      failure = summary.interrupted ? "interrupted before the first frame was done"
                                    : "no video frames could be decoded from '" + cmd.input + "'";
  }
  if (failure.empty() && !cmd.output.empty() &&
      g_rename(unfinished_name(cmd.output).c_str(), cmd.output.c_str()) != 0)
    failure = "cannot rename '" + unfinished_name(cmd.output) + "' to '" + cmd.output +
              "': " + std::strerror(errno);
  progress.finish();
  if (!failure.empty()) {
    // vmtexport leaves no file on failure; do the same for the overlay video, and for results a
    // failure found after EOS (frames lost) would otherwise leave.
    if (!cmd.output.empty()) g_unlink(unfinished_name(cmd.output).c_str());
    for (std::size_t i = 0; i < cmd.results.size(); ++i) {
      const auto& location = cmd.results[i].location;
      const auto now = file_stamp(location);
      if (files_finished || (now && now != results_before[i])) g_unlink(location.c_str());
    }
    if (summary.interrupted) throw Interrupted(failure);
    throw RunError(failure);
  }
  return summary;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  CommandLine cmd;
  try {
    cmd = parse_command_line(argc, argv);
    const Summary s = run(cmd);
    std::printf("frames:     %llu\n", static_cast<unsigned long long>(s.frames));
    std::printf("instances:  %llu\n", static_cast<unsigned long long>(s.instances));
    std::printf("tracks:     %zu\n", s.tracks);
    std::printf("wall time:  %.2f s\n", s.seconds);
    std::printf("fps:        %.2f\n",
                s.seconds > 0 ? static_cast<double>(s.frames) / s.seconds : 0.0);
    if (!cmd.output.empty()) std::printf("overlay:    %s\n", cmd.output.c_str());
    for (const auto& r : cmd.results)
      std::printf("results:    %s (%s)\n", r.location.c_str(), r.format.c_str());
    if (s.interrupted) {
      std::fprintf(stderr, "vmt-segment-video: interrupted: the files hold the %llu frames done\n",
                   static_cast<unsigned long long>(s.frames));
      return kInterruptedStatus;
    }
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "vmt-segment-video: %s\n(vmt-segment-video --help for the options)\n",
                 e.what());
    return 2;
  } catch (const RunError& e) {
    std::fprintf(stderr, "vmt-segment-video: %s\n", e.what());
    return 1;
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "vmt-segment-video: %s\n", e.what());
    return kInterruptedStatus;
  }
}
