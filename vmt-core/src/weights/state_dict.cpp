#include "state_dict.h"

#include <torch/types.h>

#include <array>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vmt/error.h"

namespace vmt::weights {

namespace {

constexpr std::array<std::pair<Dtype, c10::ScalarType>, 10> kTypes = {{
    {Dtype::F64, c10::ScalarType::Double},
    {Dtype::F32, c10::ScalarType::Float},
    {Dtype::F16, c10::ScalarType::Half},
    {Dtype::BF16, c10::ScalarType::BFloat16},
    {Dtype::I64, c10::ScalarType::Long},
    {Dtype::I32, c10::ScalarType::Int},
    {Dtype::I16, c10::ScalarType::Short},
    {Dtype::I8, c10::ScalarType::Char},
    {Dtype::U8, c10::ScalarType::Byte},
    {Dtype::Bool, c10::ScalarType::Bool},
}};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// The module's parameters then buffers, recursively, in registration order.
NamedTensors state_tensors(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    if (item.value().defined()) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true))
    if (item.value().defined()) out.emplace_back(item.key(), item.value());
  return out;
}

std::string shape_text(c10::IntArrayRef shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string type_text(c10::ScalarType type) {
  const auto dtype = from_torch(type);
  return dtype ? std::string(to_string(*dtype)) : std::string(c10::toString(type));
}

[[noreturn]] void mismatch(ErrorCode code, const SafetensorsFile& file, const std::string& problem) {
  throw Error(code, file.source() + ": weights do not match the model: " + problem);
}

/// Throws unless `record` (possibly absent) can be copied into `target` as it is.
void check_match(const std::string& name, const torch::Tensor& target, const TensorRecord* record,
                 const SafetensorsFile& file) {
  const std::string expected = type_text(target.scalar_type()) + " " + shape_text(target.sizes());
  if (record == nullptr)
    mismatch(ErrorCode::NotFound, file, "missing tensor \"" + name + "\" (expected " + expected + ")");
  if (to_torch(record->dtype) != target.scalar_type())
    mismatch(ErrorCode::CorruptData, file,
             "tensor \"" + name + "\" is " + std::string(to_string(record->dtype)) +
                 " in the file, the model expects " + type_text(target.scalar_type()));
  if (c10::IntArrayRef(record->shape) != target.sizes())
    mismatch(ErrorCode::CorruptData, file,
             "tensor \"" + name + "\" has shape " + shape_text(record->shape) +
                 " in the file, the model expects " + shape_text(target.sizes()));
}

/// Copies the record's bytes into `target` (dtype and shape already checked).
void copy_into(torch::Tensor& target, const TensorRecord& record) {
  if (record.data.empty()) return;
  if (target.device().is_cpu() && target.is_contiguous()) {
    std::memcpy(target.data_ptr(), record.data.data(), record.data.size());
    return;
  }
  torch::Tensor staging = torch::empty(record.shape, torch::TensorOptions().dtype(to_torch(record.dtype)));
  std::memcpy(staging.data_ptr(), record.data.data(), record.data.size());
  target.copy_(staging);
}

}  // namespace

c10::ScalarType to_torch(Dtype dtype) {
  for (const auto& [ours, theirs] : kTypes)
    if (ours == dtype) return theirs;
  throw Error(ErrorCode::Internal, "unknown weights dtype");
}

std::optional<Dtype> from_torch(c10::ScalarType type) {
  for (const auto& [ours, theirs] : kTypes)
    if (theirs == type) return ours;
  return std::nullopt;
}

void load_state_dict(torch::nn::Module& module, const SafetensorsFile& file) {
  std::unordered_map<std::string_view, const TensorRecord*> index;
  for (const TensorRecord& record : file.tensors()) index.emplace(record.name, &record);

  NamedTensors targets = state_tensors(module);
  for (const auto& [name, target] : targets) {
    const auto it = index.find(name);
    check_match(name, target, it == index.end() ? nullptr : it->second, file);
  }
  if (file.tensors().size() != targets.size()) {
    std::unordered_map<std::string_view, bool> known;
    for (const auto& item : targets) known.emplace(item.first, true);
    for (const TensorRecord& record : file.tensors())
      if (!known.contains(record.name))
        mismatch(ErrorCode::CorruptData, file,
                 "unexpected tensor \"" + record.name + "\" (" + std::string(to_string(record.dtype)) +
                     " " + shape_text(record.shape) + ") that the model does not have");
  }

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) copy_into(target, *index.at(name));
}

void save_state_dict(const torch::nn::Module& module, const std::filesystem::path& path,
                     const Metadata& metadata) {
  NamedTensors tensors = state_tensors(module);
  std::vector<TensorRecord> records;
  records.reserve(tensors.size());
  for (auto& [name, tensor] : tensors) {
    const auto dtype = from_torch(tensor.scalar_type());
    if (!dtype)
      throw Error(ErrorCode::InvalidArgument, path.string() + ": tensor \"" + name + "\" has dtype " +
                                                  std::string(c10::toString(tensor.scalar_type())) +
                                                  ", which the weights format does not carry");
    tensor = tensor.detach().to(torch::kCPU).contiguous();  // keeps the bytes alive until written
    const auto* bytes = static_cast<const std::byte*>(tensor.data_ptr());
    records.push_back({name, *dtype, tensor.sizes().vec(), std::span(bytes, tensor.nbytes())});
  }
  write_file(path, records, metadata);
}

}  // namespace vmt::weights
