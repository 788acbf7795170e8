// Loading and saving a LibTorch module's state as safetensors (vmt-core/src/weights/state_dict.h):
// all-or-nothing loads with errors that name the first mismatch, round trips, Python-written files.
#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <ftw.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "weights/safetensors.h"
#include "weights/state_dict.h"
#include "vmt/error.h"

namespace fs = std::filesystem;
using vmt::ErrorCode;
using vmt::weights::SafetensorsFile;
using vmt::weights::TensorRecord;

namespace {

/// A sub-module with a parameterised child and two buffers of different dtypes.
struct BlockImpl : torch::nn::Module {
  BlockImpl() {
    proj = register_module("proj", torch::nn::Linear(4, 3));
    running_mean = register_buffer("running_mean", torch::randn({3}));
    steps = register_buffer("steps", torch::randint(100, {}, torch::kLong));
  }
  torch::nn::Linear proj{nullptr};
  torch::Tensor running_mean;
  torch::Tensor steps;
};
TORCH_MODULE(Block);

/// Mirrors TestNet of tests/fixtures/safetensors/make_fixtures.py (the same names and shapes).
struct TestNetImpl : torch::nn::Module {
  TestNetImpl() {
    stem = register_module("stem", torch::nn::Linear(2, 4));
    block = register_module("block", Block());
    layers = register_module("layers", torch::nn::ModuleList(torch::nn::Linear(3, 3), torch::nn::Linear(3, 3)));
    scale = register_buffer("scale", torch::randn({2}, torch::kDouble));
  }
  torch::nn::Linear stem{nullptr};
  Block block{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::Tensor scale;
};
TORCH_MODULE(TestNet);

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

/// Every parameter and buffer, detached copies (a snapshot to compare against later).
Named snapshot(const torch::nn::Module& module) {
  Named out;
  for (const auto& item : module.named_parameters()) out.emplace_back(item.key(), item.value().detach().clone());
  for (const auto& item : module.named_buffers()) out.emplace_back(item.key(), item.value().detach().clone());
  return out;
}

void expect_same_state(const torch::nn::Module& module, const Named& expected) {
  const Named actual = snapshot(module);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_TRUE(torch::equal(actual[i].second, expected[i].second)) << actual[i].first;
  }
}

/// Writes `tensors` (CPU, contiguous) as a safetensors file.
void write_tensors(const fs::path& path, const Named& tensors) {
  std::vector<TensorRecord> records;
  for (const auto& [name, tensor] : tensors) {
    const auto* bytes = static_cast<const std::byte*>(tensor.data_ptr());
    records.push_back({name, *vmt::weights::from_torch(tensor.scalar_type()), tensor.sizes().vec(),
                       std::span(bytes, tensor.nbytes())});
  }
  vmt::weights::write_file(path, records, {});
}

/// A unique empty folder under $TMPDIR (or /tmp), removed at the end of the test. POSIX calls, not
/// std::filesystem operations: libtorch.so exports its own copies of those (remove_all crashes).
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/vmt-state-dict-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    ::nftw(path_.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); },
           16, FTW_DEPTH | FTW_PHYS);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class StateDict : public ::testing::Test {
 protected:
  /// Loads `tensors` into a fresh TestNet expecting `code` and every fragment in the message,
  /// and checks the model kept every weight it had.
  void expect_refused(const Named& tensors, ErrorCode code, const std::vector<std::string>& fragments) {
    const fs::path path = dir_.path() / "bad.safetensors";
    write_tensors(path, tensors);
    TestNet net;
    const Named before = snapshot(*net);
    try {
      vmt::weights::load_state_dict(*net, SafetensorsFile::open(path));
      ADD_FAILURE() << "loaded a file that does not match the model";
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), code) << error.what();
      for (const std::string& fragment : fragments)
        EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
            << "\"" << fragment << "\" not in: " << error.what();
    }
    expect_same_state(*net, before);
  }

  /// The state of another TestNet: what a matching checkpoint holds.
  Named other_state() { return snapshot(*TestNet()); }

  TempDir dir_;
};

}  // namespace

// The module's recursive names are the PyTorch state-dict names: parameters, then buffers (a
// module's own before its children's).
TEST_F(StateDict, NamesFollowPyTorch) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : snapshot(*TestNet())) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"stem.weight", "stem.bias", "block.proj.weight", "block.proj.bias",
                                             "layers.0.weight", "layers.0.bias", "layers.1.weight",
                                             "layers.1.bias", "scale", "block.running_mean", "block.steps"}));
}

// save then load into another instance gives identical tensors, buffers included.
TEST_F(StateDict, RoundTripsThroughAFile) {
  TestNet saved;
  const fs::path path = dir_.path() / "net.safetensors";
  vmt::weights::save_state_dict(*saved, path, {{"vmt.format_version", "1"}});
  TestNet loaded;
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata().at("vmt.format_version"), "1");
  vmt::weights::load_state_dict(*loaded, file);
  expect_same_state(*loaded, snapshot(*saved));
}

// A file written by the Python safetensors library loads with the values it was written with.
TEST_F(StateDict, LoadsPythonWrittenFile) {
  const char* root = std::getenv("VMT_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "VMT_SOURCE_ROOT is not set (run through meson test)";
  TestNet net;
  vmt::weights::load_state_dict(
      *net, SafetensorsFile::open(fs::path(root) / "tests/fixtures/safetensors/module.safetensors"));
  for (const auto& [name, tensor] : snapshot(*net)) {
    // make_fixtures.py: arange(numel) / 8 + 1 in the tensor's dtype and shape.
    const torch::Tensor expected =
        (torch::arange(tensor.numel(), torch::kDouble) / 8 + 1).reshape(tensor.sizes()).to(tensor.scalar_type());
    EXPECT_TRUE(torch::equal(tensor, expected)) << name;
  }
}

// A tensor the model has but the file lacks: NotFound naming it and its expected dtype and shape.
TEST_F(StateDict, MissingKeyIsNamedAndNothingLoads) {
  Named tensors = other_state();
  std::erase_if(tensors, [](const auto& item) { return item.first == "layers.1.bias"; });
  expect_refused(tensors, ErrorCode::NotFound,
                 {"bad.safetensors", "missing tensor \"layers.1.bias\" (expected F32 [3])"});
}

// A tensor the file has but the model lacks: CorruptData naming it.
TEST_F(StateDict, ExtraKeyIsNamedAndNothingLoads) {
  Named tensors = other_state();
  tensors.emplace_back("layers.2.weight", torch::ones({3, 3}));
  expect_refused(tensors, ErrorCode::CorruptData,
                 {"unexpected tensor \"layers.2.weight\" (F32 [3, 3]) that the model does not have"});
}

// A wrong shape: CorruptData with the file's and the model's shapes.
TEST_F(StateDict, WrongShapeIsNamedAndNothingLoads) {
  Named tensors = other_state();
  for (auto& [name, tensor] : tensors)
    if (name == "block.proj.weight") tensor = torch::zeros({4, 3});
  expect_refused(tensors, ErrorCode::CorruptData,
                 {"tensor \"block.proj.weight\" has shape [4, 3] in the file, the model expects [3, 4]"});
}

// A wrong dtype on the last tensor: CorruptData, and none of the earlier tensors were copied.
TEST_F(StateDict, WrongDtypeIsNamedAndNothingLoads) {
  Named tensors = other_state();
  for (auto& [name, tensor] : tensors)
    if (name == "block.steps") tensor = tensor.to(torch::kInt);
  expect_refused(tensors, ErrorCode::CorruptData,
                 {"tensor \"block.steps\" is I32 in the file, the model expects I64"});
}

// With several mismatches the error names the first in the model's order.
TEST_F(StateDict, NamesTheFirstMismatch) {
  Named tensors = other_state();
  std::erase_if(tensors, [](const auto& item) { return item.first == "scale"; });
  for (auto& [name, tensor] : tensors)
    if (name == "stem.bias") tensor = torch::zeros({5});
  expect_refused(tensors, ErrorCode::CorruptData, {"tensor \"stem.bias\" has shape [5]"});
}

// A dtype the format does not carry is refused when saving, naming the tensor.
TEST_F(StateDict, SaveRefusesUnsupportedDtype) {
  TestNet net;
  net->register_buffer("phase", torch::zeros({2}, torch::kComplexFloat));
  try {
    vmt::weights::save_state_dict(*net, dir_.path() / "complex.safetensors");
    FAIL() << "saved a complex tensor";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("\"phase\""), std::string::npos) << error.what();
  }
  EXPECT_NE(::access((dir_.path() / "complex.safetensors").c_str(), F_OK), 0);
}
