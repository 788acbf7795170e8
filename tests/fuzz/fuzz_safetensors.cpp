// Fuzz target for the safetensors reader (vmt-core/src/weights/safetensors.h). Any input must
// either parse into records that lie inside the buffer and re-serialise to a stable image, or be
// refused with vmt::Error(CorruptData); anything else (a crash, a sanitizer report, another
// exception, a broken invariant) is a bug. Built with libFuzzer by tools/fuzz-safetensors.sh and,
// with replay_main.cpp, as the corpus replay test of the 'unit' suite.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "vmt/error.h"
#include "weights/safetensors.h"

namespace {

using vmt::weights::SafetensorsFile;

[[noreturn]] void broken(const char* invariant) {
  std::fprintf(stderr, "fuzz_safetensors: invariant broken: %s\n", invariant);
  std::abort();
}

/// Reads every byte of every record (so AddressSanitizer sees any span outside the buffer) and
/// checks each size against its shape and dtype.
void check_records(const SafetensorsFile& file) {
  unsigned checksum = 0;
  for (const auto& record : file.tensors()) {
    std::uint64_t bytes = vmt::weights::element_size(record.dtype);
    for (const std::int64_t dim : record.shape) {
      if (dim < 0) broken("negative dimension");
      bytes *= static_cast<std::uint64_t>(dim);  // cannot overflow: the reader checked
    }
    if (bytes != record.data.size()) broken("record size differs from shape x dtype");
    if (record.name.empty()) broken("empty tensor name");
    for (const std::byte b : record.data) checksum += std::to_integer<unsigned>(b);
  }
  [[maybe_unused]] static volatile unsigned sink;
  sink = checksum;
}

/// serialize(parse(x)) must parse again, to the same records and the same image.
void check_round_trip(const SafetensorsFile& file) {
  const auto image = vmt::weights::serialize(file.tensors(), file.metadata());
  const SafetensorsFile again = SafetensorsFile::from_bytes(image, "round trip");
  if (again.metadata() != file.metadata()) broken("metadata changed in a round trip");
  if (again.tensors().size() != file.tensors().size()) broken("tensor count changed in a round trip");
  for (const auto& record : file.tensors()) {
    const auto* copy = again.find(record.name);
    if (copy == nullptr || copy->dtype != record.dtype || copy->shape != record.shape ||
        !std::equal(copy->data.begin(), copy->data.end(), record.data.begin(), record.data.end()))
      broken("a tensor changed in a round trip");
  }
  if (vmt::weights::serialize(again.tensors(), again.metadata()) != image) broken("serialize is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  try {
    const SafetensorsFile file = SafetensorsFile::from_bytes(bytes, "fuzz input");
    check_records(file);
    check_round_trip(file);
  } catch (const vmt::Error& error) {
    if (error.code() != vmt::ErrorCode::CorruptData) {
      std::fprintf(stderr, "fuzz_safetensors: unexpected error: %s\n", error.what());
      std::abort();
    }
  }
  return 0;
}
