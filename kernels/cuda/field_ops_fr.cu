#include "cuda/field_kernels.cuh"

namespace zkinfer::gpu {

void field_apply(FieldOp op, Fr* out, const Fr* a, const Fr* b, size_t n, cudaStream_t stream) {
  detail::apply(op, out, a, b, n, stream);
}

}  // namespace zkinfer::gpu
