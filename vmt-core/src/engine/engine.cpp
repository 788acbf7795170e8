// vmt::Engine: model file → device → tubes of frames → instances with RLE masks.
#include "vmt/engine.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <ATen/ops/tensor.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>

#include "../model/tube_inference.h"
#include "cpu_heap.h"
#include "frame_encoder.h"
#include "mask_output.h"
#include "model_file.h"
#include "preprocess.h"
#include "vmt/error.h"

namespace vmt {

// --- Engine ------------------------------------------------------------------------------------

namespace {

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::Float32: return "fp32";
    case Precision::Float16: return "fp16";
    case Precision::BFloat16: return "bf16";
  }
  return "?";
}

torch::ScalarType scalar_type(Precision p) {
  switch (p) {
    case Precision::Float16: return torch::kHalf;
    case Precision::BFloat16: return torch::kBFloat16;
    default: return torch::kFloat32;
  }
}

/// Runs `fn`, turning LibTorch and standard exceptions into vmt::Error naming `what`.
template <typename Fn>
auto translate_errors(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (const c10::OutOfMemoryError& e) {
    throw Error(ErrorCode::OutOfMemory, what + ": out of device memory: " +
                                            std::string(e.what_without_backtrace()));
  } catch (const c10::Error& e) {
    throw Error(ErrorCode::Internal, what + ": LibTorch error: " +
                                         std::string(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory, what + ": out of host memory");
  } catch (const std::exception& e) {
    throw Error(ErrorCode::Internal, what + ": " + e.what());
  }
}

void validate_options(const EngineOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error(ErrorCode::InvalidArgument, "EngineOptions: " + what);
  };
  require(!o.model_path.empty(), "model_path is empty");
  require(!o.input_size || *o.input_size == 0 || *o.input_size >= 32,
          "input_size must be 0 (native) or >= 32, got " + std::to_string(o.input_size.value_or(0)));
  require(!o.max_instances || *o.max_instances >= 1, "max_instances must be >= 1");
  require(!o.score_threshold || (std::isfinite(*o.score_threshold) && *o.score_threshold >= 0.f),
          "score_threshold must be finite and >= 0");
  require(!o.point_limit || *o.point_limit >= 0, "point_limit must be >= 0 (0 = exact)");
  require(o.threads >= 0 && o.threads <= 1024, "threads must be 0 (auto) … 1024");
  require(o.cpu_workers >= 0 && o.cpu_workers <= 1024, "cpu_workers must be 0 (auto) … 1024");
}

/// EngineOptions::threads resolved: 0 = OMP_NUM_THREADS where the user set it, else one less
/// than the cores (a core stays with GStreamer's threads), at least 1.
int intra_op_threads(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
  }
  const auto cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores - 1);
}

/// EngineOptions::cpu_workers' auto value: the cores the intra-op threads leave room for.
int cpu_workers_for(int intra_op_threads) {
  const auto cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, intra_op_threads));
}

/// The options with every unset value taken from the model file, else the built-in default, and
/// a warning for an input size far from the sizes the model was trained on.
EngineSettings resolve_settings(const EngineOptions& o, const ModelInfo& model) {
  const auto& d = model.defaults;
  EngineSettings s;
  s.input_size = o.input_size.value_or(d.input_size.value_or(kDefaultInputSize));
  s.max_instances = o.max_instances.value_or(d.max_instances.value_or(kDefaultMaxInstances));
  s.score_threshold = o.score_threshold.value_or(d.score_threshold.value_or(kDefaultScoreThreshold));
  s.point_limit = o.point_limit.value_or(d.point_limit.value_or(kExactPointLimit));
  s.selection = o.selection;
  s.threads = intra_op_threads(o.threads);
  s.cpu_workers = o.cpu_workers > 0 ? o.cpu_workers : cpu_workers_for(s.threads);
  // Far = more than 1.5 times outside the trained range: the model has not seen such scales.
  const auto lo = d.trained_min_size.value_or(d.input_size.value_or(0));
  const auto hi = d.trained_max_size.value_or(d.input_size.value_or(0));
  if (lo > 0 && hi > 0 && s.input_size > 0 &&
      (s.input_size * 3 < lo * 2 || s.input_size * 2 > hi * 3)) {
    const auto range = lo == hi ? std::to_string(lo) : std::to_string(lo) + "–" + std::to_string(hi);
    s.warnings.push_back("input size " + std::to_string(s.input_size) +
                         " is far from the size the model " + model.name + " was trained at (" +
                         range + "); expect poor results (leave it unset to use the model's " +
                         std::to_string(d.input_size.value_or(hi)) + ")");
  }
  return s;
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

torch::Device torch_device(const DeviceSpec& spec) {
  if (spec.kind == DeviceKind::Cuda) {
    return {torch::kCUDA, static_cast<c10::DeviceIndex>(spec.index)};
  }
  return torch::Device(torch::kCPU);
}

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  ModelInfo info;
  DeviceSpec device_spec;
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
  /// The weights' and the model input's dtype: half for fp16, else fp32 (bf16 is autocast).
  torch::ScalarType weights_dtype() const {
    return dtype == torch::kHalf ? torch::kHalf : torch::kFloat32;
  }
  model::ModelConfig config;
  engine::Model module{nullptr};
  // The two halves of a call each have their lock, so that begin (preprocess, `encoder`, decoder)
  // of one tube can run beside finish (masks, output) of an earlier one; they share only the
  // module's weights, which inference reads.
  std::mutex begin_mutex;   // begin / clear_cache / cached: `encoder`
  std::mutex finish_mutex;  // finish
  std::mutex timings_mutex;  // `timings`
  engine::FrameEncoder encoder;
  EngineSettings settings;
  StageTimings timings;  // of the last finished tube

  explicit Impl(const EngineOptions& o);
  PendingTube::State begin(const TubeInput& input);
  TubeResult finish(PendingTube::State& pending);
  /// Marks the end of a stage in `t`: synchronises the device first (stage_timings only).
  void mark(StageTimings& t, double StageTimings::*slot,
            std::chrono::steady_clock::time_point& since);
  model::TubeRequest request_for(std::int64_t mask_begin, std::int64_t mask_end) const;
};

/// What begin_tube hands to finish_tube.
struct PendingTube::State {
  const void* engine = nullptr;  // the engine (Impl) that began it
  std::int64_t first_frame = 0, count = 0;
  int height = 0, width = 0;  // the frames' own size
  std::int64_t mask_begin = 0, mask_end = 0;
  model::DecodedTube decoded;
  model::FrameFeatures mask_features;  // the mask frames', with the refinement inputs
  torch::Tensor mask_images;           // [M, 3, h, w] their model input
  StageTimings timings;                // begin's stages
};

PendingTube::PendingTube() = default;
PendingTube::~PendingTube() = default;
PendingTube::PendingTube(PendingTube&&) noexcept = default;
PendingTube& PendingTube::operator=(PendingTube&&) noexcept = default;

FrameRange PendingTube::frames() const noexcept {
  if (!state_) return {};
  return {state_->first_frame, state_->first_frame + state_->count};
}

Engine::Impl::Impl(const EngineOptions& o)
    : options(o), encoder(o.feature_cache, o.mask_scope == MaskScope::AllFrames) {
  validate_options(o);
  device_spec = resolve_device(o.device);
  if (o.precision == Precision::Float16 && device_spec.kind != DeviceKind::Cuda) {
    throw Error(ErrorCode::InvalidArgument,
                "precision " + precision_name(o.precision) + " needs a CUDA device; the engine " +
                    "runs on " + device_spec.to_string() +
                    " (use fp32 there, or bf16 on a CPU with bf16 instructions)");
  }
  if (o.precision == Precision::BFloat16 && device_spec.kind != DeviceKind::Cuda &&
      !cpu_has_bf16_instructions()) {
    throw Error(ErrorCode::InvalidArgument,
                "precision bf16 on the CPU needs bf16 instructions (AVX512-BF16 or AMX-BF16), "
                "which this CPU lacks (use fp32 there)");
  }
  device = torch_device(device_spec);
  dtype = scalar_type(o.precision);
  auto loaded = engine::load_model(o.model_path);
  config = loaded.header.config;
  info.name = loaded.header.name;
  info.architecture = config.preset.empty() ? "custom" : config.preset;
  info.labels = loaded.header.labels;
  info.defaults = loaded.header.defaults;
  settings = resolve_settings(o, info);
  if (device_spec.kind == DeviceKind::Cuda) settings.cpu_workers = 1;
  at::set_num_threads(settings.threads);
  if (device_spec.kind != DeviceKind::Cuda) engine::keep_cpu_heap();
  module = loaded.module;
  // fp16 (CUDA) runs the weights and activations in half: every tensor the model code creates
  // follows its inputs' dtype (test HalfWeights runs such a model on the CPU against fp32).
  // bf16 runs as autocast over fp32 weights (RunPrecisionGuard; CUDA, or a CPU with bf16
  // instructions), which keeps the precision-sensitive ops in fp32.
  module->to(device, weights_dtype());
  module->eval();
}

/// Enables autocast to `dtype` on the run's device (CUDA, or the CPU for bf16) for one run when it is not fp32, restoring the previous
/// autocast state afterwards (the engine's callers may use autocast themselves).
class RunPrecisionGuard {
 public:
  RunPrecisionGuard(torch::ScalarType dtype, at::DeviceType device)
      : active_(dtype != torch::kFloat32), device_(device) {
    if (!active_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(device_);
    previous_dtype_ = at::autocast::get_autocast_dtype(device_);
    at::autocast::set_autocast_enabled(device_, true);
    at::autocast::set_autocast_dtype(device_, dtype);
  }
  ~RunPrecisionGuard() {
    if (!active_) return;
    at::autocast::clear_cache();
    at::autocast::set_autocast_dtype(device_, previous_dtype_);
    at::autocast::set_autocast_enabled(device_, was_enabled_);
  }
  RunPrecisionGuard(const RunPrecisionGuard&) = delete;
  RunPrecisionGuard& operator=(const RunPrecisionGuard&) = delete;

 private:
  bool active_;
  at::DeviceType device_;
  bool was_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kHalf;
};

void Engine::Impl::mark(StageTimings& t, double StageTimings::*slot,
                        std::chrono::steady_clock::time_point& since) {
  if (!options.stage_timings) return;
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
  t.*slot += elapsed_ms(since);
  since = std::chrono::steady_clock::now();
}

model::TubeRequest Engine::Impl::request_for(std::int64_t mask_begin, std::int64_t mask_end) const {
  model::TubeRequest request;
  request.mask_begin = mask_begin;
  request.mask_end = mask_end;
  request.coarse_masks = options.mask_scope == MaskScope::Emitted;
  request.selection = settings.selection;
  request.max_instances = settings.max_instances;
  request.num_labels = static_cast<std::int64_t>(info.labels.size());
  request.min_score = settings.score_threshold;
  request.point_limit = settings.point_limit;
  request.padded_points = options.padded_points;
  request.device_selection = options.device_selection;
  request.cpu_workers = settings.cpu_workers;
  return request;
}

namespace {

/// The tube-relative frames [begin, end) that get final masks.
std::pair<std::int64_t, std::int64_t> mask_frames(const TubeInput& input, MaskScope scope) {
  const auto count = static_cast<std::int64_t>(input.frames.size());
  if (scope == MaskScope::AllFrames || input.emit.empty()) return {0, count};
  const FrameRange tube{input.first_frame, input.first_frame + count};
  if (input.emit.begin < tube.begin || input.emit.end > tube.end) {
    throw Error(ErrorCode::InvalidArgument,
                "run_tube: emit frames [" + std::to_string(input.emit.begin) + ", " +
                    std::to_string(input.emit.end) + ") are not all in the tube [" +
                    std::to_string(tube.begin) + ", " + std::to_string(tube.end) + ")");
  }
  return {input.emit.begin - tube.begin, input.emit.end - tube.begin};
}

}  // namespace

PendingTube::State Engine::Impl::begin(const TubeInput& input) {
  const auto frames = input.frames;
  if (frames.empty()) throw Error(ErrorCode::InvalidArgument, "run_tube: no frames");
  const auto height = frames[0].height, width = frames[0].width;
  for (const auto& f : frames) {
    if (f.width != width || f.height != height) {
      throw Error(ErrorCode::InvalidArgument, "run_tube: frames of one tube must have one size");
    }
  }
  const auto count = static_cast<std::int64_t>(frames.size());
  const auto [mask_begin, mask_end] = mask_frames(input, options.mask_scope);
  c10::InferenceMode guard;
  const RunPrecisionGuard precision(weights_dtype() == dtype ? torch::kFloat32 : dtype,
                                    device.type());
  PendingTube::State pending;
  pending.engine = this;
  pending.first_frame = input.first_frame;
  pending.count = count;
  pending.height = height;
  pending.width = width;
  pending.mask_begin = mask_begin;
  pending.mask_end = mask_end;
  auto& t = pending.timings;
  const auto started = std::chrono::steady_clock::now();
  auto since = started;

  // The model input of the frames that are encoded now and of the mask frames, in one pass.
  const auto [h, w] = engine::model_input_size(height, width, settings.input_size);
  const auto missing = encoder.missing(input.first_frame, count, h, w, mask_begin, mask_end);
  std::vector<std::int64_t> needed = missing;
  for (auto f = mask_begin; f < mask_end; ++f) needed.push_back(f);
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
  std::vector<ImageView> views;
  views.reserve(needed.size());
  for (const auto f : needed) views.push_back(frames[static_cast<std::size_t>(f)]);
  const auto images = engine::preprocess(views, settings.input_size, device, weights_dtype());
  auto rows_of = [&](auto first, auto last) {  // rows of `images` holding tube frames first…last
    std::vector<std::int64_t> rows;
    for (auto it = first; it != last; ++it) {
      rows.push_back(std::lower_bound(needed.begin(), needed.end(), *it) - needed.begin());
    }
    return images.index_select(0, at::tensor(rows, torch::kInt64).to(device));
  };
  std::vector<std::int64_t> mask_list;
  for (auto f = mask_begin; f < mask_end; ++f) mask_list.push_back(f);
  pending.mask_images = rows_of(mask_list.begin(), mask_list.end());
  const auto new_images = rows_of(missing.begin(), missing.end());
  mark(t, &StageTimings::preprocess_ms, since);

  auto& detector = engine::detector_of(module);
  auto encoded = encoder.encode(detector, input.first_frame, count, new_images, missing,
                                mask_begin, mask_end, settings.cpu_workers);
  t.frames_encoded = static_cast<std::int64_t>(missing.size());
  mark(t, &StageTimings::encode_ms, since);

  model::StageTimes stages;  // the decoder and the coarse masks (encode_frames also marks heads_ms)
  pending.decoded = model::decode_and_select(module, encoded.tube, request_for(mask_begin, mask_end),
                                             options.stage_timings ? &stages : nullptr);
  pending.mask_features = std::move(encoded.masks);
  since = std::chrono::steady_clock::now();
  if (options.stage_timings) {
    t.decode_ms = stages.decoder_ms + stages.heads_ms;
    t.masks_ms = stages.masks_ms;
    t.total_ms = elapsed_ms(started);
  }
  return pending;
}

TubeResult Engine::Impl::finish(PendingTube::State& pending) {
  c10::InferenceMode guard;
  const RunPrecisionGuard precision(weights_dtype() == dtype ? torch::kFloat32 : dtype,
                                    device.type());
  auto t = pending.timings;
  const auto started = std::chrono::steady_clock::now();
  auto since = started;
  model::StageTimes stages;  // the refinement
  const auto out = model::tube_masks(module, pending.decoded, pending.mask_features,
                                     pending.mask_images,
                                     request_for(pending.mask_begin, pending.mask_end),
                                     options.stage_timings ? &stages : nullptr);
  since = std::chrono::steady_clock::now();
  if (options.stage_timings) t.refine_ms = stages.refine_ms;

  TubeResult result;
  result.frames = {pending.first_frame, pending.first_frame + pending.count};
  engine::TubeLogits logits;
  logits.selection = &out.selection;
  // Post-processing in fp32 whatever the run's precision.
  logits.final_logits = out.final_logits.to(torch::kFloat32);
  if (out.coarse_logits.defined()) logits.coarse_logits = out.coarse_logits.to(torch::kFloat32);
  logits.mask_begin = pending.mask_begin;
  logits.tube_frames = pending.count;
  result.instances = engine::assemble_instances(logits, pending.height, pending.width,
                                                settings.score_threshold,
                                                static_cast<std::int64_t>(info.labels.size()));
  mark(t, &StageTimings::output_ms, since);
  if (options.stage_timings) t.total_ms += elapsed_ms(started);
  std::lock_guard lock(timings_mutex);
  timings = t;
  return result;
}

Engine::Engine(const EngineOptions& options)
    : impl_(translate_errors("loading model " + options.model_path,
                             [&] { return std::make_unique<Impl>(options); })) {}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

const ModelInfo& Engine::model() const noexcept { return impl_->info; }

const EngineSettings& Engine::settings() const noexcept { return impl_->settings; }

DeviceSpec Engine::device() const noexcept { return impl_->device_spec; }

TubeResult Engine::run_tube(const TubeInput& input) { return finish_tube(begin_tube(input)); }

PendingTube Engine::begin_tube(const TubeInput& input) {
  std::lock_guard lock(impl_->begin_mutex);
  PendingTube pending;
  pending.state_ = translate_errors("run_tube", [&] {
    return std::make_unique<PendingTube::State>(impl_->begin(input));
  });
  return pending;
}

TubeResult Engine::finish_tube(PendingTube pending) {
  if (!pending.state_ || pending.state_->engine != impl_.get()) {
    throw Error(ErrorCode::InvalidArgument,
                pending.state_ ? "finish_tube: the tube was begun by another engine"
                               : "finish_tube: no tube (empty or already finished)");
  }
  std::lock_guard lock(impl_->finish_mutex);
  return translate_errors("run_tube", [&] { return impl_->finish(*pending.state_); });
}

TubeResult Engine::run_tube(std::int64_t first_frame, std::span<const ImageView> frames) {
  return run_tube(TubeInput{first_frame, frames, {}});
}

StageTimings Engine::last_timings() const {
  std::lock_guard lock(impl_->timings_mutex);
  return impl_->timings;
}

void Engine::clear_cache() {
  std::lock_guard lock(impl_->begin_mutex);
  impl_->encoder.clear();
}

std::size_t Engine::cached_frames() const {
  std::lock_guard lock(impl_->begin_mutex);
  return impl_->encoder.cached();
}

}  // namespace vmt
