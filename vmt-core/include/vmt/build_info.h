// What this vmt-core was built with, for logs, `vmt-info` and bug reports.
#pragma once

#include <string>

namespace vmt {

struct BuildInfo {
  std::string version;        ///< vmt-gst version
  std::string torch_version;  ///< LibTorch version at build time, e.g. "2.11.0+cu130"
  bool torch_cuda = false;    ///< LibTorch at run time has a CUDA backend
  bool cuda_kernels = false;  ///< this build compiled the kernels in cuda/
};

BuildInfo build_info();

}  // namespace vmt
