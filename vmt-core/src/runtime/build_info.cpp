#include "vmt/build_info.h"

#include <torch/cuda.h>

namespace vmt {

BuildInfo build_info() {
  BuildInfo info;
  info.version = VMT_VERSION;
  info.torch_version = VMT_TORCH_VERSION;
  info.torch_cuda = torch::cuda::is_available() || VMT_TORCH_HAS_CUDA;
#ifdef VMT_WITH_CUDA
  info.cuda_kernels = true;
#endif
  return info;
}

}  // namespace vmt
