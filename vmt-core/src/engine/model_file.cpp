#include "model_file.h"

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <utility>

#include "vmt/error.h"
#include "../weights/state_dict.h"

namespace vmt::engine {

namespace {

Error corrupt(const std::string& source, const std::string& what) {
  return Error(ErrorCode::CorruptData, source + ": not a VMT model file: " + what);
}

const std::string& required(const weights::Metadata& meta, const std::string& key,
                            const std::string& source) {
  const auto it = meta.find(key);
  if (it == meta.end()) throw corrupt(source, "metadata key '" + key + "' is missing");
  return it->second;
}

std::vector<std::string> parse_labels(const std::string& text, const std::string& source) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) throw corrupt(source, "vmt.labels is not a JSON array");
  std::vector<std::string> labels;
  for (const auto& item : j) {
    if (!item.is_string()) throw corrupt(source, "vmt.labels holds a non-string: " + item.dump());
    labels.push_back(item.get<std::string>());
  }
  return labels;
}

}  // namespace

std::string defaults_to_json(const ModelDefaults& d) {
  nlohmann::json j = nlohmann::json::object();
  if (d.input_size) j["input_size"] = *d.input_size;
  if (d.trained_min_size) j["trained_min_size"] = *d.trained_min_size;
  if (d.trained_max_size) j["trained_max_size"] = *d.trained_max_size;
  if (d.score_threshold) j["score_threshold"] = *d.score_threshold;
  if (d.max_instances) j["max_instances"] = *d.max_instances;
  if (d.point_limit) j["point_limit"] = *d.point_limit;
  return j.dump();
}

ModelDefaults defaults_from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto fail = [](const std::string& what) {
    return Error(ErrorCode::CorruptData, "vmt.inference: " + what);
  };
  if (j.is_discarded() || !j.is_object()) throw fail("not a JSON object");
  ModelDefaults d;
  for (const auto& [key, value] : j.items()) {
    auto integer = [&](int lo, int hi) {
      if (!value.is_number_integer() || value.get<long long>() < lo || value.get<long long>() > hi) {
        throw fail(key + " must be an integer in [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "], got " + value.dump());
      }
      return value.get<int>();
    };
    if (key == "input_size") {
      d.input_size = integer(0, 4096);
      if (*d.input_size != 0 && *d.input_size < 32) throw fail("input_size must be 0 or >= 32");
    } else if (key == "trained_min_size") {
      d.trained_min_size = integer(1, 4096);
    } else if (key == "trained_max_size") {
      d.trained_max_size = integer(1, 4096);
    } else if (key == "max_instances") {
      d.max_instances = integer(1, 1000);
    } else if (key == "point_limit") {
      d.point_limit = integer(0, 1 << 20);
    } else if (key == "score_threshold") {
      if (!value.is_number() || !(value.get<double>() >= 0 && value.get<double>() <= 1)) {
        throw fail("score_threshold must be a number in [0, 1], got " + value.dump());
      }
      d.score_threshold = value.get<float>();
    } else {
      throw fail("unknown field '" + key + "'");
    }
  }
  if (d.trained_min_size && d.trained_max_size && *d.trained_min_size > *d.trained_max_size) {
    throw fail("trained_min_size is above trained_max_size");
  }
  return d;
}

std::string labels_to_json(const std::vector<std::string>& labels) {
  return nlohmann::json(labels).dump();
}

ModelHeader read_header(const weights::SafetensorsFile& file) {
  const auto& source = file.source();
  const auto& meta = file.metadata();
  const auto& version = required(meta, "vmt.format_version", source);
  if (version != kFormatVersion) {
    throw corrupt(source, "vmt.format_version is '" + version + "', this build reads '" +
                              std::string(kFormatVersion) + "'");
  }
  ModelHeader header;
  try {
    header.config = model::config_from_json(required(meta, "vmt.config", source));
  } catch (const Error& e) {
    throw corrupt(source, e.what());
  }
  header.labels = parse_labels(required(meta, "vmt.labels", source), source);
  if (static_cast<std::int64_t>(header.labels.size()) >= header.config.num_classes) {
    throw corrupt(source, std::to_string(header.labels.size()) + " labels but only " +
                              std::to_string(header.config.num_classes) +
                              " class logits (category c is logit c; 0 is unused)");
  }
  const auto name = meta.find("vmt.name");
  header.name = name != meta.end() ? name->second : header.config.preset;
  if (const auto inference = meta.find("vmt.inference"); inference != meta.end()) {
    try {
      header.defaults = defaults_from_json(inference->second);
    } catch (const Error& e) {
      throw corrupt(source, e.what());
    }
  }
  return header;
}

weights::Metadata make_metadata(const ModelHeader& header) {
  weights::Metadata meta;
  meta["vmt.format_version"] = std::string(kFormatVersion);
  meta["vmt.config"] = model::config_to_json(header.config);
  meta["vmt.labels"] = labels_to_json(header.labels);
  if (!header.name.empty()) meta["vmt.name"] = header.name;
  const auto defaults = defaults_to_json(header.defaults);
  if (defaults != "{}") meta["vmt.inference"] = defaults;
  return meta;
}

LoadedModel load_model(const std::filesystem::path& path) {
  const auto file = weights::SafetensorsFile::open(path);
  LoadedModel loaded;
  loaded.header = read_header(file);
  loaded.module = Model(loaded.header.config);
  const bool half = !file.tensors().empty() && file.tensors().front().dtype == weights::Dtype::F16;
  try {
    if (half) loaded.module->to(torch::kHalf);
    weights::load_state_dict(*loaded.module, file);
    if (half) loaded.module->to(torch::kFloat32);
  } catch (const Error& e) {
    const auto& preset = loaded.header.config.preset;
    throw Error(ErrorCode::CorruptData,
                "the weights in " + path.string() + " do not fit the architecture its vmt.config "
                "describes (preset '" + (preset.empty() ? "custom" : preset) + "'): " + e.what());
  }
  loaded.module->eval();
  return loaded;
}

Model init_model(const model::ModelConfig& config, std::uint64_t seed) {
  torch::manual_seed(seed);
  Model module(config);
  module->eval();
  return module;
}

void save_model(const Model& module, const ModelHeader& header,
                const std::filesystem::path& path) {
  weights::save_state_dict(*module, path, make_metadata(header));
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> expected_tensors(
    const model::ModelConfig& config) {
  const Model module(config);
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
  for (const auto& item : module->named_parameters()) {
    out.emplace_back(item.key(), item.value().sizes().vec());
  }
  for (const auto& item : module->named_buffers()) {
    out.emplace_back(item.key(), item.value().sizes().vec());
  }
  return out;
}

}  // namespace vmt::engine
