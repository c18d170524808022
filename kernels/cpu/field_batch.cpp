#include "cpu/field_batch.h"

#if ZKINFER_X86_64_HOST
#include <immintrin.h>
#endif

namespace zkinfer::cpu {
namespace {

#if ZKINFER_X86_64_HOST
// Only this file is built for AVX-512 (function attributes, no compiler flags), and only calls
// from mul_batch reach it, after x86::cpu_has_avx512ifma().
#define ZK_IFMA_TARGET __attribute__((target("avx512f,avx512ifma")))
#define ZK_IFMA_INLINE ZK_IFMA_TARGET __attribute__((always_inline)) inline

// Radix 2^52: five limbs hold 260 bits, one per 64-bit lane of five vectors, eight elements at
// once. IFMA multiplies the low 52 bits of two lanes and adds the low or the high 52 bits of the
// 104-bit product to a third lane, so products accumulate without carries until the end.
constexpr uint64_t kMask52 = (uint64_t{1} << 52) - 1;

template <class P>
struct Ifma {
  // p in radix 2^52 and -p^-1 mod 2^52.
  static constexpr uint64_t p[5] = {
      P::modulus.w[0] & kMask52, ((P::modulus.w[0] >> 52) | (P::modulus.w[1] << 12)) & kMask52,
      ((P::modulus.w[1] >> 40) | (P::modulus.w[2] << 24)) & kMask52,
      ((P::modulus.w[2] >> 28) | (P::modulus.w[3] << 36)) & kMask52, P::modulus.w[3] >> 16};
  static constexpr uint64_t k0 = u256::neg_inv64(P::modulus.w[0]) & kMask52;
};

// Eight consecutive elements (32 words) -> w[k] = word k of each element, and back.
ZK_IFMA_INLINE void load8(const uint64_t* src, __m512i w[4]) {
  const __m512i z0 = _mm512_loadu_si512(src), z1 = _mm512_loadu_si512(src + 8);
  const __m512i z2 = _mm512_loadu_si512(src + 16), z3 = _mm512_loadu_si512(src + 24);
  const __m512i words01 = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
  const __m512i words23 = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i low_halves = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i high_halves = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i a01 = _mm512_permutex2var_epi64(z0, words01, z1);  // elements 0-3: words 0 | 1
  const __m512i b01 = _mm512_permutex2var_epi64(z2, words01, z3);  // elements 4-7: words 0 | 1
  const __m512i a23 = _mm512_permutex2var_epi64(z0, words23, z1);
  const __m512i b23 = _mm512_permutex2var_epi64(z2, words23, z3);
  w[0] = _mm512_permutex2var_epi64(a01, low_halves, b01);
  w[1] = _mm512_permutex2var_epi64(a01, high_halves, b01);
  w[2] = _mm512_permutex2var_epi64(a23, low_halves, b23);
  w[3] = _mm512_permutex2var_epi64(a23, high_halves, b23);
}

ZK_IFMA_INLINE void store8(uint64_t* dst, const __m512i w[4]) {
  const __m512i words01 = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
  const __m512i words23 = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i low_halves = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i high_halves = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i a01 = _mm512_permutex2var_epi64(w[0], low_halves, w[1]);
  const __m512i b01 = _mm512_permutex2var_epi64(w[0], high_halves, w[1]);
  const __m512i a23 = _mm512_permutex2var_epi64(w[2], low_halves, w[3]);
  const __m512i b23 = _mm512_permutex2var_epi64(w[2], high_halves, w[3]);
  _mm512_storeu_si512(dst, _mm512_permutex2var_epi64(a01, words01, a23));
  _mm512_storeu_si512(dst + 8, _mm512_permutex2var_epi64(a01, words23, a23));
  _mm512_storeu_si512(dst + 16, _mm512_permutex2var_epi64(b01, words01, b23));
  _mm512_storeu_si512(dst + 24, _mm512_permutex2var_epi64(b01, words23, b23));
}

// 4 x 64-bit words -> 5 x 52-bit limbs; `shift` = 4 gives the limbs of 16x the value (< 2^258).
template <int shift>
ZK_IFMA_INLINE void to_limbs(const __m512i w[4], __m512i l[5]) {
  const __m512i m = _mm512_set1_epi64(kMask52);
  l[0] = _mm512_and_si512(_mm512_slli_epi64(w[0], shift), m);
  l[1] = _mm512_and_si512(
      _mm512_or_si512(_mm512_srli_epi64(w[0], 52 - shift), _mm512_slli_epi64(w[1], 12 + shift)), m);
  l[2] = _mm512_and_si512(
      _mm512_or_si512(_mm512_srli_epi64(w[1], 40 - shift), _mm512_slli_epi64(w[2], 24 + shift)), m);
  l[3] = _mm512_and_si512(
      _mm512_or_si512(_mm512_srli_epi64(w[2], 28 - shift), _mm512_slli_epi64(w[3], 36 + shift)), m);
  l[4] = _mm512_srli_epi64(w[3], 16 - shift);
}

// Normalised limbs of a value below 2^256 -> 4 x 64-bit words.
ZK_IFMA_INLINE void from_limbs(const __m512i l[5], __m512i w[4]) {
  w[0] = _mm512_or_si512(l[0], _mm512_slli_epi64(l[1], 52));
  w[1] = _mm512_or_si512(_mm512_srli_epi64(l[1], 12), _mm512_slli_epi64(l[2], 40));
  w[2] = _mm512_or_si512(_mm512_srli_epi64(l[2], 24), _mm512_slli_epi64(l[3], 28));
  w[3] = _mm512_or_si512(_mm512_srli_epi64(l[3], 36), _mm512_slli_epi64(l[4], 16));
}

// a * b16 / 2^260 mod p for a < p and b16 = 16 b < 16 p: that is a * b / 2^256, the product of
// fp.h. Operand scanning over the five limbs of b16; the result before the final subtraction is
// below (16 p^2 + 2^260 p) / 2^260 < 1.2 p. Lanes stay below 2^58: each takes at most four
// 52-bit terms a round. The 105 multiply-adds bound it: Zen 4 runs one 512-bit IFMA a cycle
// here (16 cycles an element for this function alone); keeping low and high halves in separate
// accumulators, to shorten the dependency chains, gained 2% and is not done.
template <class P>
ZK_IFMA_INLINE void mont_mul(const __m512i a[5], const __m512i b16[5], __m512i r[5]) {
  using C = Ifma<P>;
  const __m512i zero = _mm512_setzero_si512();
  const __m512i mask = _mm512_set1_epi64(kMask52);
  const __m512i k0 = _mm512_set1_epi64(C::k0);
  __m512i p[5];
  for (int j = 0; j < 5; ++j) p[j] = _mm512_set1_epi64(C::p[j]);
  __m512i t[6] = {zero, zero, zero, zero, zero, zero};
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      t[j] = _mm512_madd52lo_epu64(t[j], a[j], b16[i]);
      t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], a[j], b16[i]);
    }
    const __m512i m = _mm512_madd52lo_epu64(zero, t[0], k0);
    for (int j = 0; j < 5; ++j) {
      t[j] = _mm512_madd52lo_epu64(t[j], m, p[j]);
      t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], m, p[j]);
    }
    // t[0] is now a multiple of 2^52: pass its carry up and drop the limb.
    t[1] = _mm512_add_epi64(t[1], _mm512_srli_epi64(t[0], 52));
    for (int j = 0; j < 5; ++j) t[j] = t[j + 1];
    t[5] = zero;
  }
  for (int j = 0; j < 4; ++j) {
    t[j + 1] = _mm512_add_epi64(t[j + 1], _mm512_srli_epi64(t[j], 52));
    t[j] = _mm512_and_si512(t[j], mask);
  }
  // Subtract p in the lanes where that does not borrow.
  __m512i d[5], borrow = zero;
  for (int j = 0; j < 5; ++j) {
    d[j] = _mm512_add_epi64(_mm512_sub_epi64(t[j], p[j]), borrow);
    borrow = _mm512_srai_epi64(d[j], 52);
    d[j] = _mm512_and_si512(d[j], mask);
  }
  const __mmask8 no_borrow = _mm512_cmpeq_epi64_mask(borrow, zero);
  for (int j = 0; j < 5; ++j) r[j] = _mm512_mask_blend_epi64(no_borrow, t[j], d[j]);
}

// 16 a in limbs from the limbs of a (a 4-bit shift across the limbs; a < 2^256).
ZK_IFMA_INLINE void times16(const __m512i l[5], __m512i r[5]) {
  const __m512i m = _mm512_set1_epi64(kMask52);
  r[0] = _mm512_and_si512(_mm512_slli_epi64(l[0], 4), m);
  for (int j = 1; j < 4; ++j)
    r[j] = _mm512_and_si512(_mm512_or_si512(_mm512_slli_epi64(l[j], 4), _mm512_srli_epi64(l[j - 1], 48)), m);
  r[4] = _mm512_or_si512(_mm512_slli_epi64(l[4], 4), _mm512_srli_epi64(l[3], 48));  // < 2^52
}

// a - b mod p on normalised limbs of values below p.
template <class P>
ZK_IFMA_INLINE void sub_mod(const __m512i a[5], const __m512i b[5], __m512i r[5]) {
  using C = Ifma<P>;
  const __m512i mask = _mm512_set1_epi64(kMask52), zero = _mm512_setzero_si512();
  __m512i d[5], borrow = zero;
  for (int j = 0; j < 5; ++j) {
    d[j] = _mm512_add_epi64(_mm512_sub_epi64(a[j], b[j]), borrow);
    borrow = _mm512_srai_epi64(d[j], 52);
    d[j] = _mm512_and_si512(d[j], mask);
  }
  // Lanes that borrowed out of the top limb went below zero: add p back.
  const __mmask8 negative = _mm512_cmpneq_epi64_mask(borrow, zero);
  __m512i carry = zero;
  for (int j = 0; j < 5; ++j) {
    __m512i t = _mm512_add_epi64(_mm512_add_epi64(d[j], _mm512_set1_epi64(C::p[j])), carry);
    carry = _mm512_srli_epi64(t, 52);
    r[j] = _mm512_mask_blend_epi64(negative, d[j], _mm512_and_si512(t, mask));
  }
}

template <class F, int shift = 0>
ZK_IFMA_INLINE void load_limbs(const F* src, __m512i l[5]) {
  __m512i w[4];
  load8(src->v, w);
  to_limbs<shift>(w, l);
}

template <class F>
ZK_IFMA_INLINE void store_limbs(F* dst, const __m512i l[5]) {
  __m512i w[4];
  from_limbs(l, w);
  store8(dst->v, w);
}

// AffineAddBatch on Fq in IFMA lanes; see field_batch.h. Values stay in limbs from the load of
// an input to the store of a result: no transposition or conversion per product.
ZK_IFMA_TARGET void affine_add_batch_ifma(const AffineAddBatch& b) {
  using P = Fq::Params;
  const size_t blocks = b.n / 8;
  __m512i* den16 = reinterpret_cast<__m512i*>(b.scratch);      // 16 den, 5 vectors a block
  __m512i* prefix = den16 + 5 * blocks;                         // chain values before each block
  __m512i acc[5], t[5], u[5];
  {
    Fq one[8];
    for (auto& o : one) o = Fq::one();
    load_limbs(one, acc);
  }
  for (size_t k = 0; k < blocks; ++k) {
    load_limbs<Fq, 4>(b.den + 8 * k, den16 + 5 * k);
    for (int j = 0; j < 5; ++j) prefix[5 * k + j] = acc[j];
    mont_mul<P>(acc, den16 + 5 * k, t);
    for (int j = 0; j < 5; ++j) acc[j] = t[j];
  }
  // One inversion for the eight lanes: 1 / acc[l] = (prod of all)^-1 * (prod of the others).
  {
    Fq lane[8], before[8], after = Fq::one();
    store_limbs(lane, acc);
    before[0] = Fq::one();
    for (int l = 1; l < 8; ++l) before[l] = before[l - 1] * lane[l - 1];
    Fq inv_all = (before[7] * lane[7]).inverse_vartime();
    for (int l = 8; l-- > 0;) {
      Fq others = before[l] * after;
      after *= lane[l];
      lane[l] = inv_all * others;
    }
    load_limbs(lane, acc);
  }
  for (size_t k = blocks; k-- > 0;) {
    __m512i inv[5], lambda[5], lambda16[5], x3[5], y3[5], bx[5];
    times16(acc, t);
    mont_mul<P>(prefix + 5 * k, t, inv);                 // 1 / den
    mont_mul<P>(acc, den16 + 5 * k, u);                  // the chain without this block
    for (int j = 0; j < 5; ++j) acc[j] = u[j];
    load_limbs<Fq, 4>(b.num + 8 * k, t);
    mont_mul<P>(inv, t, lambda);                          // lambda = num / den
    times16(lambda, lambda16);
    mont_mul<P>(lambda, lambda16, u);                     // lambda^2
    load_limbs(b.bx + 8 * k, bx);
    sub_mod<P>(u, bx, t);
    load_limbs(b.px + 8 * k, u);
    sub_mod<P>(t, u, x3);                                 // x3 = lambda^2 - bx - px
    sub_mod<P>(bx, x3, t);
    mont_mul<P>(t, lambda16, u);                          // lambda (bx - x3)
    load_limbs(b.by + 8 * k, t);
    sub_mod<P>(u, t, y3);                                 // y3 = lambda (bx - x3) - by
    store_limbs(b.x3 + 8 * k, x3);
    store_limbs(b.y3 + 8 * k, y3);
  }
}

template <class F>
ZK_IFMA_TARGET void mul_batch_ifma(F* out, const F* a, const F* b, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    __m512i wa[4], wb[4], la[5], lb[5], lr[5], wr[4];
    load8(a[i].v, wa);
    load8(b[i].v, wb);
    to_limbs<0>(wa, la);
    to_limbs<4>(wb, lb);
    mont_mul<typename F::Params>(la, lb, lr);
    from_limbs(lr, wr);
    store8(out[i].v, wr);
  }
}
#endif  // ZKINFER_X86_64_HOST

template <class F>
void mul_batch_any(F* out, const F* a, const F* b, size_t n) {
  size_t done = 0;
#if ZKINFER_X86_64_HOST
  if (x86::host_isa == HostIsa::adx && x86::cpu_has_avx512ifma()) {
    done = n & ~size_t{7};
    mul_batch_ifma(out, a, b, done);
  }
#endif
  for (size_t i = done; i < n; ++i) out[i] = a[i] * b[i];
}

}  // namespace

void mul_batch(Fr* out, const Fr* a, const Fr* b, size_t n) { mul_batch_any(out, a, b, n); }
void mul_batch(Fq* out, const Fq* a, const Fq* b, size_t n) { mul_batch_any(out, a, b, n); }

bool affine_add_batch(const AffineAddBatch& batch) {
#if ZKINFER_X86_64_HOST
  if (x86::host_isa == HostIsa::adx && x86::cpu_has_avx512ifma()) {
    affine_add_batch_ifma(batch);
    return true;
  }
#endif
  (void)batch;
  return false;
}

}  // namespace zkinfer::cpu
