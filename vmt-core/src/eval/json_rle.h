// Internal helpers of vmt-eval: JSON ⇄ RLE and file reading.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vmt/error.h"
#include "vmt/mask.h"

namespace vmt::eval::detail {

/// A COCO RLE object {"size": [h, w], "counts": "…" or [runs]}; throws CorruptData otherwise
/// (polygons included).
Rle rle_from_json(const nlohmann::json& value);

/// As rle_from_json, but JSON null (an absent object) gives nullopt.
std::optional<Rle> optional_rle_from_json(const nlohmann::json& value);

/// Parses JSON text, turning parse errors into vmt::Error (CorruptData) naming `what`.
nlohmann::json parse_json(std::string_view text, std::string_view what);

/// `value` as a whole number of type T: a JSON integer in T's range, a float holding one (Python
/// writes 3.0 for a float id) or a boolean (0/1, as nlohmann and pycocotools take it). Anything
/// else — out of range, fractional, not a number — throws CorruptData naming `what`. (nlohmann's
/// get<T>() converts an out-of-range float with undefined behaviour and wraps integers.)
template <typename T>
T whole_number(const nlohmann::json& value, std::string_view what) {
  using limits = std::numeric_limits<T>;
  const auto refuse = [&] {
    return Error(ErrorCode::CorruptData, std::string(what) + " must be a whole number from " +
                                             std::to_string(limits::min()) + " to " +
                                             std::to_string(limits::max()) + ", not " + value.dump());
  };
  if (value.is_boolean()) return static_cast<T>(value.get<bool>() ? 1 : 0);
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(limits::max())) throw refuse();
    return static_cast<T>(number);
  }
  if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    if ((limits::is_signed && number < static_cast<std::int64_t>(limits::min())) ||
        (!limits::is_signed && number < 0) ||
        (number > 0 && static_cast<std::uint64_t>(number) > static_cast<std::uint64_t>(limits::max())))
      throw refuse();
    return static_cast<T>(number);
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    // limits::max() + 1 is a power of two, so exact as a double
    const double above = std::ldexp(1.0, limits::digits);
    if (!(std::floor(number) == number && number >= static_cast<double>(limits::min()) &&
          number < above))
      throw refuse();
    return static_cast<T>(number);
  }
  throw refuse();
}

/// The whole content of a file; throws NotFound.
std::string read_file(const std::filesystem::path& path);

}  // namespace vmt::eval::detail
