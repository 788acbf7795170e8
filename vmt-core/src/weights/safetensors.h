// The safetensors weights format, without LibTorch: a reader that treats the file as untrusted
// input and a writer that produces what the reference `safetensors` library produces.
//
// Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of UTF-8 JSON, then the byte buffer. The JSON object maps each tensor name to
// {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} (offsets into the byte buffer)
// and may hold "__metadata__", a map of strings to strings. See docs/weights.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmt::weights {

/// The element types this project reads and writes (the safetensors spelling in the comment).
enum class Dtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool /* "BOOL" */ };

/// The safetensors spelling of `dtype` ("F32", "BOOL", ...).
std::string_view to_string(Dtype dtype);
/// The Dtype spelled `text`, or nothing for an unknown or unsupported spelling.
std::optional<Dtype> parse_dtype(std::string_view text);
/// Bytes per element.
std::size_t element_size(Dtype dtype);

/// One tensor of a file: its name, element type, shape and raw little-endian bytes. The bytes
/// belong to the SafetensorsFile it came from (or, for the writer, to the caller).
struct TensorRecord {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;
};

/// Metadata: the header's "__metadata__" map (vmt.config, vmt.labels, vmt.format_version, ...).
using Metadata = std::map<std::string, std::string>;

/// Bounds applied to untrusted files before anything is allocated for them.
struct Limits {
  std::uint64_t max_header_bytes = 100'000'000;  ///< the reference library's bound
  std::size_t max_tensors = 100'000;
  std::uint64_t max_file_bytes = std::uint64_t{64} << 30;  ///< 64 GiB
};

/// A parsed, fully validated safetensors file held in memory. Every record's span lies inside
/// the file's byte buffer; records are in data-offset order. Movable, not copyable.
class SafetensorsFile {
 public:
  /// Reads and validates `path`. Throws vmt::Error: NotFound when the file cannot be opened,
  /// CorruptData (naming the file, the problem and the tensor) when it is not a valid file.
  static SafetensorsFile open(const std::filesystem::path& path, const Limits& limits = {});
  /// Validates a whole file image already in memory (copied); `source` names it in errors.
  static SafetensorsFile from_bytes(std::span<const std::byte> bytes,
                                    std::string_view source = "<memory>",
                                    const Limits& limits = {});

  const std::vector<TensorRecord>& tensors() const { return tensors_; }
  const Metadata& metadata() const { return metadata_; }
  /// The file name (or `source`) used in error messages.
  const std::string& source() const { return source_; }

  /// The tensor called `name`, or nullptr.
  const TensorRecord* find(std::string_view name) const;
  /// The tensor called `name`; throws vmt::Error(NotFound) naming the file and the tensor.
  const TensorRecord& at(std::string_view name) const;

 private:
  SafetensorsFile(std::string source, std::shared_ptr<const std::vector<std::byte>> buffer,
                  std::vector<TensorRecord> tensors, Metadata metadata);

  std::string source_;
  std::shared_ptr<const std::vector<std::byte>> buffer_;  // the byte buffer the spans point into
  std::vector<TensorRecord> tensors_;
  Metadata metadata_;
};

/// The complete file image for `tensors` and `metadata`: 8-byte length, JSON header padded with
/// spaces to a multiple of 8 bytes, then the tensors' bytes ordered by alignment (widest element
/// first) then name, as the reference writer does. Throws vmt::Error(InvalidArgument) when a
/// name is empty, reserved ("__metadata__") or repeated, or a span's size disagrees with its
/// shape and dtype.
std::vector<std::byte> serialize(std::span<const TensorRecord> tensors, const Metadata& metadata);

/// Writes the same image to `path` atomically: a temporary file in the same folder, flushed,
/// then renamed over `path`; on failure `path` is untouched. Errors as for serialize(), plus
/// vmt::Error(Internal) naming the path when the file system refuses.
void write_file(const std::filesystem::path& path, std::span<const TensorRecord> tensors,
                const Metadata& metadata);

}  // namespace vmt::weights
