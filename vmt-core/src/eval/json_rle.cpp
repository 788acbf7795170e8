// JSON ⇄ RLE and file helpers shared by the evaluators.
#include "json_rle.h"

#include <fstream>
#include <sstream>

#include "vmt/error.h"

namespace vmt::eval::detail {

Rle rle_from_json(const nlohmann::json& value) {
  if (!value.is_object() || !value.contains("size") || !value.contains("counts"))
    throw Error(ErrorCode::CorruptData, "segmentation is not a COCO RLE object (polygons are not supported)");
  const auto& size = value.at("size");
  if (!size.is_array() || size.size() != 2)
    throw Error(ErrorCode::CorruptData, "RLE size must be [height, width]");
  const MaskSize mask_size{whole_number<std::uint32_t>(size[0], "RLE height"),
                           whole_number<std::uint32_t>(size[1], "RLE width")};
  const auto& counts = value.at("counts");
  if (counts.is_string()) return rle_from_string(counts.get<std::string>(), mask_size);
  if (!counts.is_array()) throw Error(ErrorCode::CorruptData, "RLE counts must be a string or a list");
  Rle rle{mask_size, {}};
  rle.counts.reserve(counts.size());
  for (const auto& run : counts) rle.counts.push_back(whole_number<std::uint32_t>(run, "RLE run"));
  std::uint64_t total = 0;
  for (auto c : rle.counts) total += c;
  if (total != mask_size.pixels())
    throw Error(ErrorCode::CorruptData, "uncompressed RLE counts do not cover the mask");
  return rle;
}

std::optional<Rle> optional_rle_from_json(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return rle_from_json(value);
}

nlohmann::json parse_json(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::CorruptData, std::string(what) + ": " + e.what());
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, "cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace vmt::eval::detail
