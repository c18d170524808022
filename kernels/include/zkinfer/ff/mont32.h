// Montgomery arithmetic on eight 32-bit limbs: the device implementation of Fp<P>'s +, -, * and
// square, and of Fq2's * and square (512-bit products, lazy reduction; at the end).
//
// The algorithms are written once over a "carry chain": an object whose member functions are
// the eleven PTX integer instructions that read or write the carry flag (add.cc, addc, sub.cc,
// subc, mad.lo.cc, madc.hi, ...; names and semantics as in the PTX ISA). On the device that
// object is ptx::Chain (fp_device.h), where each member is one inline-asm instruction and the
// carry lives in the hardware condition code. In host tests it is an emulator that keeps the
// carry in a member (tests/gpu/carry_emu.h), so the exact instruction sequence the GPU runs,
// limb bounds and carry hand-offs included, is checked against the 4x64-bit host code on every
// CI run, GPU or not.
//
// Limbs are little-endian: limb 2i is the low half and limb 2i+1 the high half of the host
// type's 64-bit word i, so Fp's uint64_t v[4] reinterprets as uint32_t[8] unchanged.
//
// Rules for writing code over a chain (they are what the PTX helpers rely on):
// - A chain starts with an instruction that writes the carry without reading it (add_cc,
//   sub_cc, mad_lo_cc, mad_hi_cc) and ends with one that reads it without writing (addc, subc,
//   madc_hi) or simply stops; nothing between two chain steps may touch the carry, so no other
//   carry-using code (e.g. unsigned __int128 arithmetic, which NVVM lowers to add.cc.s64) is
//   interleaved with a chain.
// - Every chain ends with its carry consumed, provably zero, or deliberately dropped (a modular
//   wrap); the bound arguments are at each chain below.
#pragma once

#include <cstdint>

#include "zkinfer/ff/hd.h"
#include "zkinfer/ff/u256.h"

// Full unrolling turns limb indices into constants: registers, immediates, no local memory.
#if defined(__CUDACC__) || defined(__clang__)
#define ZK_MONT32_UNROLL _Pragma("unroll")
#else
#define ZK_MONT32_UNROLL _Pragma("GCC unroll 8")
#endif

namespace zkinfer::mont32 {

inline constexpr int kLimbs = 8;

// Limb j of the modulus of P. Called with constant j (from unrolled loops), it folds to an
// immediate operand; the local copy keeps device code from referencing the host static member.
template <class P>
ZK_HDI constexpr uint32_t modulus_limb(int j) {
  constexpr U256 m = P::modulus;
  return uint32_t(m.w[j / 2] >> (32 * (j % 2)));
}

// -p^-1 mod 2^32 (the low half of -p^-1 mod 2^64). A scalar static member, usable on the device.
template <class P>
struct NegInv32 {
  static constexpr uint32_t value = uint32_t(u256::neg_inv64(P::modulus.w[0]));
};

// The moduli this file serves leave two spare bits (p < 2^254, asserted by Fp); the chains below
// rely on it for the bounds stated at each of them.
template <class P>
inline constexpr bool kHasSpareBits = P::modulus.w[3] < (~uint64_t{0} >> 2);

// r = a + b mod 2^(32 N): one carry chain over N limbs.
template <int N, class Chain>
ZK_HDI void add_limbs(Chain& c, uint32_t r[N], const uint32_t a[N], const uint32_t b[N]) {
  r[0] = c.add_cc(a[0], b[0]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < N - 1; ++j) r[j] = c.addc_cc(a[j], b[j]);
  r[N - 1] = c.addc(a[N - 1], b[N - 1]);
}

// r = a + b without reduction, for a + b < 2^256 (two values below p, with the spare bits).
template <class Chain>
ZK_HDI void add_unreduced(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  add_limbs<kLimbs>(c, r, a, b);
}

// r = t mod p for t < 2p: t - p unless that borrows (the final borrow, as an all-ones mask, says
// t < p, i.e. keep t).
template <class P, class Chain>
ZK_HDI void reduce_once(Chain& c, uint32_t r[kLimbs], const uint32_t t[kLimbs]) {
  uint32_t d[kLimbs];
  d[0] = c.sub_cc(t[0], modulus_limb<P>(0));
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs; ++j) d[j] = c.subc_cc(t[j], modulus_limb<P>(j));
  const uint32_t keep = c.subc(0, 0);
  ZK_MONT32_UNROLL
  for (int j = 0; j < kLimbs; ++j) r[j] = (t[j] & keep) | (d[j] & ~keep);
}

// r = a + b mod p, for a, b < p: a + b < 2p < 2^255 fits eight limbs, then one subtraction.
template <class P, class Chain>
ZK_HDI void add(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  static_assert(kHasSpareBits<P>);
  uint32_t s[kLimbs];
  add_unreduced(c, s, a, b);
  reduce_once<P>(c, r, s);
}

// r = a - b mod p, for a, b < p.
template <class P, class Chain>
ZK_HDI void sub(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  uint32_t d[kLimbs];
  d[0] = c.sub_cc(a[0], b[0]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs; ++j) d[j] = c.subc_cc(a[j], b[j]);
  // On a borrow (a < b) add p back: the mask selects p or zero, the sum wraps to a - b + p < p.
  const uint32_t borrow = c.subc(0, 0);
  r[0] = c.add_cc(d[0], modulus_limb<P>(0) & borrow);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs - 1; ++j) r[j] = c.addc_cc(d[j], modulus_limb<P>(j) & borrow);
  r[kLimbs - 1] = c.addc(d[kLimbs - 1], modulus_limb<P>(kLimbs - 1) & borrow);
}

// Product rows as chains of whole 64-bit products. mad.lo.cc and madc.hi.cc of one product into
// a pair of neighbouring limbs of one chain compile to a single IMAD.WIDE.U32 with carry-in and
// carry-out on sm_90 (ptxas fuses them); a row of lo halves and a separate row of hi halves, as
// the first version of mul had, costs an IMAD plus an IADD3 per half instead (measured, SASS
// instructions of the elementwise product kernel: 600 with separate rows, 248 with this layout).
// So mul keeps two accumulators: e, which takes the products a_j * b_i of even j as pairs of
// limbs (0,1), (2,3), (4,5), (6,7), and o, which takes those of odd j as pairs (1,2), ..., (7,8).
// Each chain below adds one such set of four products (4 instructions) and, at its top, carries
// into limb 8.

// acc[0..7] += x[j] * y for even j, as limb pairs (j, j+1); the chain's carry-out (into limb 8)
// is left in the flag for the caller to consume.
template <class Chain>
ZK_HDI void mad_even(Chain& c, uint32_t acc[kLimbs], const uint32_t x[kLimbs], uint32_t y) {
  acc[0] = c.mad_lo_cc(x[0], y, acc[0]);
  acc[1] = c.madc_hi_cc(x[0], y, acc[1]);
  ZK_MONT32_UNROLL
  for (int j = 2; j < kLimbs; j += 2) {
    acc[j] = c.madc_lo_cc(x[j], y, acc[j]);
    acc[j + 1] = c.madc_hi_cc(x[j], y, acc[j + 1]);
  }
}

// The same with the modulus' even limbs (immediates) as x.
template <class P, class Chain>
ZK_HDI void mad_even_p(Chain& c, uint32_t acc[kLimbs], uint32_t y) {
  (void)c.mad_lo_cc(y, modulus_limb<P>(0), acc[0]);  // becomes zero: only the carry counts
  acc[1] = c.madc_hi_cc(y, modulus_limb<P>(0), acc[1]);
  ZK_MONT32_UNROLL
  for (int j = 2; j < kLimbs; j += 2) {
    acc[j] = c.madc_lo_cc(y, modulus_limb<P>(j), acc[j]);
    acc[j + 1] = c.madc_hi_cc(y, modulus_limb<P>(j), acc[j + 1]);
  }
}

// The e/o state of mul's (and redc's) steps after the last one as one value: T = o[1..8] +
// e[1..7] (limbs 0..7 once the last shift is done); each caller bounds T below 2^256.
template <class Chain>
ZK_HDI void final_state(Chain& c, uint32_t t[kLimbs], const uint32_t e[kLimbs], const uint32_t o[kLimbs + 1]) {
  t[0] = c.add_cc(o[1], e[1]);
  ZK_MONT32_UNROLL
  for (int k = 1; k < kLimbs - 1; ++k) t[k] = c.addc_cc(o[k + 1], e[k + 1]);
  t[kLimbs - 1] = c.addc(o[kLimbs], 0);
}

// r = a * b / 2^256 mod p (Montgomery product), for a, b < p; the result is below p.
//
// CIOS (coarsely integrated operand scanning): for each limb b_i, add a * b_i to the
// accumulator T, then add m * p with m = -T_0 / p mod 2^32 and shift T down one limb. Invariant:
// T < 2p after every step (it starts at 0; (2p + a*b_i + m*p) / 2^32 < (2p + 2 * (2^32 - 1) * p)
// / 2^32 < 2p), and within a step T < 2^33 * p < 2^287, so nine limbs hold T and the limb-8
// word never carries out. T is held as e + o, both non-negative, so each of them is below the
// same bounds: a chain whose top limb is limb 8 ends without a carry-out.
//
// Step i in limbs of T (o[0] and e[0] both sit at limb 0, o[1..8] at limbs 1..8):
//   e[0] += o[0], its carry entering the o chain at limb 1;
//   o += a_odd * b_i (pairs (1,2)..(7,8)); e += a_even * b_i (pairs (0,1)..(6,7)), carry into o[8];
//   m = e[0] * (-p^-1); e += m * p_even (carry into o[8]); o += m * p_odd;
// now limb 0 of T is zero, and the shift is a renaming: o[1..8] becomes the next e[0..7] and
// e[1..7] the next o[0..6] (its limbs 7 and 8 are zero). The swap keeps every limb pair of a
// fused product in the same aligned register pair; shifting e and o each within itself would
// misalign them (measured: 84 MOVs more, 344 instead of 248 SASS instructions). Cost: 16 fused
// products, one mul.lo for m, one add and two carry catches per step.
template <class P, class Chain>
ZK_HDI void mul(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  static_assert(kHasSpareBits<P>);
  constexpr uint32_t inv = NegInv32<P>::value;
  uint32_t e[kLimbs], o[kLimbs + 1];
  ZK_MONT32_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    if (i == 0) {
      // The first row into empty accumulators: plain 32x32->64 products, no carries (the
      // products of one row occupy disjoint limb pairs).
      ZK_MONT32_UNROLL
      for (int j = 0; j < kLimbs; j += 2) {
        const uint64_t pe = uint64_t(a[j]) * b[0], po = uint64_t(a[j + 1]) * b[0];
        e[j] = uint32_t(pe);
        e[j + 1] = uint32_t(pe >> 32);
        o[j + 1] = uint32_t(po);
        o[j + 2] = uint32_t(po >> 32);
      }
    } else {
      // Previous step's shift: e <- o[1..8], o[0..6] <- e[1..7], o[7] = o[8] = 0.
      uint32_t ne[kLimbs];
      ZK_MONT32_UNROLL
      for (int k = 0; k < kLimbs; ++k) ne[k] = o[k + 1];
      ZK_MONT32_UNROLL
      for (int k = 0; k < kLimbs - 1; ++k) o[k] = e[k + 1];
      ZK_MONT32_UNROLL
      for (int k = 0; k < kLimbs; ++k) e[k] = ne[k];
      // Limb 0 into e; the carry goes on at limb 1 in the chain of odd products.
      e[0] = c.add_cc(e[0], o[0]);
      ZK_MONT32_UNROLL
      for (int j = 1; j < kLimbs - 2; j += 2) {
        o[j] = c.madc_lo_cc(a[j], b[i], o[j]);
        o[j + 1] = c.madc_hi_cc(a[j], b[i], o[j + 1]);
      }
      o[kLimbs - 1] = c.madc_lo_cc(a[kLimbs - 1], b[i], 0);
      o[kLimbs] = c.madc_hi(a[kLimbs - 1], b[i], 0);  // limb 8 fresh: hi + 1 < 2^32
      mad_even(c, e, a, b[i]);
      // Catch the carry into limb 8 (o[8] < 2^31 as T < 2^287: no carry-out). In the last step
      // there is none: e <= T < 2^255 and a_even * b_7 < 2^224 * 2^30 (b < p < 2^254), so e
      // stays below 2^256. Skipping it there changes no SASS (ptxas folds a step's two catches
      // into one IADD3.X), but leaves only carry-reading steps that can see a carry, which the
      // emulator test MulCarriesAllTaken checks.
      if (i < kLimbs - 1) o[kLimbs] = c.addc(o[kLimbs], 0);
    }
    const uint32_t m = e[0] * inv;
    mad_even_p<P>(c, e, m);
    o[kLimbs] = c.addc(o[kLimbs], 0);
    o[1] = c.mad_lo_cc(m, modulus_limb<P>(1), o[1]);
    o[2] = c.madc_hi_cc(m, modulus_limb<P>(1), o[2]);
    ZK_MONT32_UNROLL
    for (int j = 3; j < kLimbs; j += 2) {
      o[j] = c.madc_lo_cc(m, modulus_limb<P>(j), o[j]);
      o[j + 1] = j + 1 < kLimbs ? c.madc_hi_cc(m, modulus_limb<P>(j), o[j + 1])
                                : c.madc_hi(m, modulus_limb<P>(j), o[j + 1]);  // top: no carry-out
    }
  }
  // T < 2p < 2^255: eight limbs, then one subtraction.
  uint32_t t[kLimbs];
  final_state(c, t, e, o);
  reduce_once<P>(c, r, t);
}

// ---- Fq2 products with lazy reduction ----------------------------------------------------------
// Karatsuba over Fq2 = Fq[u]/(u^2 + 1) needs three base products but only two reductions when
// the products are kept whole (512 bits) and combined before reducing: c0 = a0 b0 - a1 b1 and
// c1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1 are each one Montgomery reduction of a 512-bit value.
// Spare bits make it safe: p < 2^254, so sums of two elements below p fit eight limbs unreduced,
// and every 512-bit value reduced below is under p * 2^256 (the bound redc needs).

inline constexpr int kWideLimbs = 2 * kLimbs;

// Limbs of kTimes p^2, computed at compile time (a local constexpr copy, like modulus_limb, so
// device code folds them to immediates).
struct WideLimbs {
  uint32_t v[kWideLimbs];
};
template <class P, uint32_t kTimes = 1>
ZK_HD constexpr WideLimbs modulus_squared() {
  uint32_t m[kLimbs];
  for (int j = 0; j < kLimbs; ++j) m[j] = uint32_t(P::modulus.w[j / 2] >> (32 * (j % 2)));
  WideLimbs r{};
  for (int i = 0; i < kLimbs; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < kLimbs; ++j) {
      const uint64_t t = uint64_t(m[i]) * m[j] + r.v[i + j] + carry;
      r.v[i + j] = uint32_t(t);
      carry = t >> 32;
    }
    r.v[i + kLimbs] = uint32_t(carry);
  }
  static_assert(kTimes >= 1 && kTimes <= 4, "k p^2 must fit 512 bits");  // p < 2^254
  uint64_t carry = 0;
  for (int j = 0; j < kWideLimbs; ++j) {
    const uint64_t t = uint64_t(r.v[j]) * kTimes + carry;
    r.v[j] = uint32_t(t);
    carry = t >> 32;
  }
  return r;
}
template <class P, uint32_t kTimes = 1>
ZK_HDI constexpr uint32_t modulus_squared_limb(int j) {
  constexpr WideLimbs m = modulus_squared<P, kTimes>();
  return m.v[j];
}

// w = x * y, all 2N limbs, for x, y of N limbs: N = 8 is mul_wide, N = 4 the halves of
// mul_wide_karatsuba.
//
// Row i adds x_j * y_i at limb i + j as whole 64-bit products (one fused IMAD.WIDE each, as in
// mul), split between two accumulators so every product's limb pair is an aligned register
// pair: e holds limbs 0..2N-1 and takes the products landing at even limbs, o holds limbs
// 1..2N-1 (o[k] is limb k + 1) and takes those landing at odd limbs. Per row each gets one chain
// of N/2 products. Where a chain's top pair of limbs is new to its accumulator (the odd rows' e
// chains, the even rows' o chains: the pair holds at most an earlier catch, 0 or 1, so pair +
// product + carry-in < 2^64) it cannot carry out; the others catch their carry in the limb
// above, which is still zero then. With kTopBelow2p31 (x_{N-1}, y_{N-1} < 2^31: values below
// 2^255 for N = 8, high halves of them for N = 4) the last row's o chain needs no catch either:
// its top pair (limbs 2N-3 and 2N-2) holds x_{N-1} y_{N-2} plus a catch and gains
// x_{N-2} y_{N-1} plus a carry, each product below 2^63, so the sum stays below 2^64.
template <int N, bool kTopBelow2p31, class Chain>
ZK_HDI void mul_rows(Chain& c, uint32_t w[2 * N], const uint32_t x[N], const uint32_t y[N]) {
  uint32_t e[2 * N], o[2 * N - 1];
  ZK_MONT32_UNROLL
  for (int k = 0; k < 2 * N; ++k) e[k] = 0;
  ZK_MONT32_UNROLL
  for (int k = 0; k < 2 * N - 1; ++k) o[k] = 0;
  // Row 0: disjoint limb pairs, plain 32x32->64 products.
  ZK_MONT32_UNROLL
  for (int j = 0; j < N; j += 2) {
    const uint64_t pe = uint64_t(x[j]) * y[0], po = uint64_t(x[j + 1]) * y[0];
    e[j] = uint32_t(pe);
    e[j + 1] = uint32_t(pe >> 32);
    o[j] = uint32_t(po);  // limbs j + 1, j + 2
    o[j + 1] = uint32_t(po >> 32);
  }
  ZK_MONT32_UNROLL
  for (int i = 1; i < N; ++i) {
    // Into e: products at even limbs se, se + 2, ... (j = se - i + 2t).
    const int se = (i % 2 == 0) ? i : i + 1;
    e[se] = c.mad_lo_cc(x[se - i], y[i], e[se]);
    e[se + 1] = c.madc_hi_cc(x[se - i], y[i], e[se + 1]);
    ZK_MONT32_UNROLL
    for (int t = 1; t < N / 2; ++t) {
      e[se + 2 * t] = c.madc_lo_cc(x[se - i + 2 * t], y[i], e[se + 2 * t]);
      e[se + 2 * t + 1] = c.madc_hi_cc(x[se - i + 2 * t], y[i], e[se + 2 * t + 1]);
    }
    if (i % 2 == 0) e[se + N] = c.addc(e[se + N], 0);  // limb i + N <= 2N - 2
    // Into o: products at odd limbs so, so + 2, ... (o index = limb - 1).
    const int so = (i % 2 == 0) ? i + 1 : i;
    o[so - 1] = c.mad_lo_cc(x[so - i], y[i], o[so - 1]);
    o[so] = c.madc_hi_cc(x[so - i], y[i], o[so]);
    ZK_MONT32_UNROLL
    for (int t = 1; t < N / 2; ++t) {
      o[so - 1 + 2 * t] = c.madc_lo_cc(x[so - i + 2 * t], y[i], o[so - 1 + 2 * t]);
      o[so + 2 * t] = c.madc_hi_cc(x[so - i + 2 * t], y[i], o[so + 2 * t]);
    }
    if (i % 2 == 1 && (i < N - 1 || !kTopBelow2p31)) o[so + N - 1] = c.addc(o[so + N - 1], 0);  // limb i + N
  }
  // w = e + o (o one limb up); the product fits 2N limbs, so no carry out of the top.
  w[0] = e[0];
  w[1] = c.add_cc(e[1], o[0]);
  ZK_MONT32_UNROLL
  for (int k = 2; k < 2 * N - 1; ++k) w[k] = c.addc_cc(e[k], o[k - 1]);
  w[2 * N - 1] = c.addc(e[2 * N - 1], o[2 * N - 2]);
}

// w = a * b, all 512 bits, for a, b < 2^255 (so w < 2^510).
template <class Chain>
ZK_HDI void mul_wide(Chain& c, uint32_t w[kWideLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  mul_rows<kLimbs, true>(c, w, a, b);
}

// w = a^2, all 512 bits, for a < 2^255 (so w < 2^510): each cross product a_i a_j (i < j) once,
// doubled, plus the squares a_i^2: 36 products where mul_wide takes 64.
//
// The cross products go into e and o by limb parity, as in mul_wide (o[k] is limb k + 1). Row 0
// (a_0 a_j, limbs 1..7) is plain products in disjoint pairs. Row i >= 1 (a_i a_j, j = i+1..7,
// limbs 2i+1..i+7) is two chains, one per parity:
// - chain A, of the parity of i + 7, ends with a_i a_7 at the pair (i+7, i+8). That pair is
//   fresh in its accumulator but for limb i+7, which holds at most row i-1's catch (0 or 1), so
//   pair + product + carry-in < 2^64: no carry out, no catch.
// - chain B, of the parity of i + 6 (rows 1..5), ends with a_i a_6 at the pair (i+6, i+7), which
//   row i-1's chain A left holding a product: it can carry out, into limb i+8 of the same
//   accumulator. No row touched that limb yet (row i-1's chain A ended below it without a
//   catch), so the catch is the plain carry.
// Then cross = e + o, doubled, and the squares added at the pairs (2i, 2i+1) in one chain; the
// total a^2 < 2^510 cannot carry out.
template <class Chain>
ZK_HDI void sqr_wide(Chain& c, uint32_t w[kWideLimbs], const uint32_t a[kLimbs]) {
  uint32_t e[kWideLimbs], o[kWideLimbs - 2];
  ZK_MONT32_UNROLL
  for (int k = 0; k < kWideLimbs; ++k) e[k] = 0;
  ZK_MONT32_UNROLL
  for (int k = 0; k < kWideLimbs - 2; ++k) o[k] = 0;
  // Row 0: a_0 a_j at limb j, disjoint pairs.
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs; ++j) {
    const uint64_t pr = uint64_t(a[0]) * a[j];
    if (j % 2 == 0) {
      e[j] = uint32_t(pr);
      e[j + 1] = uint32_t(pr >> 32);
    } else {
      o[j - 1] = uint32_t(pr);
      o[j] = uint32_t(pr >> 32);
    }
  }
  ZK_MONT32_UNROLL
  for (int i = 1; i < kLimbs - 1; ++i) {
    // Chain B first (its catch lands above chain A's pairs of the other parity, in its own
    // accumulator): products a_i a_j, j = i+1..6 with i + j of the parity of i + 6, i.e. j even.
    // Limb of a_i a_j is i + j; in e at index i + j, in o at index i + j - 1.
    ZK_MONT32_UNROLL
    for (int pass = 0; pass < 2; ++pass) {
      const int parity = pass == 0 ? 0 : 1;  // j's parity: B takes even j, A odd j
      if (pass == 0 && i > kLimbs - 3) continue;  // no chain B in row 6 (j = 7 only)
      const bool into_e = (i + parity) % 2 == 0;
      int j = i + 1;
      if (j % 2 != parity) ++j;
      bool first = true;
      ZK_MONT32_UNROLL
      for (; j < kLimbs; j += 2) {
        const int at = into_e ? i + j : i + j - 1;
        uint32_t* acc = into_e ? e : o;
        acc[at] = first ? c.mad_lo_cc(a[i], a[j], acc[at]) : c.madc_lo_cc(a[i], a[j], acc[at]);
        acc[at + 1] = c.madc_hi_cc(a[i], a[j], acc[at + 1]);
        first = false;
      }
      if (pass == 0) {
        // Chain B ended at limb i + 7 (j = 6): its carry into limb i + 8, still zero.
        const int at = into_e ? i + 8 : i + 7;
        uint32_t* acc = into_e ? e : o;
        acc[at] = c.addc(0, 0);
      }
    }
  }
  // cross = e + o (o one limb up). e holds nothing below limb 2 (the lowest cross product,
  // a_0 a_1, sits at limbs 1 and 2 in o), and cross < 2^479: for each j, a_j 2^(32 j) times the
  // lower limbs' value (below 2^(32 j)) is below a_j 2^(64 j), and a_7 < 2^31. So limbs 0 and
  // 15 are zero, and neither the sum nor its doubling carries out of limb 14.
  uint32_t x[kWideLimbs];
  x[1] = o[0];
  x[2] = c.add_cc(e[2], o[1]);
  ZK_MONT32_UNROLL
  for (int k = 3; k < kWideLimbs - 2; ++k) x[k] = c.addc_cc(e[k], o[k - 1]);
  x[kWideLimbs - 2] = c.addc(e[kWideLimbs - 2], o[kWideLimbs - 3]);
  x[1] = c.add_cc(x[1], x[1]);
  ZK_MONT32_UNROLL
  for (int k = 2; k < kWideLimbs - 2; ++k) x[k] = c.addc_cc(x[k], x[k]);
  x[kWideLimbs - 2] = c.addc(x[kWideLimbs - 2], x[kWideLimbs - 2]);
  // + a_i^2 at (2i, 2i + 1); limb 0 is a_0^2's low half alone, so the chain starts at limb 1.
  const uint64_t sq0 = uint64_t(a[0]) * a[0];
  w[0] = uint32_t(sq0);
  w[1] = c.add_cc(uint32_t(sq0 >> 32), x[1]);
  ZK_MONT32_UNROLL
  for (int i = 1; i < kLimbs - 1; ++i) {
    w[2 * i] = c.madc_lo_cc(a[i], a[i], x[2 * i]);
    w[2 * i + 1] = c.madc_hi_cc(a[i], a[i], x[2 * i + 1]);
  }
  w[kWideLimbs - 2] = c.madc_lo_cc(a[kLimbs - 1], a[kLimbs - 1], x[kWideLimbs - 2]);
  w[kWideLimbs - 1] = c.madc_hi(a[kLimbs - 1], a[kLimbs - 1], 0);
}

// ---- Karatsuba: the 512-bit product from three 256-bit ones ------------------------------------
// mul_wide takes 64 limb products; one level of Karatsuba takes 48 (three products of four-limb
// halves) for some 90 more additions. Which is faster depends on whether the device is bound by
// the multiply-add pipe (IMAD.WIDE) or by issue: bench_gpu_field times both
// (fr/fq/fq2_mul_karatsuba_chain_ilp4 beside the schoolbook ones) before anything uses it.

inline constexpr int kHalfLimbs = kLimbs / 2;

// d = |hi - lo| for four-limb values; returns all ones when hi < lo, else 0.
template <class Chain>
ZK_HDI uint32_t abs_diff_half(Chain& c, uint32_t d[kHalfLimbs], const uint32_t hi[kHalfLimbs],
                              const uint32_t lo[kHalfLimbs]) {
  d[0] = c.sub_cc(hi[0], lo[0]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kHalfLimbs; ++j) d[j] = c.subc_cc(hi[j], lo[j]);
  const uint32_t neg = c.subc(0, 0);
  // Negated when negative: (d ^ neg) - neg, where neg in every limb is the number -1 (or 0);
  // the borrow out of the top is the wrap mod 2^128, dropped.
  d[0] = c.sub_cc(d[0] ^ neg, neg);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kHalfLimbs - 1; ++j) d[j] = c.subc_cc(d[j] ^ neg, neg);
  d[kHalfLimbs - 1] = c.subc(d[kHalfLimbs - 1] ^ neg, neg);
  return neg;
}

// w = a * b, all 512 bits, for a, b < 2^255 (mul_wide's contract), by subtractive Karatsuba over
// the halves a = a0 + 2^128 a1: with z0 = a0 b0, z2 = a1 b1 and zm = |a1 - a0| |b1 - b0|,
//   w = z0 + 2^128 mid + 2^256 z2,  mid = a0 b1 + a1 b0 = z0 + z2 - (a1 - a0)(b1 - b0),
// where (a1 - a0)(b1 - b0) is zm when the two differences have the same sign and -zm when not.
// mid < 2^256 (a1, b1 < 2^127), so it is computed mod 2^256 and every wrap on the way is dropped.
template <class Chain>
ZK_HDI void mul_wide_karatsuba(Chain& c, uint32_t w[kWideLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  uint32_t da[kHalfLimbs], db[kHalfLimbs];
  const uint32_t na = abs_diff_half(c, da, a + kHalfLimbs, a);
  const uint32_t nb = abs_diff_half(c, db, b + kHalfLimbs, b);
  uint32_t z0[kLimbs], z2[kLimbs], zm[kLimbs];
  mul_rows<kHalfLimbs, false>(c, z0, a, b);
  mul_rows<kHalfLimbs, true>(c, z2, a + kHalfLimbs, b + kHalfLimbs);
  mul_rows<kHalfLimbs, false>(c, zm, da, db);
  // t = z0 + z2 mod 2^256.
  uint32_t t[kLimbs];
  t[0] = c.add_cc(z0[0], z2[0]);
  ZK_MONT32_UNROLL
  for (int k = 1; k < kLimbs - 1; ++k) t[k] = c.addc_cc(z0[k], z2[k]);
  t[kLimbs - 1] = c.addc(z0[kLimbs - 1], z2[kLimbs - 1]);
  // mid = t - zm when the signs agree; t + zm = t - ~zm - 1 when they differ (flip = all ones):
  // t - (zm ^ flip) - (flip & 1), the 1 entering as the chain's borrow-in, which the first
  // instruction sets (0 - 1 borrows) and whose result is unused.
  const uint32_t flip = na ^ nb;
  uint32_t mid[kLimbs];
  (void)c.sub_cc(0, flip & 1);
  ZK_MONT32_UNROLL
  for (int k = 0; k < kLimbs - 1; ++k) mid[k] = c.subc_cc(t[k], zm[k] ^ flip);
  mid[kLimbs - 1] = c.subc(t[kLimbs - 1], zm[kLimbs - 1] ^ flip);
  // w = z0 + 2^128 mid + 2^256 z2 (below 2^510: no carry out of limb 15).
  ZK_MONT32_UNROLL
  for (int k = 0; k < kHalfLimbs; ++k) w[k] = z0[k];
  w[kHalfLimbs] = c.add_cc(z0[kHalfLimbs], mid[0]);
  ZK_MONT32_UNROLL
  for (int k = kHalfLimbs + 1; k < kLimbs; ++k) w[k] = c.addc_cc(z0[k], mid[k - kHalfLimbs]);
  ZK_MONT32_UNROLL
  for (int k = 0; k < kHalfLimbs; ++k) w[kLimbs + k] = c.addc_cc(z2[k], mid[kHalfLimbs + k]);
  ZK_MONT32_UNROLL
  for (int k = kHalfLimbs; k < kLimbs - 1; ++k) w[kLimbs + k] = c.addc_cc(z2[k], 0);
  w[kWideLimbs - 1] = c.addc(z2[kLimbs - 1], 0);
}

// r = a - b mod 2^512 (the plain difference where a >= b; callers that let a sum wrap say why
// the final value is in range).
template <class Chain>
ZK_HDI void sub_wide(Chain& c, uint32_t r[kWideLimbs], const uint32_t a[kWideLimbs], const uint32_t b[kWideLimbs]) {
  r[0] = c.sub_cc(a[0], b[0]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kWideLimbs - 1; ++j) r[j] = c.subc_cc(a[j], b[j]);
  r[kWideLimbs - 1] = c.subc(a[kWideLimbs - 1], b[kWideLimbs - 1]);
}
// r = a + kTimes p^2 mod 2^512 (the constant as immediates).
template <class P, uint32_t kTimes = 1, class Chain>
ZK_HDI void add_modulus_squared(Chain& c, uint32_t r[kWideLimbs], const uint32_t a[kWideLimbs]) {
  r[0] = c.add_cc(a[0], modulus_squared_limb<P, kTimes>(0));
  ZK_MONT32_UNROLL
  for (int j = 1; j < kWideLimbs - 1; ++j) r[j] = c.addc_cc(a[j], modulus_squared_limb<P, kTimes>(j));
  r[kWideLimbs - 1] = c.addc(a[kWideLimbs - 1], modulus_squared_limb<P, kTimes>(kWideLimbs - 1));
}

// r = t / 2^256 mod p (Montgomery reduction), for t < p * 2^256; the result is below p.
//
// The low half goes through the reduction steps of mul with no product rows: S starts as
// t_lo, and each step adds m * p (m = -S_0 / p mod 2^32) and shifts S down one limb, with the
// same e/o accumulators and renaming shift as mul. After step k, S = (t_lo + M p) / 2^(32 k)
// for some M < 2^(32 k), so S < 2^(256 - 32 k) + p: nine limbs hold it within a step, and after
// eight steps S <= p. Then S + t_hi, where t_hi = t / 2^256 < p, is below 2p: one conditional
// subtraction of p.
// The carry of e[0] + o[0] (the shift's limb 0) enters the o chain of the same step, which runs
// before the e chain for that reason (mul lets its product row take it).
template <class P, class Chain>
ZK_HDI void redc(Chain& c, uint32_t r[kLimbs], const uint32_t t[kWideLimbs]) {
  static_assert(kHasSpareBits<P>);
  static_assert(modulus_limb<P>(kLimbs - 1) % 2 == 0, "the o chain's end below relies on an even top limb");
  constexpr uint32_t inv = NegInv32<P>::value;
  uint32_t e[kLimbs], o[kLimbs + 1];
  ZK_MONT32_UNROLL
  for (int k = 0; k < kLimbs; ++k) e[k] = t[k];
  ZK_MONT32_UNROLL
  for (int k = 0; k <= kLimbs; ++k) o[k] = 0;
  ZK_MONT32_UNROLL
  for (int i = 0; i < kLimbs; ++i) {
    uint32_t m;
    if (i == 0) {
      // o is empty: m * p_odd as plain 64-bit products in disjoint limb pairs, no carries.
      m = e[0] * inv;
      ZK_MONT32_UNROLL
      for (int j = 1; j < kLimbs; j += 2) {
        const uint64_t pr = uint64_t(m) * modulus_limb<P>(j);
        o[j] = uint32_t(pr);
        o[j + 1] = uint32_t(pr >> 32);
      }
    } else {
      // Shift: e <- o[1..8], o[0..6] <- e[1..7], o[7] = o[8] = 0; limb 0 into e, carry pending.
      uint32_t ne[kLimbs];
      ZK_MONT32_UNROLL
      for (int k = 0; k < kLimbs; ++k) ne[k] = o[k + 1];
      ZK_MONT32_UNROLL
      for (int k = 0; k < kLimbs - 1; ++k) o[k] = e[k + 1];
      o[kLimbs - 1] = o[kLimbs] = 0;
      ZK_MONT32_UNROLL
      for (int k = 0; k < kLimbs; ++k) e[k] = ne[k];
      e[0] = c.add_cc(e[0], o[0]);
      m = e[0] * inv;  // mul.lo: leaves the carry flag alone
      // m * p_odd into o[1..8], taking that carry at limb 1. Limbs 7 and 8 are fresh (zero
      // after the shift) and p_7 is even, so limb 7 = lo(m p_7) + carry-in <= 2^32 - 1: the
      // chain ends there with no carry, and limb 8 is the plain high half.
      o[1] = c.madc_lo_cc(m, modulus_limb<P>(1), o[1]);
      o[2] = c.madc_hi_cc(m, modulus_limb<P>(1), o[2]);
      ZK_MONT32_UNROLL
      for (int j = 3; j < kLimbs - 1; j += 2) {
        o[j] = c.madc_lo_cc(m, modulus_limb<P>(j), o[j]);
        o[j + 1] = c.madc_hi_cc(m, modulus_limb<P>(j), o[j + 1]);
      }
      o[kLimbs - 1] = c.madc_lo_cc(m, modulus_limb<P>(kLimbs - 1), 0);
      o[kLimbs] = uint32_t((uint64_t(m) * modulus_limb<P>(kLimbs - 1)) >> 32);
    }
    mad_even_p<P>(c, e, m);  // e[0] becomes zero; its carry goes up the even pairs
    o[kLimbs] = c.addc(o[kLimbs], 0);
  }
  // S <= p, plus t_hi < p: below 2p, then one subtraction.
  uint32_t u[kLimbs];
  final_state(c, u, e, o);
  add_unreduced(c, u, u, t + kLimbs);
  reduce_once<P>(c, r, u);
}

// r = (a b - x y) / 2^256 mod p for a, b, x, y < p: both products kept 512 bits wide and one
// reduction instead of two. a b + p^2 - x y is in (0, 2 p^2), below p * 2^256 as redc needs,
// and p^2 vanishes mod p. The curve formulas' y coordinates are of this form (Xyzz in point.h).
template <class P, class Chain>
ZK_HDI void mul_sub_mul(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs],
                        const uint32_t x[kLimbs], const uint32_t y[kLimbs]) {
  uint32_t w[kWideLimbs], t[kWideLimbs];
  mul_wide(c, w, a, b);
  add_modulus_squared<P>(c, t, w);
  mul_wide(c, w, x, y);
  sub_wide(c, t, t, w);
  redc<P>(c, r, t);
}

// r = a^2 / 2^256 mod p (Montgomery square), for a < p: a^2 < p^2 < p * 2^256, as redc needs.
template <class P, class Chain>
ZK_HDI void sqr(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs]) {
  uint32_t w[kWideLimbs];
  sqr_wide(c, w, a);
  redc<P>(c, r, w);
}

// r = a * b / 2^256 mod p (Montgomery product) as a Karatsuba product and one reduction, for
// a, b < p: the same result as mul.
template <class P, class Chain>
ZK_HDI void mul_karatsuba(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  uint32_t w[kWideLimbs];
  mul_wide_karatsuba(c, w, a, b);
  redc<P>(c, r, w);
}

// ---- Products by a fixed factor (Shoup) ---------------------------------------------------------
// For a factor w known in advance (an NTT twiddle), with w' = floor(w 2^256 / p) stored beside it,
// a w mod p = a w - q p with q = floor(a w' / 2^256), and a w - q p < 2p for a < 2^256. Both
// products are needed only mod 2^256 (36 limb products each, 8 of them low halves alone) and q
// only approximately (below), so the whole costs 92 fused limb products and 23 half products
// where a Montgomery product takes 128 and 8 (SASS: 97 IMAD.WIDE against 123). With a in
// Montgomery form (x 2^256 mod p) and w canonical, the result is x w in Montgomery form. Used
// by the NTT's butterflies only when NttDriverConfig::shoup_twiddles asks, until bench_gpu_field
// (fr_mul_shoup_chain_ilp4 against fr_mul_chain_ilp4) and bench_gpu_ntt measure it faster.

// r = x * y mod 2^256. Row i adds x_i y_j for j <= 7 - i: whole 64-bit products at limbs i + j
// <= 6 into e (even i + j) or o (odd i + j), as in mul_wide, and the low halves alone at limb 7.
// Every chain ends at limb 7, and a carry out of it is the dropped wrap mod 2^256. `y(j)` is limb
// j of y (a modulus limb folds to an immediate).
template <class Chain, class Y>
ZK_HDI void mul_low(Chain& c, uint32_t r[kLimbs], const uint32_t x[kLimbs], Y y) {
  uint32_t e[kLimbs], o[kLimbs];  // both indexed by limb
  // Row 0: disjoint limb pairs in each accumulator, plain products.
  ZK_MONT32_UNROLL
  for (int j = 0; j < kLimbs - 1; ++j) {
    const uint64_t pr = uint64_t(x[0]) * y(j);
    uint32_t* acc = j % 2 == 0 ? e : o;
    acc[j] = uint32_t(pr);
    acc[j + 1] = uint32_t(pr >> 32);
  }
  o[kLimbs - 1] = x[0] * y(kLimbs - 1);  // the low half alone; o[0] is never used (o's limbs are odd-led pairs)
  ZK_MONT32_UNROLL
  for (int i = 1; i < kLimbs; ++i) {
    ZK_MONT32_UNROLL
    for (int parity = 0; parity < 2; ++parity) {
      uint32_t* acc = parity == 0 ? e : o;
      int k = (i % 2 == parity) ? i : i + 1;  // first limb i + j of this parity
      bool first = true;
      ZK_MONT32_UNROLL
      for (; k < kLimbs; k += 2) {
        const uint32_t xi = x[i], yj = y(k - i);
        acc[k] = first ? c.mad_lo_cc(xi, yj, acc[k]) : c.madc_lo_cc(xi, yj, acc[k]);
        if (k < kLimbs - 1) acc[k + 1] = c.madc_hi_cc(xi, yj, acc[k + 1]);  // else the low half alone
        first = false;
      }
    }
  }
  r[0] = e[0];
  r[1] = c.add_cc(e[1], o[1]);
  ZK_MONT32_UNROLL
  for (int k = 2; k < kLimbs - 1; ++k) r[k] = c.addc_cc(e[k], o[k]);
  r[kLimbs - 1] = c.addc(e[kLimbs - 1], o[kLimbs - 1]);
}

// q = floor(x * y / 2^256) or one less, for any x, y < 2^256: the products at limbs i + j >= 7
// whole and, of those at limb 6, the high halves alone (at limb 7); what is left out is below
// 2^228, so the sum's part above 2^256 falls short of the exact quotient by at most 1.
// The rows are mul_wide's restricted to limbs 7..15 (e takes products at even limbs, o at odd;
// both indexed by limb): row i's chain that ends with x_i y_7 (limbs i + 7, i + 8) meets limb
// i + 8 fresh and limb i + 7 holding at most a catch, so it cannot carry out; its other chain,
// ending with x_i y_6 (limbs i + 6, i + 7, or the high half alone at limb 7 in row 0), meets the
// pair that row i - 1's x_{i-1} y_7 filled and catches its carry in limb i + 8, still zero.
template <class Chain>
ZK_HDI void mul_high_approx(Chain& c, uint32_t q[kLimbs], const uint32_t x[kLimbs], const uint32_t y[kLimbs]) {
  uint32_t e[kWideLimbs], o[kWideLimbs];  // limbs 7..15 used
  ZK_MONT32_UNROLL
  for (int k = 0; k < kWideLimbs; ++k) e[k] = o[k] = 0;
  // Row 0 into empty accumulators, plain: x_0 y_6's high half at limb 7 (e), x_0 y_7 at 7, 8 (o).
  e[kLimbs - 1] = uint32_t((uint64_t(x[0]) * y[kLimbs - 2]) >> 32);
  const uint64_t top0 = uint64_t(x[0]) * y[kLimbs - 1];
  o[kLimbs - 1] = uint32_t(top0);
  o[kLimbs] = uint32_t(top0 >> 32);
  ZK_MONT32_UNROLL
  for (int i = 1; i < kLimbs; ++i) {
    ZK_MONT32_UNROLL
    for (int parity = 0; parity < 2; ++parity) {
      uint32_t* acc = parity == 0 ? e : o;
      // Products x_i y_j with i + j of this parity, from limb 6 (high half only) or 7 up. The
      // bounds are constants once the outer loops unroll (a loop left rolled would put the
      // accumulators in local memory).
      const int kf = (i % 2 == parity) ? i : i + 1;
      const int k0 = kf >= kLimbs - 2 ? kf : kf + (kLimbs - 2 - kf + 1) / 2 * 2;
      ZK_MONT32_UNROLL
      for (int k = k0; k - i < kLimbs; k += 2) {
        const uint32_t xi = x[i], yj = y[k - i];
        if (k == kLimbs - 2) {  // limb 6: the high half alone, at limb 7
          acc[k + 1] = c.mad_hi_cc(xi, yj, acc[k + 1]);
        } else {
          acc[k] = k == k0 ? c.mad_lo_cc(xi, yj, acc[k]) : c.madc_lo_cc(xi, yj, acc[k]);
          acc[k + 1] = c.madc_hi_cc(xi, yj, acc[k + 1]);
        }
      }
      // The chain ending with x_i y_6 (at limbs i + 6, i + 7) catches its carry in limb i + 8;
      // its last product is j = 6 when i + 6 has this parity.
      if ((i + kLimbs - 2) % 2 == parity && i + kLimbs < kWideLimbs) acc[i + kLimbs] = c.addc(acc[i + kLimbs], 0);
    }
  }
  (void)c.add_cc(e[kLimbs - 1], o[kLimbs - 1]);  // limb 7: only its carry counts
  ZK_MONT32_UNROLL
  for (int k = 0; k < kLimbs - 1; ++k) q[k] = c.addc_cc(e[kLimbs + k], o[kLimbs + k]);
  q[kLimbs - 1] = c.addc(e[kWideLimbs - 1], o[kWideLimbs - 1]);
}

// r = a * b mod 2^256 in plain C++ (64-bit products, no carry chain): for constants and tables
// made once, not for kernels' inner loops (mul_low is that).
ZK_HD constexpr void mul_low_plain(uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  uint32_t t[kLimbs] = {};
  for (int i = 0; i < kLimbs; ++i) {
    uint64_t carry = 0;
    for (int j = 0; i + j < kLimbs; ++j) {
      const uint64_t v = uint64_t(a[i]) * b[j] + t[i + j] + carry;
      t[i + j] = uint32_t(v);
      carry = v >> 32;
    }
  }
  for (int k = 0; k < kLimbs; ++k) r[k] = t[k];
}

// -p^-1 mod 2^256 by Newton's iteration from p^-1 mod 2^32: x <- x (2 - p x), each step
// doubling the correct bits (32 -> 64 -> 128 -> 256).
template <class P>
ZK_HD constexpr WideLimbs neg_inv256() {
  uint32_t pl[kLimbs] = {}, x[kLimbs] = {};
  for (int j = 0; j < kLimbs; ++j) pl[j] = uint32_t(P::modulus.w[j / 2] >> (32 * (j % 2)));
  x[0] = 0u - NegInv32<P>::value;
  for (int step = 0; step < 3; ++step) {
    uint32_t px[kLimbs] = {}, two_minus[kLimbs] = {};
    mul_low_plain(px, pl, x);
    uint32_t borrow = 0;  // 2 - p x mod 2^256
    for (int k = 0; k < kLimbs; ++k) {
      const uint64_t v = uint64_t(k == 0 ? 2 : 0) - px[k] - borrow;
      two_minus[k] = uint32_t(v);
      borrow = uint32_t(v >> 63);
    }
    mul_low_plain(x, x, two_minus);
  }
  WideLimbs r{};
  uint32_t borrow = 0;  // -x mod 2^256 (limbs 0..7)
  for (int k = 0; k < kLimbs; ++k) {
    const uint64_t v = uint64_t(0) - x[k] - borrow;
    r.v[k] = uint32_t(v);
    borrow = uint32_t(v >> 63);
  }
  return r;
}
template <class P>
ZK_HDI constexpr uint32_t neg_inv256_limb(int j) {
  constexpr WideLimbs n = neg_inv256<P>();
  return n.v[j];
}

// w' = floor(w 2^256 / p) for w < p, from m = w 2^256 mod p (the Montgomery form of w, which Fp
// stores): w 2^256 = w' p + m, so w' = -m p^-1 mod 2^256 (w' < 2^256 as w < p).
template <class P, class Chain>
ZK_HDI void shoup_quotient(Chain& c, uint32_t wq[kLimbs], const uint32_t m[kLimbs]) {
  mul_low(c, wq, m, [](int j) { return neg_inv256_limb<P>(j); });
}
// The same in plain C++, for tables made on the host.
template <class P>
ZK_HD constexpr void shoup_quotient_plain(uint32_t wq[kLimbs], const uint32_t m[kLimbs]) {
  constexpr WideLimbs n = neg_inv256<P>();
  mul_low_plain(wq, m, n.v);
}

// r = a w mod p for a < 2^255 and w < p with wq = floor(w 2^256 / p) (shoup_quotient).
// With m = w 2^256 mod p, a w / p = a wq / 2^256 + a m / (p 2^256), so for the exact quotient q,
// a w - q p = p (f + d) with f the fraction of a wq / 2^256 and d < a / 2^256 < 1/2. The
// approximate q' is q - 1 only when f is below the dropped products' share, under 2^-28; then
// a w - q' p = p (1 + f + d) < 2p as well. So a w - q' p < 2p < 2^256: computed mod 2^256, then
// one conditional subtraction.
template <class P, class Chain>
ZK_HDI void mul_shoup(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t w[kLimbs],
                      const uint32_t wq[kLimbs]) {
  static_assert(kHasSpareBits<P>);
  uint32_t q[kLimbs], aw[kLimbs], qp[kLimbs], t[kLimbs];
  mul_high_approx(c, q, a, wq);
  mul_low(c, aw, a, [&](int j) { return w[j]; });
  mul_low(c, qp, q, [](int j) { return modulus_limb<P>(j); });
  t[0] = c.sub_cc(aw[0], qp[0]);
  ZK_MONT32_UNROLL
  for (int k = 1; k < kLimbs - 1; ++k) t[k] = c.subc_cc(aw[k], qp[k]);
  t[kLimbs - 1] = c.subc(aw[kLimbs - 1], qp[kLimbs - 1]);
  reduce_once<P>(c, r, t);
}

// w = a * b, all 512 bits, for a, b < 2^255: schoolbook or Karatsuba.
template <bool kKaratsuba, class Chain>
ZK_HDI void product_wide(Chain& c, uint32_t w[kWideLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  if constexpr (kKaratsuba)
    mul_wide_karatsuba(c, w, a, b);
  else
    mul_wide(c, w, a, b);
}

// The Fq2 product's coefficients before reduction, inputs below p: t1 = (a0 + a1)(b0 + b1) -
// a0 b0 - a1 b1 = a0 b1 + a1 b0 and t0 = a0 b0 + kTimes p^2 - a1 b1, three 512-bit products.
template <class P, uint32_t kTimes, bool kKaratsuba, class Chain>
ZK_HDI void fq2_mul_wide(Chain& c, uint32_t t0[kWideLimbs], uint32_t t1[kWideLimbs], const uint32_t a0[kLimbs],
                         const uint32_t a1[kLimbs], const uint32_t b0[kLimbs], const uint32_t b1[kLimbs]) {
  uint32_t sa[kLimbs], sb[kLimbs], w[kWideLimbs];
  add_unreduced(c, sa, a0, a1);
  add_unreduced(c, sb, b0, b1);
  product_wide<kKaratsuba>(c, t1, sa, sb);  // < 4 p^2
  product_wide<kKaratsuba>(c, w, a0, b0);
  sub_wide(c, t1, t1, w);
  add_modulus_squared<P, kTimes>(c, t0, w);
  product_wide<kKaratsuba>(c, w, a1, b1);
  sub_wide(c, t1, t1, w);
  sub_wide(c, t0, t0, w);
}

// (r0 + r1 u) = (a0 + a1 u)(b0 + b1 u) in Fq2, inputs below p (Montgomery forms), results below
// p: three 512-bit products, two reductions.
//   c1: (a0 + a1)(b0 + b1) - a0 b0 - a1 b1 = a0 b1 + a1 b0 < 2 p^2;
//   c0: a0 b0 + p^2 - a1 b1, in (0, 2 p^2): p^2 keeps it non-negative and vanishes mod p.
// Both are below p * 2^256 (2p < 2^256), as redc needs. kKaratsuba: the 512-bit products by
// mul_wide_karatsuba (for the benchmark's comparison; same results).
template <class P, bool kKaratsuba = false, class Chain>
ZK_HDI void fq2_mul(Chain& c, uint32_t r0[kLimbs], uint32_t r1[kLimbs], const uint32_t a0[kLimbs],
                    const uint32_t a1[kLimbs], const uint32_t b0[kLimbs], const uint32_t b1[kLimbs]) {
  uint32_t t0[kWideLimbs], t1[kWideLimbs];
  fq2_mul_wide<P, 1, kKaratsuba>(c, t0, t1, a0, a1, b0, b1);
  redc<P>(c, r0, t0);
  redc<P>(c, r1, t1);
}

// (r0 + r1 u) = (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u: two 512-bit products, each
// below 2 p^2, two reductions.
template <class P, bool kKaratsuba = false, class Chain>
ZK_HDI void fq2_sqr(Chain& c, uint32_t r0[kLimbs], uint32_t r1[kLimbs], const uint32_t a0[kLimbs],
                    const uint32_t a1[kLimbs]) {
  uint32_t s[kLimbs], d[kLimbs], w[kWideLimbs];
  add_unreduced(c, s, a0, a1);
  sub<P>(c, d, a0, a1);
  product_wide<kKaratsuba>(c, w, s, d);
  redc<P>(c, r0, w);
  add_unreduced(c, s, a0, a0);
  product_wide<kKaratsuba>(c, w, s, a1);
  redc<P>(c, r1, w);
}

// (r0 + r1 u) = a b - x y in Fq2 for a, b, x, y below p (Montgomery forms), results below p:
// six 512-bit products and two reductions where two fq2_mul and a subtraction take four. Each
// coefficient is summed mod 2^512 in any order; what counts is the final value:
//   c0: (a0 b0 - a1 b1) - (x0 y0 - x1 y1) + 2 p^2,
//   c1: (a0 b1 + a1 b0) - (x0 y1 + x1 y0) + 2 p^2,
// where a0 b0 + x1 y1, a1 b1 + x0 y0 and each bracket of c1 lie in [0, 2 p^2), so both sums lie in
// (0, 4 p^2), below p * 2^256 (4p < 2^256) as redc needs. The y coordinates of the G2 curve
// formulas are of this form (Fq2::mul_sub_mul, Xyzz in point.h).
template <class P, class Chain>
ZK_HDI void fq2_mul_sub_mul(Chain& c, uint32_t r0[kLimbs], uint32_t r1[kLimbs], const uint32_t a0[kLimbs],
                            const uint32_t a1[kLimbs], const uint32_t b0[kLimbs], const uint32_t b1[kLimbs],
                            const uint32_t x0[kLimbs], const uint32_t x1[kLimbs], const uint32_t y0[kLimbs],
                            const uint32_t y1[kLimbs]) {
  uint32_t t0[kWideLimbs], t1[kWideLimbs];
  fq2_mul_wide<P, 2, false>(c, t0, t1, a0, a1, b0, b1);
  // Minus x y, its products subtracted one by one as they are made (computed whole beside a b,
  // its two 512-bit coefficients would be 32 more registers in G2 kernels that use all 255):
  // t1 -= (x0 + x1)(y0 + y1) - x0 y0 - x1 y1, t0 -= x0 y0 - x1 y1.
  uint32_t s[kLimbs], d[kLimbs], w[kWideLimbs];
  add_unreduced(c, s, x0, x1);
  add_unreduced(c, d, y0, y1);
  mul_wide(c, w, s, d);
  sub_wide(c, t1, t1, w);
  mul_wide(c, w, x0, y0);
  add_limbs<kWideLimbs>(c, t1, t1, w);
  sub_wide(c, t0, t0, w);
  mul_wide(c, w, x1, y1);
  add_limbs<kWideLimbs>(c, t1, t1, w);
  add_limbs<kWideLimbs>(c, t0, t0, w);
  add_modulus_squared<P, 2>(c, t1, t1);
  redc<P>(c, r0, t0);
  redc<P>(c, r1, t1);
}

}  // namespace zkinfer::mont32

#undef ZK_MONT32_UNROLL
