// The kernel of rows.h: one thread per constraint runs RowEvalStep.
#include <algorithm>
#include <climits>

#include "cuda/check.h"
#include "cuda/rows.h"
#include "cuda/rows_steps.h"

namespace zkinfer::gpu {
namespace {

__global__ void __launch_bounds__(RowEvalStep::kBlock) row_eval_kernel(const RowEvalStep step) {
  const uint64_t r = uint64_t(blockIdx.x) * RowEvalStep::kBlock + threadIdx.x;
  if (r < step.n) step(r);
}

}  // namespace

void eval_constraint_rows(const uint32_t* row_start, const uint32_t* cols, const Fr* values, const Fr* z,
                          uint64_t n, Fr* abc, cudaStream_t stream) {
  if (n == 0) return;
  const uint64_t blocks = (n + RowEvalStep::kBlock - 1) / RowEvalStep::kBlock;
  row_eval_kernel<<<unsigned(std::min<uint64_t>(blocks, INT_MAX)), RowEvalStep::kBlock, 0, stream>>>(
      RowEvalStep{row_start, cols, values, z, n, abc});
  ZK_CUDA_CHECK_LAUNCH();
}

}  // namespace zkinfer::gpu
