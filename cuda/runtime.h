// Thin, torch-free queries of the CUDA runtime, usable where no GPU exists.
#pragma once

#include <string>

namespace vmt::cuda {

/// Number of CUDA devices this process can use; 0 when there is no driver or no device
/// (never throws: a machine without a GPU is an ordinary case).
int device_count() noexcept;

/// Human-readable reason why device_count() is 0 ("no CUDA driver", ...), or "" when devices exist.
std::string unavailable_reason();

/// The device's marketing name, e.g. "NVIDIA H100 80GB HBM3"; "" for an invalid index.
std::string device_name(int index);

}  // namespace vmt::cuda
