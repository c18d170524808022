// Montgomery products on the FP64 pipe: five 52-bit limbs held in doubles, limb products split
// exactly into high and low halves by fused multiply-adds, column sums in 64-bit integers.
//
// Why: on an H100/H200 the Montgomery product of mont32.h is bound by its 123 IMAD.WIDE (about
// 560 scheduler clocks per warp-wide product measured, where an IMAD.WIDE holds the multiply-add
// pipe for ~4), while the FP64 pipe, as wide as the integer one on these parts, sits idle. Here
// a 52 x 52-bit limb product takes three FP64 operations; a product of field elements takes
// ~160 of them plus ~145 integer additions, shifts and masks (another pipe) and 15 multiply-adds
// (the reduction's quotient digits). Whether that is faster is for the GPU to say; two
// experiments measure it (bench/gpu_check.sh sets each beside what it would replace):
// - mul (R = 2^260, values kept as limbs in doubles between products): bench_gpu_field's
//   fr/fq_mul_f64_chain_ilp4 against fr/fq_mul_chain_ilp4.
// - Fp52 (fp52.h: limbs kept as integers between operations, converted to doubles for each
//   product) as the field of gpu::msm::G1CurveF64: bench_gpu_msm's g1_msm_f64_2^20 against
//   g1_msm_2^20.
// - mul_r256 (Fp's own words and Montgomery form, canonical: a drop-in for Fp's product, paying
//   a split into limbs and a join back per product): fq_mul_f64_words_chain_ilp4.
//
// Representation (mul): a = sum a_i 2^(52 i), five limbs a_i in [0, 2^52) stored as doubles
// (exact integers). Montgomery form with R = 2^260: the element x is held as x 2^260 mod p, any
// value below 2^256 (so below 2p for the BN254 moduli); products return values below 1.07 p.
// to_limbs / from_limbs convert from and to the host layout (Fp's words, R = 2^256).
//
// The exact split of a limb product (a, b < 2^52, so a b < 2^104):
//   h = fma_rd(a, b, 2^104)       a b + 2^104 lies in [2^104, 2^105), where doubles are spaced
//                                 2^52: rounding down keeps 2^104 + H, H = floor(a b / 2^52) 2^52;
//   x = (2^104 + 2^52) - h        = 2^52 - H, exact (both operands in [2^104, 2^105]: Sterbenz);
//   l = fma_rn(a, b, x)           = 2^52 + (a b mod 2^52), an integer in [2^52, 2^53): exact.
// In [2^e, 2^(e+1)) a double's bit pattern is bits(2^e) plus its distance from 2^e in units of
// the spacing, so bits(h) = bits(2^104) + a b / 2^52 (rounded down) and bits(l) = bits(2^52) +
// (a b mod 2^52): the halves are read from the bit patterns with a known bias. Both biases are
// multiples of 2^52, so column sums carry them in bits 52 and up only and drop them mod 2^52;
// they are subtracted (mod 2^64) where a column's carry is taken.
#pragma once

#include <cstdint>

#include "zkinfer/ff/hd.h"
#include "zkinfer/ff/u256.h"

#if !defined(__CUDA_ARCH__)
#include <bit>
#include <cmath>
#endif

#if defined(__CUDACC__) || defined(__clang__)
#define ZK_MONT52_UNROLL _Pragma("unroll")
#else
#define ZK_MONT52_UNROLL _Pragma("GCC unroll 25")
#endif

namespace zkinfer::mont52 {

inline constexpr int kLimbs = 5;
inline constexpr int kLimbBits = 52;
inline constexpr uint64_t kLimbMask = (uint64_t{1} << kLimbBits) - 1;

inline constexpr double kTwo52 = 4503599627370496.0;                            // 2^52
inline constexpr double kTwo104 = kTwo52 * kTwo52;                              // 2^104
inline constexpr double kTwo104Plus52 = kTwo104 + kTwo52;                       // exact: 53 bits
inline constexpr uint64_t kBitsTwo52 = uint64_t{1023 + 52} << 52;               // bits(2^52)
inline constexpr uint64_t kBitsTwo104 = uint64_t{1023 + 104} << 52;             // bits(2^104)

// ---- FP64 operations, one rounding each, never contracted or reordered. ----

ZK_HDI uint64_t bits(double x) {
#if defined(__CUDA_ARCH__)
  return uint64_t(__double_as_longlong(x));
#else
  return std::bit_cast<uint64_t>(x);
#endif
}
ZK_HDI double from_bits(uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double((long long)b);
#else
  return std::bit_cast<double>(b);
#endif
}
ZK_HDI double fma_rn(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);  // correctly rounded in the default (nearest) mode
#endif
}
ZK_HDI double sub_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}

#if !defined(__CUDA_ARCH__)
// fma rounded toward minus infinity, on the host, for what mont52 passes it: non-negative
// integers a, b < 2^64 and c with a b + c < 2^128. The exact sum in 128-bit integers, cut to 53
// significant bits (rounding down a non-negative value is truncation). Switching the FPU's
// rounding mode around std::fma would do the same, but the compiler may move the fma across the
// switch; tests/unit/test_mont52.cpp checks this function against that, made safe with volatile.
inline double fma_rd_host(double a, double b, double c) {
  using u128 = unsigned __int128;
  const u128 s = u128(uint64_t(a)) * uint64_t(b) + u128(c);
  const uint64_t top = uint64_t(s >> 64);
  const int len = top ? 128 - __builtin_clzll(top) : (uint64_t(s) ? 64 - __builtin_clzll(uint64_t(s)) : 0);
  if (len <= 53) return double(s);
  const int drop = len - 53;
  return double(s >> drop << drop);  // 53 significant bits: converts exactly
}
#endif

ZK_HDI double fma_rd(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rd(a, b, c);
#else
  return fma_rd_host(a, b, c);
#endif
}

// An integer v < 2^52 as a double: put v in the mantissa of 2^52 and subtract 2^52 (no
// int-to-float conversion, which runs on a slow pipe on the device).
ZK_HDI double limb_to_double(uint64_t v) { return sub_rn(from_bits(v | kBitsTwo52), kTwo52); }
// An integer-valued double v in [0, 2^52) back to an integer.
ZK_HDI uint64_t double_to_limb(double v) {
#if defined(__CUDA_ARCH__)
  return bits(__dadd_rn(v, kTwo52)) - kBitsTwo52;
#else
  return bits(v + kTwo52) - kBitsTwo52;
#endif
}

// a b = hi 2^52 + lo for a, b < 2^52, as the biased bit patterns described at the top:
// hi_bits = bits(2^104) + hi and lo_bits = bits(2^52) + lo.
ZK_HDI void split_product(double a, double b, uint64_t& hi_bits, uint64_t& lo_bits) {
  const double h = fma_rd(a, b, kTwo104);
  const double x = sub_rn(kTwo104Plus52, h);
  hi_bits = bits(h);
  lo_bits = bits(fma_rn(a, b, x));
}

// ---- Constants of a modulus P (P::modulus < 2^254). ----

// Limb i (bits 52 i .. 52 i + 51) of a 256-bit integer given as four little-endian words.
ZK_HDI constexpr uint64_t limb_of(const uint64_t w[4], int i) {
  const int o = kLimbBits * i, k = o / 64, s = o % 64;
  uint64_t v = w[k] >> s;
  if (s > 64 - kLimbBits && k + 1 < 4) v |= w[k + 1] << (64 - s);
  return v & kLimbMask;
}

// Constants of P as scalar static members (usable on the device): -p^-1 mod 2^52, 2p, 2^260 mod
// p (one, with R = 2^260), and 2^264 and 2^256 mod p, the factors that move Fp's words (R =
// 2^256) into R = 2^260 and back.
template <class P>
struct Consts {
  static constexpr uint64_t neg_inv = u256::neg_inv64(P::modulus.w[0]) & kLimbMask;
  static constexpr U256 two_p = [] {
    uint64_t carry = 0;
    return u256::add(P::modulus, P::modulus, carry);  // below 2^255: no carry
  }();
  static constexpr U256 r260 = u256::pow2_mod(260, P::modulus);
  static constexpr U256 into_r260 = u256::pow2_mod(264, P::modulus);
  static constexpr U256 into_r256 = u256::pow2_mod(256, P::modulus);
};

// Limb i of kTimes p (kTimes 1 or 2).
template <class P, int kTimes = 1>
ZK_HDI constexpr uint64_t modulus_limb(int i) {
  static_assert(kTimes == 1 || kTimes == 2);
  constexpr U256 m = kTimes == 1 ? P::modulus : Consts<P>::two_p;
  return limb_of(m.w, i);
}
template <class P>
ZK_HDI constexpr double modulus_limb_double(int i) {
  return double(modulus_limb<P>(i));
}

// The biases a column carries after the product and `rounds` reduction rounds (mod 2^64): one
// bits(2^52) per low half and one bits(2^104) per high half added to it.
ZK_HD constexpr uint64_t column_bias(int c, int rounds) {
  uint64_t lo = 0, hi = 0;
  for (int i = 0; i < kLimbs; ++i) {
    for (int j = 0; j < kLimbs; ++j) {
      lo += (i + j == c);
      hi += (i + j + 1 == c);
    }
  }
  for (int k = 0; k < rounds; ++k) {
    for (int j = 0; j < kLimbs; ++j) {
      lo += (k + j == c);
      hi += (k + j + 1 == c);
    }
  }
  return lo * kBitsTwo52 + hi * kBitsTwo104;
}

// Montgomery reduction of the product of a and b (limbs below 2^52): five rounds zero its low
// 208 + kLastBits bits by adding Q p (digits of 52 bits, the last of kLastBits), and t gets
// (a b + Q p) / 2^208 as six normalised 52-bit limbs, t[0]'s low kLastBits bits zero. With
// kLastBits = 52 that is R = 2^260 (the result is t[1..5]); with 48, R = 2^256 (the result is t
// shifted down 48 bits), Fp's own Montgomery form.
//
// Product scanning: the 25 limb products go into ten columns (low halves to column i + j, high
// halves to i + j + 1); round k takes q = col_k (-p^-1) mod 2^52 (on the integer multiply-adds:
// a 52 x 52-bit product's low bits), adds q p, and moves the column's carry (below 2^5: a column
// holds at most twenty terms below 2^52) to column k + 1. Columns 4..9 are then normalised.
template <class P, int kLastBits>
ZK_HDI void reduce_product(uint64_t t[kLimbs + 1], const double a[kLimbs], const double b[kLimbs]) {
  static_assert(kLastBits > 0 && kLastBits <= kLimbBits);
  uint64_t col[2 * kLimbs] = {};
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    ZK_MONT52_UNROLL
    for (int j = 0; j < kLimbs; ++j) {
      uint64_t hi, lo;
      split_product(a[i], b[j], hi, lo);
      col[i + j] += lo;
      col[i + j + 1] += hi;
    }
  }
  ZK_MONT52_UNROLL
  for (int k = 0; k < kLimbs; ++k) {
    // The biases vanish mod 2^52, so the digit needs no correction.
    const uint64_t digit_mask = k + 1 < kLimbs ? kLimbMask : (uint64_t{1} << kLastBits) - 1;
    const uint64_t q = ((col[k] & digit_mask) * Consts<P>::neg_inv) & digit_mask;
    const double qd = limb_to_double(q);
    ZK_MONT52_UNROLL
    for (int j = 0; j < kLimbs; ++j) {
      uint64_t hi, lo;
      split_product(qd, modulus_limb_double<P>(j), hi, lo);
      col[k + j] += lo;
      col[k + j + 1] += hi;
    }
    // Columns 0..3 are now multiples of 2^52 (plus their biases): their carries go on.
    if (k + 1 < kLimbs) col[k + 1] += (col[k] - column_bias(k, k + 1)) >> kLimbBits;
  }
  uint64_t carry = 0;
  ZK_MONT52_UNROLL
  for (int i = 0; i <= kLimbs; ++i) {
    const uint64_t v = col[kLimbs - 1 + i] - column_bias(kLimbs - 1 + i, kLimbs) + carry;
    t[i] = v & kLimbMask;
    carry = v >> kLimbBits;
  }
}

// r = a b 2^-260 mod p, a value below a b / 2^260 + p: below 1.07 p for a, b < 2^256 (as p <
// 2^254 leaves a b / 2^260 < 2^252 < p / 13). r may alias a or b.
template <class P>
ZK_HDI void mul(double r[kLimbs], const double a[kLimbs], const double b[kLimbs]) {
  uint64_t t[kLimbs + 1];
  reduce_product<P, kLimbBits>(t, a, b);
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) r[i] = limb_to_double(t[i + 1]);
}

// Five 52-bit limbs holding a value below 2 kTimes p brought below kTimes p: v - kTimes p unless
// that borrows. kTimes = 1 makes a value below 2p canonical; Fp52 keeps its values below 2p
// with kTimes = 2.
template <class P, int kTimes = 1>
ZK_HDI void reduce_below(uint64_t v[kLimbs]) {
  uint64_t d[kLimbs], borrow = 0;
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    const uint64_t s = v[i] - modulus_limb<P, kTimes>(i) - borrow;  // 52-bit limbs: the borrow is bit 63
    borrow = s >> 63;
    d[i] = s & kLimbMask;
  }
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) v[i] = borrow ? v[i] : d[i];  // borrow: v < kTimes p, keep it
}

// ---- Conversions from and to the host layout (four 64-bit words, R = 2^256). ----

// The 256-bit integer of five limbs (whose value is below 2^256).
ZK_HDI void join_limbs(uint64_t w[4], const uint64_t l[kLimbs]) {
  ZK_MONT52_UNROLL
  for (int k = 0; k < 4; ++k) w[k] = 0;
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    const int o = kLimbBits * i, k = o / 64, s = o % 64;
    w[k] |= l[i] << s;
    if (s > 64 - kLimbBits && k + 1 < 4) w[k + 1] |= l[i] >> (64 - s);
  }
}

// x 2^256 mod p (any word value below 2^256: Fp's Montgomery words) to x 2^260 mod p: one
// product by 2^264 mod p.
template <class P>
ZK_HDI void to_limbs(double r[kLimbs], const uint64_t w[4]) {
  constexpr U256 c = Consts<P>::into_r260;
  double a[kLimbs], k[kLimbs];
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    a[i] = limb_to_double(limb_of(w, i));
    k[i] = double(limb_of(c.w, i));
  }
  mul<P>(r, a, k);
}

// Back: x 2^260 to the canonical x 2^256 mod p (below p), by a product with 2^256 mod p and one
// conditional subtraction of p (the product is below 1.07 p).
template <class P>
ZK_HDI void from_limbs(uint64_t w[4], const double a[kLimbs]) {
  constexpr U256 c = Consts<P>::into_r256;
  double k[kLimbs], t[kLimbs];
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) k[i] = double(limb_of(c.w, i));
  mul<P>(t, a, k);
  uint64_t v[kLimbs];
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) v[i] = double_to_limb(t[i]);
  reduce_below<P>(v);
  join_limbs(w, v);
}

// r = a b 2^-256 mod p on Fp's words (Montgomery form with R = 2^256), canonical: a drop-in for
// Fp's product with the limb products on the FP64 pipe. For a < 2^256 and b < p (Fp's values
// are below p): the reduction leaves a b / 2^256 + p < 2p, then one conditional subtraction.
template <class P>
ZK_HDI void mul_r256(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  double x[kLimbs], y[kLimbs];
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    x[i] = limb_to_double(limb_of(a, i));
    y[i] = limb_to_double(limb_of(b, i));
  }
  uint64_t t[kLimbs + 1], v[kLimbs];
  reduce_product<P, kLimbBits - 4>(t, x, y);
  ZK_MONT52_UNROLL
  for (int i = 0; i < kLimbs; ++i) v[i] = ((t[i] >> (kLimbBits - 4)) | (t[i + 1] << 4)) & kLimbMask;
  reduce_below<P>(v);
  join_limbs(r, v);
}

}  // namespace zkinfer::mont52
