// NcclGroup (kernels/cuda/nccl_group.h), built with -DZKINFER_NCCL=ON: copies through NCCL sends
// on one GPU (to itself) and, where a machine has two, between GPUs, byte for byte against what
// was sent; refused device lists. Tests skip without a usable GPU, and where the NCCL library
// cannot be loaded at run time (the backend then uses peer copies), each with the reason.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../support/seed.h"
#include "cuda/buffer.h"
#include "cuda/device_scope.h"
#include "cuda/nccl_group.h"
#include "gpu_test_support.h"

namespace zkinfer {
namespace {

using gpu::DeviceBuffer;
using gpu::NcclGroup;

std::unique_ptr<NcclGroup> group_or_skip_reason(const std::vector<int>& devices, std::string* reason) {
  try {
    return std::make_unique<NcclGroup>(devices);
  } catch (const gpu::NcclError& e) {
    *reason = e.what();
    return nullptr;
  }
}

std::vector<uint8_t> random_bytes(size_t n) {
  auto rng = testing::seeded_rng();
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = uint8_t(rng());
  return out;
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

TEST(GpuNccl, CopiesOnOneDevice) {
  ZK_SKIP_WITHOUT_GPU();
  std::string why;
  const auto g = group_or_skip_reason({0}, &why);
  if (!g) GTEST_SKIP() << why;
  EXPECT_TRUE(g->has(0));
  EXPECT_FALSE(g->has(1));
  const size_t n = (size_t{3} << 20) + 5;  // not a multiple of any NCCL chunk
  const auto bytes = random_bytes(n);
  DeviceBuffer<uint8_t> src(bytes), dst(n);
  dst.fill_bytes(0);
  g->copy(dst.data(), 0, src.data(), 0, n);
  EXPECT_EQ(dst.download(), bytes);
  g->copy(dst.data(), 0, src.data(), 0, 0);  // nothing to do
  EXPECT_THROW(g->copy(dst.data(), 0, src.data(), 7, n), std::invalid_argument);
}

TEST(GpuNccl, CopiesBetweenTwoDevices) {
  ZK_SKIP_WITHOUT_GPU();
  if (device_count() < 2) GTEST_SKIP() << "needs two GPUs, this machine has " << device_count();
  std::string why;
  const auto g = group_or_skip_reason({0, 1}, &why);
  if (!g) GTEST_SKIP() << why;
  const size_t n = (size_t{32} << 20) + 3;
  const auto bytes = random_bytes(n);
  DeviceBuffer<uint8_t> on0(bytes);
  std::unique_ptr<DeviceBuffer<uint8_t>> on1;
  {
    gpu::DeviceScope scope(1);
    on1 = std::make_unique<DeviceBuffer<uint8_t>>(n);
    on1->fill_bytes(0);
  }
  g->copy(on1->data(), 1, on0.data(), 0, n);
  {
    gpu::DeviceScope scope(1);
    EXPECT_EQ(on1->download(), bytes);
  }
  on0.fill_bytes(0);
  g->copy(on0.data(), 0, on1->data(), 1, n);
  EXPECT_EQ(on0.download(), bytes);
  gpu::DeviceScope scope(1);
  on1.reset();
}

TEST(GpuNccl, RefusesEmptyAndRepeatedDeviceLists) {
  // Checked before NCCL is loaded: no GPU needed.
  EXPECT_THROW(NcclGroup({}), std::invalid_argument);
  EXPECT_THROW(NcclGroup({0, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace zkinfer
