// Copies between pageable host memory and the device through two page-locked chunks: the host
// thread copies one chunk while the DMA engine moves the other. Measured on an H100 machine
// (bench_gpu_msm, 2026-11-26): cudaMemcpyAsync straight from pageable memory moved MSM scalars
// at about 1.5 GB/s, which made an MSM with host scalars 3x slower than one with device scalars.
// The host-side copies run on several threads (cpu::parallel_memcpy): on one thread they were
// the bound, a 32 MiB witness took 5.3 ms on an H200 machine against 0.6 ms for its DMA.
// One object per stream user (it is not thread-safe); the chunks are allocated on first use.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>

#include "cpu/parallel.h"
#include "cuda/check.h"

namespace zkinfer::gpu {

class PinnedCopier {
 public:
  static constexpr size_t kChunk = size_t{8} << 20;

  PinnedCopier() = default;
  PinnedCopier(const PinnedCopier&) = delete;
  PinnedCopier& operator=(const PinnedCopier&) = delete;
  ~PinnedCopier() { release(); }

  // Queues dst[0, bytes) = src[0, bytes) on `stream` and returns once src has been read (the
  // last chunk may still be in flight; work queued on `stream` after this sees it landed).
  void upload(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
    ensure();
    for (size_t off = 0; off < bytes; off += kChunk) {
      const size_t len = std::min(kChunk, bytes - off);
      ZK_CUDA_CHECK(cudaEventSynchronize(done_[next_]));  // this chunk's previous copy is over
      cpu::parallel_memcpy(buf_[next_], static_cast<const char*>(src) + off, len);
      ZK_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + off, buf_[next_], len, cudaMemcpyHostToDevice, stream));
      ZK_CUDA_CHECK(cudaEventRecord(done_[next_], stream));
      next_ ^= 1;
    }
  }

  // dst[0, bytes) = src[0, bytes) after the work queued on `stream`; returns when dst is written.
  void download(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
    ensure();
    size_t pending = 0, pending_len = 0;  // the chunk whose copy is queued but not yet read out
    bool have_pending = false;
    for (size_t off = 0; off < bytes; off += kChunk) {
      const size_t len = std::min(kChunk, bytes - off);
      ZK_CUDA_CHECK(cudaEventSynchronize(done_[next_]));
      ZK_CUDA_CHECK(cudaMemcpyAsync(buf_[next_], static_cast<const char*>(src) + off, len, cudaMemcpyDeviceToHost, stream));
      ZK_CUDA_CHECK(cudaEventRecord(done_[next_], stream));
      if (have_pending) drain(dst, pending, pending_len);
      pending = off;
      pending_len = len;
      have_pending = true;
      next_ ^= 1;
    }
    if (have_pending) drain(dst, pending, pending_len);
  }

  void release() noexcept {
    for (int i = 0; i < 2; ++i) {
      if (done_[i]) {
        (void)cudaEventSynchronize(done_[i]);
        (void)cudaEventDestroy(done_[i]);
      }
      if (buf_[i]) (void)cudaFreeHost(buf_[i]);
      buf_[i] = nullptr;
      done_[i] = nullptr;
    }
    next_ = 0;
  }

 private:
  void ensure() {
    if (buf_[0]) return;
    try {
      for (int i = 0; i < 2; ++i) {
        ZK_CUDA_CHECK(cudaMallocHost(&buf_[i], kChunk));
        ZK_CUDA_CHECK(cudaEventCreateWithFlags(&done_[i], cudaEventDisableTiming));
      }
    } catch (...) {
      release();
      throw;
    }
  }
  // Copies out the chunk at `off`, which sits in the buffer before next_ (the previous one).
  void drain(void* dst, size_t off, size_t len) {
    const unsigned b = next_ ^ 1;
    ZK_CUDA_CHECK(cudaEventSynchronize(done_[b]));
    cpu::parallel_memcpy(static_cast<char*>(dst) + off, buf_[b], len);
  }

  void* buf_[2] = {nullptr, nullptr};
  cudaEvent_t done_[2] = {nullptr, nullptr};
  unsigned next_ = 0;
};

}  // namespace zkinfer::gpu
