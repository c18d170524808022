// Is there a GPU this build can use? One call answers it without throwing, and says why not in
// plain words, so tests can skip and tools can report instead of crashing.
#pragma once

#include <cstddef>
#include <string>

namespace zkinfer::gpu {

struct GpuInfo {
  bool usable = false;
  // Why not usable: "no usable GPU: <reason>". Empty when usable.
  std::string reason;
  int device = -1;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  size_t global_mem_bytes = 0;
  size_t l2_bytes = 0;
  // CUDA versions as 1000 * major + 10 * minor; driver_version is 0 where no driver is loaded.
  int runtime_version = 0;
  int driver_version = 0;
};

// Checks device `device` end to end: driver present, device present, this binary has a kernel
// image for it, and a one-thread kernel runs and writes memory. Never throws.
GpuInfo probe_gpu(int device = 0);

// One line for logs and reports: name, compute capability, SMs, memory, versions.
std::string describe(const GpuInfo& info);

}  // namespace zkinfer::gpu
