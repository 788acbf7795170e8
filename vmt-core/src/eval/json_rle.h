// Internal helpers of vmt-eval: JSON ⇄ RLE and file reading.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vmt/mask.h"

namespace vmt::eval::detail {

/// A COCO RLE object {"size": [h, w], "counts": "…" or [runs]}; throws CorruptData otherwise
/// (polygons included).
Rle rle_from_json(const nlohmann::json& value);

/// As rle_from_json, but JSON null (an absent object) gives nullopt.
std::optional<Rle> optional_rle_from_json(const nlohmann::json& value);

/// Parses JSON text, turning parse errors into vmt::Error (CorruptData) naming `what`.
nlohmann::json parse_json(std::string_view text, std::string_view what);

/// The whole content of a file; throws NotFound.
std::string read_file(const std::filesystem::path& path);

}  // namespace vmt::eval::detail
