// --device values of the command-line tools: "auto", "cpu", "cuda" or "cuda:N" (vmt/device.h).
#pragma once

#include <string>

#include "vmt/device.h"
#include "vmt/error.h"

namespace vmt::cli {

/// Why `text` is not a device the tools accept, or "" (an Option::check).
inline std::string device_problem(const std::string& text) {
  try {
    vmt::parse_device(text);
    return "";
  } catch (const vmt::Error& error) {
    return error.what();
  }
}

}  // namespace vmt::cli
