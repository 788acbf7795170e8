// vmt-segment-video: one video file through vmtsegment, rendered by vmtoverlay into an MP4 and
// exported by vmtexport, with a progress bar and a summary. See docs/pipelines.md.
//
//   vmt-segment-video INPUT [-o overlay.mp4] [--results FILE] [--format FORMAT] [--model FILE]
//                     [--mode online|offline] [--input-size N] [--device auto|cpu|cuda:N] ...
//
// Exit status: 0 done, 1 the video could not be processed (the message says why), 2 bad command
// line. GST_PLUGIN_PATH must reach the vmt plugin (tools/dev shell sets it).
#include <gst/gst.h>
#include "vmt.h"  // gst/meta/: the gstvmt-1.0 library (installed as <gst/vmt/vmt.h>)
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
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr std::string_view kUsage = R"(usage: vmt-segment-video INPUT [options]

Decodes INPUT (any file GStreamer reads), segments it with vmtsegment, draws the instances with
vmtoverlay into an H.264 video and writes the metadata with vmtexport. Prints a progress bar on
stderr and a summary (frames, instances, tracks, fps, wall time) on stdout.

options:
  -o, --output FILE        overlay video (.mp4, or .mkv for Matroska); none if not given
  --results FILE           metadata file written by vmtexport; none if not given
  --format FORMAT          jsonl, youtube-vis, mots (= mots-challenge), kitti-mots, bdd100k;
                           default from the results' extension: .jsonl jsonl, .txt mots-challenge,
                           anything else youtube-vis
  --model FILE             .safetensors model (default: the shipped demo model)
  --device DEVICE          auto, cpu, cuda, cuda:N (default auto)
  --mode MODE              online or offline (default offline)
  --input-size N           shorter edge the model sees, 0 = native (default 360)
  --tube-length N          online window length (default 30)
  --clip-length N          offline clip length (default 40)
  --clip-overlap N         offline clip overlap (default 10)
  --association A          none or tube-iou (default none)
  --score-threshold T      drop instances scoring below T (default 0.001)
  --max-instances K        instances per tube and frame (default 10)
  --set NAME=VALUE         any other vmtsegment property (repeatable)
  --max-frames N           stop after the first N frames
  --no-progress            no progress bar
  -h, --help               this text

exit status: 0 done, 1 the video could not be processed, 2 bad command line
)";

/// A command-line mistake: printed with the usage hint, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A failure while processing: printed as is, exit status 1.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  std::string input;
  std::string output;   ///< overlay video, empty = none
  std::string results;  ///< vmtexport location, empty = none
  std::string format;   ///< vmtexport format nick, resolved
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

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine cmd;
  std::string format;
  // options that set a vmtsegment property of the same name
  const std::set<std::string, std::less<>> segment_options = {
      "model",       "device",       "mode",        "input-size",      "tube-length",
      "clip-length", "clip-overlap", "association", "score-threshold", "max-instances"};
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
        cmd.results = value;
      } else if (name == "format") {
        format = value;
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
      throw UsageError("more than one input: '" + cmd.input + "' and '" + arg + "'");
    }
  }
  if (cmd.input.empty()) throw UsageError("no input video");
  if (!format.empty() && cmd.results.empty()) throw UsageError("--format needs --results FILE");
  cmd.format = resolve_format(format, cmd.results);
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

/// Sets a property from its text form with the type and range of its GParamSpec, or fails.
void set_property(GstElement* element, const std::string& name, const std::string& text) {
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
  g_object_set_property(G_OBJECT(element), name.c_str(), &value);
  g_value_unset(&value);
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

/// What the probe on vmtsegment's source pad saw; written by the streaming thread.
struct Counts {
  std::mutex lock;  // protects everything below
  std::uint64_t frames = 0;
  std::uint64_t instances = 0;
  std::set<std::uint64_t> tracks;
  GstClockTime last_end = GST_CLOCK_TIME_NONE;  ///< PTS + duration of the last frame out
};

GstPadProbeReturn count_frame(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* counts = static_cast<Counts*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstVmtFrameMeta* meta = gst_buffer_get_vmt_frame_meta(buffer);
  std::lock_guard guard(counts->lock);
  ++counts->frames;
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    counts->last_end = GST_BUFFER_PTS(buffer) +
                       (GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : 0);
  }
  if (meta == nullptr) return GST_PAD_PROBE_OK;
  const guint n = gst_vmt_frame_meta_get_n_instances(meta);
  counts->instances += n;
  for (guint i = 0; i < n; ++i)
    counts->tracks.insert(gst_vmt_frame_meta_get_instance(meta, i)->track_id);
  return GST_PAD_PROBE_OK;
}

/// --max-frames: the first `limit` frames go in, then EOS; streaming thread only.
struct FrameLimit {
  long long limit;
  long long seen = 0;
};

/// Buffer probe on vmtsegment's sink pad. At the first frame past the limit it sends EOS into the
/// pad (vmtsegment finishes its tube, the sinks finish their files) and drops the frame; later
/// frames meet an EOS pad and get GST_FLOW_EOS, which stops the decoder and the demuxer.
/// (identity eos-after is not used: in GStreamer 1.22 it lets frames a decoder drains after its
/// EOS flow pass again.)
GstPadProbeReturn limit_frames(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* limit = static_cast<FrameLimit*>(data);
  if (++limit->seen <= limit->limit) return GST_PAD_PROBE_OK;
  if (limit->seen == limit->limit + 1) gst_pad_send_event(pad, gst_event_new_eos());
  return GST_PAD_PROBE_DROP;
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

std::atomic<int> interrupts{0};
extern "C" void on_interrupt(int) { interrupts.fetch_add(1); }

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
  if (source == "segment" || source == "overlay" || source == "export") return source + ": " + text;
  if (details.find("not-linked") != std::string::npos)
    return "'" + cmd.input + "' has no video stream (" + text + ")";
  if (stream_error) return "cannot decode '" + cmd.input + "': " + text;
  return source + ": " + text + (details.empty() ? "" : " (" + details + ")");
}

struct Summary {
  std::uint64_t frames = 0;
  std::uint64_t instances = 0;
  std::size_t tracks = 0;
  double seconds = 0;
};

Summary run(const CommandLine& cmd) {
  check_input(cmd.input);
  if (!cmd.output.empty() && cmd.output == cmd.results)
    throw UsageError("--output and --results name the same file");

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

  GstElement* src = make("filesrc", "source");
  // The queue puts the demuxer in push mode. In pull mode (filesrc ! decodebin) it runs on a
  // thread of its own, started while decodebin (GStreamer 1.22) brings it to PAUSED with errors
  // filtered: an error posted in that window (no moov box, a broken sample table, no video) is
  // swallowed and the pipeline never ends. tests/pipelines/test_corrupt_videos.cpp shows it.
  GstElement* push_mode = make("queue", "push-mode");
  GstElement* decode = make("decodebin", "decode");
  GstElement* convert = make("videoconvert", "convert");
  GstElement* segment = make("vmtsegment", "segment");
  gst_bin_add_many(bin, src, push_mode, decode, convert, segment, nullptr);
  g_object_set(src, "location", cmd.input.c_str(), nullptr);
  gst_element_link_many(src, push_mode, decode, nullptr);
  // decodebin's video pad is linked when it appears; other streams (audio) stay unlinked
  g_signal_connect(
      decode, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer sink_element) {
        GstCaps* caps = gst_pad_get_current_caps(pad);
        if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
        const bool video =
            g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
        gst_caps_unref(caps);
        GstPad* sink = gst_element_get_static_pad(GST_ELEMENT(sink_element), "sink");
        if (video && !gst_pad_is_linked(sink)) gst_pad_link(pad, sink);
        gst_object_unref(sink);
      }),
      convert);

  gst_element_link(convert, segment);
  if (cmd.max_frames > 0) {
    GstPad* segment_sink = gst_element_get_static_pad(segment, "sink");
    gst_pad_add_probe(segment_sink, GST_PAD_PROBE_TYPE_BUFFER, limit_frames,
                      new FrameLimit{cmd.max_frames},
                      [](gpointer limit) { delete static_cast<FrameLimit*>(limit); });
    gst_object_unref(segment_sink);
  }
  for (const auto& [name, value] : cmd.segment_properties) set_property(segment, name, value);

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
    g_object_set(sink, "location", cmd.output.c_str(), nullptr);
    gst_bin_add_many(bin, queue, overlay, convert_out, encode, mux, sink, nullptr);
    gst_element_link_many(queue, overlay, convert_out, encode, mux, sink, nullptr);
    branches.emplace_back(queue, sink);
  }
  if (!cmd.results.empty()) {
    // Unbounded: the exporter prerolls on the first frame while x264enc still gathers its
    // look-ahead; a bounded queue here would stall the tee (and so both branches) at preroll.
    GstElement* queue = make("queue");
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64{0},
                 nullptr);
    GstElement* exporter = make("vmtexport", "export");
    g_object_set(exporter, "location", cmd.results.c_str(), nullptr);
    set_property(exporter, "format", cmd.format);
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

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
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
    failure = message ? describe_error(message, cmd) : "the pipeline did not start";
    if (message) gst_message_unref(message);
  }
  gint64 duration = -1;
  bool eos_sent = false;
  while (failure.empty()) {
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, 200 * GST_MSECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (message != nullptr) {
      const bool eos = GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
      if (!eos) failure = describe_error(message, cmd);
      gst_message_unref(message);
      if (eos) break;
      continue;
    }
    // Ctrl-C: the first one ends the stream cleanly (the files are finished), a second one quits.
    if (interrupts.load() == 1 && !eos_sent) {
      std::fputs("\ninterrupted: finishing the files (Ctrl-C again to abort)\n", stderr);
      gst_element_send_event(pipeline, gst_event_new_eos());
      eos_sent = true;
    } else if (interrupts.load() > 1) {
      failure = "interrupted";
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
  if (failure.empty()) {
    progress.update(1.0, summary.frames, seconds);
    if (summary.frames == 0) failure = "no video frames could be decoded from '" + cmd.input + "'";
  }
  progress.finish();
  if (!failure.empty()) {
    // vmtexport leaves no file on failure; do the same for the overlay video.
    if (!cmd.output.empty()) std::remove(cmd.output.c_str());
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
    if (!cmd.results.empty())
      std::printf("results:    %s (%s)\n", cmd.results.c_str(), cmd.format.c_str());
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "vmt-segment-video: %s\n(vmt-segment-video --help for the options)\n",
                 e.what());
    return 2;
  } catch (const RunError& e) {
    std::fprintf(stderr, "vmt-segment-video: %s\n", e.what());
    return 1;
  }
}
