#include "config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <type_traits>

#include <string>

#include "vmt/error.h"

namespace vmt::model {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCode::InvalidArgument, "ModelConfig: " + what);
}

}  // namespace

std::vector<std::int64_t> ModelConfig::resnet_blocks() const {
  if (!resnet_depths.empty()) return resnet_depths;
  if (backbone == "resnet50") return {3, 4, 6, 3};
  if (backbone == "resnet101") return {3, 4, 23, 3};
  throw Error(ErrorCode::InvalidArgument,
              "ModelConfig: unsupported backbone '" + backbone + "' (resnet50, resnet101)");
}

void ModelConfig::validate() const {
  (void)resnet_blocks();
  require(resnet_blocks().size() == 4, "resnet_depths must have 4 entries");
  for (const auto d : resnet_blocks()) require(d >= 1, "resnet_depths must be >= 1");
  require(resnet_planes.size() == 4, "resnet_planes must have 4 entries");
  for (const auto p : resnet_planes) require(p >= 1, "resnet_planes must be >= 1");
  require(hidden_dim > 0 && hidden_dim % 32 == 0, "hidden_dim must be a positive multiple of 32 "
                                                  "(GroupNorm(32) and hidden_dim / 32 mask channels)");
  require(nheads > 0 && hidden_dim % nheads == 0, "hidden_dim must be divisible by nheads");
  require(hidden_dim % 2 == 0, "hidden_dim must be even (sine position encoding)");
  require(enc_layers >= 0, "enc_layers must be >= 0");
  require(dec_layers >= 1, "dec_layers must be >= 1");
  require(dim_feedforward > 0, "dim_feedforward must be > 0");
  require(num_feature_levels >= 4,
          "num_feature_levels must be >= 4 (the mask head reads levels 0..2 of the memory and "
          "the backbone gives three)");
  require(enc_n_points > 0 && dec_n_points > 0, "n_points must be > 0");
  require(num_queries > 0, "num_queries must be > 0");
  require(num_classes > 0, "num_classes must be > 0");
  require(dynamic_mask_channels > 0, "dynamic_mask_channels must be > 0");
  require(controller_layers >= 2, "controller_layers must be >= 2");
  require(mask_out_stride > 0 && 8 % mask_out_stride == 0,
          "mask_out_stride must divide the mask feature stride 8");
  require(frozen_bn_eps > 0.0, "frozen_bn_eps must be > 0");
  require(point_feedforward > 0, "point_feedforward must be > 0");
  require(fuse_channels > 0, "fuse_channels must be > 0");
  require(with_box_refine, "only with_box_refine = true (the released models) is supported");
}

ModelConfig vmt_r50() { return ModelConfig{}; }

ModelConfig vmt_r101() {
  ModelConfig c;
  c.backbone = "resnet101";
  return c;
}

ModelConfig tiny() {
  ModelConfig c;
  c.enc_layers = 1;
  c.dec_layers = 2;
  c.dim_feedforward = 256;
  c.num_queries = 16;
  return c;
}

ModelConfig small() {
  ModelConfig c = tiny();
  c.resnet_planes = {64, 32, 48, 64};
  c.resnet_depths = {1, 1, 1, 1};
  c.dec_layers = 1;
  c.dim_feedforward = 128;
  return c;
}

ModelConfig fast() {
  ModelConfig c = small();
  c.hidden_dim = 64;
  c.resnet_planes = {16, 32, 48, 64};
  c.point_feedforward = 128;
  c.fuse_channels = 16;
  return c;
}

std::vector<std::string> preset_names() {
  return {"vmt_r50", "vmt_r101", "tiny", "small", "fast"};
}

ModelConfig preset(std::string_view name) {
  ModelConfig c;
  if (name == "vmt_r50") {
    c = vmt_r50();
  } else if (name == "vmt_r101") {
    c = vmt_r101();
  } else if (name == "tiny") {
    c = tiny();
  } else if (name == "small") {
    c = small();
  } else if (name == "fast") {
    c = fast();
  } else {
    throw Error(ErrorCode::InvalidArgument, "unknown model preset '" + std::string(name) +
                                                "' (vmt_r50, vmt_r101, tiny, small, fast)");
  }
  c.preset = std::string(name);
  return c;
}

// --- JSON ------------------------------------------------------------------------------------

namespace {

using nlohmann::json;

/// Applies `fn(name, member)` to every serialised field, in a fixed order.
template <typename Config, typename Fn>
void for_each_field(Config& c, Fn&& fn) {
  fn("preset", c.preset);
  fn("backbone", c.backbone);
  fn("dilation", c.dilation);
  fn("frozen_bn_eps", c.frozen_bn_eps);
  fn("resnet_planes", c.resnet_planes);
  fn("resnet_depths", c.resnet_depths);
  fn("position_temperature", c.position_temperature);
  fn("position_normalize", c.position_normalize);
  fn("position_scale", c.position_scale);
  fn("hidden_dim", c.hidden_dim);
  fn("nheads", c.nheads);
  fn("enc_layers", c.enc_layers);
  fn("dec_layers", c.dec_layers);
  fn("dim_feedforward", c.dim_feedforward);
  fn("num_feature_levels", c.num_feature_levels);
  fn("enc_n_points", c.enc_n_points);
  fn("dec_n_points", c.dec_n_points);
  fn("num_queries", c.num_queries);
  fn("with_box_refine", c.with_box_refine);
  fn("num_classes", c.num_classes);
  fn("dynamic_mask_channels", c.dynamic_mask_channels);
  fn("controller_layers", c.controller_layers);
  fn("mask_out_stride", c.mask_out_stride);
  fn("rel_coord", c.rel_coord);
  fn("refine_queries", c.refine_queries);
  fn("refine_point_limit", c.refine_point_limit);
  fn("point_feedforward", c.point_feedforward);
  fn("fuse_channels", c.fuse_channels);
  fn("use_refinement", c.use_refinement);
}

/// A JSON integer that fits T; nlohmann's own conversion casts any number (1e30 into an int64
/// is undefined behaviour), so integral fields take integers only.
template <typename T>
bool integer_from_json(const json& v, T& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
    out = static_cast<T>(u);
    return true;
  }
  if (!v.is_number_integer()) return false;
  const auto i = v.get<std::int64_t>();
  if (i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
      i > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
    return false;
  }
  out = static_cast<T>(i);
  return true;
}

/// Reads one field; false when the JSON value has the wrong type or does not fit.
template <typename T>
bool field_from_json(const json& v, T& out) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
    if (std::is_same_v<T, bool> ? !v.is_boolean() : !v.is_string()) return false;
    v.get_to(out);
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    return integer_from_json(v, out);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return false;
    out = v.get<T>();
    return true;
  } else {  // std::vector of integers
    if (!v.is_array()) return false;
    T values;
    for (const auto& item : v) {
      typename T::value_type value{};
      if (!field_from_json(item, value)) return false;
      values.push_back(value);
    }
    out = std::move(values);
    return true;
  }
}

}  // namespace

std::string config_to_json(const ModelConfig& config) {
  json j = json::object();
  for_each_field(config, [&](const char* name, const auto& value) { j[name] = value; });
  return j.dump();
}

ModelConfig config_from_json(std::string_view text) {
  const auto corrupt = [](const std::string& what) {
    return Error(ErrorCode::CorruptData, "model config (vmt.config): " + what);
  };
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw corrupt("not a JSON object");
  ModelConfig c;
  std::size_t known = 0;
  for_each_field(c, [&](const char* name, auto& value) {
    const auto it = j.find(name);
    if (it == j.end()) return;
    ++known;
    if (!field_from_json(*it, value)) {
      throw corrupt(std::string("field '") + name + "' has the wrong type or is out of range: " +
                    it->dump());
    }
  });
  if (known != j.size()) {
    for (const auto& [key, value] : j.items()) {
      bool found = false;
      for_each_field(c, [&](const char* name, const auto&) { found = found || key == name; });
      if (!found) throw corrupt("unknown field '" + key + "'");
    }
  }
  c.validate();
  return c;
}

}  // namespace vmt::model
