// Device side of Fp<P>: the PTX carry-chain helpers and the entry points fp.h calls when it is
// compiled for the GPU (operator+, operator-, operator*; everything else builds on those).
//
// Why one asm statement per instruction, in small named helpers:
// - The algorithms (mont32.h) are then written once and run unchanged over the host emulator in
//   the tests; a hand-written asm block per chain could not be checked without a GPU.
// - PTX defines the carry flag (CC.CF) as state that only instructions with .cc (write) or the
//   c-prefix (read) touch. The helpers are `asm volatile`, which keeps them in program order
//   relative to each other; NVVM emits no carry instructions of its own between them as long as
//   no 128-bit integer arithmetic is mixed into a chain (see the rules in mont32.h), and ptxas
//   tracks CC.CF as a dependency when it schedules, so the chain survives into SASS.
// - `volatile` costs nothing in the generated code here: ptxas, not NVVM, does the instruction
//   scheduling, and no helper call is redundant (each result or carry is consumed).
// - Operands are plain 32-bit registers ("r"); constants such as modulus limbs arrive as values
//   the compiler has already folded, and ptxas turns them into immediates.
#pragma once

#if defined(__CUDACC__)

#include <cstdint>

#include "zkinfer/ff/mont32.h"

namespace zkinfer::ptx {

// The carry-chain instruction set of mont32.h, one PTX instruction per member.
struct Chain {
  // d = a + b, CF = carry-out
  __device__ __forceinline__ uint32_t add_cc(uint32_t a, uint32_t b) {
    uint32_t d;
    asm volatile("add.cc.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
  }
  // d = a + b + CF, CF = carry-out
  __device__ __forceinline__ uint32_t addc_cc(uint32_t a, uint32_t b) {
    uint32_t d;
    asm volatile("addc.cc.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
  }
  // d = a + b + CF
  __device__ __forceinline__ uint32_t addc(uint32_t a, uint32_t b) {
    uint32_t d;
    asm volatile("addc.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
  }
  // d = a - b, CF = borrow-out
  __device__ __forceinline__ uint32_t sub_cc(uint32_t a, uint32_t b) {
    uint32_t d;
    asm volatile("sub.cc.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
  }
  // d = a - (b + CF), CF = borrow-out
  __device__ __forceinline__ uint32_t subc_cc(uint32_t a, uint32_t b) {
    uint32_t d;
    asm volatile("subc.cc.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
  }
  // d = a - (b + CF)
  __device__ __forceinline__ uint32_t subc(uint32_t a, uint32_t b) {
    uint32_t d;
    asm volatile("subc.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
  }
  // d = lo(a * b) + c, CF = carry-out
  __device__ __forceinline__ uint32_t mad_lo_cc(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t d;
    asm volatile("mad.lo.cc.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
  }
  // d = lo(a * b) + c + CF, CF = carry-out
  __device__ __forceinline__ uint32_t madc_lo_cc(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t d;
    asm volatile("madc.lo.cc.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
  }
  // d = hi(a * b) + c, CF = carry-out
  __device__ __forceinline__ uint32_t mad_hi_cc(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t d;
    asm volatile("mad.hi.cc.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
  }
  // d = hi(a * b) + c + CF, CF = carry-out
  __device__ __forceinline__ uint32_t madc_hi_cc(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t d;
    asm volatile("madc.hi.cc.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
  }
  // d = hi(a * b) + c + CF
  __device__ __forceinline__ uint32_t madc_hi(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t d;
    asm volatile("madc.hi.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
  }
};

}  // namespace zkinfer::ptx

namespace zkinfer::fp_device {

// Fp's four 64-bit words <-> eight 32-bit limbs. Each 64-bit register is a pair of 32-bit
// registers on the GPU, so these compile to nothing.
__device__ __forceinline__ void split(uint32_t x[mont32::kLimbs], const uint64_t v[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    x[2 * i] = uint32_t(v[i]);
    x[2 * i + 1] = uint32_t(v[i] >> 32);
  }
}
__device__ __forceinline__ void join(uint64_t v[4], const uint32_t x[mont32::kLimbs]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) v[i] = uint64_t(x[2 * i]) | (uint64_t(x[2 * i + 1]) << 32);
}
// An operand's limbs, split where it is passed (a temporary lives to the end of the call).
struct Limbs {
  uint32_t v[mont32::kLimbs];
  __device__ __forceinline__ explicit Limbs(const uint64_t w[4]) { split(v, w); }
};

// r = a + b, a - b, a * b (Montgomery) for elements of Fp<P> given as their 64-bit words.
template <class P>
__device__ __forceinline__ void add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::add<P>(c, z, Limbs(a).v, Limbs(b).v);
  join(r, z);
}
template <class P>
__device__ __forceinline__ void sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::sub<P>(c, z, Limbs(a).v, Limbs(b).v);
  join(r, z);
}
template <class P>
__device__ __forceinline__ void mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::mul<P>(c, z, Limbs(a).v, Limbs(b).v);
  join(r, z);
}

// Montgomery product through one level of Karatsuba and a separate reduction
// (mont32::mul_karatsuba): 48 limb products and the reduction's 64 instead of 128; for the
// benchmark's comparison with mul: 1.06x mul's time on an H200 (2026-11-28), so unused.
template <class P>
__device__ __forceinline__ void mul_karatsuba(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::mul_karatsuba<P>(c, z, Limbs(a).v, Limbs(b).v);
  join(r, z);
}

// a * w mod p for w fixed (Shoup, mont32::mul_shoup): a as Fp's words (Montgomery form), w
// canonical with wq = floor(w 2^256 / p) from shoup_quotient; the result in Montgomery form.
template <class P>
__device__ __forceinline__ void mul_shoup(uint64_t r[4], const uint64_t a[4], const uint64_t w[4],
                                          const uint64_t wq[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::mul_shoup<P>(c, z, Limbs(a).v, Limbs(w).v, Limbs(wq).v);
  join(r, z);
}
// wq = floor(w 2^256 / p) for the element whose Montgomery words are m (w canonical).
template <class P>
__device__ __forceinline__ void shoup_quotient(uint64_t wq[4], const uint64_t m[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::shoup_quotient<P>(c, z, Limbs(m).v);
  join(wq, z);
}

// a * b - x * y with one Montgomery reduction (mont32::mul_sub_mul).
template <class P>
__device__ __forceinline__ void mul_sub_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                            const uint64_t x[4], const uint64_t y[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::mul_sub_mul<P>(c, z, Limbs(a).v, Limbs(b).v, Limbs(x).v, Limbs(y).v);
  join(r, z);
}

// Montgomery square: each cross product once (mont32::sqr).
template <class P>
__device__ __forceinline__ void sqr(uint64_t r[4], const uint64_t a[4]) {
  uint32_t z[mont32::kLimbs];
  ptx::Chain c;
  mont32::sqr<P>(c, z, Limbs(a).v);
  join(r, z);
}

// Fq2 product and square with lazy reduction (mont32::fq2_mul, fq2_sqr): each element of Fq2
// as its two coefficients' 64-bit words. kKaratsuba: Karatsuba 512-bit products (benchmark).
template <class P, bool kKaratsuba = false>
__device__ __forceinline__ void fq2_mul(uint64_t r0[4], uint64_t r1[4], const uint64_t a0[4], const uint64_t a1[4],
                                        const uint64_t b0[4], const uint64_t b1[4]) {
  uint32_t z0[mont32::kLimbs], z1[mont32::kLimbs];
  ptx::Chain c;
  mont32::fq2_mul<P, kKaratsuba>(c, z0, z1, Limbs(a0).v, Limbs(a1).v, Limbs(b0).v, Limbs(b1).v);
  join(r0, z0);
  join(r1, z1);
}
template <class P, bool kKaratsuba = false>
__device__ __forceinline__ void fq2_sqr(uint64_t r0[4], uint64_t r1[4], const uint64_t a0[4], const uint64_t a1[4]) {
  uint32_t z0[mont32::kLimbs], z1[mont32::kLimbs];
  ptx::Chain c;
  mont32::fq2_sqr<P, kKaratsuba>(c, z0, z1, Limbs(a0).v, Limbs(a1).v);
  join(r0, z0);
  join(r1, z1);
}
// a b - x y in Fq2 with two reductions (mont32::fq2_mul_sub_mul).
template <class P>
__device__ __forceinline__ void fq2_mul_sub_mul(uint64_t r0[4], uint64_t r1[4], const uint64_t a0[4],
                                                const uint64_t a1[4], const uint64_t b0[4], const uint64_t b1[4],
                                                const uint64_t x0[4], const uint64_t x1[4], const uint64_t y0[4],
                                                const uint64_t y1[4]) {
  uint32_t z0[mont32::kLimbs], z1[mont32::kLimbs];
  ptx::Chain c;
  mont32::fq2_mul_sub_mul<P>(c, z0, z1, Limbs(a0).v, Limbs(a1).v, Limbs(b0).v, Limbs(b1).v, Limbs(x0).v,
                             Limbs(x1).v, Limbs(y0).v, Limbs(y1).v);
  join(r0, z0);
  join(r1, z1);
}

}  // namespace zkinfer::fp_device

#endif  // __CUDACC__
