// Element-wise products of field arrays: out[i] = a[i] * b[i] (Montgomery form, bit-identical to
// Fp::operator*). Where x86::host_isa is adx (fp_x86.h) and the CPU has AVX-512 IFMA, eight
// products run at once in vector lanes; elsewhere, and for the last n % 8 elements, one at a
// time with Fp::operator*. On the Zen 4 dev machines 6.6 ns a product with IFMA, against 15.9
// for independent products with the scalar ADX asm (bench_field).
// out may be the same array as a or b; no other overlap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "zkinfer/ff/fields.h"

namespace zkinfer::cpu {

void mul_batch(Fr* out, const Fr* a, const Fr* b, size_t n);
void mul_batch(Fq* out, const Fq* a, const Fq* b, size_t n);

// lane[l] = 1 / lane[l] for eight non-zero values with one inversion (the end of Montgomery's
// trick run as eight interleaved chains), in variable time: for the MSM only, never secrets.
void invert_lanes_vartime(Fq lane[8]);

// The field work of n affine additions (x3, y3) = (bx, by) + (px, .) on G1 whose slopes have
// numerators num and denominators den (none zero): lambda = num / den with one inversion for
// the batch (Montgomery's trick in eight interleaved chains), x3 = lambda^2 - bx - px,
// y3 = lambda (bx - x3) - by. n a multiple of 8; scratch holds affine_add_scratch_words(n)
// words and starts on a 64-byte boundary (vector stores).
struct AffineAddBatch {
  Fq *x3, *y3;
  const Fq *den, *num, *bx, *by, *px;
  size_t n;
  uint64_t* scratch;
};
constexpr size_t affine_add_scratch_words(size_t n) { return n / 8 * 2 * 5 * 8; }
// Runs it in AVX-512 IFMA lanes and returns true where the CPU has them (as for mul_batch);
// returns false, doing nothing, elsewhere.
bool affine_add_batch(const AffineAddBatch& batch);

// The same on G2 over Fq2, each coordinate array given as its two Fq halves (c0, c1) apart.
struct AffineAddBatch2 {
  Fq *x3[2], *y3[2];
  const Fq *den[2], *num[2], *bx[2], *by[2], *px[2];
  size_t n;
  uint64_t* scratch;  // affine_add_scratch_words(n), 64-byte aligned
};
bool affine_add_batch(const AffineAddBatch2& batch);

}  // namespace zkinfer::cpu
