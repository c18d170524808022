#include "cuda/field_kernels.cuh"

namespace zkinfer::gpu {

void field_apply(FieldOp op, Fq* out, const Fq* a, const Fq* b, size_t n, cudaStream_t stream) {
  detail::apply(op, out, a, b, n, stream);
}

void fq2_mul(Fq2* out, const Fq2* a, const Fq2* b, size_t n, cudaStream_t stream) {
  detail::launch<FieldOp::Mul>(out, a, b, n, stream);
}

}  // namespace zkinfer::gpu
