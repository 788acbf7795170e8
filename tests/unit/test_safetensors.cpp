// The torch-free safetensors reader and writer (vmt-core/src/weights/safetensors.h): files made
// by the reference library, writer round trips, and every rule that rejects an untrusted file.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "weights/safetensors.h"
#include "vmt/error.h"

namespace fs = std::filesystem;
using vmt::ErrorCode;
using vmt::weights::Dtype;
using vmt::weights::Limits;
using vmt::weights::Metadata;
using vmt::weights::SafetensorsFile;
using vmt::weights::TensorRecord;

namespace {

fs::path fixture(const std::string& name) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  if (root == nullptr) throw std::runtime_error("VMT_SOURCE_ROOT is not set (run through meson test)");
  return fs::path(root) / "tests" / "fixtures" / "safetensors" / name;
}

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

/// A file image: the 8-byte little-endian `length` (default: the header's), the header, then
/// `data_bytes` zero bytes.
std::vector<std::byte> image(const std::string& header, std::size_t data_bytes = 0,
                             std::optional<std::uint64_t> length = std::nullopt) {
  const std::uint64_t n = length.value_or(header.size());
  std::vector<std::byte> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::byte>((n >> (8 * i)) & 0xff));
  const auto text = as_bytes(header);
  bytes.insert(bytes.end(), text.begin(), text.end());
  bytes.resize(bytes.size() + data_bytes);
  return bytes;
}

/// Parses `bytes` expecting a CorruptData error that names the source and contains `fragment`.
void expect_corrupt(const std::vector<std::byte>& bytes, const std::string& fragment,
                    const Limits& limits = {}) {
  try {
    SafetensorsFile::from_bytes(bytes, "bad.safetensors", limits);
    ADD_FAILURE() << "accepted; expected an error containing \"" << fragment << "\"";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::CorruptData) << error.what();
    const std::string message = error.what();
    EXPECT_NE(message.find("bad.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << "\"" << fragment << "\" not in: " << message;
  }
}

template <typename T>
std::vector<T> values(const TensorRecord& record) {
  std::vector<T> out(record.data.size() / sizeof(T));
  std::memcpy(out.data(), record.data.data(), record.data.size());
  return out;
}

/// A unique empty folder under the system temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "vmt-safetensors-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

// Every dtype name round-trips and has the expected element size; unknown spellings are refused.
TEST(SafetensorsDtype, NamesAndSizes) {
  const std::pair<Dtype, std::size_t> expected[] = {
      {Dtype::F64, 8}, {Dtype::F32, 4}, {Dtype::F16, 2}, {Dtype::BF16, 2}, {Dtype::I64, 8},
      {Dtype::I32, 4}, {Dtype::I16, 2}, {Dtype::I8, 1},  {Dtype::U8, 1},   {Dtype::Bool, 1}};
  for (const auto& [dtype, size] : expected) {
    EXPECT_EQ(vmt::weights::parse_dtype(vmt::weights::to_string(dtype)), dtype);
    EXPECT_EQ(vmt::weights::element_size(dtype), size);
  }
  EXPECT_EQ(vmt::weights::to_string(Dtype::Bool), "BOOL");
  for (const char* text : {"f32", "U32", "F8_E4M3", "", "BOOL "})
    EXPECT_FALSE(vmt::weights::parse_dtype(text)) << text;
}

// A file written by the reference Python library reads back with its dtypes, shapes, values and metadata.
TEST(SafetensorsRead, ReadsReferenceFile) {
  const SafetensorsFile file = SafetensorsFile::open(fixture("small.safetensors"));
  EXPECT_EQ(file.tensors().size(), 13u);
  EXPECT_EQ(file.metadata().at("vmt.format_version"), "1");
  EXPECT_EQ(file.metadata().at("vmt.labels"), R"(["person", "car"])");
  EXPECT_EQ(file.metadata().at("vmt.config"), R"({"num_classes": 2, "hidden_dim": 4})");

  const TensorRecord& f32 = file.at("f32");
  EXPECT_EQ(f32.dtype, Dtype::F32);
  EXPECT_EQ(f32.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(values<float>(f32), (std::vector<float>{1.0f, 1.125f, 1.25f, 1.375f, 1.5f, 1.625f}));
  EXPECT_EQ(values<double>(file.at("f64")), (std::vector<double>{1.0, 1.125}));
  EXPECT_EQ(values<std::int64_t>(file.at("i64")), (std::vector<std::int64_t>{-1, std::int64_t{1} << 40}));
  EXPECT_EQ(values<std::int32_t>(file.at("i32")), (std::vector<std::int32_t>{-7, 8}));
  EXPECT_EQ(values<std::int16_t>(file.at("i16")), (std::vector<std::int16_t>{300}));
  EXPECT_EQ(values<std::int8_t>(file.at("i8")), (std::vector<std::int8_t>{-128, 127}));
  EXPECT_EQ(values<std::uint8_t>(file.at("u8")), (std::vector<std::uint8_t>{0, 255, 7}));
  EXPECT_EQ(values<std::uint8_t>(file.at("bool")), (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(values<std::uint16_t>(file.at("f16")), (std::vector<std::uint16_t>{0x3C00, 0x3C80, 0x3D00}));
  EXPECT_EQ(values<std::uint16_t>(file.at("bf16")),
            (std::vector<std::uint16_t>{0x3F80, 0x3F90, 0x3FA0, 0x3FB0}));
  EXPECT_EQ(file.at("bf16").dtype, Dtype::BF16);
  EXPECT_EQ(file.at("bool").dtype, Dtype::Bool);

  const TensorRecord& scalar = file.at("scalar");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(values<float>(scalar), (std::vector<float>{2.5f}));
  const TensorRecord& empty = file.at("empty");
  EXPECT_EQ(empty.shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(empty.data.empty());
  EXPECT_NE(file.find("backbone.layers.0.norm.weight"), nullptr);
}

// Parsing the same image from memory gives the same records as reading the file.
TEST(SafetensorsRead, FromBytesMatchesOpen) {
  const fs::path path = fixture("small.safetensors");
  const SafetensorsFile from_disk = SafetensorsFile::open(path);
  const SafetensorsFile from_memory = SafetensorsFile::from_bytes(read_bytes(path));
  ASSERT_EQ(from_disk.tensors().size(), from_memory.tensors().size());
  for (std::size_t i = 0; i < from_disk.tensors().size(); ++i) {
    const TensorRecord& a = from_disk.tensors()[i];
    const TensorRecord& b = from_memory.tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.shape, b.shape);
    EXPECT_TRUE(std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end())) << a.name;
  }
  EXPECT_EQ(from_disk.metadata(), from_memory.metadata());
}

// Looking up a tensor the file does not have is NotFound, naming the file and the tensor.
TEST(SafetensorsRead, MissingTensorIsNotFound) {
  const SafetensorsFile file = SafetensorsFile::open(fixture("small.safetensors"));
  EXPECT_EQ(file.find("nope"), nullptr);
  try {
    file.at("nope");
    FAIL() << "found a tensor that does not exist";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(error.what()).find("\"nope\""), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("small.safetensors"), std::string::npos) << error.what();
  }
}

// A path that does not exist is NotFound; a folder is CorruptData; both name the path.
TEST(SafetensorsRead, MissingFileAndFolder) {
  TempDir dir;
  try {
    SafetensorsFile::open(dir.path() / "absent.safetensors");
    FAIL() << "opened a missing file";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(error.what()).find("absent.safetensors"), std::string::npos);
  }
  try {
    SafetensorsFile::open(dir.path());
    FAIL() << "opened a folder";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::CorruptData);
  }
}

// Re-serialising a reference file (one metadata key, so no hash order) gives identical bytes.
TEST(SafetensorsWrite, MatchesReferenceWriterByteForByte) {
  const std::vector<std::byte> original = read_bytes(fixture("module.safetensors"));
  const SafetensorsFile file = SafetensorsFile::from_bytes(original);
  EXPECT_EQ(vmt::weights::serialize(file.tensors(), file.metadata()), original);
}

// write_file then open gives back every record and the metadata; the header is 8-byte aligned.
TEST(SafetensorsWrite, RoundTripsThroughAFile) {
  const std::vector<float> weights = {0.5f, -1.0f, 3.25f, 8.0f, 0.0f, -0.125f};
  const std::vector<std::int64_t> step = {7};
  const std::vector<std::uint8_t> flags = {1, 0, 1};
  const std::vector<TensorRecord> records = {
      {"model.weight", Dtype::F32, {2, 3}, std::as_bytes(std::span(weights))},
      {"model.step", Dtype::I64, {}, std::as_bytes(std::span(step))},
      {"model.flags", Dtype::Bool, {3}, std::as_bytes(std::span(flags))},
      {"model.none", Dtype::F16, {0, 4}, {}},
  };
  const Metadata metadata = {{"vmt.format_version", "1"},
                             {"vmt.labels", R"(["personne","vélo","猫"])"},
                             {"vmt.config", R"({"hidden_dim": 256})"}};
  TempDir dir;
  const fs::path path = dir.path() / "round.safetensors";
  vmt::weights::write_file(path, records, metadata);

  const std::vector<std::byte> bytes = read_bytes(path);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);  // the data starts 8-byte aligned, the JSON padded with spaces
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 8, n);
  EXPECT_EQ(header.substr(header.find_last_not_of(' ') + 1), std::string(n - 1 - header.find_last_not_of(' '), ' '));
  EXPECT_EQ(header[header.find_last_not_of(' ')], '}');

  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata(), metadata);
  ASSERT_EQ(file.tensors().size(), records.size());
  for (const TensorRecord& record : records) {
    const TensorRecord& read = file.at(record.name);
    EXPECT_EQ(read.dtype, record.dtype) << record.name;
    EXPECT_EQ(read.shape, record.shape) << record.name;
    EXPECT_TRUE(std::equal(read.data.begin(), read.data.end(), record.data.begin(), record.data.end()))
        << record.name;
  }
  EXPECT_EQ(vmt::weights::serialize(records, metadata), bytes);
}

// A refused write leaves the existing file as it was and no temporary file behind.
TEST(SafetensorsWrite, FailedWriteLeavesOldFile) {
  TempDir dir;
  const fs::path path = dir.path() / "weights.safetensors";
  const std::vector<float> one = {1.0f};
  vmt::weights::write_file(path, std::vector<TensorRecord>{{"a", Dtype::F32, {1}, std::as_bytes(std::span(one))}}, {});
  const std::vector<std::byte> before = read_bytes(path);

  const std::vector<TensorRecord> wrong = {{"a", Dtype::F32, {2}, std::as_bytes(std::span(one))}};
  EXPECT_THROW(vmt::weights::write_file(path, wrong, {}), vmt::Error);
  EXPECT_THROW(vmt::weights::write_file(dir.path() / "no-such-folder" / "w.safetensors",
                                        std::vector<TensorRecord>{}, {}),
               vmt::Error);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// The writer refuses records that would make an invalid or ambiguous file.
TEST(SafetensorsWrite, RejectsInvalidRecords) {
  const std::vector<float> two = {1.0f, 2.0f};
  const auto data = std::as_bytes(std::span(two));
  const std::vector<std::vector<TensorRecord>> cases = {
      {{"", Dtype::F32, {2}, data}},
      {{"__metadata__", Dtype::F32, {2}, data}},
      {{"a", Dtype::F32, {2}, data}, {"a", Dtype::F32, {2}, data}},
      {{"a", Dtype::F32, {-2}, data}},
      {{"a", Dtype::F32, {3}, data}},
      {{"a", Dtype::F64, {2}, data}},
      {{"bad\xff", Dtype::F32, {2}, data}},
  };
  for (const auto& records : cases) {
    try {
      vmt::weights::serialize(records, {});
      ADD_FAILURE() << "accepted a record named \"" << records.front().name << "\"";
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::InvalidArgument) << error.what();
    }
  }
  EXPECT_THROW(vmt::weights::serialize({}, {{"key", "bad\xc3"}}), vmt::Error);
}

// Files too short, with absurd header lengths, truncated, or not safetensors at all.
TEST(SafetensorsReject, BadLengthsAndForeignFiles) {
  expect_corrupt({}, "too small for the 8-byte header length");
  expect_corrupt(std::vector<std::byte>(5), "only 5 bytes, too small");
  expect_corrupt(image("{}", 0, std::uint64_t{1} << 63), "exceeds the limit of 100000000 bytes");
  expect_corrupt(image("{}", 0, 100'000'001), "exceeds the limit");
  expect_corrupt(image("{}", 0, 3), "runs past the end of the file");
  expect_corrupt(image("{}", 0, 1), "too small for a JSON object");
  expect_corrupt(image(std::string(200, ' ')), "does not start with '{'");

  const char png_bytes[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR and then some image data";
  const std::string png(png_bytes, sizeof png_bytes - 1);
  expect_corrupt(std::vector<std::byte>(as_bytes(png).begin(), as_bytes(png).end()), "not a valid safetensors file");
  const std::string text = "This is a plain text file, not a tensor file at all.\n";
  expect_corrupt(std::vector<std::byte>(as_bytes(text).begin(), as_bytes(text).end()), "exceeds the limit");

  std::vector<std::byte> truncated = read_bytes(fixture("small.safetensors"));
  truncated.pop_back();
  expect_corrupt(truncated, "tensor \"bool\": data_offsets [105, 108] run past the end of the data buffer (107 bytes");
  truncated.resize(100);
  expect_corrupt(truncated, "runs past the end of the file");
  expect_corrupt(image("{}", 0, 8), "runs past the end");
}

// A truncated file on disk is CorruptData naming the file.
TEST(SafetensorsReject, TruncatedFileOnDisk) {
  TempDir dir;
  std::vector<std::byte> bytes = read_bytes(fixture("module.safetensors"));
  bytes.resize(bytes.size() - 10);
  const fs::path path = dir.path() / "cut.safetensors";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  try {
    SafetensorsFile::open(path);
    FAIL() << "accepted a truncated file";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::CorruptData);
    EXPECT_NE(std::string(error.what()).find("cut.safetensors"), std::string::npos) << error.what();
  }
}

// The header must be a JSON object in valid UTF-8, with no repeated keys and no deep nesting.
TEST(SafetensorsReject, BadJson) {
  expect_corrupt(image(R"({"a":)"), "not valid UTF-8 JSON");
  expect_corrupt(image(R"({"a":{}} trailing)"), "not valid UTF-8 JSON");
  expect_corrupt(image("{\"a\xff\":{}}"), "not valid UTF-8 JSON");
  expect_corrupt(image(R"({/* comment */})"), "not valid UTF-8 JSON");
  expect_corrupt(image(std::string("{}\0\0", 4)), "not valid UTF-8 JSON");
  expect_corrupt(image(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                       R"("a":{"dtype":"F32","shape":[],"data_offsets":[4,8]}})", 8),
                 "repeats the key \"a\"");
  expect_corrupt(image(R"({"a":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}})", 4),
                 "repeats the key \"dtype\"");
  expect_corrupt(image(R"({"__metadata__":{"k":{"x":[[1]]}}})"), "nests deeper than 4 levels");
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(image("{}  \n\t ")));
}

// __metadata__ must be an object of strings.
TEST(SafetensorsReject, BadMetadata) {
  expect_corrupt(image(R"({"__metadata__":["a"]})"), "\"__metadata__\" is not an object");
  expect_corrupt(image(R"({"__metadata__":null})"), "\"__metadata__\" is not an object");
  expect_corrupt(image(R"({"__metadata__":{"vmt.format_version":1}})"),
                 "metadata value \"vmt.format_version\" is not a string");
}

// Each tensor entry is exactly {dtype, shape, data_offsets} with supported, well-typed values.
TEST(SafetensorsReject, BadTensorEntries) {
  const auto entry = [](const std::string& body) { return image(R"({"w":)" + body + "}", 8); };
  expect_corrupt(entry("[1]"), "tensor \"w\": entry is not an object");
  expect_corrupt(image(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "a tensor has an empty name");
  expect_corrupt(entry(R"({"shape":[2],"data_offsets":[0,8]})"), "tensor \"w\": no \"dtype\" field");
  expect_corrupt(entry(R"({"dtype":"F32","data_offsets":[0,8]})"), "no \"shape\" field");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2]})"), "no \"data_offsets\" field");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1})"),
                 "unexpected field \"extra\"");
  expect_corrupt(entry(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"), "dtype is not a string");
  expect_corrupt(entry(R"({"dtype":"U32","shape":[2],"data_offsets":[0,8]})"), "unsupported dtype \"U32\"");
  expect_corrupt(entry(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), "shape is not an array");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), "shape holds -2");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), "shape holds 2.0");
  expect_corrupt(entry(R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})"), "shape holds \"2\"");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]})"),
                 "shape holds 9223372036854775808");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), "not [begin, end]");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"), "not [begin, end]");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2],"data_offsets":{"a":0}})"), "data_offsets is not an array");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[0],"data_offsets":[8,0]})"), "end before they begin");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), "data_offsets [0, 16] run past the end of the data buffer (8 bytes");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]})"),
                 "run past the end");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"),
                 "needs 12 bytes but data_offsets span 8");
  expect_corrupt(entry(R"({"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]})"),
                 "overflows 64 bits");
  expect_corrupt(entry(R"({"dtype":"BOOL","shape":[4611686018427387904,4],"data_offsets":[0,0]})"),
                 "overflows 64 bits");
  // A zero dimension makes the product zero even with a huge neighbour: valid, as in the reference.
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(
      image(R"({"w":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}})")));
}

// The tensors must tile the data buffer exactly: no overlap, no gap, no trailing bytes.
TEST(SafetensorsReject, BadLayout) {
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  expect_corrupt(image("{" + a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
                 "tensor \"b\": data begins at byte 4 of the buffer but the previous tensor ends at byte 8 (overlap)");
  expect_corrupt(image("{" + a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "(overlap)");
  expect_corrupt(image("{" + a + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16), "(gap)");
  expect_corrupt(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "(gap)");
  expect_corrupt(image("{" + a + "}", 9), "the tensors cover 8 bytes but the data buffer holds 9");
  expect_corrupt(image("{}", 1), "the tensors cover 0 bytes");
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(image("{" + a + "}", 8)));
}

// The tensor count and the header size are bounded by the limits.
TEST(SafetensorsReject, LimitsAreEnforced) {
  std::string header = "{";
  for (int i = 0; i < 4; ++i)
    header += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
              R"(":{"dtype":"U8","shape":[1],"data_offsets":[)" + std::to_string(i) + "," +
              std::to_string(i + 1) + "]}";
  header += "}";
  Limits limits;
  limits.max_tensors = 3;
  expect_corrupt(image(header, 4), "more than 3 tensors", limits);
  limits.max_tensors = 4;
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(image(header, 4), "ok", limits));
  limits.max_header_bytes = header.size() - 1;
  expect_corrupt(image(header, 4), "exceeds the limit of " + std::to_string(header.size() - 1), limits);
}
