#include "cuda/field_kernels.cuh"

namespace zkinfer::gpu {

void field_apply(FieldOp op, Fq* out, const Fq* a, const Fq* b, size_t n, cudaStream_t stream) {
  detail::apply(op, out, a, b, n, stream);
}

void fq2_mul(Fq2* out, const Fq2* a, const Fq2* b, size_t n, cudaStream_t stream) {
  detail::launch<FieldOp::Mul>(out, a, b, n, stream);
}

void fq2_sqr(Fq2* out, const Fq2* a, size_t n, cudaStream_t stream) {
  detail::launch<FieldOp::Sqr>(out, a, static_cast<const Fq2*>(nullptr), n, stream);
}

void mul_sub_mul(Fq* out, const Fq* a, const Fq* b, const Fq* x, const Fq* y, size_t n, cudaStream_t stream) {
  detail::launch_mul_sub_mul(out, a, b, x, y, n, stream);
}

void mul_sub_mul(Fq2* out, const Fq2* a, const Fq2* b, const Fq2* x, const Fq2* y, size_t n, cudaStream_t stream) {
  detail::launch_mul_sub_mul(out, a, b, x, y, n, stream);
}

}  // namespace zkinfer::gpu
