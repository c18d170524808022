// Montgomery arithmetic on eight 32-bit limbs: the device implementation of Fp<P>'s +, - and *.
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

// r = a + b mod p, for a, b < p.
template <class P, class Chain>
ZK_HDI void add(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  static_assert(kHasSpareBits<P>);
  uint32_t s[kLimbs];
  // a + b < 2p < 2^255: the sum fits in eight limbs, the last carry-out is zero.
  s[0] = c.add_cc(a[0], b[0]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs - 1; ++j) s[j] = c.addc_cc(a[j], b[j]);
  s[kLimbs - 1] = c.addc(a[kLimbs - 1], b[kLimbs - 1]);
  // s - p; the final borrow (as an all-ones mask) says s < p, i.e. keep s.
  uint32_t d[kLimbs];
  d[0] = c.sub_cc(s[0], modulus_limb<P>(0));
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs; ++j) d[j] = c.subc_cc(s[j], modulus_limb<P>(j));
  const uint32_t keep = c.subc(0, 0);
  ZK_MONT32_UNROLL
  for (int j = 0; j < kLimbs; ++j) r[j] = (s[j] & keep) | (d[j] & ~keep);
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
  // T = o[1..8] + e[1..7] (limbs 0..7 after the last shift) < 2p < 2^255: eight limbs.
  uint32_t t[kLimbs];
  t[0] = c.add_cc(o[1], e[1]);
  ZK_MONT32_UNROLL
  for (int k = 1; k < kLimbs - 1; ++k) t[k] = c.addc_cc(o[k + 1], e[k + 1]);
  t[kLimbs - 1] = c.addc(o[kLimbs], 0);
  // t < 2p: subtract p once unless that borrows.
  uint32_t d[kLimbs];
  d[0] = c.sub_cc(t[0], modulus_limb<P>(0));
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs; ++j) d[j] = c.subc_cc(t[j], modulus_limb<P>(j));
  const uint32_t keep = c.subc(0, 0);
  ZK_MONT32_UNROLL
  for (int j = 0; j < kLimbs; ++j) r[j] = (t[j] & keep) | (d[j] & ~keep);
}

}  // namespace zkinfer::mont32

#undef ZK_MONT32_UNROLL
