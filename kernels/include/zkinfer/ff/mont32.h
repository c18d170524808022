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

// One reduction step of CIOS: t (nine limbs) += m * p with m chosen so that the low limb
// becomes zero, then t is shifted down one limb (t[8] is left stale; callers overwrite it).
// Bound: with t < 2p + 2^32 * p on entry, t + m*p < 2^33 * p < 2^287, so nine limbs hold it and
// both chains end without a carry-out.
template <class P, class Chain>
ZK_HDI void reduce_step(Chain& c, uint32_t t[kLimbs + 1]) {
  constexpr uint32_t inv = NegInv32<P>::value;
  const uint32_t m = t[0] * inv;
  // Low halves of m*p_j into limbs 0..7; limb 0 becomes zero, only its carry-out matters.
  (void)c.mad_lo_cc(m, modulus_limb<P>(0), t[0]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs; ++j) t[j] = c.madc_lo_cc(m, modulus_limb<P>(j), t[j]);
  t[kLimbs] = c.addc(t[kLimbs], 0);
  // High halves of m*p_j into limbs 1..8.
  t[1] = c.mad_hi_cc(m, modulus_limb<P>(0), t[1]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs - 1; ++j) t[j + 1] = c.madc_hi_cc(m, modulus_limb<P>(j), t[j + 1]);
  t[kLimbs] = c.madc_hi(m, modulus_limb<P>(kLimbs - 1), t[kLimbs]);
  ZK_MONT32_UNROLL
  for (int j = 0; j < kLimbs; ++j) t[j] = t[j + 1];
}

// r = a * b / 2^256 mod p (Montgomery product), for a, b < p; the result is below p.
//
// CIOS (coarsely integrated operand scanning) over 32-bit limbs: for each limb b_i, add a * b_i
// to the accumulator, then one reduction step. Each product row is two chains, the low halves
// of a_j * b_i into limbs j and the high halves into limbs j+1, because the carry flag is a
// single bit: a chain can add one 32-bit word per limb, and lo and hi of one product land in
// neighbouring limbs. Invariant: the accumulator is below 2p after every step (it starts at 0;
// (2p + a*b_i + m*p) / 2^32 < (2p + 2 * (2^32 - 1) * p) / 2^32 < 2p), so the ninth limb only
// ever holds a few bits and one conditional subtraction at the end gives a result below p.
// Cost: 256 multiply-adds (the schoolbook minimum for product plus reduction), 8 mul.lo for
// the m_i, and 16 carry fix-ups.
template <class P, class Chain>
ZK_HDI void mul(Chain& c, uint32_t r[kLimbs], const uint32_t a[kLimbs], const uint32_t b[kLimbs]) {
  static_assert(kHasSpareBits<P>);
  uint32_t t[kLimbs + 1];
  // Row 0 into an empty accumulator: the low halves need no chain.
  ZK_MONT32_UNROLL
  for (int j = 0; j < kLimbs; ++j) t[j] = a[j] * b[0];
  t[1] = c.mad_hi_cc(a[0], b[0], t[1]);
  ZK_MONT32_UNROLL
  for (int j = 1; j < kLimbs - 1; ++j) t[j + 1] = c.madc_hi_cc(a[j], b[0], t[j + 1]);
  t[kLimbs] = c.madc_hi(a[kLimbs - 1], b[0], 0);  // a * b_0 < 2^288: no carry-out
  reduce_step<P>(c, t);
  ZK_MONT32_UNROLL
  for (int i = 1; i < kLimbs; ++i) {
    // t < 2p on entry; t + a * b_i < 2p + 2^32 * p < 2^287: nine limbs, no carry-out.
    t[0] = c.mad_lo_cc(a[0], b[i], t[0]);
    ZK_MONT32_UNROLL
    for (int j = 1; j < kLimbs; ++j) t[j] = c.madc_lo_cc(a[j], b[i], t[j]);
    t[kLimbs] = c.addc(0, 0);
    t[1] = c.mad_hi_cc(a[0], b[i], t[1]);
    ZK_MONT32_UNROLL
    for (int j = 1; j < kLimbs - 1; ++j) t[j + 1] = c.madc_hi_cc(a[j], b[i], t[j + 1]);
    t[kLimbs] = c.madc_hi(a[kLimbs - 1], b[i], t[kLimbs]);
    reduce_step<P>(c, t);
  }
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
