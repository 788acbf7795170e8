// Helpers for tests that need a CUDA device: skip with the reason where none is usable.
#pragma once

#include <gtest/gtest.h>

#include "runtime.h"

#define VMT_REQUIRE_GPU()                                                              \
  do {                                                                                 \
    if (vmt::cuda::device_count() == 0)                                                \
      GTEST_SKIP() << "needs a CUDA GPU: " << vmt::cuda::unavailable_reason();         \
  } while (0)
