#include "vmt/device.h"

#include <ATen/cpu/Utils.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "vmt/error.h"

#ifdef VMT_WITH_CUDA
#include "runtime.h"
#endif

namespace vmt {

namespace {

std::string normalised(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\n");
  auto end = text.find_last_not_of(" \t\n");
  std::string out = begin == std::string_view::npos
                        ? std::string()
                        : std::string(text.substr(begin, end - begin + 1));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

[[noreturn]] void reject(std::string_view text) {
  throw Error(ErrorCode::InvalidArgument,
              "invalid device \"" + std::string(text) +
                  "\": expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (N = 0, 1, ...)");
}

std::string why_no_cuda() {
  if (!torch::cuda::is_available()) {
#ifdef VMT_WITH_CUDA
    const std::string reason = cuda::unavailable_reason();
    return reason.empty() ? "LibTorch sees no CUDA device" : reason;
#else
    return "this build has no CUDA support";
#endif
  }
  return "";
}

}  // namespace

std::string DeviceSpec::to_string() const {
  switch (kind) {
    case DeviceKind::Auto: return "auto";
    case DeviceKind::Cpu: return "cpu";
    case DeviceKind::Cuda: return "cuda:" + std::to_string(index);
  }
  return "auto";
}

DeviceSpec parse_device(std::string_view text) {
  const std::string value = normalised(text);
  if (value == "auto") return {DeviceKind::Auto, 0};
  if (value == "cpu") return {DeviceKind::Cpu, 0};
  if (value == "cuda") return {DeviceKind::Cuda, 0};
  constexpr std::string_view prefix = "cuda:";
  if (value.size() > prefix.size() && value.compare(0, prefix.size(), prefix) == 0) {
    const char* first = value.data() + prefix.size();
    const char* last = value.data() + value.size();
    int index = -1;
    const auto [end, status] = std::from_chars(first, last, index);
    if (status == std::errc() && end == last && index >= 0) return {DeviceKind::Cuda, index};
  }
  reject(text);
}

int cuda_device_count() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

bool cpu_has_bf16_instructions() {
  const auto capabilities = at::cpu::get_cpu_capabilities();
  auto has = [&](const char* name) {
    const auto it = capabilities.find(name);
    return it != capabilities.end() && it->second.isBool() && it->second.toBool();
  };
  return has("avx512_bf16") || has("amx_bf16");
}

DeviceSpec resolve_device(const DeviceSpec& requested) {
  const int available = cuda_device_count();
  switch (requested.kind) {
    case DeviceKind::Cpu: return requested;
    case DeviceKind::Auto:
      return available > 0 ? DeviceSpec{DeviceKind::Cuda, 0} : DeviceSpec{DeviceKind::Cpu, 0};
    case DeviceKind::Cuda:
      if (available == 0) {
        throw Error(ErrorCode::Unavailable, "device \"" + requested.to_string() +
                                                "\" requested but CUDA is not available: " +
                                                why_no_cuda());
      }
      if (requested.index >= available) {
        throw Error(ErrorCode::Unavailable,
                    "device \"" + requested.to_string() + "\" requested but only " +
                        std::to_string(available) + " CUDA device(s) exist (cuda:0 ... cuda:" +
                        std::to_string(available - 1) + ")");
      }
      return requested;
  }
  return requested;
}

std::string describe_device(const DeviceSpec& device) {
  std::string text = device.to_string();
#ifdef VMT_WITH_CUDA
  if (device.kind == DeviceKind::Cuda) {
    const std::string name = cuda::device_name(device.index);
    if (!name.empty()) text += " (" + name + ")";
  }
#endif
  return text;
}

}  // namespace vmt
