#include "cuda/check.h"

namespace zkinfer::gpu {

std::string cuda_error_message(cudaError_t err, const char* expr, const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line) + ": " + expr +
         " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
}

}  // namespace zkinfer::gpu
