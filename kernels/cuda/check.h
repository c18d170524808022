// Error checking for every CUDA runtime call and kernel launch: a failure throws CudaError whose
// message names the call, the file and the line, and the CUDA error.
//
//   ZK_CUDA_CHECK(cudaMemcpyAsync(...));
//   kernel<<<grid, block, 0, stream>>>(...);
//   ZK_CUDA_CHECK_LAUNCH();
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace zkinfer::gpu {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const std::string& what) : std::runtime_error(what), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

// "<file>:<line>: <expr> failed: <cudaErrorName>: <description>".
std::string cuda_error_message(cudaError_t err, const char* expr, const char* file, int line);

// Throws CudaError unless err is cudaSuccess.
inline void check(cudaError_t err, const char* expr, const char* file, int line) {
  if (err != cudaSuccess) throw CudaError(err, cuda_error_message(err, expr, file, line));
}

}  // namespace zkinfer::gpu

#define ZK_CUDA_CHECK(call) ::zkinfer::gpu::check((call), #call, __FILE__, __LINE__)
// After a <<<...>>> launch: reports a bad launch configuration or a missing kernel image at
// the launch site. Faults inside the kernel surface at the next synchronizing call's check.
#define ZK_CUDA_CHECK_LAUNCH() \
  ::zkinfer::gpu::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
