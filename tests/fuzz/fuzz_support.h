// Shared by the fuzz targets of untrusted-input parsers: a parser may refuse an input only with a
// vmt::Error of the codes the target allows; any other exception, a crash, a sanitizer report or a
// broken invariant is a bug, and the target aborts so libFuzzer (or the corpus replay) reports it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <string_view>

#include "vmt/error.h"

namespace vmt::fuzz {

[[noreturn]] inline void broken(const char* target, const char* invariant) {
  std::fprintf(stderr, "%s: invariant broken: %s\n", target, invariant);
  std::abort();
}

/// Runs `body`; a vmt::Error whose code is in `allowed` is a clean refusal (returns false), any
/// other exception aborts. Returns true when `body` returned normally.
template <typename Body>
bool refused_cleanly_or_ran(const char* target, std::initializer_list<ErrorCode> allowed,
                            Body&& body) {
  try {
    body();
    return true;
  } catch (const Error& error) {
    for (const ErrorCode code : allowed)
      if (error.code() == code) return false;
    std::fprintf(stderr, "%s: unexpected error code: %s\n", target, error.what());
    std::abort();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: exception that is not a vmt::Error: %s\n", target, error.what());
    std::abort();
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace vmt::fuzz
