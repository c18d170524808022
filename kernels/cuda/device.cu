#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/device.h"

namespace zkinfer::gpu {
namespace {

constexpr uint32_t kProbeValue = 0x7a6b3254;

__global__ void probe_kernel(uint32_t* out) { *out = kProbeValue; }

std::string version_string(int v) {
  if (v == 0) return "none";
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

std::string error_text(cudaError_t e) {
  return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")";
}

}  // namespace

GpuInfo probe_gpu(int device) {
  GpuInfo g;
  g.device = device;
  (void)cudaRuntimeGetVersion(&g.runtime_version);
  if (cudaDriverGetVersion(&g.driver_version) != cudaSuccess) g.driver_version = 0;
  auto fail = [&](const std::string& why) {
    (void)cudaGetLastError();  // leave no error behind for the caller's next check
    g.usable = false;
    g.reason = "no usable GPU: " + why;
    return g;
  };

  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess)
    return fail(error_text(e) + "; CUDA runtime " + version_string(g.runtime_version) +
                ", driver " + version_string(g.driver_version));
  if (count == 0) return fail("no CUDA device found");
  if (device < 0 || device >= count)
    return fail("device " + std::to_string(device) + " requested, " + std::to_string(count) +
                " present");

  cudaDeviceProp prop{};
  if (cudaError_t e = cudaGetDeviceProperties(&prop, device); e != cudaSuccess)
    return fail("cannot read properties of device " + std::to_string(device) + ": " +
                error_text(e));
  g.name = prop.name;
  g.cc_major = prop.major;
  g.cc_minor = prop.minor;
  g.sm_count = prop.multiProcessorCount;
  g.global_mem_bytes = prop.totalGlobalMem;
  g.l2_bytes = size_t(prop.l2CacheSize);
  const std::string what = g.name + " (compute capability " + std::to_string(g.cc_major) + "." +
                           std::to_string(g.cc_minor) + ")";

  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess)
    return fail(what + ": " + error_text(e));
  cudaFuncAttributes attr{};
  if (cudaError_t e = cudaFuncGetAttributes(&attr, probe_kernel); e != cudaSuccess)
    return fail(what + ": this build has no kernel image for it: " + error_text(e));

  uint32_t* d = nullptr;
  if (cudaError_t e = cudaMalloc(&d, sizeof(uint32_t)); e != cudaSuccess)
    return fail(what + ": cudaMalloc failed: " + error_text(e));
  uint32_t h = 0;
  probe_kernel<<<1, 1>>>(d);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost);
  (void)cudaFree(d);
  if (e != cudaSuccess) return fail(what + ": test kernel failed: " + error_text(e));
  if (h != kProbeValue) return fail(what + ": test kernel wrote a wrong value");
  g.usable = true;
  return g;
}

std::string describe(const GpuInfo& g) {
  if (!g.usable) return g.reason;
  return g.name + ", compute capability " + std::to_string(g.cc_major) + "." +
         std::to_string(g.cc_minor) + ", " + std::to_string(g.sm_count) + " SMs, " +
         std::to_string(g.global_mem_bytes >> 20) + " MiB, L2 " + std::to_string(g.l2_bytes >> 20) +
         " MiB, CUDA runtime " + version_string(g.runtime_version) + ", driver " +
         version_string(g.driver_version);
}

}  // namespace zkinfer::gpu
