// Fuzz target for the model configuration JSON of model files (`vmt.config` metadata, parsed by
// vmt::model::config_from_json before anything is built from it). Any text is either refused
// with vmt::Error (CorruptData for bad JSON, types or fields; InvalidArgument for a configuration
// that fails validation) or parses into a configuration whose JSON parses again to the same JSON.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "model/config.h"

namespace {

constexpr const char* kTarget = "fuzz_model_config";

void check(const vmt::model::ModelConfig& config) {
  const std::string text = vmt::model::config_to_json(config);
  vmt::model::ModelConfig again;
  try {
    again = vmt::model::config_from_json(text);
  } catch (const vmt::Error&) {
    vmt::fuzz::broken(kTarget, "config_to_json's text is refused");
  }
  if (vmt::model::config_to_json(again) != text) vmt::fuzz::broken(kTarget, "JSON round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = vmt::fuzz::as_text(data, size);
  vmt::fuzz::refused_cleanly_or_ran(
      kTarget, {vmt::ErrorCode::CorruptData, vmt::ErrorCode::InvalidArgument},
      [&] { check(vmt::model::config_from_json(text)); });
  return 0;
}
