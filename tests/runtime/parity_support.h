// Shared by the parity tests (test_detector_parity.cpp, test_refinement_parity.cpp): the weight
// formula of tests/fixtures/parity/make_fixtures.py, which fills the LibTorch model and the
// official PyTorch model with the same values, and readers for the fixtures that script wrote.
#pragma once

#include <gtest/gtest.h>

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <ATen/ops/from_blob.h>
#include <ATen/ops/tensor.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "weights/safetensors.h"
#include "weights/state_dict.h"

namespace vmt::parity {

// --- the weight formula (docs/model.md, make_fixtures.py) ------------------------------------

inline std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char b : text) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The formula value of every element of the tensor called `name` with `shape`.
inline torch::Tensor formula_value(const std::string& name, const std::vector<std::int64_t>& shape) {
  std::string canonical = name;
  const std::string shared = "detr.transformer.decoder.bbox_embed.";
  if (canonical.rfind(shared, 0) == 0) {
    canonical = "detr.bbox_embed." + canonical.substr(shared.size());
  }
  std::int64_t numel = 1;
  for (const auto d : shape) numel *= d;
  const std::uint64_t h = fnv1a64(canonical);
  const bool var = ends_with(name, "running_var"), mean = ends_with(name, "running_mean");
  const bool embed = ends_with(name, "query_embed.weight") || ends_with(name, "level_embed");
  const bool matrix = shape.size() >= 2;
  const bool gain = ends_with(name, "weight");
  const double fan_scale = matrix ? std::sqrt(3.0 / static_cast<double>(numel / shape[0])) : 0.0;
  std::vector<float> values(static_cast<std::size_t>(numel));
  for (std::int64_t i = 0; i < numel; ++i) {
    const double s = static_cast<double>(splitmix64(h + static_cast<std::uint64_t>(i)) >> 40) /
                         static_cast<double>(1 << 24) * 2.0 - 1.0;
    double v;
    if (var) v = 1.0 + 0.25 * (s + 1.0);
    else if (mean) v = 0.1 * s;
    else if (embed) v = s;
    else if (matrix) v = s * fan_scale;
    else if (gain) v = 1.0 + 0.1 * s;
    else v = 0.1 * s;
    values[static_cast<std::size_t>(i)] = static_cast<float>(v);
  }
  return at::tensor(values).reshape(shape);
}

inline void fill_from_formula(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto fill = [](const std::string& name, torch::Tensor& t) {
    t.copy_(formula_value(name, t.sizes().vec()));
  };
  for (auto& p : module.named_parameters()) fill(p.key(), p.value());
  for (auto& b : module.named_buffers()) fill(b.key(), b.value());
}

// --- fixtures --------------------------------------------------------------------------------

/// tests/fixtures/parity/<name>.safetensors under $VMT_SOURCE_ROOT (else the working folder).
inline std::filesystem::path fixture_path(const std::string& name) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  return std::filesystem::path(root ? root : ".") / "tests" / "fixtures" / "parity" /
         (name + ".safetensors");
}

inline torch::Tensor fixture_tensor(const vmt::weights::SafetensorsFile& file, const std::string& name) {
  const auto& rec = file.at(name);
  return at::from_blob(const_cast<std::byte*>(rec.data.data()), rec.shape,
                       torch::TensorOptions().dtype(vmt::weights::to_torch(rec.dtype)))
      .clone();
}

/// "1,2,3" → {1, 2, 3} (empty items skipped).
inline std::vector<std::int64_t> split_ints(const std::string& text) {
  std::vector<std::int64_t> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stoll(item));
  }
  return out;
}

/// The official state_dict as name → shape, from the fixture's metadata.
inline std::map<std::string, std::vector<std::int64_t>> official_state_dict(
    const vmt::weights::SafetensorsFile& file) {
  std::map<std::string, std::vector<std::int64_t>> keys;
  std::istringstream lines(file.metadata().at("state_dict"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    keys[line.substr(0, tab)] = split_ints(line.substr(tab + 1));
  }
  return keys;
}

/// Max abs difference, asserted ≤ 1e-4 × the reference's largest magnitude.
inline void expect_close(const std::string& what, const torch::Tensor& actual,
                  const torch::Tensor& expected) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double diff = (actual.to(torch::kFloat32) - expected).abs().max().item<double>();
  const double scale = expected.abs().max().item<double>();
  std::cout << "[parity] " << what << ": max |diff| " << diff << " (max |ref| " << scale
            << ", bound " << 1e-4 * scale << ")\n";
  EXPECT_LE(diff, 1e-4 * scale) << what;
}

}  // namespace vmt::parity
