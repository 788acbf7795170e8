// vmt::Engine: model file → device → tubes of frames → instances with RLE masks.
#include "vmt/engine.h"

#include <ATen/autocast_mode.h>

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <torch/nn/functional/upsampling.h>

#include <ATen/ops/tensor.h>
#include <ATen/ops/topk.h>

#include <cmath>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <utility>

#include "model_file.h"
#include "postprocess.h"
#include "preprocess.h"
#include "vmt/error.h"

namespace vmt {

namespace F = torch::nn::functional;

// --- post-processing (postprocess.h) ---------------------------------------------------------

namespace engine {

std::vector<Pick> top_pairs(const torch::Tensor& logits, std::int64_t k) {
  const auto scores = logits.to(torch::kFloat32).sigmoid().flatten().cpu();
  const auto classes = logits.size(1);
  const auto [values, indices] = at::topk(scores, std::min<std::int64_t>(k, scores.numel()));
  std::vector<Pick> picks;
  const auto v = values.accessor<float, 1>();
  const auto i = indices.accessor<std::int64_t, 1>();
  for (std::int64_t n = 0; n < v.size(0); ++n) {
    picks.push_back({i[n] / classes, i[n] % classes, v[n]});
  }
  return picks;
}

std::vector<std::int64_t> distinct_queries(const std::vector<Pick>& picks) {
  std::vector<std::int64_t> queries;
  for (const auto& p : picks) {
    if (std::find(queries.begin(), queries.end(), p.query) == queries.end()) {
      queries.push_back(p.query);
    }
  }
  return queries;
}

std::vector<Rle> masks_to_rle(const torch::Tensor& logits, std::int64_t frame_height,
                              std::int64_t frame_width) {
  const auto resized = F::interpolate(logits.to(torch::kFloat32).unsqueeze(1),
                                      F::InterpolateFuncOptions()
                                          .size(std::vector<std::int64_t>{frame_height, frame_width})
                                          .mode(torch::kBilinear)
                                          .align_corners(false));
  const auto binary = (resized.sigmoid() > 0.5).to(torch::kUInt8).cpu().contiguous();
  const MaskSize size{static_cast<std::uint32_t>(frame_height),
                      static_cast<std::uint32_t>(frame_width)};
  std::vector<Rle> rles;
  const auto* data = binary.data_ptr<std::uint8_t>();
  for (std::int64_t t = 0; t < binary.size(0); ++t) {
    const std::span<const std::uint8_t> frame(data + t * size.pixels(), size.pixels());
    rles.push_back(rle_encode(BitmapView{frame, size}));
  }
  return rles;
}

std::vector<TubeInstance> assemble_instances(const std::vector<Pick>& picks,
                                             const std::vector<std::int64_t>& queries,
                                             const torch::Tensor& mask_logits,
                                             std::int64_t frame_height, std::int64_t frame_width,
                                             float score_threshold, std::int64_t num_labels) {
  auto wanted = [&](const Pick& p) {
    return p.score >= score_threshold && p.cls >= 1 && p.cls <= num_labels;
  };
  std::vector<TubeInstance> instances;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    bool any = false;
    for (const auto& p : picks) any = any || (p.query == queries[q] && wanted(p));
    if (!any) continue;  // no mask work for queries whose pairs are all dropped
    auto masks = masks_to_rle(mask_logits[static_cast<std::int64_t>(q)], frame_height, frame_width);
    bool empty = true;
    for (const auto& m : masks) empty = empty && rle_area(m) == 0;
    if (empty) continue;  // the official 'skip'
    for (const auto& p : picks) {
      if (p.query != queries[q] || !wanted(p)) continue;
      instances.push_back({p.score, static_cast<int>(p.cls), masks});
    }
  }
  return instances;
}

// --- feature cache -----------------------------------------------------------------------------

/// Per-frame detector features (model::FrameFeatures of one frame) keyed by stream frame index,
/// for one input size. Holds at most the frames of the last tube.
class FeatureCache {
 public:
  /// The cached features of `frame` at input size (h, w), or nullptr.
  const model::FrameFeatures* find(std::int64_t frame, std::int64_t h, std::int64_t w) const {
    if (h != height_ || w != width_) return nullptr;
    const auto it = frames_.find(frame);
    return it == frames_.end() ? nullptr : &it->second;
  }
  /// Stores `features` (one frame) for `frame`; a different input size empties the cache first.
  void put(std::int64_t frame, model::FrameFeatures features) {
    if (features.input_height != height_ || features.input_width != width_) clear();
    height_ = features.input_height;
    width_ = features.input_width;
    frames_.insert_or_assign(frame, std::move(features));
  }
  /// Drops every frame outside [begin, end).
  void retain(std::int64_t begin, std::int64_t end) {
    std::erase_if(frames_, [&](const auto& item) { return item.first < begin || item.first >= end; });
  }
  void clear() {
    frames_.clear();
    height_ = width_ = -1;
  }
  std::size_t size() const { return frames_.size(); }

 private:
  std::map<std::int64_t, model::FrameFeatures> frames_;
  std::int64_t height_ = -1, width_ = -1;
};

}  // namespace engine

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
  require(o.input_size == 0 || o.input_size >= 32, "input_size must be 0 (native) or >= 32");
  require(o.max_instances >= 1, "max_instances must be >= 1");
  require(std::isfinite(o.score_threshold) && o.score_threshold >= 0.f,
          "score_threshold must be finite and >= 0");
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
  model::ModelConfig config;
  engine::Model module{nullptr};
  std::mutex mutex;  // serialises run_tube / clear_cache: the module and `cache`
  engine::FeatureCache cache;

  explicit Impl(const EngineOptions& o);
  TubeResult run(std::int64_t first_frame, std::span<const ImageView> frames);
  model::FrameFeatures frame_features(std::int64_t first_frame, const torch::Tensor& images);
  torch::Tensor instance_mask_logits(const model::DetectorOutput& out, const torch::Tensor& images,
                                     const std::vector<std::int64_t>& queries);
};

Engine::Impl::Impl(const EngineOptions& o) : options(o) {
  validate_options(o);
  device_spec = resolve_device(o.device);
  if (o.precision != Precision::Float32 && device_spec.kind != DeviceKind::Cuda) {
    throw Error(ErrorCode::InvalidArgument,
                "precision " + precision_name(o.precision) + " needs a CUDA device; the engine "
                "runs on " + device_spec.to_string() + " (use fp32 there)");
  }
  device = torch_device(device_spec);
  dtype = scalar_type(o.precision);
  auto loaded = engine::load_model(o.model_path);
  config = loaded.header.config;
  info.name = loaded.header.name;
  info.architecture = config.preset.empty() ? "custom" : config.preset;
  info.labels = loaded.header.labels;
  module = loaded.module;
  // fp16/bf16 run as CUDA autocast over fp32 weights (RunPrecisionGuard): the official model
  // mixes fp32 position/reference tensors into its layers, which autocast reconciles per op.
  module->to(device, torch::kFloat32);
  module->eval();
}

model::FrameFeatures Engine::Impl::frame_features(std::int64_t first_frame,
                                                  const torch::Tensor& images) {
  // Every frame goes through the per-frame stage on its own (batch of 1), cached or not, so a
  // tube's features do not depend on which of its frames were cached (bit-exact results).
  auto& detector = engine::detector_of(module);
  const auto t = images.size(0), h = images.size(2), w = images.size(3);
  std::vector<model::FrameFeatures> parts;
  parts.reserve(static_cast<std::size_t>(t));
  for (std::int64_t i = 0; i < t; ++i) {
    const auto frame = first_frame + i;
    if (const auto* hit = options.feature_cache ? cache.find(frame, h, w) : nullptr) {
      parts.push_back(*hit);
      continue;
    }
    auto f = detector->encode_frames(images.slice(0, i, i + 1));
    if (options.feature_cache) cache.put(frame, f);
    parts.push_back(std::move(f));
  }
  if (options.feature_cache) cache.retain(first_frame, first_frame + t);
  return model::FrameFeatures::cat(parts);
}

torch::Tensor Engine::Impl::instance_mask_logits(const model::DetectorOutput& out,
                                                 const torch::Tensor& images,
                                                 const std::vector<std::int64_t>& queries) {
  // The refined masks (official pred_masks_refine), or the coarse ones of the dynamic mask head
  // for models whose refinement head is untrained (ModelConfig::use_refinement).
  const auto index = at::tensor(queries, torch::TensorOptions().dtype(torch::kInt64));
  if (!config.use_refinement) return engine::detector_of(module)->coarse_mask_logits(out, index);
  return model::refine_masks(module, out, images, index);
}

/// Enables CUDA autocast to `dtype` for one run when it is not fp32, restoring the previous
/// autocast state afterwards (the engine's callers may use autocast themselves).
class RunPrecisionGuard {
 public:
  explicit RunPrecisionGuard(torch::ScalarType dtype) : active_(dtype != torch::kFloat32) {
    if (!active_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  }
  ~RunPrecisionGuard() {
    if (!active_) return;
    at::autocast::clear_cache();
    at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
    at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
  }
  RunPrecisionGuard(const RunPrecisionGuard&) = delete;
  RunPrecisionGuard& operator=(const RunPrecisionGuard&) = delete;

 private:
  bool active_;
  bool was_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kHalf;
};

TubeResult Engine::Impl::run(std::int64_t first_frame, std::span<const ImageView> frames) {
  if (frames.empty()) throw Error(ErrorCode::InvalidArgument, "run_tube: no frames");
  const auto height = frames[0].height, width = frames[0].width;
  for (const auto& f : frames) {
    if (f.width != width || f.height != height) {
      throw Error(ErrorCode::InvalidArgument, "run_tube: frames of one tube must have one size");
    }
  }
  c10::InferenceMode guard;
  const RunPrecisionGuard precision(dtype);
  const auto images = engine::preprocess(frames, options.input_size, device, torch::kFloat32);
  const auto features = frame_features(first_frame, images);
  const auto out = engine::detector_of(module)->decode_tube(features);
  const auto picks =
      engine::top_pairs(out.pred_logits[0].to(torch::kFloat32), options.max_instances);
  const auto queries = engine::distinct_queries(picks);
  // Post-processing in fp32 whatever the run's precision.
  const auto logits = instance_mask_logits(out, images, queries).to(torch::kFloat32);

  TubeResult result;
  result.frames = {first_frame, first_frame + static_cast<std::int64_t>(frames.size())};
  result.instances = engine::assemble_instances(picks, queries, logits, height, width,
                                                options.score_threshold,
                                                static_cast<std::int64_t>(info.labels.size()));
  return result;
}

Engine::Engine(const EngineOptions& options)
    : impl_(translate_errors("loading model " + options.model_path,
                             [&] { return std::make_unique<Impl>(options); })) {}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

const ModelInfo& Engine::model() const noexcept { return impl_->info; }

DeviceSpec Engine::device() const noexcept { return impl_->device_spec; }

TubeResult Engine::run_tube(std::int64_t first_frame, std::span<const ImageView> frames) {
  std::lock_guard lock(impl_->mutex);
  return translate_errors("run_tube", [&] { return impl_->run(first_frame, frames); });
}

void Engine::clear_cache() {
  std::lock_guard lock(impl_->mutex);
  impl_->cache.clear();
}

std::size_t Engine::cached_frames() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->cache.size();
}

}  // namespace vmt
