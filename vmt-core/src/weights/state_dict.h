// Loading and saving a LibTorch module's parameters and buffers as a safetensors file. Tensor
// names are the module's recursive names ("backbone.layers.0.norm.weight"), which are the
// official PyTorch state-dict names when sub-modules are registered under the Python attribute
// names. Internal to vmt-core (the public headers stay torch-free).
#pragma once

#include <torch/nn/module.h>

#include <filesystem>
#include <optional>

#include "safetensors.h"

namespace vmt::weights {

/// The LibTorch scalar type of `dtype`.
c10::ScalarType to_torch(Dtype dtype);
/// The Dtype of `type`, or nothing for a type safetensors files here do not carry.
std::optional<Dtype> from_torch(c10::ScalarType type);

/// Copies `file`'s tensors into every parameter and buffer of `module` (recursively), all or
/// nothing: first checks that each of them is in the file with the same dtype and shape and that
/// the file has no other tensor, and only then copies (onto whatever device each lives on).
/// Throws vmt::Error naming the file and the first mismatch in the module's order: NotFound for
/// a missing tensor, CorruptData for a wrong dtype, a wrong shape or an extra tensor. The module
/// is untouched when it throws.
void load_state_dict(torch::nn::Module& module, const SafetensorsFile& file);

/// Writes every parameter and buffer of `module` to `path` atomically, with `metadata` (see
/// docs/weights.md for the vmt.* keys). Throws vmt::Error(InvalidArgument) for a tensor whose
/// dtype the format here does not carry, vmt::Error(Internal) when the file cannot be written.
void save_state_dict(const torch::nn::Module& module, const std::filesystem::path& path,
                     const Metadata& metadata = {});

}  // namespace vmt::weights
