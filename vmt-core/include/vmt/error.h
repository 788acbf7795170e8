// The one exception type vmt-core throws across its public API. Callers (the GStreamer element,
// the tools) catch it and report `what()`; `code()` lets them choose the kind of error to raise.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace vmt {

enum class ErrorCode {
  InvalidArgument,   ///< a malformed value from the caller (device string, size, ...)
  Unavailable,       ///< a valid request the machine cannot serve (CUDA asked for, none present)
  NotFound,          ///< a file or key that does not exist
  CorruptData,       ///< a file or buffer that is not what it claims to be
  OutOfMemory,       ///< host or device memory exhausted
  Internal,          ///< a bug or an unexpected failure inside a library
};

std::string_view to_string(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace vmt
