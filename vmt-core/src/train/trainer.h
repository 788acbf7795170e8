// Training the VMT detector (the engine's `Model`): official initialisation, AdamW parameter
// groups, one optimisation step on a clip, checkpoints in the engine's model-file format plus an
// optimizer sidecar for resuming. Internal to vmt-core.
#pragma once

#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../engine/model_file.h"
#include "losses.h"
#include "targets.h"

namespace vmt::train {

/// Optimiser settings (official main.py defaults).
struct OptimOptions {
  double lr = 1e-4;
  double lr_backbone = 1e-5;        ///< backbone layer2..4 (conv1 and layer1 stay frozen)
  double lr_linear_proj_mult = 0.1; ///< sampling_offsets and reference_points: lr × this
  double weight_decay = 1e-4;
  double clip_max_norm = 0.1;       ///< gradient clipping (total L2 norm); 0 = off
  /// Official: the backbone's conv1 and layer1 are frozen (ImageNet-pretrained). A model trained
  /// from scratch (no pretrained backbone) should train them too: false.
  bool freeze_stem = true;
};

/// Refinement-head training (VMT supplement §3), jointly with the detector.
struct RefineOptions {
  /// Train the refinement head on the matched queries (QSG points, refinement_losses). Saved
  /// models then say use_refinement = true, so the engine returns their refined masks.
  bool enabled = true;
  std::int64_t qsg_points = 3000;  ///< points kept per clip (official: 3000 for 5 frames)
  RefineLossWeights weights;
};

/// The names of the loss terms Trainer::step / evaluate report (always all of them; terms that
/// do not apply, e.g. refinement terms with refinement off, are 0).
const std::vector<std::string>& loss_term_names();

/// Applies the official DeformableDETR / MSDeformAttn initialisation on top of LibTorch's
/// defaults: class_embed biases at the prior −log((1−0.01)/0.01), the last box-MLP layers zero
/// with bias[2:] = −2 for the first decoder layer's head, MSDeformAttn sampling_offsets
/// weight 0 and bias the official direction grid (point i of head h at (i+1)·(cos, sin)(2πh/M)
/// normalised to max |·| = 1), attention_weights 0, input projections Xavier-uniform with zero
/// bias, level_embed normal.
void apply_official_init(engine::Model& model);

/// The state a checkpoint's sidecar keeps besides the optimiser.
struct TrainState {
  std::int64_t step = 0;      ///< optimisation steps done
  std::uint64_t seed = 0;     ///< the run's seed (clip sampling derives from seed and step)
};

/// A model, its optimiser and the loss configuration.
class Trainer {
 public:
  /// Takes `model` (moved to `device`, train mode) and builds the AdamW groups.
  Trainer(engine::Model model, engine::ModelHeader header, const torch::Device& device,
          OptimOptions optim = {}, LossWeights losses = {}, MatcherWeights matcher = {},
          RefineOptions refine = {});

  /// Forward, losses, backward, clipping and one AdamW update on `clip` (any device; moved
  /// here). Returns the loss terms (detached, on the CPU, as doubles in a map).
  std::map<std::string, double> step(const Clip& clip);

  /// One update on a batch of clips: the mean of their losses, so the mean of their gradients
  /// (what data-parallel training over one clip per device averages), then clipping and one
  /// AdamW update. Clip 0 runs on the model itself, each further clip on a copy of it with the
  /// same weights; the copies' gradients are added to the model's in clip order, so every
  /// `workers` count gives the same update. workers > 1 runs that many clips side by side
  /// (model::run_tasks: worth it on the CPU, where one clip keeps only about one core busy).
  /// Returns the mean of the clips' loss terms. A batch of one is step(clip).
  std::map<std::string, double> step(std::span<const Clip> clips, int workers = 1);

  /// The losses of `clip` without updating (no gradient); model mode unchanged.
  std::map<std::string, double> evaluate(const Clip& clip);

  /// Writes the model file (the engine's format, `header` metadata) to `path`, and the
  /// optimiser state + TrainState to sidecar_path(path). Both atomically.
  void save(const std::filesystem::path& path) const;

  /// Loads the weights, optimiser state and TrainState written by save() (same configuration).
  /// Throws vmt::Error(NotFound) when either file is missing.
  void resume(const std::filesystem::path& path);

  /// The sidecar of a checkpoint: path + ".optim".
  static std::filesystem::path sidecar_path(const std::filesystem::path& path);

  engine::Model& model() { return model_; }
  const engine::ModelHeader& header() const { return header_; }
  TrainState& state() { return state_; }
  const torch::Device& device() const { return device_; }

 private:
  /// All loss terms of a clip on the device: the detector's, then (when enabled) the
  /// refinement head's on the matched queries; "total" covers both.
  /// `clip_index` (the clip's place in its batch) varies the QSG draw between the clips of a
  /// step; clip 0 draws what a batch of one draws.
  LossTerms losses_of(engine::Model& model, const Clip& clip, std::int64_t clip_index = 0);

  /// `count` copies of the model for clips 1…count of a batch (made on first use, parameters
  /// frozen as in the model), their weights set to the model's and their gradients cleared.
  void prepare_replicas(std::size_t count);

  engine::Model model_;
  engine::ModelHeader header_;
  torch::Device device_;
  OptimOptions optim_options_;
  LossWeights loss_weights_;
  MatcherWeights matcher_weights_;
  RefineOptions refine_;
  std::vector<torch::Tensor> trainable_;
  std::vector<std::string> trainable_names_;  ///< trainable_'s names, for the replicas
  std::vector<engine::Model> replicas_;       ///< clips 1, 2, … of a batch
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  TrainState state_;
};

}  // namespace vmt::train
