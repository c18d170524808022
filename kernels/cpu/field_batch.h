// Element-wise products of field arrays: out[i] = a[i] * b[i] (Montgomery form, bit-identical to
// Fp::operator*). Where x86::host_isa is adx (fp_x86.h) and the CPU has AVX-512 IFMA, eight
// products run at once in vector lanes; elsewhere, and for the last n % 8 elements, one at a
// time with Fp::operator*. On the Zen 4 dev machines 6.6 ns a product with IFMA, against 15.9
// for independent products with the scalar ADX asm (bench_field).
// out may be the same array as a or b; no other overlap.
#pragma once

#include <cstddef>

#include "zkinfer/ff/fields.h"

namespace zkinfer::cpu {

void mul_batch(Fr* out, const Fr* a, const Fr* b, size_t n);
void mul_batch(Fq* out, const Fq* a, const Fq* b, size_t n);

}  // namespace zkinfer::cpu
