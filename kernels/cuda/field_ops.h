// Elementwise field arithmetic on device arrays: the building block the GPU tests compare with
// the host implementation and the throughput benchmark times.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fq2.h"

namespace zkinfer::gpu {

enum class FieldOp { Mul, Add, Sub, Sqr, Inverse };

const char* field_op_name(FieldOp op);
// Mul, Add and Sub read b; Sqr and Inverse read only a.
ZK_HD constexpr bool field_op_reads_b(FieldOp op) {
  return op == FieldOp::Mul || op == FieldOp::Add || op == FieldOp::Sub;
}

// The same operation on the host, one element: the reference the device results are checked
// against (tests and benchmarks).
template <class F>
F field_op_host(FieldOp op, const F& a, const F& b) {
  switch (op) {
    case FieldOp::Mul:
      return a * b;
    case FieldOp::Add:
      return a + b;
    case FieldOp::Sub:
      return a - b;
    case FieldOp::Sqr:
      return a.sqr();
    case FieldOp::Inverse:
      return a.inverse();
  }
  return F::zero();
}

// out[i] = op(a[i], b[i]) for i < n; the inverse of zero is zero. Device pointers, 16-byte
// aligned (as cudaMalloc returns them); out may alias a or b; b may be null when the op does
// not read it. Asynchronous on `stream`. Throws std::invalid_argument on bad pointers and
// CudaError when the launch fails.
void field_apply(FieldOp op, Fr* out, const Fr* a, const Fr* b, size_t n,
                 cudaStream_t stream = nullptr);
void field_apply(FieldOp op, Fq* out, const Fq* a, const Fq* b, size_t n,
                 cudaStream_t stream = nullptr);
// out[i] = a[i] * b[i] in Fq2, same rules.
void fq2_mul(Fq2* out, const Fq2* a, const Fq2* b, size_t n, cudaStream_t stream = nullptr);
// out[i] = a[i]^2 in Fq2 (the G2 doubling's square), same rules.
void fq2_sqr(Fq2* out, const Fq2* a, size_t n, cudaStream_t stream = nullptr);
// out[i] = a[i] b[i] - x[i] y[i] (Fp::mul_sub_mul, Fq2::mul_sub_mul: the curve formulas' fused
// form, with fewer Montgomery reductions on the device), same rules for all five pointers.
void mul_sub_mul(Fq* out, const Fq* a, const Fq* b, const Fq* x, const Fq* y, size_t n, cudaStream_t stream = nullptr);
void mul_sub_mul(Fq2* out, const Fq2* a, const Fq2* b, const Fq2* x, const Fq2* y, size_t n,
                 cudaStream_t stream = nullptr);

}  // namespace zkinfer::gpu
