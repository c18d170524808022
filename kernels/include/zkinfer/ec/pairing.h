// Optimal ate pairing on BN254: e(P, Q) in GT (the order-r subgroup of Fq12^*) for P in G1
// and Q in G2, plus the product check e(P1, Q1) * ... * e(Pn, Qn) == 1 that Groth16 verifiers use.
//
// Miller loop: f_{6x+2,Q}(P) over the NAF of 6x+2 (x = bn254::kBnX > 0, so no final
// conjugation), then the lines to Q1 = pi(Q) and Q2 = -pi^2(Q), pi the p-power Frobenius carried
// to the twist. T stays in homogeneous projective coordinates (x = X/Z, y = Y/Z) so no step
// inverts. Several pairs share one f, hence one squaring per loop digit for all of them.
//
// Final exponentiation to (p^12 - 1)/r: the easy part (p^6 - 1)(p^2 + 1), then the hard part
// (p^4 - p^2 + 1)/r through the x-chain of Scott, Benger, Charlemagne, Dominguez Perez and Kachisa
// ("On the final exponentiation for calculating pairings on ordinary elliptic curves", 2009).
// That chain computes the exact exponent, so pairing() equals f^((p^12-1)/r) and its values can
// be compared with any library that does the same.
//
// Inputs are taken to be in G1 and G2 (on the curve; Q in the order-r subgroup): callers check
// points that come from outside (ec/subgroup.h) before pairing them. Pairs with a point at
// infinity contribute 1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "zkinfer/bn254.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fq12.h"

namespace zkinfer {

namespace detail {

// Width-w non-adjacent form of a positive integer, least significant digit first: odd digits
// in (-2^(w-1), 2^(w-1)), at most one non-zero among any w consecutive ones. Width 2 is the
// plain NAF (digits 0, +-1).
struct Naf {
  int8_t d[130];
  int len;
};

constexpr Naf make_naf(u128 v, int w) {
  Naf n{};
  const int64_t mod = int64_t{1} << w;
  while (v) {
    int64_t digit = 0;
    if (v & 1) {
      digit = (int64_t)(v & (u128)(mod - 1));
      if (digit >= mod / 2) digit -= mod;  // leaves v - digit divisible by 2^w
      v = digit > 0 ? v - (u128)digit : v + (u128)(-digit);
    }
    n.d[n.len++] = (int8_t)digit;
    v >>= 1;
  }
  return n;
}

// The Miller loop needs digits +-1 (one line per addition of +-Q). Exponentiation by x uses
// width 4: 14 non-zero digits instead of 24 for the plain NAF, for 3 extra multiplications
// that build the odd powers a^3, a^5, a^7 (measured: final exponentiation 241 -> 202 us).
inline constexpr Naf kAteNaf = make_naf((u128)6 * bn254::kBnX + 2, 2);
inline constexpr int kExpXWindow = 4;
inline constexpr Naf kBnXNaf = make_naf(bn254::kBnX, kExpXWindow);

// One line per doubling, one per non-zero digit below the top one, two Frobenius additions.
constexpr int count_ate_lines() {
  int n = kAteNaf.len - 1 + 2;
  for (int i = 0; i + 1 < kAteNaf.len; ++i) n += kAteNaf.d[i] != 0;
  return n;
}

}  // namespace detail

// Lines per G2 point in one Miller loop.
inline constexpr int kAteLineCount = detail::count_ate_lines();

// A line through points of the twist, scaled by a factor in Fq2 (the final exponentiation
// removes every factor from a proper subfield). The D-type untwisting sends (x, y) to
// (x w^2, y w^3), so a line of twist slope s through T becomes yP - s xP w + (s xT - yT) w^3
// at P = (xP, yP): its value there is c0*yP + (c3*xP) w + c4 w^3.
struct LineCoeffs {
  Fq2 c0, c3, c4;
};

// f * l(P)
ZK_HD constexpr Fq12 mul_by_line(const Fq12& f, const LineCoeffs& l, const G1Affine& p) {
  return f.mul_by_034(l.c0 * p.y, l.c3 * p.x, l.c4);
}

namespace detail {

// The G2 side of the Miller loop for one Q: T in homogeneous projective coordinates, each step
// updates T and returns its line. Formulas: Costello, Lange, Naehrig, "Faster pairing
// computations on curves with high-degree twists" (2010), as written for the D-type twist by
// Aranha, Karabina, Longa, Gebotys, Lopez (2011), eqs. 11 and 12.
struct G2LineStepper {
  Fq2 x, y, z;
  G2Affine q;

  G2LineStepper() = default;
  ZK_HD constexpr explicit G2LineStepper(const G2Affine& q0) : x(q0.x), y(q0.y), z(Fq2::one()), q(q0) {}

  // T = 2T with the tangent at T. The tangent, of slope 3X^2/(2YZ), multiplied by -2YZ gives
  // c0 = -2YZ, c3 = 3X^2 and c4 = 3X^3/Z - 2Y^2 = 3b'Z^2 - Y^2 by the curve equation.
  ZK_HD constexpr LineCoeffs dbl() {
    constexpr Fq half = Fq::from_u64(2).inverse();
    Fq2 a = (x * y) * half;
    Fq2 b = y.sqr(), c = z.sqr();
    Fq2 e = G2Curve::b() * (c.dbl() + c);  // 3b'Z^2
    Fq2 f = e.dbl() + e;                    // 9b'Z^2
    Fq2 g = (b + f) * half;
    Fq2 h = (y + z).sqr() - b - c;  // 2YZ
    Fq2 j = x.sqr();
    Fq2 e2 = e.sqr();
    x = a * (b - f);
    y = g.sqr() - (e2.dbl() + e2);
    z = b * h;
    return {-h, j.dbl() + j, e - b};
  }

  // T = T + (qx, qy) with the chord through both: slope theta/lambda with
  // theta = Y - qy Z and lambda = X - qx Z; the line is multiplied by lambda.
  ZK_HD constexpr LineCoeffs add(const Fq2& qx, const Fq2& qy) {
    Fq2 theta = y - qy * z, lambda = x - qx * z;
    Fq2 c = theta.sqr(), d = lambda.sqr();
    Fq2 e = lambda * d, f = z * c, g = x * d;
    Fq2 h = e + f - g.dbl();
    x = lambda * h;
    y = theta * (g - h) - e * y;
    z = z * e;
    return {lambda, -theta, theta * qx - lambda * qy};
  }

  // T = T + digit * Q for a NAF digit of +-1.
  ZK_HD constexpr LineCoeffs add(int digit) { return add(q.x, digit > 0 ? q.y : -q.y); }

  // T = T + pi(Q): untwist, raise to p, twist back gives (conj(x) gamma[1][2], conj(y) gamma[1][3]).
  ZK_HD constexpr LineCoeffs add_frobenius1() {
    return add(mul_frobenius_coeff<1, 2>(q.x.conjugate()), mul_frobenius_coeff<1, 3>(q.y.conjugate()));
  }

  // The line to -pi^2(Q) = (x gamma[2][2], -y gamma[2][3]); T is not used after it.
  ZK_HD constexpr LineCoeffs add_frobenius2() {
    return add(mul_frobenius_coeff<2, 2>(q.x), -mul_frobenius_coeff<2, 3>(q.y));
  }
};

// Replays lines that G2LineStepper produced earlier, in the same order.
struct PreparedLineReader {
  const LineCoeffs* next;

  ZK_HDI constexpr const LineCoeffs& dbl() { return *next++; }
  ZK_HDI constexpr const LineCoeffs& add(int) { return *next++; }
  ZK_HDI constexpr const LineCoeffs& add_frobenius1() { return *next++; }
  ZK_HDI constexpr const LineCoeffs& add_frobenius2() { return *next++; }
};

// Product of the Miller functions of n pairs with one shared f. src[j] yields the lines of Q_j:
// per digit of 6x+2 below the top one a doubling line and, for a non-zero digit, an addition
// line; then the two Frobenius lines.
template <class Lines>
ZK_HD constexpr Fq12 miller_loop_lines(const G1Affine* p, Lines* src, size_t n) {
  constexpr Naf naf = kAteNaf;
  Fq12 f = Fq12::one();
  for (int i = naf.len - 2; i >= 0; --i) {
    if (i != naf.len - 2) f = f.sqr();  // f is still 1 in the first round
    for (size_t j = 0; j < n; ++j) f = mul_by_line(f, src[j].dbl(), p[j]);
    if (int digit = naf.d[i])
      for (size_t j = 0; j < n; ++j) f = mul_by_line(f, src[j].add(digit), p[j]);
  }
  for (size_t j = 0; j < n; ++j) {
    f = mul_by_line(f, src[j].add_frobenius1(), p[j]);
    f = mul_by_line(f, src[j].add_frobenius2(), p[j]);
  }
  return f;
}

// Pairs whose line sources sit on the stack at once: bounds stack use for any n while the
// pairs of a Groth16 check (4) still share all squarings.
inline constexpr size_t kMillerChunk = 8;

// Runs the Miller loop over pairs 0..n-1 in chunks; make(i, src) sets up the line source of pair
// i and returns false when the pair contributes 1 (a point at infinity).
template <class Lines, class Make>
ZK_HD constexpr Fq12 miller_loop_chunked(const G1Affine* p, size_t n, Make make) {
  Fq12 f = Fq12::one();
  G1Affine ps[kMillerChunk];
  Lines srcs[kMillerChunk];
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i].is_infinity() || !make(i, srcs[m])) continue;
    ps[m++] = p[i];
    if (m == kMillerChunk) {
      f *= miller_loop_lines(ps, srcs, m);
      m = 0;
    }
  }
  if (m) f *= miller_loop_lines(ps, srcs, m);
  return f;
}

// a^x on the cyclotomic subgroup over the width-4 NAF of x; conjugation is the inverse there,
// so negative digits cost nothing extra.
ZK_HD constexpr Fq12 cyclotomic_exp_by_x(const Fq12& a) {
  constexpr Naf naf = kBnXNaf;
  constexpr int kOdd = 1 << (kExpXWindow - 2);
  Fq12 odd[kOdd];  // odd[k] = a^(2k+1)
  odd[0] = a;
  Fq12 a2 = a.cyclotomic_sqr();
  for (int k = 1; k < kOdd; ++k) odd[k] = odd[k - 1] * a2;
  Fq12 r = odd[(naf.d[naf.len - 1] - 1) / 2];  // the top digit is positive
  for (int i = naf.len - 2; i >= 0; --i) {
    r = r.cyclotomic_sqr();
    int d = naf.d[i];
    if (d > 0) r *= odd[(d - 1) / 2];
    if (d < 0) r *= odd[(-d - 1) / 2].conjugate();
  }
  return r;
}

}  // namespace detail

// Miller loop lines for a fixed Q (a verifying key's beta, gamma, delta): a Miller loop over
// them does no G2 arithmetic. About 17 KiB; fill it once, keep it with the key.
struct G2Prepared {
  LineCoeffs lines[kAteLineCount];
  bool infinity;
};

ZK_HD constexpr G2Prepared g2_prepare(const G2Affine& q) {
  G2Prepared out{};
  out.infinity = q.is_infinity();
  if (out.infinity) return out;
  constexpr detail::Naf naf = detail::kAteNaf;
  detail::G2LineStepper s(q);
  int k = 0;
  // The order miller_loop_lines asks for them.
  for (int i = naf.len - 2; i >= 0; --i) {
    out.lines[k++] = s.dbl();
    if (naf.d[i]) out.lines[k++] = s.add(naf.d[i]);
  }
  out.lines[k++] = s.add_frobenius1();
  out.lines[k++] = s.add_frobenius2();
  return out;
}

// Product of the Miller functions f_i(P_i) of n pairs (not yet exponentiated).
ZK_HD constexpr Fq12 miller_loop(const G1Affine* p, const G2Affine* q, size_t n) {
  return detail::miller_loop_chunked<detail::G2LineStepper>(p, n, [q](size_t i, detail::G2LineStepper& s) {
    if (q[i].is_infinity()) return false;
    s = detail::G2LineStepper(q[i]);
    return true;
  });
}

// The same over prepared G2 points, passed by pointer so the caller need not copy them.
ZK_HD constexpr Fq12 miller_loop(const G1Affine* p, const G2Prepared* const* q, size_t n) {
  return detail::miller_loop_chunked<detail::PreparedLineReader>(
      p, n, [q](size_t i, detail::PreparedLineReader& s) {
        if (q[i]->infinity) return false;
        s.next = q[i]->lines;
        return true;
      });
}

ZK_HD constexpr Fq12 miller_loop(const G1Affine& p, const G2Affine& q) { return miller_loop(&p, &q, 1); }

// f^((p^12 - 1)/r). Zero (never a Miller loop value) maps to zero.
ZK_HD constexpr Fq12 final_exponentiation(const Fq12& f) {
  // Easy part: f^(p^6 - 1) = conj(f)/f, then ^(p^2 + 1). From here on t is in the cyclotomic
  // subgroup, where conjugation inverts and cyclotomic_sqr squares.
  Fq12 t = f.conjugate() * f.inverse();
  t = t.frobenius_map<2>() * t;

  // Hard part: (p^4 - p^2 + 1)/r = l0 + l1 p + l2 p^2 + l3 p^3 with l3 = 1, l2 = 6x^2 + 1,
  // l1 = -36x^3 - 18x^2 - 12x + 1, l0 = -36x^3 - 30x^2 - 18x - 2. Writing t^x = fx etc.:
  //   y0 = t^(p + p^2 + p^3), y1 = 1/t, y2 = fx2^(p^2), y3 = 1/fx^p,
  //   y4 = 1/(fx fx2^p), y5 = 1/fx2, y6 = 1/(fx3 fx3^p),
  // the result is y0 y1^2 y2^6 y3^12 y4^18 y5^30 y6^36, evaluated by the chain below
  // (3 exponentiations by x, 13 multiplications, 4 squarings).
  Fq12 fx = detail::cyclotomic_exp_by_x(t);
  Fq12 fx2 = detail::cyclotomic_exp_by_x(fx);
  Fq12 fx3 = detail::cyclotomic_exp_by_x(fx2);
  Fq12 y0 = t.frobenius_map<1>() * t.frobenius_map<2>() * t.frobenius_map<3>();
  Fq12 y1 = t.conjugate();
  Fq12 y2 = fx2.frobenius_map<2>();
  Fq12 y3 = fx.frobenius_map<1>().conjugate();
  Fq12 y4 = (fx * fx2.frobenius_map<1>()).conjugate();
  Fq12 y5 = fx2.conjugate();
  Fq12 y6 = (fx3 * fx3.frobenius_map<1>()).conjugate();

  Fq12 t0 = y6.cyclotomic_sqr() * y4 * y5;        // y4 y5 y6^2
  Fq12 t1 = y3 * y5 * t0;                          // y3 y4 y5^2 y6^2
  t0 = t0 * y2;                                    // y2 y4 y5 y6^2
  t1 = (t1.cyclotomic_sqr() * t0).cyclotomic_sqr();  // y2^2 y3^4 y4^6 y5^10 y6^12
  t0 = t1 * y1;
  t1 = t1 * y0;
  return t0.cyclotomic_sqr() * t1;  // t1^3 y1^2 y0
}

ZK_HD constexpr Fq12 pairing(const G1Affine& p, const G2Affine& q) {
  return final_exponentiation(miller_loop(p, q));
}

// e(P1, Q1) * ... * e(Pn, Qn) == 1 with one shared Miller loop and one final exponentiation.
// A Groth16 check e(A, B) = e(alpha, beta) e(L, gamma) e(C, delta) is this with
// (A, B), (-alpha, beta), (-L, gamma), (-C, delta). n = 0 gives true (the empty product).
ZK_HD constexpr bool pairing_product_is_one(const G1Affine* p, const G2Affine* q, size_t n) {
  return final_exponentiation(miller_loop(p, q, n)).is_one();
}

ZK_HD constexpr bool pairing_product_is_one(const G1Affine* p, const G2Prepared* const* q, size_t n) {
  return final_exponentiation(miller_loop(p, q, n)).is_one();
}

}  // namespace zkinfer
