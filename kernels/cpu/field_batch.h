// Element-wise products of field arrays: out[i] = a[i] * b[i] (Montgomery form, bit-identical to
// Fp::operator*). Where x86::host_isa is adx (fp_x86.h) and the CPU has AVX-512 IFMA, eight
// products run at once in vector lanes; elsewhere, and for the last n % 8 elements, one at a
// time with Fp::operator*. On the Zen 4 dev machines 6.6 ns a product with IFMA, against 15.9
// for independent products with the scalar ADX asm (bench_field).
// out may be the same array as a or b; no other overlap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::cpu {

void mul_batch(Fr* out, const Fr* a, const Fr* b, size_t n);
void mul_batch(Fq* out, const Fq* a, const Fq* b, size_t n);

// lane[l] = 1 / lane[l] for eight non-zero values with one inversion (the end of Montgomery's
// trick run as eight interleaved chains), in variable time: for the MSM only, never secrets.
void invert_lanes_vartime(Fq lane[8]);

// n affine additions bucket[i] += point[i] on G1, each sum written over its bucket: lambda =
// (py - by) / (px - bx) with one inversion for the batch (Montgomery's trick in eight
// interleaved chains), x3 = lambda^2 - bx - px, y3 = lambda (bx - x3) - by. The coordinates are
// read and written through the pointers, so the caller gathers nothing. The buckets must be
// distinct, and no bucket or point at infinity; n a multiple of 8; scratch holds
// affine_add_scratch_words(n) words and starts on a 64-byte boundary (vector stores).
struct AffineAddInPlace {
  G1Affine* const* bucket;
  const G1Affine* const* point;
  size_t n;
  uint64_t* scratch;
};
constexpr size_t affine_add_scratch_words(size_t n) { return n / 8 * 2 * 5 * 8; }
enum class BatchStatus {
  done,
  no_ifma,  // the CPU lacks AVX-512 IFMA (as for mul_batch): nothing done
  equal_x,  // some px == bx (a doubling, or P + -P), which needs the caller: nothing written
};
// Runs it in AVX-512 IFMA lanes where the CPU has them.
BatchStatus affine_add_in_place(const AffineAddInPlace& batch);

// The same on G2 over Fq2.
struct AffineAddInPlace2 {
  G2Affine* const* bucket;
  const G2Affine* const* point;
  size_t n;
  uint64_t* scratch;  // affine_add_scratch_words(n), 64-byte aligned
};
BatchStatus affine_add_in_place(const AffineAddInPlace2& batch);

}  // namespace zkinfer::cpu
