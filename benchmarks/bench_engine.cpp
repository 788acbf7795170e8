// vmt::Engine end to end (preprocess, detector, masks, RLE) on synthetic frames with a randomly
// initialised model of a preset:
//   offline: ms/frame of one clip of --frames frames (no cache);
//   online:  ms/frame of tubes of --tube frames sliding by one (each step adds one frame), with
//            and without the feature cache, over --steps steps after the first tube;
//   peak memory: CUDA torch max_memory_allocated, CPU the process's peak RSS.
//
//   bench-engine [--preset vmt_r50] [--size 640x360] [--input-size 360] [--frames 40]
//                [--tube 30] [--steps 10] [--device auto|cpu|cuda:N]
// Defaults are the GPU setting; on a CPU use e.g. --frames 6 --tube 4 --steps 3 --size 320x180.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#if VMT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "engine/model_file.h"
#include "vmt/device.h"
#include "vmt/engine.h"
#include "vmt/error.h"

namespace {

struct Options {
  std::string preset = "vmt_r50";
  int width = 640, height = 360, input_size = 360, frames = 40, tube = 30, steps = 10;
  std::string device = "auto";
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

std::vector<std::vector<std::uint8_t>> make_frames(int count, int w, int h) {
  std::vector<std::vector<std::uint8_t>> frames;
  for (int t = 0; t < count; ++t) {
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * h * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>((i * 7 + t * 13) % 251);
    frames.push_back(std::move(rgb));
  }
  return frames;
}

double online_ms_per_frame(vmt::EngineOptions o, bool cache, const Options& opt,
                           const std::vector<vmt::ImageView>& views) {
  o.feature_cache = cache;
  vmt::Engine engine(o);
  engine.run_tube(0, std::span(views).subspan(0, opt.tube));  // fills the cache / warms up
  const double start = now_ms();
  for (int s = 1; s <= opt.steps; ++s) engine.run_tube(s, std::span(views).subspan(s, opt.tube));
  return (now_ms() - start) / opt.steps;
}

void run(const Options& opt, const std::string& model_path) {
  vmt::EngineOptions o;
  o.model_path = model_path;
  o.device = vmt::parse_device(opt.device);
  o.input_size = opt.input_size;
  const auto device = vmt::resolve_device(o.device);
  const auto pixels = make_frames(std::max(opt.frames, opt.tube + opt.steps), opt.width, opt.height);
  std::vector<vmt::ImageView> views;
  for (const auto& p : pixels) {
    views.push_back({vmt::PixelFormat::RGB, opt.width, opt.height, {p.data(), nullptr, nullptr},
                     {opt.width * 3, 0, 0}});
  }
  std::printf("preset %s, frames %dx%d, input shorter edge %d, device %s\n", opt.preset.c_str(),
              opt.width, opt.height, opt.input_size, vmt::describe_device(device).c_str());

  reset_peak(device);
  {
    o.feature_cache = false;
    vmt::Engine engine(o);
    engine.run_tube(0, std::span(views).subspan(0, 2));  // warm-up
    const double start = now_ms();
    engine.run_tube(0, std::span(views).subspan(0, opt.frames));
    std::printf("offline  %3d-frame clip        : %9.1f ms/frame   (peak %.0f MiB)\n", opt.frames,
                (now_ms() - start) / opt.frames, peak_mib(device));
  }
  reset_peak(device);
  const double cached = online_ms_per_frame(o, true, opt, views);
  std::printf("online   tube %2d, feature cache : %9.1f ms/frame   (peak %.0f MiB)\n", opt.tube,
              cached, peak_mib(device));
  reset_peak(device);
  const double uncached = online_ms_per_frame(o, false, opt, views);
  std::printf("online   tube %2d, no cache      : %9.1f ms/frame   (peak %.0f MiB)\n", opt.tube,
              uncached, peak_mib(device));
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  auto num = [&](const char* key, int& out) {
    if (args.count(key)) out = std::stoi(args[key]);
  };
  if (args.count("--preset")) opt.preset = args["--preset"];
  if (args.count("--device")) opt.device = args["--device"];
  if (args.count("--size")) {
    const auto s = args["--size"];
    opt.width = std::stoi(s.substr(0, s.find('x')));
    opt.height = std::stoi(s.substr(s.find('x') + 1));
  }
  num("--input-size", opt.input_size);
  num("--frames", opt.frames);
  num("--tube", opt.tube);
  num("--steps", opt.steps);
  try {
    const auto path = (std::filesystem::temp_directory_path() /
                       ("bench-engine-" + opt.preset + ".safetensors")).string();
    vmt::engine::ModelHeader header;
    header.config = vmt::model::preset(opt.preset);
    header.labels = {"object"};
    header.name = "bench";
    vmt::engine::save_model(vmt::engine::init_model(header.config, 1), header, path);
    run(opt, path);
    std::filesystem::remove(path);
  } catch (const vmt::Error& e) {
    std::fprintf(stderr, "bench-engine: %s\n", e.what());
    return 1;
  }
  return 0;
}
