// The elementwise field kernels: thin __global__ wrappers around a __host__ __device__ step
// (DESIGN.md 4), instantiated per field in field_ops_fr.cu and field_ops_fq.cu.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cuda/check.h"
#include "cuda/field_ops.h"

namespace zkinfer::gpu::detail {

template <FieldOp OP, class F>
ZK_HD F field_step(const F& a, const F& b) {
  if constexpr (OP == FieldOp::Mul) return a * b;
  if constexpr (OP == FieldOp::Add) return a + b;
  if constexpr (OP == FieldOp::Sub) return a - b;
  if constexpr (OP == FieldOp::Sqr) return a.sqr();
  if constexpr (OP == FieldOp::Inverse) return a.inverse();
}

// Elements are moved as 16-byte vectors (the widest single access): a warp's loads of one
// 32-byte Fr each cover 1 KiB of contiguous memory in two instructions.
template <class T>
__device__ __forceinline__ T load_vec(const T* p) {
  static_assert(sizeof(T) % 16 == 0);
  constexpr int kVecs = sizeof(T) / 16;
  const ulonglong2* src = reinterpret_cast<const ulonglong2*>(p);
  uint64_t w[2 * kVecs];
#pragma unroll
  for (int k = 0; k < kVecs; ++k) {
    const ulonglong2 q = src[k];
    w[2 * k] = q.x;
    w[2 * k + 1] = q.y;
  }
  T r;
  memcpy(&r, w, sizeof(T));
  return r;
}
template <class T>
__device__ __forceinline__ void store_vec(T* p, const T& x) {
  constexpr int kVecs = sizeof(T) / 16;
  uint64_t w[2 * kVecs];
  memcpy(w, &x, sizeof(T));
  ulonglong2* dst = reinterpret_cast<ulonglong2*>(p);
#pragma unroll
  for (int k = 0; k < kVecs; ++k) dst[k] = make_ulonglong2(w[2 * k], w[2 * k + 1]);
}

template <FieldOp OP, class F>
__global__ void field_kernel(F* out, const F* a, const F* b, size_t n) {
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const F x = load_vec(a + i);
    if constexpr (field_op_reads_b(OP)) {
      store_vec(out + i, field_step<OP>(x, load_vec(b + i)));
    } else {
      store_vec(out + i, field_step<OP>(x, x));
    }
  }
}

// Not tuned: these kernels are memory bound except Inverse, and 256 threads keep any SM full.
constexpr unsigned kThreadsPerBlock = 256;

inline void check_pointer(const void* p, const char* what) {
  if (p == nullptr) throw std::invalid_argument(std::string("field kernel: ") + what + " is null");
  if (reinterpret_cast<uintptr_t>(p) % 16 != 0)
    throw std::invalid_argument(std::string("field kernel: ") + what + " is not 16-byte aligned");
}

template <FieldOp OP, class F>
void launch(F* out, const F* a, const F* b, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  check_pointer(out, "out");
  check_pointer(a, "a");
  if (field_op_reads_b(OP)) check_pointer(b, "b");
  const size_t blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  const unsigned grid =
      blocks < 0x7fffffffu ? unsigned(blocks) : 0x7fffffffu;  // grid-stride covers the rest
  field_kernel<OP, F><<<grid, kThreadsPerBlock, 0, stream>>>(out, a, b, n);
  ZK_CUDA_CHECK_LAUNCH();
}

template <class F>
__global__ void mul_sub_mul_kernel(F* out, const F* a, const F* b, const F* x, const F* y, size_t n) {
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    store_vec(out + i, F::mul_sub_mul(load_vec(a + i), load_vec(b + i), load_vec(x + i), load_vec(y + i)));
}

template <class F>
void launch_mul_sub_mul(F* out, const F* a, const F* b, const F* x, const F* y, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  check_pointer(out, "out");
  check_pointer(a, "a");
  check_pointer(b, "b");
  check_pointer(x, "x");
  check_pointer(y, "y");
  const size_t blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  const unsigned grid = blocks < 0x7fffffffu ? unsigned(blocks) : 0x7fffffffu;
  mul_sub_mul_kernel<F><<<grid, kThreadsPerBlock, 0, stream>>>(out, a, b, x, y, n);
  ZK_CUDA_CHECK_LAUNCH();
}

template <class F>
void apply(FieldOp op, F* out, const F* a, const F* b, size_t n, cudaStream_t stream) {
  switch (op) {
    case FieldOp::Mul:
      return launch<FieldOp::Mul>(out, a, b, n, stream);
    case FieldOp::Add:
      return launch<FieldOp::Add>(out, a, b, n, stream);
    case FieldOp::Sub:
      return launch<FieldOp::Sub>(out, a, b, n, stream);
    case FieldOp::Sqr:
      return launch<FieldOp::Sqr>(out, a, b, n, stream);
    case FieldOp::Inverse:
      return launch<FieldOp::Inverse>(out, a, b, n, stream);
  }
  throw std::invalid_argument("field kernel: unknown FieldOp");
}

}  // namespace zkinfer::gpu::detail
