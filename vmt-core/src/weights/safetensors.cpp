#include "safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "vmt/error.h"

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; big-endian hosts would need byte swaps");

namespace vmt::weights {

namespace {

using nlohmann::json;

constexpr std::size_t kLengthBytes = 8;      // the header-length prefix
constexpr std::size_t kHeaderAlignment = 8;  // the reference writer pads the JSON to this
constexpr std::size_t kMaxJsonNesting = 4;   // root / entry / shape: deeper is never valid
constexpr std::string_view kMetadataKey = "__metadata__";

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
  int writer_rank;  // the reference writer's order (safetensors 0.7: I64, F64, F32, I32, ...)
};

constexpr std::array<DtypeInfo, 10> kDtypes = {{
    {Dtype::F64, "F64", 8, 1},
    {Dtype::F32, "F32", 4, 2},
    {Dtype::F16, "F16", 2, 5},
    {Dtype::BF16, "BF16", 2, 4},
    {Dtype::I64, "I64", 8, 0},
    {Dtype::I32, "I32", 4, 3},
    {Dtype::I16, "I16", 2, 6},
    {Dtype::I8, "I8", 1, 7},
    {Dtype::U8, "U8", 1, 8},
    {Dtype::Bool, "BOOL", 1, 9},
}};

const DtypeInfo& info(Dtype dtype) {
  for (const auto& entry : kDtypes)
    if (entry.dtype == dtype) return entry;
  throw Error(ErrorCode::Internal, "unknown weights dtype");
}

// ---- reading -----------------------------------------------------------------------------------

/// A tensor entry of the header before the byte buffer is attached.
struct Entry {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

struct Header {
  std::vector<Entry> entries;  // sorted by data offset
  Metadata metadata;
};

[[noreturn]] void corrupt(std::string_view source, std::string_view problem) {
  throw Error(ErrorCode::CorruptData,
              std::string(source) + ": not a valid safetensors file: " + std::string(problem));
}

[[noreturn]] void corrupt_tensor(std::string_view source, std::string_view name,
                                 std::string_view problem) {
  constexpr std::size_t kMaxShown = 200;  // names come from the file: keep messages readable
  const std::string shown = name.size() <= kMaxShown ? std::string(name)
                                                     : std::string(name.substr(0, kMaxShown)) + "...";
  corrupt(source, "tensor \"" + shown + "\": " + std::string(problem));
}

std::uint64_t read_le64(std::span<const std::byte, kLengthBytes> bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    value |= std::uint64_t{std::to_integer<std::uint8_t>(bytes[i])} << (8 * i);
  return value;
}

/// Checks the header length `n` read from the prefix against the limits and the file size.
void check_header_length(std::uint64_t n, std::uint64_t file_size, std::string_view source,
                         const Limits& limits) {
  if (n > limits.max_header_bytes)
    corrupt(source, "header length " + std::to_string(n) + " exceeds the limit of " +
                        std::to_string(limits.max_header_bytes) + " bytes");
  if (n > file_size - kLengthBytes)
    corrupt(source, "header length " + std::to_string(n) + " runs past the end of the file (" +
                        std::to_string(file_size) + " bytes; truncated?)");
  if (n < 2) corrupt(source, "header length " + std::to_string(n) + " is too small for a JSON object");
}

/// Watches the JSON parser's events: rejects repeated keys in any object, nesting deeper than a
/// valid header needs, and more top-level keys than the tensor limit (before the tree grows).
class HeaderGuard {
 public:
  HeaderGuard(std::string_view source, std::size_t max_keys) : source_(source), max_keys_(max_keys) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    using Event = json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start: enter(); break;
      case Event::object_end:
      case Event::array_end: open_keys_.pop_back(); break;
      case Event::key: add_key(parsed.get_ref<const std::string&>()); break;
      case Event::value: break;
    }
    return true;
  }

 private:
  void enter() {
    if (open_keys_.size() >= kMaxJsonNesting)
      corrupt(source_, "header JSON nests deeper than " + std::to_string(kMaxJsonNesting) + " levels");
    open_keys_.emplace_back();
  }

  void add_key(const std::string& key) {
    auto& keys = open_keys_.back();
    if (!keys.insert(key).second) corrupt(source_, "header JSON repeats the key \"" + key + "\"");
    if (open_keys_.size() == 1 && keys.size() > max_keys_)
      corrupt(source_, "more than " + std::to_string(max_keys_ - 1) + " tensors");
  }

  std::string_view source_;
  std::size_t max_keys_;
  std::vector<std::set<std::string>> open_keys_;  // per open object or array (arrays: empty)
};

json parse_json(std::span<const std::byte> text, std::string_view source, const Limits& limits) {
  const auto* first = reinterpret_cast<const char*>(text.data());
  if (text.empty() || *first != '{') corrupt(source, "the header does not start with '{'");
  // No JSON text holds a raw NUL byte, and nlohmann::json would take one for the end of input.
  if (std::find(text.begin(), text.end(), std::byte{0}) != text.end())
    corrupt(source, "header is not valid UTF-8 JSON: it holds a NUL byte");
  HeaderGuard guard(source, limits.max_tensors + 1);  // + 1: "__metadata__"
  try {
    return json::parse(first, first + text.size(), std::ref(guard));
  } catch (const json::exception& error) {
    corrupt(source, std::string("header is not valid UTF-8 JSON: ") + error.what());
  }
}

Metadata parse_metadata(const json& value, std::string_view source) {
  if (!value.is_object()) corrupt(source, "\"__metadata__\" is not an object");
  Metadata metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) corrupt(source, "metadata value \"" + key + "\" is not a string");
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

/// A JSON array of unsigned integers, each at most `max`.
std::vector<std::uint64_t> unsigned_array(const json& value, std::uint64_t max, std::string_view source,
                                          std::string_view name, std::string_view field) {
  if (!value.is_array()) corrupt_tensor(source, name, std::string(field) + " is not an array");
  std::vector<std::uint64_t> out;
  out.reserve(value.size());
  for (const auto& item : value) {
    if (!item.is_number_unsigned() || item.get<std::uint64_t>() > max)
      corrupt_tensor(source, name, std::string(field) + " holds " + item.dump() +
                                       ", not an integer in [0, " + std::to_string(max) + "]");
    out.push_back(item.get<std::uint64_t>());
  }
  return out;
}

/// Bytes the tensor's elements take, or nothing when the product overflows 64 bits.
std::optional<std::uint64_t> byte_size(std::span<const std::int64_t> shape, Dtype dtype) {
  std::uint64_t bytes = info(dtype).size;
  for (const std::int64_t dim : shape)
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dim), &bytes)) return std::nullopt;
  return bytes;
}

Entry parse_entry(const std::string& name, const json& value, std::uint64_t data_size,
                  std::string_view source) {
  if (name.empty()) corrupt(source, "a tensor has an empty name");
  if (!value.is_object()) corrupt_tensor(source, name, "entry is not an object");
  for (const auto& [key, item] : value.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      corrupt_tensor(source, name, "unexpected field \"" + key + "\"");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!value.contains(key)) corrupt_tensor(source, name, std::string("no \"") + key + "\" field");

  Entry entry{name, Dtype::F32, {}, 0, 0};
  const json& dtype = value["dtype"];
  if (!dtype.is_string()) corrupt_tensor(source, name, "dtype is not a string");
  const auto parsed = parse_dtype(dtype.get_ref<const std::string&>());
  if (!parsed) corrupt_tensor(source, name, "unsupported dtype " + dtype.dump());
  entry.dtype = *parsed;

  constexpr auto max_dim = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  for (const std::uint64_t dim : unsigned_array(value["shape"], max_dim, source, name, "shape"))
    entry.shape.push_back(static_cast<std::int64_t>(dim));

  constexpr auto max_offset = std::numeric_limits<std::uint64_t>::max();
  const auto offsets = unsigned_array(value["data_offsets"], max_offset, source, name, "data_offsets");
  if (offsets.size() != 2) corrupt_tensor(source, name, "data_offsets is not [begin, end]");
  entry.begin = offsets[0];
  entry.end = offsets[1];
  const std::string span_text =
      "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
  if (entry.begin > entry.end) corrupt_tensor(source, name, span_text + " end before they begin");
  if (entry.end > data_size)
    corrupt_tensor(source, name, span_text + " run past the end of the data buffer (" +
                                     std::to_string(data_size) + " bytes; truncated?)");

  const auto bytes = byte_size(entry.shape, entry.dtype);
  if (!bytes) corrupt_tensor(source, name, "shape " + value["shape"].dump() + " overflows 64 bits");
  if (*bytes != entry.end - entry.begin)
    corrupt_tensor(source, name, "shape " + value["shape"].dump() + " of " + dtype.get<std::string>() +
                                     " needs " + std::to_string(*bytes) + " bytes but data_offsets span " +
                                     std::to_string(entry.end - entry.begin));
  return entry;
}

/// Sorts by offset and checks, as the reference reader does, that the tensors tile the byte
/// buffer exactly: no overlap, no gap, nothing left over.
void check_layout(std::vector<Entry>& entries, std::uint64_t data_size, std::string_view source) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::uint64_t expected = 0;
  for (const Entry& entry : entries) {
    if (entry.begin != expected)
      corrupt_tensor(source, entry.name,
                     "data begins at byte " + std::to_string(entry.begin) + " of the buffer but the " +
                         "previous tensor ends at byte " + std::to_string(expected) +
                         (entry.begin < expected ? " (overlap)" : " (gap)"));
    expected = entry.end;
  }
  if (expected != data_size)
    corrupt(source, "the tensors cover " + std::to_string(expected) + " bytes but the data buffer holds " +
                        std::to_string(data_size));
}

Header parse_header(std::span<const std::byte> text, std::uint64_t data_size, std::string_view source,
                    const Limits& limits) {
  const json root = parse_json(text, source, limits);
  if (!root.is_object()) corrupt(source, "the header is not a JSON object");
  Header header;
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey)
      header.metadata = parse_metadata(value, source);
    else
      header.entries.push_back(parse_entry(key, value, data_size, source));
  }
  if (header.entries.size() > limits.max_tensors)
    corrupt(source, "more than " + std::to_string(limits.max_tensors) + " tensors");
  check_layout(header.entries, data_size, source);
  return header;
}

std::vector<std::byte> allocate(std::uint64_t size, std::string_view source) {
  try {
    return std::vector<std::byte>(static_cast<std::size_t>(size));
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory,
                std::string(source) + ": cannot allocate " + std::to_string(size) + " bytes for the tensors");
  }
}

/// The records for validated `entries`, their spans pointing into `buffer`.
std::vector<TensorRecord> attach(std::vector<Entry> entries, std::span<const std::byte> buffer) {
  std::vector<TensorRecord> records;
  records.reserve(entries.size());
  for (Entry& entry : entries)
    records.push_back({std::move(entry.name), entry.dtype, std::move(entry.shape),
                       buffer.subspan(entry.begin, entry.end - entry.begin)});
  return records;
}

/// An open file descriptor, closed on destruction. Plain POSIX on purpose: libtorch.so exports
/// its own copies of std::filesystem's operations, which would bind here inside libvmt-core.so.
class InputFile {
 public:
  InputFile(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0)
      throw Error(ErrorCode::NotFound, path + ": cannot open the weights file (" + std::strerror(errno) + ")");
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { ::close(fd_); }

  /// The size of a regular file; throws CorruptData naming `path` for anything else.
  std::uint64_t regular_file_size(const std::string& path) const {
    struct stat info {};
    if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode))
      throw Error(ErrorCode::CorruptData, path + ": not a regular file");
    return static_cast<std::uint64_t>(info.st_size);
  }

  /// Reads exactly `out.size()` bytes or throws naming the file.
  void read_exactly(std::span<std::byte> out, std::string_view source) {
    while (!out.empty()) {
      const ssize_t got = ::read(fd_, out.data(), out.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) corrupt(source, "the file ended early while reading (changed while being read?)");
      out = out.subspan(static_cast<std::size_t>(got));
    }
  }

 private:
  int fd_;
};

}  // namespace

// ---- dtypes ------------------------------------------------------------------------------------

std::string_view to_string(Dtype dtype) { return info(dtype).name; }

std::optional<Dtype> parse_dtype(std::string_view text) {
  for (const auto& entry : kDtypes)
    if (entry.name == text) return entry.dtype;
  return std::nullopt;
}

std::size_t element_size(Dtype dtype) { return info(dtype).size; }

// ---- SafetensorsFile ----------------------------------------------------------------------------

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path, const Limits& limits) {
  const std::string source = path.string();
  InputFile in(source);
  const std::uint64_t file_size = in.regular_file_size(source);
  if (file_size < kLengthBytes)
    corrupt(source, "only " + std::to_string(file_size) + " bytes, too small for the 8-byte header length");
  if (file_size > limits.max_file_bytes)
    corrupt(source, std::to_string(file_size) + " bytes exceeds the limit of " +
                        std::to_string(limits.max_file_bytes));

  std::array<std::byte, kLengthBytes> prefix{};
  in.read_exactly(prefix, source);
  const std::uint64_t n = read_le64(prefix);
  check_header_length(n, file_size, source, limits);
  std::vector<std::byte> text = allocate(n, source);
  in.read_exactly(text, source);
  const std::uint64_t data_size = file_size - kLengthBytes - n;
  Header header = parse_header(text, data_size, source, limits);

  auto buffer = std::make_shared<std::vector<std::byte>>(allocate(data_size, source));
  in.read_exactly(*buffer, source);
  auto tensors = attach(std::move(header.entries), *buffer);
  return SafetensorsFile(source, std::move(buffer), std::move(tensors), std::move(header.metadata));
}

SafetensorsFile SafetensorsFile::from_bytes(std::span<const std::byte> bytes, std::string_view source,
                                            const Limits& limits) {
  if (bytes.size() < kLengthBytes)
    corrupt(source, "only " + std::to_string(bytes.size()) + " bytes, too small for the 8-byte header length");
  const std::uint64_t n = read_le64(bytes.first<kLengthBytes>());
  check_header_length(n, bytes.size(), source, limits);
  const auto text = bytes.subspan(kLengthBytes, n);
  const auto data = bytes.subspan(kLengthBytes + n);
  Header header = parse_header(text, data.size(), source, limits);

  auto buffer = std::make_shared<std::vector<std::byte>>(data.begin(), data.end());
  auto tensors = attach(std::move(header.entries), *buffer);
  return SafetensorsFile(std::string(source), std::move(buffer), std::move(tensors),
                         std::move(header.metadata));
}

SafetensorsFile::SafetensorsFile(std::string source, std::shared_ptr<const std::vector<std::byte>> buffer,
                                 std::vector<TensorRecord> tensors, Metadata metadata)
    : source_(std::move(source)),
      buffer_(std::move(buffer)),
      tensors_(std::move(tensors)),
      metadata_(std::move(metadata)) {}

const TensorRecord* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::find_if(tensors_.begin(), tensors_.end(),
                               [name](const TensorRecord& record) { return record.name == name; });
  return it == tensors_.end() ? nullptr : &*it;
}

const TensorRecord& SafetensorsFile::at(std::string_view name) const {
  if (const TensorRecord* record = find(name)) return *record;
  throw Error(ErrorCode::NotFound, source_ + ": no tensor \"" + std::string(name) + "\"");
}

// ---- writing -----------------------------------------------------------------------------------

namespace {

[[noreturn]] void invalid(std::string_view problem) {
  throw Error(ErrorCode::InvalidArgument, "safetensors writer: " + std::string(problem));
}

/// The header (length prefix + padded JSON) and the order the tensors' bytes follow it in.
struct Layout {
  std::vector<std::byte> header;
  std::vector<const TensorRecord*> order;
};

void check_record(const TensorRecord& record, std::set<std::string_view>& seen) {
  if (record.name.empty() || record.name == kMetadataKey)
    invalid("tensor name \"" + record.name + "\" is empty or reserved");
  if (!seen.insert(record.name).second) invalid("tensor \"" + record.name + "\" is given twice");
  if (std::any_of(record.shape.begin(), record.shape.end(), [](std::int64_t dim) { return dim < 0; }))
    invalid("tensor \"" + record.name + "\" has a negative dimension");
  const auto bytes = byte_size(record.shape, record.dtype);
  if (!bytes || *bytes != record.data.size())
    invalid("tensor \"" + record.name + "\" has " + std::to_string(record.data.size()) +
            " bytes, which does not match its shape and dtype " + std::string(to_string(record.dtype)));
}

/// Tensors in the reference writer's order: widest dtype first, then by name.
std::vector<const TensorRecord*> writer_order(std::span<const TensorRecord> tensors) {
  std::vector<const TensorRecord*> order;
  for (const TensorRecord& record : tensors) order.push_back(&record);
  std::sort(order.begin(), order.end(), [](const TensorRecord* a, const TensorRecord* b) {
    return std::pair(info(a->dtype).writer_rank, std::string_view(a->name)) <
           std::pair(info(b->dtype).writer_rank, std::string_view(b->name));
  });
  return order;
}

std::string header_json(std::span<const TensorRecord* const> order, const Metadata& metadata) {
  using ordered = nlohmann::ordered_json;
  ordered root = ordered::object();
  if (!metadata.empty()) root[std::string(kMetadataKey)] = metadata;
  std::uint64_t offset = 0;
  for (const TensorRecord* record : order) {
    const std::uint64_t end = offset + record->data.size();
    root[record->name] = ordered{{"dtype", to_string(record->dtype)},
                                 {"shape", record->shape},
                                 {"data_offsets", ordered::array({offset, end})}};
    offset = end;
  }
  try {
    return root.dump(-1, ' ', false, ordered::error_handler_t::strict);
  } catch (const nlohmann::ordered_json::exception&) {
    invalid("a tensor name or metadata string is not valid UTF-8");
  }
}

Layout plan(std::span<const TensorRecord> tensors, const Metadata& metadata) {
  std::set<std::string_view> seen;
  for (const TensorRecord& record : tensors) check_record(record, seen);
  Layout layout{{}, writer_order(tensors)};
  std::string text = header_json(layout.order, metadata);
  text.append((kHeaderAlignment - text.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
  const std::uint64_t n = text.size();
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    layout.header.push_back(static_cast<std::byte>((n >> (8 * i)) & 0xff));
  const auto* chars = reinterpret_cast<const std::byte*>(text.data());
  layout.header.insert(layout.header.end(), chars, chars + text.size());
  return layout;
}

/// A temporary file next to the destination; removed unless commit() renamed it into place.
class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& destination)
      : destination_(destination), path_(destination.string() + ".tmp.XXXXXX") {
    fd_ = ::mkstemp(path_.data());
    if (fd_ < 0) fail("cannot create a temporary file");
    ::fchmod(fd_, 0644);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !path_.empty()) ::unlink(path_.c_str());
  }

  void write(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) fail("cannot write");
      bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
  }

  /// Flushes the data to disk and renames the file over the destination.
  void commit() {
    if (::fsync(fd_) != 0) fail("cannot flush");
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail("cannot close");
    if (::rename(path_.c_str(), destination_.c_str()) != 0) fail("cannot rename the temporary file");
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw Error(ErrorCode::Internal, destination_.string() + ": " + std::string(what) + " (" +
                                         std::strerror(errno) + ")");
  }

  std::filesystem::path destination_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

std::vector<std::byte> serialize(std::span<const TensorRecord> tensors, const Metadata& metadata) {
  Layout layout = plan(tensors, metadata);
  std::vector<std::byte> image = std::move(layout.header);
  for (const TensorRecord* record : layout.order)
    image.insert(image.end(), record->data.begin(), record->data.end());
  return image;
}

void write_file(const std::filesystem::path& path, std::span<const TensorRecord> tensors,
                const Metadata& metadata) {
  const Layout layout = plan(tensors, metadata);
  TempFile file(path);
  file.write(layout.header);
  for (const TensorRecord* record : layout.order) file.write(record->data);
  file.commit();
}

}  // namespace vmt::weights
