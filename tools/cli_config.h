// --config FILE.json of the command-line tools: a custom model architecture, `vmt-model config`'s
// output edited.
#pragma once

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "model/config.h"
#include "vmt/error.h"

namespace vmt::cli {

/// A ModelConfig from a JSON file (vmt-model config's output, edited): fields left out keep
/// vmt_r50's values; errors name the file and the field.
inline vmt::model::ModelConfig read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw vmt::Error(vmt::ErrorCode::NotFound, "--config " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  vmt::model::ModelConfig config;
  try {
    config = vmt::model::config_from_json(text.str());
  } catch (const vmt::Error& e) {
    throw vmt::Error(e.code(), "--config " + path + ": " + e.what());
  }
  // an edited preset is no longer that preset (the class count comes from --labels anyway)
  const auto names = vmt::model::preset_names();
  if (std::find(names.begin(), names.end(), config.preset) == names.end()) {
    config.preset.clear();
  } else {
    auto named = vmt::model::preset(config.preset);
    named.num_classes = config.num_classes;
    if (vmt::model::config_to_json(named) != vmt::model::config_to_json(config)) config.preset.clear();
  }
  return config;
}

}  // namespace vmt::cli
