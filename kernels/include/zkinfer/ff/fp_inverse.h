// Variable-time modular inversion on the host: Bernstein-Yang "safegcd" divsteps, 62 at a time,
// on signed 62-bit limbs (D. J. Bernstein, B.-Y. Yang, "Fast constant-time gcd computation and
// modular inversion", 2019; the variable-time batching follows the description in
// libsecp256k1's doc/safegcd_implementation.md). Fp::inverse_vartime() (fp.h) is the entry point.
//
// Why hand-written: GMP is a test oracle only here (DESIGN.md), and Fermat's a^(p-2) in
// Fp::inverse() (about 380 Montgomery products) was 5% of the CPU time of a 2^16-constraint
// `zkinfer groth16 prove`, spent in the batch-affine additions of the MSM.
//
// VARIABLE TIME: the number of iterations and every branch below depend on the input. Use it
// only where timing does not matter (the MSM, whose memory access already depends on its data);
// never on secrets (setup toxic waste, the proof randomisers r and s): use Fp::inverse() there.
//
// The method. Start from f = p (odd), g = x, delta = 1. A divstep maps (delta, f, g) to
// (1 - delta, g, (g - f)/2) when delta > 0 and g is odd, and otherwise to
// (1 + delta, f, (g + (g mod 2) f)/2). g reaches 0 within 735 steps for inputs below 2^254,
// and then f = +-gcd(p, x) = +-1. 62 steps in a row depend only on the low 62 bits of f and g:
// they run on one word each and are summed up as an integer matrix T with
// 2^62 (f', g') = T (f, g), which is then applied to the full numbers (an exact division by
// 2^62). Beside f and g run d and e with d x = f c and e x = g c (mod p), from d = 0, e = c, so
// that at the end d = +-c / x. T applies to d and e too, with the division by 2^62 done mod p:
// adding the multiple of p that clears their low 62 bits makes it an exact shift. The
// variable-time form does a run of halvings of an even g in one shift, and up to 6 steps
// without a swap in one multiply-add.
#pragma once

#include <cstdint>

#include "zkinfer/ff/u256.h"

namespace zkinfer::safegcd {

using i128 = __int128;

inline constexpr int64_t kLimbMask = (int64_t)(~uint64_t{0} >> 2);  // 2^62 - 1

// The integer l[0] + l[1] 2^62 + ... + l[4] 2^248. In normal form l[0..3] lie in [0, 2^62) and
// l[4] carries the sign.
struct S62 {
  int64_t l[5];
};

// 2^62 (f', g') = (u f + v g, q f + r g) after 62 divsteps; |u| + |v| <= 2^62, |q| + |r| <= 2^62.
struct Matrix {
  int64_t u, v, q, r;
};

constexpr S62 to_s62(const U256& a) {
  const uint64_t m = (uint64_t)kLimbMask;
  return S62{{(int64_t)(a.w[0] & m), (int64_t)(((a.w[0] >> 62) | (a.w[1] << 2)) & m),
              (int64_t)(((a.w[1] >> 60) | (a.w[2] << 4)) & m),
              (int64_t)(((a.w[2] >> 58) | (a.w[3] << 6)) & m), (int64_t)(a.w[3] >> 56)}};
}

// From normal form with a value in [0, 2^256).
constexpr U256 from_s62(const S62& a) {
  const uint64_t l0 = (uint64_t)a.l[0], l1 = (uint64_t)a.l[1], l2 = (uint64_t)a.l[2],
                 l3 = (uint64_t)a.l[3], l4 = (uint64_t)a.l[4];
  return U256{
      {l0 | (l1 << 62), (l1 >> 2) | (l2 << 60), (l2 >> 4) | (l3 << 58), (l3 >> 6) | (l4 << 56)}};
}

// Back to normal form after limb-wise additions (limbs must not be near overflow).
constexpr void carry(S62& a) {
  for (int i = 0; i < 4; ++i) {
    a.l[i + 1] += a.l[i] >> 62;  // arithmetic shift: a negative limb borrows
    a.l[i] &= kLimbMask;
  }
}

template <class P>
struct ModConsts {
  static constexpr S62 mod = to_s62(P::modulus);
  // p^-1 mod 2^62 (u256::neg_inv64 gives -p^-1 mod 2^64).
  static constexpr uint64_t inv62 =
      (uint64_t{0} - u256::neg_inv64(P::modulus.w[0])) & (uint64_t)kLimbMask;
  static_assert(P::modulus.w[0] & 1, "safegcd needs an odd modulus");
  static_assert(((P::modulus.w[0] * inv62) & (uint64_t)kLimbMask) == 1);
};

// 62 divsteps on the low words of f (odd) and g, starting from eta = -delta. Returns the new
// eta and the scaled transition matrix.
constexpr int64_t divsteps62_vartime(int64_t eta, uint64_t f, uint64_t g, Matrix& t) {
  // Arithmetic mod 2^64 throughout: f, g are only right in their low `left` bits, and the
  // matrix entries end up within int64 range.
  uint64_t u = 1, v = 0, q = 0, r = 1;
  int left = 62;  // divsteps still to do
  for (;;) {
    // A run of even g: each step halves g, which in the 2^62-scaled matrix doubles the f row.
    // The sentinel bit stops the count at `left`.
    const int z = __builtin_ctzll(g | (~uint64_t{0} << left));
    g >>= z;
    u <<= z;
    v <<= z;
    eta -= z;
    left -= z;
    if (left == 0) break;
    // g is odd. With delta > 0 (eta < 0) the step swaps: (f, g) <- (g, -f), then continues
    // as below with g + f.
    if (eta < 0) {
      eta = -eta;
      uint64_t s = f;
      f = g;
      g = uint64_t{0} - s;
      s = u;
      u = q;
      q = uint64_t{0} - s;
      s = v;
      v = r;
      r = uint64_t{0} - s;
    }
    // The next min(eta + 1, left) steps cannot swap; each adds f to g when g is odd, then
    // halves. Together they add w f with the unique w < 2^k clearing the low k bits of g:
    // w = -g / f mod 2^k, with f^-1 = f (2 - f^2) mod 2^6 for odd f. The halvings follow in
    // the next round's shift. In a quick test (Zen 4, Fq), capping k at 4 and a branch-free
    // swap above were both slower than this form.
    int64_t k = eta + 1 < left ? eta + 1 : left;
    if (k > 6) k = 6;
    const uint64_t w = (g * f * (f * f - 2)) & ((uint64_t{1} << k) - 1);
    g += w * f;
    q += w * u;
    r += w * v;
  }
  t = Matrix{(int64_t)u, (int64_t)v, (int64_t)q, (int64_t)r};
  return eta;
}

// (d, e) <- T (d, e) / 2^62 mod p, for d, e in (-2p, p) in normal form; the results are again
// in (-2p, p) and normal form.
template <class P>
constexpr void update_de(S62& d, S62& e, const Matrix& t) {
  constexpr S62 m = ModConsts<P>::mod;
  constexpr uint64_t inv62 = ModConsts<P>::inv62;
  const int64_t u = t.u, v = t.v, q = t.q, r = t.r;
  // A negative d (or e) counts as d + p: add u p (v p) through md, so the combination lies in
  // (-2^62 p, 2^62 p) before the multiple of p below.
  const int64_t sd = d.l[4] >> 63, se = e.l[4] >> 63;
  int64_t md = (u & sd) + (v & se);
  int64_t me = (q & sd) + (r & se);
  i128 cd = (i128)u * d.l[0] + (i128)v * e.l[0];
  i128 ce = (i128)q * d.l[0] + (i128)r * e.l[0];
  // Subtract from md (me) the number in [0, 2^62) that makes cd + p md divisible by 2^62.
  md -= (int64_t)((inv62 * (uint64_t)cd + (uint64_t)md) & (uint64_t)kLimbMask);
  me -= (int64_t)((inv62 * (uint64_t)ce + (uint64_t)me) & (uint64_t)kLimbMask);
  cd += (i128)m.l[0] * md;
  ce += (i128)m.l[0] * me;
  cd >>= 62;  // the low 62 bits are zero now
  ce >>= 62;
  for (int i = 1; i < 5; ++i) {
    cd += (i128)u * d.l[i] + (i128)v * e.l[i] + (i128)m.l[i] * md;
    ce += (i128)q * d.l[i] + (i128)r * e.l[i] + (i128)m.l[i] * me;
    d.l[i - 1] = (int64_t)cd & kLimbMask;
    e.l[i - 1] = (int64_t)ce & kLimbMask;
    cd >>= 62;
    ce >>= 62;
  }
  d.l[4] = (int64_t)cd;
  e.l[4] = (int64_t)ce;
}

// (f, g) <- T (f, g) / 2^62 (exact) on their low `len` limbs; the top one carries the sign.
constexpr void update_fg(int len, S62& f, S62& g, const Matrix& t) {
  const int64_t u = t.u, v = t.v, q = t.q, r = t.r;
  i128 cf = (i128)u * f.l[0] + (i128)v * g.l[0];
  i128 cg = (i128)q * f.l[0] + (i128)r * g.l[0];
  cf >>= 62;  // exact: the divsteps cleared the low 62 bits
  cg >>= 62;
  for (int i = 1; i < len; ++i) {
    cf += (i128)u * f.l[i] + (i128)v * g.l[i];
    cg += (i128)q * f.l[i] + (i128)r * g.l[i];
    f.l[i - 1] = (int64_t)cf & kLimbMask;
    g.l[i - 1] = (int64_t)cg & kLimbMask;
    cf >>= 62;
    cg >>= 62;
  }
  f.l[len - 1] = (int64_t)cf;
  g.l[len - 1] = (int64_t)cg;
}

// c / x mod p for 0 <= x < p and c in [0, p) given in normal form; x = 0 gives 0.
template <class P>
constexpr U256 inverse_vartime(const U256& x, const S62& c) {
  constexpr S62 m = ModConsts<P>::mod;
  S62 d{{0, 0, 0, 0, 0}}, e = c, f = m, g = to_s62(x);
  int len = 5;       // limbs of f and g still in use
  int64_t eta = -1;  // -delta; delta starts at 1
  for (;;) {
    Matrix t{};
    eta = divsteps62_vartime(eta, (uint64_t)f.l[0], (uint64_t)g.l[0], t);
    update_de<P>(d, e, t);
    update_fg(len, f, g, t);
    if (g.l[0] == 0) {
      int64_t rest = 0;
      for (int i = 1; i < len; ++i) rest |= g.l[i];
      if (rest == 0) break;
    }
    // f and g shrink: once the top limb of both is only a sign (0 or -1), fold it into the
    // limb below (which then holds a full signed 64-bit value) and use one limb less.
    const int64_t fn = f.l[len - 1], gn = g.l[len - 1];
    if (len > 1 && ((fn ^ (fn >> 63)) | (gn ^ (gn >> 63))) == 0) {
      f.l[len - 2] |= (int64_t)((uint64_t)fn << 62);
      g.l[len - 2] |= (int64_t)((uint64_t)gn << 62);
      --len;
    }
  }
  // Now f = +-1 (x = 0 leaves f = p and d = 0) and d x = f c: the result is d f, from
  // d in (-2p, p) brought into [0, p).
  if (f.l[len - 1] < 0) {
    for (int64_t& l : d.l) l = -l;
    carry(d);
  }
  for (int i = 0; i < 2 && d.l[4] < 0; ++i) {
    for (int j = 0; j < 5; ++j) d.l[j] += m.l[j];
    carry(d);
  }
  S62 s = d;
  for (int j = 0; j < 5; ++j) s.l[j] -= m.l[j];
  carry(s);
  if (s.l[4] >= 0) d = s;
  return from_s62(d);
}

}  // namespace zkinfer::safegcd
