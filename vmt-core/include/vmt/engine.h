// The model engine: loads a VMT weights file and runs tubes of frames. This header is the whole
// interface the GStreamer element and the tools see: no LibTorch and no GStreamer types (pimpl).
//
// Thread safety: one Engine may be called from any thread, one call at a time per Engine (calls
// are serialised internally); separate Engines are independent.
// Errors: every failure is a vmt::Error (vmt/error.h) with a message naming the cause — a missing
// or corrupt model file, a wrong architecture, CUDA requested but absent, out of GPU memory.
// LibTorch exceptions never cross this interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vmt/device.h"
#include "vmt/identity.h"
#include "vmt/image.h"

namespace vmt {

enum class Precision { Float32, Float16, BFloat16 };

struct EngineOptions {
  std::string model_path;            ///< a .safetensors file written by vmt-convert or vmt-train
  DeviceSpec device{};               ///< auto, cpu, cuda:N (resolved with resolve_device)
  Precision precision = Precision::Float32;  ///< fp16 / bf16 need a CUDA device
  int input_size = 360;              ///< shorter edge the frames are resized to; 0 = native size
  int max_instances = 10;            ///< top-K (query, class) pairs kept per tube
  float score_threshold = 0.001f;    ///< pairs scoring below are dropped
  bool feature_cache = true;         ///< reuse per-frame backbone/encoder outputs across tubes
};

/// What the model file says about itself.
struct ModelInfo {
  std::string name;                 ///< e.g. "vmt_r50", "vmt_tiny_synthetic"
  std::string architecture;         ///< preset the weights were built for
  std::vector<std::string> labels;  ///< class names; category c (1-based) is labels[c - 1]
};

class Engine {
 public:
  /// Loads the weights and prepares the device. Throws vmt::Error.
  explicit Engine(const EngineOptions& options);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelInfo& model() const noexcept;
  /// The device actually in use (never Auto).
  DeviceSpec device() const noexcept;

  /// Runs VMT on one tube: `frames[i]` is stream frame `first_frame + i`, all the same size.
  /// Returns the tube's instances (top-K, scores ≥ threshold, categories 1-based), each with one
  /// COCO RLE mask per frame at the frames' own resolution. With the feature cache on, frames seen
  /// in the previous call under the same index are not run through the backbone/encoder again;
  /// the result is the same as without the cache.
  TubeResult run_tube(std::int64_t first_frame, std::span<const ImageView> frames);

  /// Forgets cached per-frame features (flush, seek, caps change, new stream).
  void clear_cache();

  /// Number of frames whose features are cached now (at most the last tube's length).
  std::size_t cached_frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmt
