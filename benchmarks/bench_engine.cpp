// vmt::Engine end to end (preprocess, detector, masks, refinement, crops/RLE) on a model file or a
// randomly initialised preset, the way vmtsegment drives it:
//   offline: clips of --clip frames overlapping by --overlap (frames of the overlap come from the
//            feature cache; final masks only for each clip's new frames): ms per emitted frame;
//   online:  for each tube length in --tubes, steady-state steps (the tube is full, one new frame
//            per step, the newest emitted): ms per step.
// Each setting runs --repeats times after a warm-up and prints the median and the minimum, the
// per-stage times of the median run and peak memory. With --compare, the engine's all-frames mode
// (final masks of every frame of every tube, association on them: the path before the real-time
// engine) runs in the same process, alternating with the default path, and the ratio is printed;
// with --compare-workers the reference is the same engine with one CPU worker (--workers N:
// EngineOptions::cpu_workers of the measured one, default auto). --pipeline runs the online steps
// through vmt::EnginePipeline (a step's masks on a worker thread beside the next step's decoding,
// what vmtsegment does online); --compare-pipeline compares that with the same engine's steps one
// after the other.
//
//   bench-engine [--model FILE | --preset vmt_r50] [--size 640x360] [--input-size N]
//                (--input-size, --point-limit: default the model file's preference, else 360 / exact)
//                [--raw FILE] [--device auto|cpu|cuda:N] [--precision fp32|fp16|bf16]
//                [--mode both|offline|online] [--clip 40] [--overlap 10] [--clips 2]
//                [--tubes 1,10,30] [--steps 5] [--repeats 3] [--point-limit N] [--compare]
//                [--padded-points] [--device-selection] [--threads N] [--workers N]
//                [--compare-workers] [--pipeline] [--compare-pipeline]
// --padded-points: EngineOptions::padded_points (static point shapes, no host sync: CUDA graphs).
// --device-selection: EngineOptions::device_selection (the instance selection on the device).
// --raw: frames from a file of raw RGB24 frames of --size (e.g. a video decoded by
//   gst-launch-1.0 filesrc location=v.mp4 ! decodebin ! videoconvert ! video/x-raw,format=RGB !
//   filesink location=v.rgb), looped as needed; otherwise a synthetic moving picture.
// On a 2-core CPU use a small setting, e.g. --model pipelines/demo/vmt_demo.safetensors
// --size 256x192 --input-size 96 (docs/benchmarks.md).
#include <sys/resource.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#if VMT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "engine/model_file.h"
#include "vmt/device.h"
#include "vmt/engine.h"
#include "vmt/engine_pipeline.h"
#include "vmt/error.h"

namespace {

struct Options {
  std::string model, preset = "vmt_r50", raw, device = "auto", precision = "fp32",
                     mode = "both";
  int width = 640, height = 360, input_size = -1;  // -1: the model's
  int clip = 40, overlap = 10, clips = 2, steps = 5, repeats = 3, point_limit = -1, threads = 0;
  int workers = 0;  // EngineOptions::cpu_workers (0 = auto)
  std::vector<int> tubes{1, 10, 30};
  bool compare = false, padded_points = false, device_selection = false;
  bool compare_workers = false;  // the reference: the same engine with one CPU worker
  bool pipeline = false;          // online steps through EnginePipeline
  bool compare_pipeline = false;  // the reference: the same engine's steps one after the other
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void reset_peak(const vmt::DeviceSpec& d) {
#if VMT_WITH_CUDA
  if (d.kind == vmt::DeviceKind::Cuda) c10::cuda::CUDACachingAllocator::resetPeakStats(d.index);
#else
  (void)d;
#endif
}

/// Peak memory in MiB: CUDA allocator peak since reset_peak, or the process's peak RSS.
double peak_mib(const vmt::DeviceSpec& d) {
#if VMT_WITH_CUDA
  if (d.kind == vmt::DeviceKind::Cuda) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(d.index);
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 20);
  }
#endif
  (void)d;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

/// RGB24 frames: from --raw, or a picture with moving discs on gradients.
std::vector<std::vector<std::uint8_t>> load_frames(const Options& opt, int count) {
  const auto bytes = static_cast<std::size_t>(opt.width) * opt.height * 3;
  std::vector<std::vector<std::uint8_t>> frames;
  if (!opt.raw.empty()) {
    std::ifstream in(opt.raw, std::ios::binary);
    if (!in) throw vmt::Error(vmt::ErrorCode::NotFound, "cannot open --raw " + opt.raw);
    std::vector<std::uint8_t> frame(bytes);
    while (in.read(reinterpret_cast<char*>(frame.data()), static_cast<std::streamsize>(bytes))) {
      frames.push_back(frame);
    }
    if (frames.empty()) {
      throw vmt::Error(vmt::ErrorCode::InvalidArgument,
                       opt.raw + " holds no whole " + std::to_string(opt.width) + "x" +
                           std::to_string(opt.height) + " RGB24 frame");
    }
    for (std::size_t i = 0; frames.size() < static_cast<std::size_t>(count); ++i) {
      frames.push_back(frames[i]);  // loop the video
    }
    return frames;
  }
  for (int t = 0; t < count; ++t) {
    std::vector<std::uint8_t> rgb(bytes);
    for (int y = 0; y < opt.height; ++y) {
      for (int x = 0; x < opt.width; ++x) {
        auto* p = &rgb[(static_cast<std::size_t>(y) * opt.width + x) * 3];
        const double u = static_cast<double>(x) / opt.width, v = static_cast<double>(y) / opt.height;
        const double cx = 0.3 + 0.01 * t, cy = 0.5, r = 0.15;
        const bool disc = (u - cx) * (u - cx) + (v - cy) * (v - cy) < r * r;
        const bool square = std::abs(u - 0.75) < 0.1 && std::abs(v - 0.4 - 0.005 * t) < 0.12;
        p[0] = static_cast<std::uint8_t>(disc ? 230 : 40 + 100 * u);
        p[1] = static_cast<std::uint8_t>(square ? 220 : 60 + 80 * v);
        p[2] = static_cast<std::uint8_t>(disc || square ? 30 : 160);
      }
    }
    frames.push_back(std::move(rgb));
  }
  return frames;
}

/// Median and minimum of repeated measurements, with the stage times of the median one.
struct Measured {
  double median = 0, minimum = 0;
  vmt::StageTimings stages;
};

Measured summarise(std::vector<std::pair<double, vmt::StageTimings>> runs) {
  std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Measured m;
  m.minimum = runs.front().first;
  m.median = runs[runs.size() / 2].first;
  m.stages = runs[runs.size() / 2].second;
  return m;
}

void add(vmt::StageTimings& sum, const vmt::StageTimings& t) {
  sum.preprocess_ms += t.preprocess_ms;
  sum.encode_ms += t.encode_ms;
  sum.decode_ms += t.decode_ms;
  sum.masks_ms += t.masks_ms;
  sum.refine_ms += t.refine_ms;
  sum.output_ms += t.output_ms;
  sum.total_ms += t.total_ms;
  sum.frames_encoded += t.frames_encoded;
}

vmt::StageTimings scaled(vmt::StageTimings t, double by) {
  t.preprocess_ms /= by;
  t.encode_ms /= by;
  t.decode_ms /= by;
  t.masks_ms /= by;
  t.refine_ms /= by;
  t.output_ms /= by;
  t.total_ms /= by;
  return t;
}

void print_stages(const vmt::StageTimings& t) {
  std::printf("      stages: preprocess %.1f  backbone+encoder %.1f  decoder+heads %.1f  "
              "coarse masks %.1f  refinement %.1f  output (masks, crops, RLE) %.1f ms\n",
              t.preprocess_ms, t.encode_ms, t.decode_ms, t.masks_ms, t.refine_ms, t.output_ms);
}

using Views = std::vector<vmt::ImageView>;

/// One measurement: ms per emitted frame and the per-emitted-frame stage times; `reference`:
/// the run is the comparison's.
using Run = std::function<std::pair<double, vmt::StageTimings>(vmt::Engine&, bool reference)>;

/// Offline clips (the scheduler's arithmetic): clip k covers [k·(C−O), k·(C−O) + C).
Run offline_run(const Options& opt, const Views& views) {
  return [&opt, &views](vmt::Engine& engine, bool) {
    engine.clear_cache();
    vmt::StageTimings sum;
    int emitted = 0;
    const double start = now_ms();
    for (int k = 0; k < opt.clips; ++k) {
      const int begin = k * (opt.clip - opt.overlap);
      const vmt::TubeInput input{begin, std::span(views).subspan(begin, opt.clip),
                                 {std::max(begin, emitted), begin + opt.clip}};
      engine.run_tube(input);
      add(sum, engine.last_timings());
      emitted = begin + opt.clip;
    }
    const double ms = now_ms() - start;
    return std::pair{ms / emitted, scaled(sum, emitted)};
  };
}

/// Online steady state at tube length `tube`: fill the tube, then `steps` steps of one frame;
/// with --pipeline (not for --compare-pipeline's reference) through an EnginePipeline, whose
/// last result is waited for within the measured time.
Run online_run(const Options& opt, const Views& views, int tube) {
  return [&opt, &views, tube](vmt::Engine& engine, bool reference) {
    engine.clear_cache();
    vmt::EnginePipeline steps(engine, opt.pipeline && !reference);
    auto input = [&](int newest) {
      const int begin = std::max(0, newest - tube + 1);
      return vmt::TubeInput{begin, std::span(views).subspan(begin, newest - begin + 1),
                            {newest, newest + 1}};
    };
    for (int f = 0; f < tube; ++f) steps.push(input(f));  // filling the tube (not measured)
    vmt::StageTimings sum;
    const double start = now_ms();
    for (int s = 0; s < opt.steps; ++s) {
      if (steps.push(input(tube + s))) add(sum, engine.last_timings());
    }
    if (steps.flush()) add(sum, engine.last_timings());
    return std::pair{(now_ms() - start) / opt.steps, scaled(sum, opt.steps)};
  };
}

/// Runs `run` on the default engine (and the all-frames one with --compare), alternating, and
/// prints the results.
void measure(const char* label, const Run& run, vmt::Engine& engine, vmt::Engine* reference,
             const Options& opt, const vmt::DeviceSpec& device) {
  reset_peak(device);
  run(engine, false);  // warm-up
  if (reference) run(*reference, true);
  std::vector<std::pair<double, vmt::StageTimings>> mine, theirs;
  std::vector<double> ratios;
  for (int r = 0; r < opt.repeats; ++r) {
    mine.push_back(run(engine, false));
    if (reference) {
      theirs.push_back(run(*reference, true));
      ratios.push_back(theirs.back().first / mine.back().first);
    }
  }
  const auto m = summarise(mine);
  std::printf("%-34s %9.2f ms median, %9.2f min   (peak %.0f MiB)\n", label, m.median, m.minimum,
              peak_mib(device));
  print_stages(m.stages);
  if (!reference) return;
  const auto t = summarise(theirs);
  std::sort(ratios.begin(), ratios.end());
  std::printf("  %-31s %9.2f ms median, %9.2f min\n",
              opt.compare_workers    ? "one CPU worker"
              : opt.compare_pipeline ? "steps one after the other"
                                     : "all-frames path (before)",
              t.median,
              t.minimum);
  print_stages(t.stages);
  std::printf("  speed-up, pairwise              %9.2fx median, %.2fx min, %.2fx max\n",
              ratios[ratios.size() / 2], ratios.front(), ratios.back());
}

vmt::Precision precision_of(const std::string& name) {
  if (name == "fp16") return vmt::Precision::Float16;
  if (name == "bf16") return vmt::Precision::BFloat16;
  if (name == "fp32") return vmt::Precision::Float32;
  throw vmt::Error(vmt::ErrorCode::InvalidArgument, "--precision: fp32, fp16 or bf16");
}

void run(const Options& opt, const std::string& model_path) {
  vmt::EngineOptions o;
  o.model_path = model_path;
  o.device = vmt::parse_device(opt.device);
  o.precision = precision_of(opt.precision);
  if (opt.input_size >= 0) o.input_size = opt.input_size;  // else the model file's preference
  if (opt.point_limit >= 0) o.point_limit = opt.point_limit;
  o.padded_points = opt.padded_points;
  o.device_selection = opt.device_selection;
  o.threads = opt.threads;
  o.cpu_workers = opt.workers;
  o.stage_timings = true;
  const auto device = vmt::resolve_device(o.device);
  int longest = opt.clips * (opt.clip - opt.overlap) + opt.overlap;
  for (const int t : opt.tubes) longest = std::max(longest, t + opt.steps);
  const auto pixels = load_frames(opt, longest);
  Views views;
  for (const auto& p : pixels) {
    views.push_back({vmt::PixelFormat::RGB, opt.width, opt.height, {p.data(), nullptr, nullptr},
                     {opt.width * 3, 0, 0}});
  }
  vmt::Engine engine(o);
  std::unique_ptr<vmt::Engine> reference;
  if (opt.compare) {
    o.mask_scope = vmt::MaskScope::AllFrames;
    reference = std::make_unique<vmt::Engine>(o);
  } else if (opt.compare_workers) {
    o.cpu_workers = 1;
    reference = std::make_unique<vmt::Engine>(o);
  } else if (opt.compare_pipeline) {
    reference = std::make_unique<vmt::Engine>(o);
  }
  std::printf("model %s (%s), frames %dx%d%s, input shorter edge %d, %s, %s, %d thread(s), "
              "%d CPU worker(s), points per frame %s%s, %d repeat(s)%s\n",
              engine.model().name.c_str(), engine.model().architecture.c_str(), opt.width,
              opt.height, opt.raw.empty() ? " synthetic" : (" from " + opt.raw).c_str(),
              engine.settings().input_size, vmt::describe_device(device).c_str(),
              opt.precision.c_str(), at::get_num_threads(), engine.settings().cpu_workers,
              engine.settings().point_limit > 0 ? std::to_string(engine.settings().point_limit).c_str()
                                                : "exact",
              opt.padded_points ? (opt.device_selection ? " (padded, device selection)" : " (padded)")
                                : (opt.device_selection ? " (device selection)" : ""),
              opt.repeats, opt.pipeline ? ", online steps pipelined" : "");
  if (opt.mode != "online") {
    char label[96];
    std::snprintf(label, sizeof label, "offline %d/%d clips, per frame", opt.clip, opt.overlap);
    measure(label, offline_run(opt, views), engine, reference.get(), opt, device);
  }
  if (opt.mode != "offline") {
    for (const int tube : opt.tubes) {
      char label[96];
      std::snprintf(label, sizeof label, "online tube %2d, per step", tube);
      measure(label, online_run(opt, views, tube), engine, reference.get(), opt, device);
    }
  }
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench-engine [--model FILE | --preset NAME] [--size WxH] [--input-size N]\n"
               "                    [--raw FILE] [--device D] [--precision fp32|fp16|bf16]\n"
               "                    [--mode both|offline|online] [--clip C] [--overlap O]\n"
               "                    [--clips N] [--tubes 1,10,30] [--steps N] [--repeats N]\n"
               "                    [--point-limit N] [--padded-points] [--device-selection]\n"
               "                    [--compare | --compare-workers | --compare-pipeline]\n"
               "                    [--pipeline] [--threads N] [--workers N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a line as soon as it is measured
  Options opt;
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--compare") {
      opt.compare = true;
    } else if (key == "--compare-workers") {
      opt.compare_workers = true;
    } else if (key == "--pipeline") {
      opt.pipeline = true;
    } else if (key == "--compare-pipeline") {
      opt.compare_pipeline = opt.pipeline = true;
    } else if (key == "--padded-points") {
      opt.padded_points = true;
    } else if (key == "--device-selection") {
      opt.device_selection = true;
    } else if (key.rfind("--", 0) == 0 && i + 1 < argc) {
      args[key] = argv[++i];
    } else {
      return usage();
    }
  }
  try {
    auto text = [&](const char* key, std::string& out) {
      if (args.count(key)) out = args.at(key);
    };
    auto num = [&](const char* key, int& out) {
      if (args.count(key)) out = std::stoi(args.at(key));
    };
    text("--model", opt.model);
    text("--preset", opt.preset);
    text("--raw", opt.raw);
    text("--device", opt.device);
    text("--precision", opt.precision);
    text("--mode", opt.mode);
    if (args.count("--size")) {
      const auto s = args.at("--size");
      opt.width = std::stoi(s.substr(0, s.find('x')));
      opt.height = std::stoi(s.substr(s.find('x') + 1));
    }
    if (args.count("--tubes")) opt.tubes = parse_list(args.at("--tubes"));
    num("--input-size", opt.input_size);
    num("--clip", opt.clip);
    num("--overlap", opt.overlap);
    num("--clips", opt.clips);
    num("--steps", opt.steps);
    num("--repeats", opt.repeats);
    num("--point-limit", opt.point_limit);
    num("--threads", opt.threads);
    num("--workers", opt.workers);
    if (opt.compare + opt.compare_workers + opt.compare_pipeline > 1) return usage();
    if (opt.repeats < 1 || opt.steps < 1 || opt.clips < 1 || opt.overlap >= opt.clip) return usage();
    if (!opt.model.empty()) {
      run(opt, opt.model);
      return 0;
    }
    const auto path = (std::filesystem::temp_directory_path() /
                       ("bench-engine-" + opt.preset + "-" + std::to_string(::getpid()) +
                        ".safetensors"))
                          .string();
    vmt::engine::ModelHeader header;
    header.config = vmt::model::preset(opt.preset);
    header.labels = {"object"};
    header.name = "random " + opt.preset;
    vmt::engine::save_model(vmt::engine::init_model(header.config, 1), header, path);
    run(opt, path);
    std::filesystem::remove(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-engine: %s\n", e.what());
    return 1;
  }
  return 0;
}
