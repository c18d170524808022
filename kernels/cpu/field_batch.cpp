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

// Four vectors of two elements each (z[e / 2] holds element e's four words in its half e % 2)
// -> w[k] = word k of each element, and back.
ZK_IFMA_INLINE void transpose_in(const __m512i z[4], __m512i w[4]) {
  const __m512i words01 = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
  const __m512i words23 = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i low_halves = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i high_halves = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i a01 = _mm512_permutex2var_epi64(z[0], words01, z[1]);  // elements 0-3: words 0 | 1
  const __m512i b01 = _mm512_permutex2var_epi64(z[2], words01, z[3]);  // elements 4-7: words 0 | 1
  const __m512i a23 = _mm512_permutex2var_epi64(z[0], words23, z[1]);
  const __m512i b23 = _mm512_permutex2var_epi64(z[2], words23, z[3]);
  w[0] = _mm512_permutex2var_epi64(a01, low_halves, b01);
  w[1] = _mm512_permutex2var_epi64(a01, high_halves, b01);
  w[2] = _mm512_permutex2var_epi64(a23, low_halves, b23);
  w[3] = _mm512_permutex2var_epi64(a23, high_halves, b23);
}

ZK_IFMA_INLINE void transpose_out(const __m512i w[4], __m512i z[4]) {
  const __m512i words01 = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
  const __m512i words23 = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i low_halves = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i high_halves = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i a01 = _mm512_permutex2var_epi64(w[0], low_halves, w[1]);
  const __m512i b01 = _mm512_permutex2var_epi64(w[0], high_halves, w[1]);
  const __m512i a23 = _mm512_permutex2var_epi64(w[2], low_halves, w[3]);
  const __m512i b23 = _mm512_permutex2var_epi64(w[2], high_halves, w[3]);
  z[0] = _mm512_permutex2var_epi64(a01, words01, a23);
  z[1] = _mm512_permutex2var_epi64(a01, words23, a23);
  z[2] = _mm512_permutex2var_epi64(b01, words01, b23);
  z[3] = _mm512_permutex2var_epi64(b01, words23, b23);
}

// Eight consecutive elements (32 words) -> w[k] = word k of each element, and back.
ZK_IFMA_INLINE void load8(const uint64_t* src, __m512i w[4]) {
  const __m512i z[4] = {_mm512_loadu_si512(src), _mm512_loadu_si512(src + 8),
                        _mm512_loadu_si512(src + 16), _mm512_loadu_si512(src + 24)};
  transpose_in(z, w);
}

ZK_IFMA_INLINE void store8(uint64_t* dst, const __m512i w[4]) {
  __m512i z[4];
  transpose_out(w, z);
  for (int j = 0; j < 4; ++j) _mm512_storeu_si512(dst + 8 * j, z[j]);
}

// The same for eight elements anywhere: element e at src[e] + offset (words).
template <class T>
ZK_IFMA_INLINE void gather8(const T* const* src, size_t offset, __m512i w[4]) {
  __m512i z[4];
  for (int j = 0; j < 4; ++j) {
    const auto* lo = reinterpret_cast<const uint64_t*>(src[2 * j]) + offset;
    const auto* hi = reinterpret_cast<const uint64_t*>(src[2 * j + 1]) + offset;
    z[j] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)lo)),
                              _mm256_loadu_si256((const __m256i*)hi), 1);
  }
  transpose_in(z, w);
}

template <class T>
ZK_IFMA_INLINE void scatter8(T* const* dst, size_t offset, const __m512i w[4]) {
  __m512i z[4];
  transpose_out(w, z);
  for (int j = 0; j < 4; ++j) {
    _mm256_storeu_si256((__m256i*)(reinterpret_cast<uint64_t*>(dst[2 * j]) + offset),
                        _mm512_castsi512_si256(z[j]));
    _mm256_storeu_si256((__m256i*)(reinterpret_cast<uint64_t*>(dst[2 * j + 1]) + offset),
                        _mm512_extracti64x4_epi64(z[j], 1));
  }
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

// d = a - b limb by limb, borrows passed up, limbs normalised; returns the lanes that did not
// borrow out of the top limb (a >= b there).
ZK_IFMA_INLINE __mmask8 sub_limbs(const __m512i a[5], const __m512i b[5], __m512i d[5]) {
  const __m512i mask = _mm512_set1_epi64(kMask52);
  __m512i borrow = _mm512_setzero_si512();
  for (int j = 0; j < 5; ++j) {
    d[j] = _mm512_add_epi64(_mm512_sub_epi64(a[j], b[j]), borrow);
    borrow = _mm512_srai_epi64(d[j], 52);
    d[j] = _mm512_and_si512(d[j], mask);
  }
  return _mm512_cmpeq_epi64_mask(borrow, _mm512_setzero_si512());
}

// r = x - p in the lanes where that does not borrow, else x (x normalised, below 2p).
template <class P>
ZK_IFMA_INLINE void reduce_once(const __m512i x[5], __m512i r[5]) {
  __m512i p[5], d[5];
  for (int j = 0; j < 5; ++j) p[j] = _mm512_set1_epi64(Ifma<P>::p[j]);
  const __mmask8 at_least_p = sub_limbs(x, p, d);
  for (int j = 0; j < 5; ++j) r[j] = _mm512_mask_blend_epi64(at_least_p, x[j], d[j]);
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
  reduce_once<P>(t, r);
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
  __m512i d[5];
  // Lanes that borrowed out of the top limb went below zero: add p back.
  const __mmask8 negative = (__mmask8)~sub_limbs(a, b, d);
  __m512i carry = zero;
  for (int j = 0; j < 5; ++j) {
    __m512i t = _mm512_add_epi64(_mm512_add_epi64(d[j], _mm512_set1_epi64(C::p[j])), carry);
    carry = _mm512_srli_epi64(t, 52);
    r[j] = _mm512_mask_blend_epi64(negative, d[j], _mm512_and_si512(t, mask));
  }
}

// a + b mod p on normalised limbs of values below p.
template <class P>
ZK_IFMA_INLINE void add_mod(const __m512i a[5], const __m512i b[5], __m512i r[5]) {
  const __m512i mask = _mm512_set1_epi64(kMask52);
  __m512i s[5], carry = _mm512_setzero_si512();
  for (int j = 0; j < 5; ++j) {
    s[j] = _mm512_add_epi64(_mm512_add_epi64(a[j], b[j]), carry);
    carry = _mm512_srli_epi64(s[j], 52);
    s[j] = _mm512_and_si512(s[j], mask);
  }
  reduce_once<P>(s, r);
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

ZK_IFMA_INLINE void set_one(__m512i l[5]) {
  Fq one[8];
  for (auto& o : one) o = Fq::one();
  load_limbs(one, l);
}

// The end of Montgomery's trick over eight chains (invert_lanes_vartime in field_batch.h).
ZK_IFMA_TARGET void invert_lanes(__m512i acc[5]) {
  Fq lane[8];
  store_limbs(lane, acc);
  invert_lanes_vartime(lane);
  load_limbs(lane, acc);
}

template <class T>
ZK_IFMA_INLINE void gather_limbs(const T* const* src, size_t offset, __m512i l[5]) {
  __m512i w[4];
  gather8(src, offset, w);
  to_limbs<0>(w, l);
}

template <class T>
ZK_IFMA_INLINE void scatter_limbs(T* const* dst, size_t offset, const __m512i l[5]) {
  __m512i w[4];
  from_limbs(l, w);
  scatter8(dst, offset, w);
}

// The lanes whose normalised limbs are all zero.
ZK_IFMA_INLINE __mmask8 zero_lanes(const __m512i l[5]) {
  const __m512i any = _mm512_or_si512(_mm512_or_si512(_mm512_or_si512(l[0], l[1]), _mm512_or_si512(l[2], l[3])), l[4]);
  return _mm512_cmpeq_epi64_mask(any, _mm512_setzero_si512());
}

// AffineAddInPlace on G1 in IFMA lanes; see field_batch.h. Values stay in limbs from the gather
// of an input to the scatter of a result. The first pass checks every denominator before the
// second writes anything, so a batch with a doubling is left whole to the caller.
ZK_IFMA_TARGET BatchStatus affine_add_in_place_ifma(const AffineAddInPlace& b) {
  using P = Fq::Params;
  constexpr size_t kX = 0, kY = 4;  // words into a G1Affine
  const size_t blocks = b.n / 8;
  __m512i* den16 = reinterpret_cast<__m512i*>(b.scratch);  // 16 den, 5 vectors a block
  __m512i* prefix = den16 + 5 * blocks;                     // chain values before each block
  __m512i acc[5], t[5], u[5];
  __mmask8 equal_x = 0;
  set_one(acc);
  for (size_t k = 0; k < blocks; ++k) {
    gather_limbs(b.point + 8 * k, kX, t);
    gather_limbs(b.bucket + 8 * k, kX, u);
    sub_mod<P>(t, u, t);  // den = px - bx
    equal_x |= zero_lanes(t);
    times16(t, den16 + 5 * k);
    for (int j = 0; j < 5; ++j) prefix[5 * k + j] = acc[j];
    mont_mul<P>(acc, den16 + 5 * k, t);
    for (int j = 0; j < 5; ++j) acc[j] = t[j];
  }
  if (equal_x) return BatchStatus::equal_x;
  invert_lanes(acc);
  for (size_t k = blocks; k-- > 0;) {
    __m512i inv[5], lambda[5], lambda16[5], x3[5], by[5], y3[5], bx[5];
    times16(acc, t);
    mont_mul<P>(prefix + 5 * k, t, inv);                 // 1 / den
    mont_mul<P>(acc, den16 + 5 * k, u);                  // the chain without this block
    for (int j = 0; j < 5; ++j) acc[j] = u[j];
    gather_limbs(b.point + 8 * k, kY, t);
    gather_limbs(b.bucket + 8 * k, kY, by);
    sub_mod<P>(t, by, u);                                 // num = py - by
    times16(u, t);
    mont_mul<P>(inv, t, lambda);                          // lambda = num / den
    times16(lambda, lambda16);
    mont_mul<P>(lambda, lambda16, u);                     // lambda^2
    gather_limbs(b.bucket + 8 * k, kX, bx);
    sub_mod<P>(u, bx, t);
    gather_limbs(b.point + 8 * k, kX, u);
    sub_mod<P>(t, u, x3);                                 // x3 = lambda^2 - bx - px
    sub_mod<P>(bx, x3, t);
    mont_mul<P>(t, lambda16, u);                          // lambda (bx - x3)
    sub_mod<P>(u, by, y3);                                // y3 = lambda (bx - x3) - by
    scatter_limbs(b.bucket + 8 * k, kX, x3);
    scatter_limbs(b.bucket + 8 * k, kY, y3);
  }
  return BatchStatus::done;
}

// Fq2 = Fq[u] / (u^2 + 1) in limbs: c[0] + c[1] u.
struct V2 {
  __m512i c[2][5];
};

// a * b by Karatsuba: three products.
ZK_IFMA_INLINE void fq2_mul(const V2& a, const V2& b, V2& r) {
  using P = Fq::Params;
  __m512i b16[5], v0[5], v1[5], v2[5], sa[5], sb[5];
  times16(b.c[0], b16);
  mont_mul<P>(a.c[0], b16, v0);
  times16(b.c[1], b16);
  mont_mul<P>(a.c[1], b16, v1);
  add_mod<P>(a.c[0], a.c[1], sa);
  add_mod<P>(b.c[0], b.c[1], sb);
  times16(sb, b16);
  mont_mul<P>(sa, b16, v2);
  sub_mod<P>(v0, v1, r.c[0]);
  sub_mod<P>(v2, v0, sa);
  sub_mod<P>(sa, v1, r.c[1]);
}

template <class T>
ZK_IFMA_INLINE void gather_v2(const T* const* src, size_t offset, V2& v) {
  gather_limbs(src, offset, v.c[0]);
  gather_limbs(src, offset + 4, v.c[1]);
}

// AffineAddInPlace2 (G2) in IFMA lanes; see field_batch.h. 1 / d = conj(d) / N(d) with the norm
// N(d) = d0^2 + d1^2, so the chains run over Fq.
ZK_IFMA_TARGET BatchStatus affine_add_in_place_ifma(const AffineAddInPlace2& b) {
  using P = Fq::Params;
  constexpr size_t kX = 0, kY = 8;  // words into a G2Affine
  const size_t blocks = b.n / 8;
  __m512i* norm16 = reinterpret_cast<__m512i*>(b.scratch);  // 16 N(den), 5 vectors a block
  __m512i* prefix = norm16 + 5 * blocks;
  __m512i acc[5], t[5], u[5];
  __mmask8 equal_x = 0;
  set_one(acc);
  for (size_t k = 0; k < blocks; ++k) {
    V2 d, bx;
    gather_v2(b.point + 8 * k, kX, d);
    gather_v2(b.bucket + 8 * k, kX, bx);
    for (int c = 0; c < 2; ++c) sub_mod<P>(d.c[c], bx.c[c], d.c[c]);  // den = px - bx
    equal_x |= zero_lanes(d.c[0]) & zero_lanes(d.c[1]);
    times16(d.c[0], t);
    mont_mul<P>(d.c[0], t, u);
    times16(d.c[1], t);
    mont_mul<P>(d.c[1], t, d.c[0]);
    add_mod<P>(u, d.c[0], t);
    times16(t, norm16 + 5 * k);
    for (int j = 0; j < 5; ++j) prefix[5 * k + j] = acc[j];
    mont_mul<P>(acc, norm16 + 5 * k, t);
    for (int j = 0; j < 5; ++j) acc[j] = t[j];
  }
  if (equal_x) return BatchStatus::equal_x;
  invert_lanes(acc);
  const __m512i zero[5] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                           _mm512_setzero_si512(), _mm512_setzero_si512()};
  for (size_t k = blocks; k-- > 0;) {
    V2 d, inv, num, lambda, sq, bx, px, by, x3;
    times16(acc, t);
    mont_mul<P>(prefix + 5 * k, t, u);  // 1 / N(den)
    mont_mul<P>(acc, norm16 + 5 * k, t);
    for (int j = 0; j < 5; ++j) acc[j] = t[j];
    times16(u, t);
    gather_v2(b.point + 8 * k, kX, px);
    gather_v2(b.bucket + 8 * k, kX, bx);
    for (int c = 0; c < 2; ++c) sub_mod<P>(px.c[c], bx.c[c], d.c[c]);
    mont_mul<P>(d.c[0], t, inv.c[0]);
    mont_mul<P>(d.c[1], t, u);
    sub_mod<P>(zero, u, inv.c[1]);  // conj(den) / N(den)
    gather_v2(b.point + 8 * k, kY, num);
    gather_v2(b.bucket + 8 * k, kY, by);
    for (int c = 0; c < 2; ++c) sub_mod<P>(num.c[c], by.c[c], num.c[c]);  // py - by
    fq2_mul(num, inv, lambda);
    // lambda^2 = (l0 + l1)(l0 - l1) + 2 l0 l1 u
    add_mod<P>(lambda.c[0], lambda.c[1], t);
    sub_mod<P>(lambda.c[0], lambda.c[1], u);
    times16(u, d.c[0]);
    mont_mul<P>(t, d.c[0], sq.c[0]);
    times16(lambda.c[1], d.c[0]);
    mont_mul<P>(lambda.c[0], d.c[0], t);
    add_mod<P>(t, t, sq.c[1]);
    for (int c = 0; c < 2; ++c) {
      sub_mod<P>(sq.c[c], bx.c[c], t);
      sub_mod<P>(t, px.c[c], x3.c[c]);   // x3 = lambda^2 - bx - px
      sub_mod<P>(bx.c[c], x3.c[c], d.c[c]);
    }
    fq2_mul(lambda, d, sq);              // lambda (bx - x3)
    for (int c = 0; c < 2; ++c) {
      sub_mod<P>(sq.c[c], by.c[c], t);   // y3 = lambda (bx - x3) - by
      scatter_limbs(b.bucket + 8 * k, kX + 4 * c, x3.c[c]);
      scatter_limbs(b.bucket + 8 * k, kY + 4 * c, t);
    }
  }
  return BatchStatus::done;
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

// Whether the IFMA paths run: the adx arithmetic is selected and the CPU has IFMA.
bool use_ifma() {
#if ZKINFER_X86_64_HOST
  return x86::host_isa == HostIsa::adx && x86::cpu_has_avx512ifma();
#else
  return false;
#endif
}

template <class F>
void mul_batch_any(F* out, const F* a, const F* b, size_t n) {
  size_t done = 0;
#if ZKINFER_X86_64_HOST
  if (use_ifma()) {
    done = n & ~size_t{7};
    mul_batch_ifma(out, a, b, done);
  }
#endif
  for (size_t i = done; i < n; ++i) out[i] = a[i] * b[i];
}

}  // namespace

void mul_batch(Fr* out, const Fr* a, const Fr* b, size_t n) { mul_batch_any(out, a, b, n); }
void mul_batch(Fq* out, const Fq* a, const Fq* b, size_t n) { mul_batch_any(out, a, b, n); }

void invert_lanes_vartime(Fq lane[8]) {
  Fq before[8], after = Fq::one();
  before[0] = Fq::one();
  for (int l = 1; l < 8; ++l) before[l] = before[l - 1] * lane[l - 1];
  // Variable time (safegcd, 1 us against 7 for Fermat): the MSM's memory accesses depend on the
  // scalars already.
  Fq inv_all = (before[7] * lane[7]).inverse_vartime();
  for (int l = 8; l-- > 0;) {
    Fq others = before[l] * after;
    after *= lane[l];
    lane[l] = inv_all * others;
  }
}

namespace {
// The IFMA kernel for the batch's group where the CPU runs it.
template <class Batch>
BatchStatus run_in_place(const Batch& batch) {
  if (!use_ifma()) return BatchStatus::no_ifma;
#if ZKINFER_X86_64_HOST
  return affine_add_in_place_ifma(batch);
#else
  (void)batch;
  return BatchStatus::no_ifma;
#endif
}
}  // namespace

BatchStatus affine_add_in_place(const AffineAddInPlace& batch) { return run_in_place(batch); }
BatchStatus affine_add_in_place(const AffineAddInPlace2& batch) { return run_in_place(batch); }

}  // namespace zkinfer::cpu
