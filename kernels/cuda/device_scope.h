// Makes a device current for the length of a scope and restores the caller's: drivers and the
// backend bind to one device, and a caller's thread may have another current.
#pragma once

#include <cuda_runtime_api.h>

#include "cuda/check.h"

namespace zkinfer::gpu {

class DeviceScope {
 public:
  explicit DeviceScope(int device) : want_(device) {
    ZK_CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != want_) ZK_CUDA_CHECK(cudaSetDevice(want_));
  }
  ~DeviceScope() {
    if (prev_ != want_) (void)cudaSetDevice(prev_);  // a destructor cannot report
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int prev_ = -1, want_;
};

}  // namespace zkinfer::gpu
