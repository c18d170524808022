#include "cuda/field_kernels.cuh"

namespace zkinfer::gpu {

const char* field_op_name(FieldOp op) {
  switch (op) {
    case FieldOp::Mul:
      return "mul";
    case FieldOp::Add:
      return "add";
    case FieldOp::Sub:
      return "sub";
    case FieldOp::Sqr:
      return "sqr";
    case FieldOp::Inverse:
      return "inverse";
  }
  return "unknown";
}

void field_apply(FieldOp op, Fr* out, const Fr* a, const Fr* b, size_t n, cudaStream_t stream) {
  detail::apply(op, out, a, b, n, stream);
}

}  // namespace zkinfer::gpu
