// An owned device array (RAII over cudaMalloc/cudaFree) with checked, synchronous copies: each
// upload and fill has landed when it returns, so kernels on any stream (non-blocking ones too)
// may read the buffer next.
// Hot paths keep their buffers across calls (DESIGN.md 7); this type only owns and copies.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cuda/check.h"

namespace zkinfer::gpu {

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // On the current device. Out of memory throws CudaError (cudaErrorMemoryAllocation) and leaves
  // no error behind: else the next launch check on this thread would report it again.
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (!n) return;
    ZK_CUDA_CHECK(cudaGetDevice(&device_));
    if (cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)); e != cudaSuccess) {
      p_ = nullptr;
      n_ = 0;
      if (e == cudaErrorMemoryAllocation) (void)cudaGetLastError();
      check(e, "cudaMalloc", __FILE__, __LINE__);
    }
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() {
    if (!p_) return;
    // Freed on the device it was allocated on: a split backend's buffers live on several GPUs
    // and may be destroyed by a thread that has another one current. A destructor cannot
    // report; a failing cudaFree means the context is already broken and the next checked
    // call says so.
    int current = -1;
    (void)cudaGetDevice(&current);
    if (current != device_) (void)cudaSetDevice(device_);
    (void)cudaFree(p_);
    if (current != device_ && current >= 0) (void)cudaSetDevice(current);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)), device_(o.device_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    std::swap(device_, o.device_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
    if (host.size() != n_) throw std::invalid_argument("DeviceBuffer::upload: size mismatch");
    if (!n_) return;
    ZK_CUDA_CHECK(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
    // From pageable memory cudaMemcpy may return before the DMA lands, and non-blocking streams
    // do not wait for the default stream: seen on an H100 as the last vector of a batched NTT
    // read stale (tests/gpu/test_gpu_ntt.cpp).
    ZK_CUDA_CHECK(cudaDeviceSynchronize());
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    if (n_) ZK_CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  // Sets every byte, e.g. to poison an output before a kernel writes it.
  void fill_bytes(uint8_t value) {
    if (!n_) return;
    ZK_CUDA_CHECK(cudaMemset(p_, value, n_ * sizeof(T)));  // asynchronous for device memory
    ZK_CUDA_CHECK(cudaDeviceSynchronize());
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
  int device_ = 0;
};

}  // namespace zkinfer::gpu
