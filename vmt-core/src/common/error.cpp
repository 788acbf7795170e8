#include "vmt/error.h"

namespace vmt {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::Unavailable: return "unavailable";
    case ErrorCode::NotFound: return "not found";
    case ErrorCode::CorruptData: return "corrupt data";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::Internal: return "internal error";
  }
  return "unknown error";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

}  // namespace vmt
