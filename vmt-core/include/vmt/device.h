// Compute-device selection: parse what a user typed ("auto", "cpu", "cuda", "cuda:N") and resolve
// it against what this machine has. No LibTorch types: the GStreamer element uses this directly.
#pragma once

#include <string>
#include <string_view>

namespace vmt {

enum class DeviceKind { Auto, Cpu, Cuda };

struct DeviceSpec {
  DeviceKind kind = DeviceKind::Auto;
  int index = 0;  ///< CUDA ordinal; 0 for Auto and Cpu

  /// Canonical text: "auto", "cpu" or "cuda:N".
  std::string to_string() const;
  friend bool operator==(const DeviceSpec&, const DeviceSpec&) = default;
};

/// Parses "auto", "cpu", "cuda" (= "cuda:0") or "cuda:N", case-insensitive, surrounding blanks
/// ignored. Throws vmt::Error(InvalidArgument) naming the text and the accepted forms.
DeviceSpec parse_device(std::string_view text);

/// Number of CUDA devices LibTorch can use here (0 without a GPU, or when built without CUDA).
int cuda_device_count();

/// Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX-BF16): what `precision=bf16` needs on
/// the CPU (without it oneDNN would emulate bf16, slower than fp32).
bool cpu_has_bf16_instructions();

/// Resolves a request against this machine: Auto becomes "cuda:0" when a GPU is usable, else
/// "cpu"; an explicit CUDA request without a usable device (or with too high an ordinal) throws
/// vmt::Error(Unavailable) with the reason.
DeviceSpec resolve_device(const DeviceSpec& requested);

/// A description for logs: "cpu" or "cuda:0 (NVIDIA H100 80GB HBM3)".
std::string describe_device(const DeviceSpec& device);

}  // namespace vmt
