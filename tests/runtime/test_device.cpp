#include <gtest/gtest.h>

#include <string>

#include "vmt/build_info.h"
#include "vmt/device.h"
#include "vmt/error.h"

using vmt::DeviceKind;
using vmt::DeviceSpec;

// The accepted spellings map to the canonical devices.
TEST(ParseDevice, AcceptsDocumentedForms) {
  EXPECT_EQ(vmt::parse_device("auto"), (DeviceSpec{DeviceKind::Auto, 0}));
  EXPECT_EQ(vmt::parse_device("cpu"), (DeviceSpec{DeviceKind::Cpu, 0}));
  EXPECT_EQ(vmt::parse_device("cuda"), (DeviceSpec{DeviceKind::Cuda, 0}));
  EXPECT_EQ(vmt::parse_device("cuda:3"), (DeviceSpec{DeviceKind::Cuda, 3}));
  EXPECT_EQ(vmt::parse_device("  CUDA:12 "), (DeviceSpec{DeviceKind::Cuda, 12}));
}

// Anything else is an InvalidArgument error that repeats the text and lists the valid forms.
TEST(ParseDevice, RejectsMalformedText) {
  for (const char* text : {"", "gpu", "cuda:", "cuda:-1", "cuda:1x", "cuda:0:1", "cpu0", "cuda: 1",
                           "cuda:99999999999999"}) {
    try {
      vmt::parse_device(text);
      ADD_FAILURE() << "accepted \"" << text << "\"";
    } catch (const vmt::Error& error) {
      EXPECT_EQ(error.code(), vmt::ErrorCode::InvalidArgument);
      EXPECT_NE(std::string(error.what()).find("cuda:N"), std::string::npos) << error.what();
    }
  }
}

// to_string is the inverse of parse_device on canonical text.
TEST(ParseDevice, RoundTripsCanonicalText) {
  for (const char* text : {"auto", "cpu", "cuda:0", "cuda:7"})
    EXPECT_EQ(vmt::parse_device(text).to_string(), text);
}

// The CPU is always there.
TEST(ResolveDevice, CpuAlwaysResolves) {
  EXPECT_EQ(vmt::resolve_device({DeviceKind::Cpu, 0}), (DeviceSpec{DeviceKind::Cpu, 0}));
  EXPECT_EQ(vmt::describe_device({DeviceKind::Cpu, 0}), "cpu");
}

// auto picks the first GPU when LibTorch sees one, the CPU otherwise.
TEST(ResolveDevice, AutoFollowsAvailability) {
  const DeviceSpec resolved = vmt::resolve_device({DeviceKind::Auto, 0});
  if (vmt::cuda_device_count() > 0)
    EXPECT_EQ(resolved, (DeviceSpec{DeviceKind::Cuda, 0}));
  else
    EXPECT_EQ(resolved, (DeviceSpec{DeviceKind::Cpu, 0}));
}

// Asking for a CUDA ordinal that does not exist is Unavailable, with a reason, never a crash.
TEST(ResolveDevice, MissingCudaDeviceIsAClearError) {
  const int count = vmt::cuda_device_count();
  try {
    vmt::resolve_device({DeviceKind::Cuda, count});
    FAIL() << "cuda:" << count << " resolved on a machine with " << count << " GPU(s)";
  } catch (const vmt::Error& error) {
    EXPECT_EQ(error.code(), vmt::ErrorCode::Unavailable);
    const std::string message = error.what();
    EXPECT_NE(message.find("cuda:" + std::to_string(count)), std::string::npos) << message;
  }
}

// The build records the LibTorch it was compiled against.
TEST(BuildInfo, NamesLibTorchVersion) {
  const vmt::BuildInfo info = vmt::build_info();
  EXPECT_FALSE(info.version.empty());
  EXPECT_NE(info.torch_version, "unknown");
  EXPECT_EQ(info.torch_version.substr(0, 2), "2.");
}
