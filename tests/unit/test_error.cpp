#include <gtest/gtest.h>

#include "vmt/error.h"

// vmt::Error keeps both the message and the code it was thrown with.
TEST(Error, CarriesCodeAndMessage) {
  try {
    throw vmt::Error(vmt::ErrorCode::CorruptData, "header too large");
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "header too large");
    const auto* vmt_error = dynamic_cast<const vmt::Error*>(&error);
    ASSERT_NE(vmt_error, nullptr);
    EXPECT_EQ(vmt_error->code(), vmt::ErrorCode::CorruptData);
  }
}

// Every code has its own readable name (used in log lines and tool output).
TEST(Error, CodesHaveDistinctNames) {
  using vmt::ErrorCode;
  const ErrorCode codes[] = {ErrorCode::InvalidArgument, ErrorCode::Unavailable, ErrorCode::NotFound,
                             ErrorCode::CorruptData, ErrorCode::OutOfMemory, ErrorCode::Internal};
  for (auto a : codes) {
    for (auto b : codes) {
      if (a != b) {
        EXPECT_NE(vmt::to_string(a), vmt::to_string(b));
      }
    }
  }
}
