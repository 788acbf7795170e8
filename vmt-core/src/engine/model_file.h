// VMT model files: a safetensors file whose tensors are the official state_dict and whose
// metadata says how to build the model (docs/weights.md, docs/models.md):
//   vmt.format_version  "1"
//   vmt.config          model::config_to_json(config) (includes the preset name)
//   vmt.labels          JSON array of class names; category c (1-based) is labels[c - 1]
//   vmt.name            optional display name
//   vmt.inference       optional JSON object of preferred inference settings (ModelDefaults):
//                       input_size, trained_min_size, trained_max_size, score_threshold,
//                       max_instances, point_limit
// Internal to vmt-core (LibTorch).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../model/config.h"
#include "../model/refinement_head.h"
#include "../model/vmt_detector.h"
#include "../weights/safetensors.h"
#include "vmt/engine.h"

namespace vmt::engine {

/// The module a model file holds and the engine runs: the whole official VMT module (detector
/// + refinement head), whose tensor names are the official state_dict keys.
using Model = model::VmtModel;
/// The detector part of `Model`.
inline model::VmtDetector& detector_of(Model& m) { return m->detector; }

/// The metadata version this code writes and reads.
inline constexpr std::string_view kFormatVersion = "1";

/// What a model file says about itself (metadata only).
struct ModelHeader {
  model::ModelConfig config;
  std::vector<std::string> labels;
  std::string name;        ///< vmt.name, or the preset name when absent
  ModelDefaults defaults;  ///< vmt.inference (optional): its preferred inference settings
};

/// vmt.inference as JSON text (only the fields that are set) and back. Parsing refuses unknown
/// fields, wrong types and values out of range (vmt::Error CorruptData naming the field).
std::string defaults_to_json(const ModelDefaults& defaults);
ModelDefaults defaults_from_json(const std::string& text);

/// Parses and checks the vmt.* metadata of `file`: format version, config (validated), labels
/// (a JSON array of strings, at most num_classes - 1 of them: category c is logit index c).
/// Throws vmt::Error(CorruptData) naming the file and the key.
ModelHeader read_header(const weights::SafetensorsFile& file);

/// The metadata for `header`.
weights::Metadata make_metadata(const ModelHeader& header);

/// A model built from a file, on the CPU in fp32, weights loaded, eval mode.
struct LoadedModel {
  ModelHeader header;
  Model module{nullptr};
};

/// Opens `path`, reads the header, builds the model and loads every tensor (strict: the file's
/// tensors must be exactly the model's, same shape, all F32 or all F16 — an F16 file, e.g. a
/// compact demo model, is loaded into a half copy and widened to fp32). Throws vmt::Error: NotFound for a
/// missing file, CorruptData for an invalid file or metadata, and for weights that do not fit
/// the architecture in vmt.config (the message names the preset and the first mismatch).
LoadedModel load_model(const std::filesystem::path& path);

/// A freshly initialised model of `config`: LibTorch's default initialisation after
/// torch::manual_seed(seed) (deterministic on the CPU), eval mode.
Model init_model(const model::ModelConfig& config, std::uint64_t seed);

/// Writes `module` with `header`'s metadata to `path` (atomically; see save_state_dict).
void save_model(const Model& module, const ModelHeader& header, const std::filesystem::path& path);

/// Names and shapes of every tensor a model of `config` holds, in module order.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> expected_tensors(
    const model::ModelConfig& config);

/// `labels` as the JSON array text of vmt.labels.
std::string labels_to_json(const std::vector<std::string>& labels);

}  // namespace vmt::engine
