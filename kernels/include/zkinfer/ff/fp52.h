// A prime field element as five 52-bit limbs kept between operations, products on the FP64 pipe
// (mont52.h): the field of gpu::msm::G1CurveF64, an experiment that bench_gpu_msm measures
// against Fq (g1_msm_f64_2^20 beside g1_msm_2^20).
//
// Montgomery form with R = 2^260; values in [0, 2p) (not canonical), limbs below 2^52. Products
// take the limbs as they are (no split of 256-bit words, no join, no final subtraction: below
// 1.07 p already); additions and subtractions are integer limb operations with one conditional
// subtraction of 2p. Memory holds the limbs as they are (40 bytes). from_fp / to_fp convert from
// and to Fp<P> (one product each). Host and device run the same code, so the host simulator of
// the MSM tests it against the CPU.
#pragma once

#include <cstdint>

#include "zkinfer/ff/fp.h"
#include "zkinfer/ff/hd.h"
#include "zkinfer/ff/mont52.h"
#include "zkinfer/ff/u256.h"

namespace zkinfer {

template <class P>
struct Fp52 {
  static constexpr int N = mont52::kLimbs;
  static constexpr uint64_t kMask = mont52::kLimbMask;
  uint64_t l[N];

  using Params = P;

  // ---- constants ------------------------------------------------------------------------
  ZK_HDI static constexpr Fp52 zero() { return Fp52{{0, 0, 0, 0, 0}}; }
  ZK_HDI static constexpr Fp52 one() {
    constexpr U256 r = mont52::Consts<P>::r260;
    return Fp52{{mont52::limb_of(r.w, 0), mont52::limb_of(r.w, 1), mont52::limb_of(r.w, 2), mont52::limb_of(r.w, 3),
                 mont52::limb_of(r.w, 4)}};
  }

  // ---- conversions ----------------------------------------------------------------------
  ZK_HDI static Fp52 from_fp(const Fp<P>& x) {
    double d[N];
    mont52::to_limbs<P>(d, x.v);
    Fp52 r;
    ZK_MONT52_UNROLL
    for (int i = 0; i < N; ++i) r.l[i] = mont52::double_to_limb(d[i]);
    return r;
  }
  ZK_HDI Fp<P> to_fp() const {
    double d[N];
    ZK_MONT52_UNROLL
    for (int i = 0; i < N; ++i) d[i] = mont52::limb_to_double(l[i]);
    Fp<P> r;
    mont52::from_limbs<P>(r.v, d);
    return r;
  }
  ZK_HDI static Fp52 from_u64(uint64_t x) { return from_fp(Fp<P>::from_u64(x)); }

  // ---- comparison -----------------------------------------------------------------------
  // Zero is held as 0 or p.
  ZK_HDI bool is_zero() const {
    uint64_t z = 0, q = 0;
    ZK_MONT52_UNROLL
    for (int i = 0; i < N; ++i) {
      z |= l[i];
      q |= l[i] ^ mont52::modulus_limb<P>(i);
    }
    return z == 0 || q == 0;
  }
  ZK_HDI bool operator==(const Fp52& o) const { return (*this - o).is_zero(); }
  ZK_HDI bool operator!=(const Fp52& o) const { return !(*this == o); }

  // ---- arithmetic -----------------------------------------------------------------------
  // Additions and subtractions end below 4p < 2^256 (no carry out of the top limb), then one
  // conditional subtraction of 2p (mont52::reduce_below).
  // a + b.
  ZK_HDI Fp52 operator+(const Fp52& b) const {
    Fp52 s;
    uint64_t c = 0;
    ZK_MONT52_UNROLL
    for (int i = 0; i < N; ++i) {
      const uint64_t v = l[i] + b.l[i] + c;
      s.l[i] = v & kMask;
      c = v >> mont52::kLimbBits;
    }
    mont52::reduce_below<P, 2>(s.l);
    return s;
  }
  // a + 2p - b, in (0, 4p): limb-wise with a signed carry.
  ZK_HDI Fp52 operator-(const Fp52& b) const {
    Fp52 s;
    int64_t c = 0;
    ZK_MONT52_UNROLL
    for (int i = 0; i < N; ++i) {
      const int64_t v = int64_t(l[i]) + int64_t(mont52::modulus_limb<P, 2>(i)) - int64_t(b.l[i]) + c;
      s.l[i] = uint64_t(v) & kMask;
      c = v >> mont52::kLimbBits;  // arithmetic shift: -1, 0 or 1
    }
    mont52::reduce_below<P, 2>(s.l);
    return s;
  }
  ZK_HDI Fp52 operator-() const { return zero() - *this; }
  ZK_HDI Fp52 dbl() const { return *this + *this; }
  ZK_HDI Fp52 operator*(const Fp52& b) const {
    double x[N], y[N];
    ZK_MONT52_UNROLL
    for (int i = 0; i < N; ++i) {
      x[i] = mont52::limb_to_double(l[i]);
      y[i] = mont52::limb_to_double(b.l[i]);
    }
    uint64_t t[N + 1];
    mont52::reduce_product<P, mont52::kLimbBits>(t, x, y);
    return Fp52{{t[1], t[2], t[3], t[4], t[5]}};
  }
  ZK_HDI Fp52 sqr() const { return *this * *this; }
  ZK_HDI static Fp52 mul_sub_mul(const Fp52& a, const Fp52& b, const Fp52& x, const Fp52& y) {
    return a * b - x * y;
  }
  ZK_HDI Fp52& operator+=(const Fp52& b) { return *this = *this + b; }
  ZK_HDI Fp52& operator-=(const Fp52& b) { return *this = *this - b; }
  ZK_HDI Fp52& operator*=(const Fp52& b) { return *this = *this * b; }
};

}  // namespace zkinfer
