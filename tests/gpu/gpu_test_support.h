// Skipping GPU tests where no GPU is usable, with the reason in the test output.
#pragma once

#include <gtest/gtest.h>

#include "cuda/device.h"

namespace zkinfer::testing {

// Probed once per test program: every GPU test asks the same question.
inline const gpu::GpuInfo& gpu_info() {
  static const gpu::GpuInfo info = gpu::probe_gpu();
  return info;
}

}  // namespace zkinfer::testing

// In SetUp or a test body: skip (ctest reports "Skipped") when there is no usable GPU.
#define ZK_SKIP_WITHOUT_GPU()                                \
  do {                                                       \
    if (!::zkinfer::testing::gpu_info().usable)              \
      GTEST_SKIP() << ::zkinfer::testing::gpu_info().reason; \
  } while (0)
