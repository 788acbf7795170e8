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
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmt/device.h"
#include "vmt/identity.h"
#include "vmt/image.h"

namespace vmt {

enum class Precision { Float32, Float16, BFloat16 };

/// Which frames of a tube get final masks, and what association across tubes compares.
enum class MaskScope {
  /// Final (refined) masks only for the frames a call emits; association compares the model's
  /// coarse masks of every frame (cheap, at 1/4 of the input size). Online steps cost the same
  /// whatever the tube's length. The default.
  Emitted,
  /// Final masks of every frame of every tube, and association on them: the engine before it
  /// became real-time, kept as the reference the tests and benchmarks compare against.
  AllFrames,
};

/// The refinement's points per frame for `exact` (the model's own limit, official 12000).
inline constexpr int kExactPointLimit = 0;

/// How a tube's instances are chosen from the model's (query, class) scores.
enum class InstanceSelection {
  /// The official evaluation rule (tools/inference.py): the top K (query, class) pairs, so one
  /// query (one object) may be reported under several classes. What benchmark exports and
  /// comparisons with the official evaluation use. The engine's default.
  TopPairs,
  /// One instance per object: each query with its best class (its other class scores kept in
  /// TubeInstance::class_scores), the top K queries. What pipelines draw and track.
  PerObject,
};

/// Inference settings a model file prefers (its `vmt.inference` metadata, docs/models.md); an
/// unset field has no preference.
struct ModelDefaults {
  std::optional<int> input_size;        ///< the shorter edge to run at
  std::optional<int> trained_min_size;  ///< the range of shorter edges it was trained on
  std::optional<int> trained_max_size;
  std::optional<float> score_threshold;
  std::optional<int> max_instances;
  std::optional<int> point_limit;
};

/// Built-in values for what neither the caller nor the model file sets.
inline constexpr int kDefaultInputSize = 360;
inline constexpr int kDefaultMaxInstances = 10;
inline constexpr float kDefaultScoreThreshold = 0.001f;

struct EngineOptions {
  std::string model_path;            ///< a .safetensors file written by vmt-convert or vmt-train
  DeviceSpec device{};               ///< auto, cpu, cuda:N (resolved with resolve_device)
  Precision precision = Precision::Float32;  ///< fp16: CUDA; bf16: CUDA or a bf16 CPU
  // Unset (nullopt): the model file's preference (ModelDefaults), else the built-in default.
  std::optional<int> input_size;     ///< shorter edge the frames are resized to; 0 = native size
  std::optional<int> max_instances;  ///< K: instances (pairs or objects) kept per tube
  std::optional<float> score_threshold;  ///< instances scoring below are dropped
  /// Incoherent points the refinement's point transformer sees per frame, at most (its cost grows
  /// with their square): kExactPointLimit = the model's limit (official 12000), else 1 … 12000
  /// (docs/benchmarks.md measures what smaller budgets cost).
  std::optional<int> point_limit;
  /// The refinement's points with static shapes and no host synchronisation (a CUDA graph's
  /// need): every frame's point transformer then runs on point_limit rows (at most the stride-2
  /// grid's pixels), the unused ones masked out, so it costs the limit whatever the frame holds;
  /// results equal the default to float rounding. Off by default: the points a frame really has
  /// cost less on the CPU.
  bool padded_points = false;
  /// The instance selection on the model's device: no host synchronisation between the decoder
  /// and the masks, every pick's masks computed (static shapes: the K picks, those under the
  /// score threshold kept out of the refinement's incoherent points and dropped at the end).
  /// With padded_points, the step a CUDA graph can capture. The same instances and masks to
  /// float rounding; off by default: on the CPU it refines picks that are then dropped.
  bool device_selection = false;
  InstanceSelection selection = InstanceSelection::TopPairs;
  /// CPU threads of LibTorch's intra-op pool (OpenMP; process-wide, set when the engine is
  /// made): 0 = auto, OMP_NUM_THREADS where set, else one less than the machine's cores (at
  /// least 1), which leaves a core to the rest of a pipeline (decoding, drawing, encoding);
  /// OpenMP threads that must wait for a busy core slow every parallel region down many times.
  int threads = 0;
  /// CPU threads that run independent pieces of a step side by side, each piece on one of them
  /// with `threads` intra-op threads: an offline clip's new frames through the backbone (in as
  /// many batches) and its frames through the refinement, or, in an online step, the
  /// refinement's independent steps (its fusion branches among them). Small models' operations
  /// are too short for the intra-op pool to split well; whole pieces are not.
  /// 0 = auto: the cores divided by `threads` (2 on a 2-core machine), at least 1; 1 = all in
  /// the calling thread. The results do not depend on it bar fp32 rounding of the backbone's
  /// batches (the refinement's are the same bits). CPU only.
  int cpu_workers = 0;
  bool feature_cache = true;         ///< reuse per-frame backbone/encoder outputs across tubes
  MaskScope mask_scope = MaskScope::Emitted;
  /// Measure per-stage times (last_timings()); on CUDA this synchronises between stages.
  bool stage_timings = false;
};

/// The settings a loaded engine runs with: EngineOptions with every unset value filled in.
struct EngineSettings {
  int input_size = kDefaultInputSize;
  int max_instances = kDefaultMaxInstances;
  float score_threshold = kDefaultScoreThreshold;
  int point_limit = kExactPointLimit;
  InstanceSelection selection = InstanceSelection::TopPairs;
  int threads = 1;  ///< the intra-op threads in use
  int cpu_workers = 1;  ///< EngineOptions::cpu_workers resolved (1 on a GPU)
  /// Settings that look wrong for this model (e.g. an input size far from the sizes it was
  /// trained on), one sentence each naming the setting, its value and the model's.
  std::vector<std::string> warnings;
};

/// One run_tube call: a tube of frames and the frames whose final masks are wanted.
struct TubeInput {
  std::int64_t first_frame = 0;       ///< stream index of frames[0]
  std::span<const ImageView> frames;  ///< the tube, in order, all the same size
  /// Stream frames that get final masks (TubeInstance::frame_masks), within the tube; empty =
  /// every frame. With MaskScope::AllFrames every frame gets them anyway.
  FrameRange emit;
};

/// Milliseconds per stage of the last run_tube (EngineOptions::stage_timings).
struct StageTimings {
  double preprocess_ms = 0;  ///< pixel formats, resize, normalisation
  double encode_ms = 0;      ///< backbone, encoder, mask features of the frames not cached
  double decode_ms = 0;      ///< decoder and heads over the tube, instance selection
  double masks_ms = 0;       ///< coarse masks of the selected instances
  double refine_ms = 0;      ///< refinement head on the frames with final masks
  double output_ms = 0;      ///< final masks at frame size, crops, association RLEs
  double total_ms = 0;
  std::int64_t frames_encoded = 0;  ///< frames that went through the backbone in this call
};

/// What the model file says about itself.
struct ModelInfo {
  std::string name;                 ///< e.g. "vmt_r50", "vmt_tiny_synthetic"
  std::string architecture;         ///< preset the weights were built for
  std::vector<std::string> labels;  ///< class names; category c (1-based) is labels[c - 1]
  ModelDefaults defaults;           ///< its preferred inference settings
};

/// A tube that Engine::begin_tube has encoded, decoded, chosen its instances for and given coarse
/// masks, waiting for its final masks (Engine::finish_tube). It holds tensors, not the frames' pixels: the frames passed to
/// begin_tube may be released once it returns. Move-only; an empty one (default, or moved from)
/// cannot be finished.
class PendingTube {
 public:
  PendingTube();
  ~PendingTube();
  PendingTube(PendingTube&&) noexcept;
  PendingTube& operator=(PendingTube&&) noexcept;
  PendingTube(const PendingTube&) = delete;
  PendingTube& operator=(const PendingTube&) = delete;
  /// True while it holds a tube that finish_tube has not taken.
  explicit operator bool() const noexcept { return state_ != nullptr; }
  /// The stream frames of the tube.
  FrameRange frames() const noexcept;

 private:
  friend class Engine;
  struct State;
  std::unique_ptr<State> state_;
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
  /// The settings in use (EngineOptions resolved against the model file's defaults).
  const EngineSettings& settings() const noexcept;
  /// The device actually in use (never Auto).
  DeviceSpec device() const noexcept;

  /// Runs VMT on one tube. Returns the tube's instances (top-K, scores ≥ threshold, categories
  /// 1-based), each with association masks for every frame of the tube and final masks at the
  /// frames' own resolution, cropped to their boxes, for the `emit` frames (TubeInstance). With
  /// the feature cache on, frames seen in the previous call under the same index are not run
  /// through the backbone/encoder again, and the frames that are run go through it as one batch;
  /// the result equals the uncached one to fp32 rounding.
  TubeResult run_tube(const TubeInput& input);
  /// run_tube with every frame emitted: `frames[i]` is stream frame `first_frame + i`.
  TubeResult run_tube(std::int64_t first_frame, std::span<const ImageView> frames);

  /// run_tube in two halves, so that consecutive tubes can overlap on two threads
  /// (EnginePipeline): begin_tube preprocesses, encodes and decodes the tube, selects its
  /// instances and computes their coarse masks; finish_tube refines the emitted frames and makes
  /// the results.
  /// finish_tube(begin_tube(input)) equals run_tube(input) bit for bit. begin_tube calls are
  /// serialised with each other (and with run_tube and clear_cache: the feature cache), and
  /// finish_tube calls with each other, but one begin_tube may run while another thread runs
  /// finish_tube of an earlier tube. last_timings() reports the last finished tube (both
  /// halves; total_ms is their sum, not the wall time between them).
  PendingTube begin_tube(const TubeInput& input);
  /// Throws vmt::Error(InvalidArgument) for an empty PendingTube or one from another engine.
  TubeResult finish_tube(PendingTube pending);

  /// Stage times of the last run_tube (all zero unless EngineOptions::stage_timings).
  StageTimings last_timings() const;

  /// Forgets cached per-frame features (flush, seek, caps change, new stream).
  void clear_cache();

  /// Number of frames whose features are cached now (at most the last tube's length).
  std::size_t cached_frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmt
