// NCCL communicators over the GPUs of one process (one rank per device), for the data the GPUs
// of a split backend exchange: h, from the GPU that computed it to the others (split_backend.h,
// CudaBackend::resident_copy). Built only with -DZKINFER_NCCL=ON; without it, or where the NCCL
// library cannot be loaded at run time, the GPUs exchange data by CUDA peer copies instead.
//
// libnccl.so.2 is opened at run time (dlopen) rather than linked: the library is about 200 MB,
// often installed apart from the CUDA runtime (a Python wheel, a container layer), and a worker
// built with the option must still start, and prove, on a machine without it.
//
//   NcclGroup g({0, 1});                         // throws NcclError with the reason if unusable
//   g.copy(dst_on_1, 1, src_on_0, 0, bytes);     // returns once the bytes have landed
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace zkinfer::gpu {

class NcclError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class NcclGroup {
 public:
  // One communicator per device of `devices` (distinct, at least one). Throws NcclError naming
  // the reason when the library cannot be loaded or the communicators cannot be made.
  explicit NcclGroup(const std::vector<int>& devices);
  ~NcclGroup();
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

  bool has(int device) const;
  const std::vector<int>& devices() const { return devices_; }

  // dst (device memory of dst_device) = src (of src_device), `bytes` bytes, as one NCCL send and
  // receive (NVLink where the GPUs have it); the devices may be the same. Returns when the copy
  // has landed; src must be complete before the call. Calls are serialised: a communicator is
  // not thread-safe, and the split backend copies to its parts from several threads. Throws
  // NcclError (or CudaError) on failure, std::invalid_argument for a device not in the group.
  void copy(void* dst, int dst_device, const void* src, int src_device, size_t bytes);

 private:
  size_t rank(int device) const;
  void release() noexcept;

  std::vector<int> devices_;
  std::vector<void*> comms_;  // ncclComm_t, kept opaque so this header needs no nccl.h
  std::vector<cudaStream_t> streams_;
  std::mutex mu_;
};

}  // namespace zkinfer::gpu
