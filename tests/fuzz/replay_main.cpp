// Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer: the corpus regression test.
// Usage: fuzz-safetensors-replay FILE_OR_FOLDER...  (folders: every regular file in them, sorted).
// Exits 0 when every input ran; a bug aborts inside the target.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs(const fs::path& argument) {
  if (!fs::is_directory(argument)) return {argument};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(argument))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool replay(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::uint8_t> bytes(chars.begin(), chars.end());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  bool ok = argc > 1;
  for (int i = 1; i < argc; ++i)
    for (const fs::path& path : inputs(argv[i])) {
      ok = replay(path) && ok;
      ++count;
    }
  std::printf("replayed %zu input(s)\n", count);
  if (count == 0) std::fprintf(stderr, "no inputs (usage: %s FILE_OR_FOLDER...)\n", argv[0]);
  return ok && count > 0 ? 0 : 1;
}
