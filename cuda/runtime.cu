#include "runtime.h"

#include <cuda_runtime_api.h>

namespace vmt::cuda {

namespace {
cudaError_t query_count(int* count) {
  *count = 0;
  const cudaError_t status = cudaGetDeviceCount(count);
  if (status != cudaSuccess) {
    *count = 0;
    cudaGetLastError();  // clear the sticky error so later calls start clean
  }
  return status;
}
}  // namespace

int device_count() noexcept {
  int count = 0;
  query_count(&count);
  return count;
}

std::string unavailable_reason() {
  int count = 0;
  const cudaError_t status = query_count(&count);
  if (status == cudaErrorInsufficientDriver || status == cudaErrorNoDevice)
    return std::string("no NVIDIA driver or GPU on this machine (") + cudaGetErrorName(status) + ")";
  if (status != cudaSuccess) return cudaGetErrorString(status);
  return count == 0 ? "no CUDA device found" : "";
}

std::string device_name(int index) {
  cudaDeviceProp properties{};
  if (index < 0 || index >= device_count()) return "";
  if (cudaGetDeviceProperties(&properties, index) != cudaSuccess) return "";
  return properties.name;
}

}  // namespace vmt::cuda
