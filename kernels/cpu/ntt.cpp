#include "ntt.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "parallel.h"

namespace zkinfer::cpu {
namespace {

// ---- tuning (measured on the 2-core AMD EPYC dev machine, 1 MiB L2 per core) ----------------
// Rows up to 2^kBaseLog points run as plain radix-2 stages; 2^13 points (256 KiB) plus their
// twiddles stay in L2.
constexpr unsigned kBaseLog = 13;
// Largest column transform R = 2^kMaxColumnLog: R * kColumnBatch elements stay cache-resident.
constexpr unsigned kMaxColumnLog = 10;
// Adjacent columns transformed together: 8 elements = 256 bytes = 4 whole cache lines per row.
constexpr size_t kColumnBatch = 8;
// Below 2^kMinParallelLog points starting threads costs more than it saves.
constexpr unsigned kMinParallelLog = 11;
// Bit reversal swaps 2^kTileLog x 2^kTileLog tiles so both sides touch whole cache lines.
constexpr unsigned kTileLog = 3;

// Stage tables cover spans up to 2^(kTableLog-1): a level of up to 2^kTableLog points reads
// every twiddle from them instead of multiplying its way along the column.
constexpr unsigned kTableLog = 14;
static_assert(kTableLog >= kBaseLog && kTableLog >= kMaxColumnLog);

// ---- field arithmetic for the butterflies ----------------------------------------------------
// Between stages values are kept in [0, 2p) rather than [0, p) (Harvey's lazy butterflies):
//   add(a, b)      a + b          in [0, 2p)   for a, b in [0, 2p)
//   sub(a, b)      a - b          in [0, 2p)   for a, b in [0, 2p)
//   sub_lazy(a, b) a - b + 2p     in [0, 4p)   only as the left operand of mul
//   mul(a, w)      a * w / R      in [0, 2p)   for a in [0, 4p), w in [0, p), or both in [0, 2p)
//   reduce(a)      a              in [0, p)    for a in [0, 2p)
//   neg(a)         p - a          in [0, p)    for a in (0, p)
// This skips one conditional subtraction per butterfly; 4p < 2^256 because p < 2^254.

// fp.h's operators; they keep everything in [0, p), a special case of the ranges above.
struct PortableArith {
  static Fr add(const Fr& a, const Fr& b) { return a + b; }
  static Fr sub(const Fr& a, const Fr& b) { return a - b; }
  static Fr sub_lazy(const Fr& a, const Fr& b) { return a - b; }
  static Fr mul(const Fr& a, const Fr& w) { return a * w; }
  static Fr reduce(const Fr& a) { return a; }
  static Fr neg(const Fr& a) { return -a; }
};

#if defined(__x86_64__)
// x86-64 with BMI2 (mulx) and ADX (adcx/adox: two independent carry chains). GCC's code for
// the generic unsigned __int128 Montgomery loop spills and branches; these run a butterfly in
// about a third of the time (19 vs 62 ns on the dev machine).
struct alignas(64) MontConstants {
  uint64_t p[4];
  uint64_t p2[4];  // 2p
  uint64_t inv;    // -p^-1 mod 2^64
};
constexpr MontConstants kMont = [] {
  constexpr U256 m = Fr::MOD;
  MontConstants c{};
  for (int i = 0; i < 4; ++i) c.p[i] = m.w[i];
  c.p2[0] = m.w[0] << 1;
  for (int i = 1; i < 4; ++i) c.p2[i] = (m.w[i] << 1) | (m.w[i - 1] >> 63);
  c.inv = Fr::INV;
  return c;
}();

// One CIOS round for word b_i: t0..t3 += a * b_i, the product's top word lands in t4.
#define ZK_MUL_ROUND(B, T0, T1, T2, T3, T4)                                                 \
  "movq %[" B "], %%rdx\n\t"                                                                \
  "xorl %k[z], %k[z]\n\t"                                                                   \
  "mulxq %[a0], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T0 "]\n\t" "adoxq %[hi], %[" T1 "]\n\t" \
  "mulxq %[a1], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T1 "]\n\t" "adoxq %[hi], %[" T2 "]\n\t" \
  "mulxq %[a2], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T2 "]\n\t" "adoxq %[hi], %[" T3 "]\n\t" \
  "mulxq %[a3], %[lo], %[" T4 "]\n\t" "adcxq %[lo], %[" T3 "]\n\t"                          \
  "adoxq %[z], %[" T4 "]\n\t" "adcxq %[z], %[" T4 "]\n\t"
// Montgomery step: add m*p with m = t0 * (-p^-1) so t0 becomes 0; t1..t4 is the shifted result.
#define ZK_MUL_REDUCE(T0, T1, T2, T3, T4)                                                   \
  "movq %[" T0 "], %%rdx\n\t"                                                               \
  "imulq %[inv], %%rdx\n\t"                                                                 \
  "xorl %k[z], %k[z]\n\t"                                                                   \
  "mulxq %[p0], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T0 "]\n\t" "adoxq %[hi], %[" T1 "]\n\t" \
  "mulxq %[p1], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T1 "]\n\t" "adoxq %[hi], %[" T2 "]\n\t" \
  "mulxq %[p2], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T2 "]\n\t" "adoxq %[hi], %[" T3 "]\n\t" \
  "mulxq %[p3], %[lo], %[hi]\n\t" "adcxq %[lo], %[" T3 "]\n\t" "adoxq %[hi], %[" T4 "]\n\t" \
  "adcxq %[z], %[" T4 "]\n\t"

struct AdxArith {
  // Montgomery product without the final subtraction. Every round's running value stays below
  // a + p < 5p < 2^256, and the result below a*w/R + p, which is under 2p when a < 4p and w < p
  // or when a, w < 2p (p/R < 0.19).
  static inline __attribute__((always_inline)) Fr mul(const Fr& a, const Fr& w) {
    uint64_t t0, t1, t2, t3, t4, lo, hi, z;
    asm("movq %[b0], %%rdx\n\t"
        "mulxq %[a0], %[t0], %[t1]\n\t"
        "mulxq %[a1], %[lo], %[t2]\n\t" "addq %[lo], %[t1]\n\t"
        "mulxq %[a2], %[lo], %[t3]\n\t" "adcq %[lo], %[t2]\n\t"
        "mulxq %[a3], %[lo], %[t4]\n\t" "adcq %[lo], %[t3]\n\t"
        "adcq $0, %[t4]\n\t"
        ZK_MUL_REDUCE("t0", "t1", "t2", "t3", "t4")
        ZK_MUL_ROUND("b1", "t1", "t2", "t3", "t4", "t0")
        ZK_MUL_REDUCE("t1", "t2", "t3", "t4", "t0")
        ZK_MUL_ROUND("b2", "t2", "t3", "t4", "t0", "t1")
        ZK_MUL_REDUCE("t2", "t3", "t4", "t0", "t1")
        ZK_MUL_ROUND("b3", "t3", "t4", "t0", "t1", "t2")
        ZK_MUL_REDUCE("t3", "t4", "t0", "t1", "t2")
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
          [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
        : [a0] "m"(a.v[0]), [a1] "m"(a.v[1]), [a2] "m"(a.v[2]), [a3] "m"(a.v[3]),
          [b0] "m"(w.v[0]), [b1] "m"(w.v[1]), [b2] "m"(w.v[2]), [b3] "m"(w.v[3]),
          [p0] "m"(kMont.p[0]), [p1] "m"(kMont.p[1]), [p2] "m"(kMont.p[2]), [p3] "m"(kMont.p[3]),
          [inv] "m"(kMont.inv)
        : "rdx", "cc");
    return Fr{{t4, t0, t1, t2}};
  }

  // a + b, minus 2p unless that borrows.
  static inline __attribute__((always_inline)) Fr add(const Fr& a, const Fr& b) {
    uint64_t t0 = a.v[0], t1 = a.v[1], t2 = a.v[2], t3 = a.v[3], s0, s1, s2, s3;
    asm("addq %[b0], %[t0]\n\t" "adcq %[b1], %[t1]\n\t" "adcq %[b2], %[t2]\n\t" "adcq %[b3], %[t3]\n\t"
        "movq %[t0], %[s0]\n\t" "movq %[t1], %[s1]\n\t" "movq %[t2], %[s2]\n\t" "movq %[t3], %[s3]\n\t"
        "subq %[m0], %[s0]\n\t" "sbbq %[m1], %[s1]\n\t" "sbbq %[m2], %[s2]\n\t" "sbbq %[m3], %[s3]\n\t"
        "cmovncq %[s0], %[t0]\n\t" "cmovncq %[s1], %[t1]\n\t" "cmovncq %[s2], %[t2]\n\t" "cmovncq %[s3], %[t3]\n\t"
        : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3),
          [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
        : [b0] "m"(b.v[0]), [b1] "m"(b.v[1]), [b2] "m"(b.v[2]), [b3] "m"(b.v[3]),
          [m0] "m"(kMont.p2[0]), [m1] "m"(kMont.p2[1]), [m2] "m"(kMont.p2[2]), [m3] "m"(kMont.p2[3])
        : "cc");
    return Fr{{t0, t1, t2, t3}};
  }

  // a - b, plus 2p where that borrowed (masked add, no branch).
  static inline __attribute__((always_inline)) Fr sub(const Fr& a, const Fr& b) {
    uint64_t t0 = a.v[0], t1 = a.v[1], t2 = a.v[2], t3 = a.v[3], k, s0, s1, s2, s3;
    asm("subq %[b0], %[t0]\n\t" "sbbq %[b1], %[t1]\n\t" "sbbq %[b2], %[t2]\n\t" "sbbq %[b3], %[t3]\n\t"
        "sbbq %[k], %[k]\n\t"
        "movq %[k], %[s0]\n\t" "andq %[m0], %[s0]\n\t"
        "movq %[k], %[s1]\n\t" "andq %[m1], %[s1]\n\t"
        "movq %[k], %[s2]\n\t" "andq %[m2], %[s2]\n\t"
        "movq %[k], %[s3]\n\t" "andq %[m3], %[s3]\n\t"
        "addq %[s0], %[t0]\n\t" "adcq %[s1], %[t1]\n\t" "adcq %[s2], %[t2]\n\t" "adcq %[s3], %[t3]\n\t"
        : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3), [k] "=&r"(k),
          [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
        : [b0] "m"(b.v[0]), [b1] "m"(b.v[1]), [b2] "m"(b.v[2]), [b3] "m"(b.v[3]),
          [m0] "m"(kMont.p2[0]), [m1] "m"(kMont.p2[1]), [m2] "m"(kMont.p2[2]), [m3] "m"(kMont.p2[3])
        : "cc");
    return Fr{{t0, t1, t2, t3}};
  }

  // (a + 2p) - b: never negative for a, b < 2p, so no correction at all.
  static inline __attribute__((always_inline)) Fr sub_lazy(const Fr& a, const Fr& b) {
    uint64_t t0 = a.v[0], t1 = a.v[1], t2 = a.v[2], t3 = a.v[3];
    asm("addq %[m0], %[t0]\n\t" "adcq %[m1], %[t1]\n\t" "adcq %[m2], %[t2]\n\t" "adcq %[m3], %[t3]\n\t"
        "subq %[b0], %[t0]\n\t" "sbbq %[b1], %[t1]\n\t" "sbbq %[b2], %[t2]\n\t" "sbbq %[b3], %[t3]\n\t"
        : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3)
        : [b0] "m"(b.v[0]), [b1] "m"(b.v[1]), [b2] "m"(b.v[2]), [b3] "m"(b.v[3]),
          [m0] "m"(kMont.p2[0]), [m1] "m"(kMont.p2[1]), [m2] "m"(kMont.p2[2]), [m3] "m"(kMont.p2[3])
        : "cc");
    return Fr{{t0, t1, t2, t3}};
  }

  // p - a for a non-zero canonical a.
  static inline __attribute__((always_inline)) Fr neg(const Fr& a) {
    uint64_t t0 = kMont.p[0], t1 = kMont.p[1], t2 = kMont.p[2], t3 = kMont.p[3];
    asm("subq %[a0], %[t0]\n\t" "sbbq %[a1], %[t1]\n\t" "sbbq %[a2], %[t2]\n\t" "sbbq %[a3], %[t3]\n\t"
        : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3)
        : [a0] "m"(a.v[0]), [a1] "m"(a.v[1]), [a2] "m"(a.v[2]), [a3] "m"(a.v[3])
        : "cc");
    return Fr{{t0, t1, t2, t3}};
  }

  // a - p unless that borrows.
  static inline __attribute__((always_inline)) Fr reduce(const Fr& a) {
    uint64_t t0 = a.v[0], t1 = a.v[1], t2 = a.v[2], t3 = a.v[3], s0, s1, s2, s3;
    asm("movq %[t0], %[s0]\n\t" "movq %[t1], %[s1]\n\t" "movq %[t2], %[s2]\n\t" "movq %[t3], %[s3]\n\t"
        "subq %[m0], %[s0]\n\t" "sbbq %[m1], %[s1]\n\t" "sbbq %[m2], %[s2]\n\t" "sbbq %[m3], %[s3]\n\t"
        "cmovncq %[s0], %[t0]\n\t" "cmovncq %[s1], %[t1]\n\t" "cmovncq %[s2], %[t2]\n\t" "cmovncq %[s3], %[t3]\n\t"
        : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3),
          [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
        : [m0] "m"(kMont.p[0]), [m1] "m"(kMont.p[1]), [m2] "m"(kMont.p[2]), [m3] "m"(kMont.p[3])
        : "cc");
    return Fr{{t0, t1, t2, t3}};
  }
};
#undef ZK_MUL_ROUND
#undef ZK_MUL_REDUCE

bool cpu_has_adx() {
  static const bool has = __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
  return has;
}
#endif

// ---- index helpers ---------------------------------------------------------------------------
uint64_t bit_reverse(uint64_t v, unsigned bits) {
  if (bits == 0) return 0;
  v = __builtin_bswap64(v);
  v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
  v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
  v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
  return v >> (64 - bits);
}

unsigned ceil_log2(unsigned x) { return x <= 1 ? 0 : 32 - (unsigned)std::countl_zero(x - 1); }

// What the first column pass folds in: every element of column j is multiplied by
// scale * g^j (g = 1 without a coset), and row m by G^m = g^(S*m) before the transform.
struct FirstLevel {
  Fr scale = Fr::one();
  bool coset = false;
  Fr g = Fr::one();
  const Fr* row_pow = nullptr;  // G^m for m < R when coset
};

// One transform's fixed inputs: stage twiddles and level roots for its direction, and how
// sizes split (rows up to 2^row_log are plain radix-2; columns at most 2^col_log points).
struct Pass {
  const Fr* tw;
  const Fr* roots;  // roots[k]: primitive 2^k-th root of unity (inverse for the inverse NTT)
  unsigned row_log, col_log;
};

template <class A>
struct Kernels {
  // DIF butterflies: (u, v) -> (u + v, (u - v) * w); the w = 1 form skips the product.
  static inline __attribute__((always_inline)) void bf(Fr& u, Fr& v, const Fr& w) {
    Fr a = u, b = v;
    u = A::add(a, b);
    v = A::mul(A::sub_lazy(a, b), w);
  }
  static inline __attribute__((always_inline)) void bf1(Fr& u, Fr& v) {
    Fr a = u, b = v;
    u = A::add(a, b);
    v = A::sub(a, b);
  }

  // Radix-2 DIF on contiguous x[0, 2^L), bit-reversed output; tw is the per-stage table.
  static void base(Fr* x, unsigned L, const Fr* tw) {
    const size_t n = size_t{1} << L;
    for (size_t h = n >> 1; h >= 2; h >>= 1) {
      const Fr* w = tw + h - 1;
      for (size_t s = 0; s < n; s += 2 * h) {
        Fr* lo = x + s;
        Fr* hi = lo + h;
        bf1(lo[0], hi[0]);
        for (size_t i = 1; i < h; ++i) bf(lo[i], hi[i], w[i]);
      }
    }
    if (n >= 2)
      for (size_t s = 0; s < n; s += 2) bf1(x[s], x[s + 1]);
  }

  // Columns [jb, je) of x viewed as R = 2^r rows of S: an R-point DIF down each column
  // (bit-reversed rows), then element (row p, column j) times first.scale * g^j * wn^(j*k)
  // with k = bitrev(p), wn the root of order R*S.
  static void columns(Fr* x, size_t S, unsigned r, size_t jb, size_t je, const Fr* tw, const Fr& wn,
                      const FirstLevel& first) {
    constexpr size_t J = kColumnBatch;
    const size_t R = size_t{1} << r, n = R * S;
    std::vector<uint32_t> rev(R);
    for (size_t k = 0; k < R; ++k) rev[k] = (uint32_t)bit_reverse(k, r);
    // wn^e for e < n: from the stage table of span n/2 when it exists (wn^(e + n/2) = -wn^e).
    const bool table = n <= (size_t{1} << kTableLog);
    const Fr* level = tw + n / 2 - 1;
    auto root = [&](size_t e) { return e < n / 2 ? level[e] : A::neg(level[e - n / 2]); };
    // The batch's R row pieces lie a power-of-two stride apart, so in place they would all
    // compete for the same few cache sets; the butterflies run on a contiguous copy instead.
    std::vector<Fr> buf(R * J);
    const bool plain = first.scale.is_one() && !first.coset;
    Fr wj = table ? Fr::one() : wn.pow(uint64_t(jb));  // wn^j, for the chains without a table
    Fr cj = first.scale;           // scale * g^j
    if (first.coset) cj = A::reduce(A::mul(cj, first.g.pow(uint64_t(jb))));
    for (size_t jc = jb; jc < je; jc += J) {
      const size_t jn = std::min(J, je - jc);
      for (size_t m = 0; m < R; ++m) {
        const Fr* src = x + m * S + jc;
        Fr* dst = buf.data() + m * J;
        if (first.coset && m > 0) {
          const Fr gm = first.row_pow[m];
          for (size_t j = 0; j < jn; ++j) dst[j] = A::mul(src[j], gm);
        } else {
          std::copy(src, src + jn, dst);
        }
      }
      for (size_t h = R >> 1; h >= 1; h >>= 1) {
        const Fr* w = tw + h - 1;
        for (size_t s = 0; s < R; s += 2 * h) {
          Fr* lo = buf.data() + s * J;
          Fr* hi = lo + h * J;
          for (size_t j = 0; j < jn; ++j) bf1(lo[j], hi[j]);
          for (size_t i = 1; i < h; ++i) {
            const Fr wi = w[i];
            Fr* l = lo + i * J;
            Fr* u = hi + i * J;
            for (size_t j = 0; j < jn; ++j) bf(l[j], u[j], wi);
          }
        }
      }
      // Twiddles t = scale * g^j * wn^(j*k) are left in [0, 2p): e, t < 2p keep e*t below 2p.
      for (size_t j = 0; j < jn; ++j) {
        Fr* c = buf.data() + j;
        if (!plain) c[0] = A::mul(c[0], cj);
        if (table) {
          const size_t col = jc + j;
          for (size_t k = 1; k < R; ++k) {
            Fr t = root(col * k);
            if (!plain) t = A::mul(t, cj);
            Fr& e = c[rev[k] * J];
            e = A::mul(e, t);
          }
        } else {
          Fr t = plain ? wj : A::mul(cj, wj);
          for (size_t k = 1; k < R; ++k) {
            if (k > 1) t = A::mul(t, wj);
            Fr& e = c[rev[k] * J];
            e = A::mul(e, t);
          }
          wj = A::reduce(A::mul(wj, wn));
        }
        if (first.coset) cj = A::reduce(A::mul(cj, first.g));
      }
      for (size_t m = 0; m < R; ++m) std::copy(buf.data() + m * J, buf.data() + m * J + jn, x + m * S + jc);
    }
  }

  static unsigned split(const Pass& ps, unsigned L) { return L > ps.row_log ? std::min(L - ps.row_log, ps.col_log) : 0; }

  // Single-threaded DIF of 2^L contiguous points (a row of an enclosing level).
  static void rec(Fr* x, unsigned L, const Pass& ps) {
    const unsigned r = split(ps, L);
    if (r == 0) {
      base(x, L, ps.tw);
      return;
    }
    const size_t S = size_t{1} << (L - r);
    columns(x, S, r, 0, S, ps.tw, ps.roots[L], FirstLevel{});
    for (size_t p = 0; p < (size_t{1} << r); ++p) rec(x + p * S, L - r, ps);
  }

  // In-place bit-reversal permutation of x[0, 2^L) that also brings every value to [0, p)
  // and, with ginv set, multiplies the value landing at i by ginv^i.
  static void finish(Fr* x, unsigned L, const Fr* ginv, unsigned threads) {
    const size_t n = size_t{1} << L;
    // ginv^i = hi[i >> s] * lo[i & (2^s - 1)]: two tables of about sqrt(n) entries.
    const unsigned s = L / 2;
    std::vector<Fr> lo, hi;
    if (ginv) {
      lo.resize(size_t{1} << s);
      hi.resize(size_t{1} << (L - s));
      lo[0] = hi[0] = Fr::one();
      for (size_t i = 1; i < lo.size(); ++i) lo[i] = lo[i - 1] * *ginv;
      const Fr step = ginv->pow(uint64_t(lo.size()));
      for (size_t i = 1; i < hi.size(); ++i) hi[i] = hi[i - 1] * step;
    }
    const size_t lo_mask = (size_t{1} << s) - 1;
    auto settle = [&](size_t i) {
      if (ginv) {
        const Fr f = A::reduce(A::mul(hi[i >> s], lo[i & lo_mask]));
        x[i] = A::reduce(A::mul(x[i], f));
      } else {
        x[i] = A::reduce(x[i]);
      }
    };
    auto pair = [&](size_t i, size_t ri) {
      if (ri != i) {
        std::swap(x[i], x[ri]);
        settle(ri);
      }
      settle(i);
    };
    if (L <= 2 * kTileLog) {
      for (size_t i = 0; i < n; ++i) {
        size_t ri = bit_reverse(i, L);
        if (i <= ri) pair(i, ri);
      }
      return;
    }
    // i = (a, m, c) with a, c of kTileLog bits: bitrev(i) = (rev c, rev m, rev a). The tiles
    // with middles m and rev(m) trade places whole (rows of one against columns of the other),
    // handled by whichever middle is smaller; a tile with m = rev(m) swaps within itself.
    const unsigned t = kTileLog, M = L - 2 * t;
    const size_t T = size_t{1} << t;
    std::array<uint32_t, (size_t{1} << kTileLog)> rt;
    for (size_t a = 0; a < T; ++a) rt[a] = (uint32_t)bit_reverse(a, t);
    parallel_chunks(size_t{1} << M, threads, [&](size_t mb, size_t me, unsigned) {
      for (size_t m = mb; m < me; ++m) {
        const size_t mr = bit_reverse(m, M);
        if (mr < m) continue;
        for (size_t a = 0; a < T; ++a)
          for (size_t c = 0; c < T; ++c) {
            const size_t i = (a << (M + t)) | (m << t) | c;
            const size_t ri = (size_t(rt[c]) << (M + t)) | (mr << t) | rt[a];
            if (m < mr || i <= ri) pair(i, ri);
          }
      }
    });
  }

  static void run(Fr* x, const Domain& d, const Pass& ps, const NttConfig& cfg) {
    const unsigned L = d.log_size;
    if (L == 0) return;  // one point: every transform is the identity
    unsigned threads = cfg.threads ? cfg.threads : default_threads();
    if (L < kMinParallelLog) threads = 1;

    // The first level is needed when rows would not fit, when threads need rows to share, and
    // when a coset multiply or the 1/n scale has to ride along.
    unsigned r = split(ps, L);
    if (threads > 1) r = std::max(r, std::min({ceil_log2(threads), L, ps.col_log}));
    if (r == 0 && (cfg.coset || cfg.inverse)) r = 1;

    if (r == 0) {
      base(x, L, ps.tw);
    } else {
      const size_t R = size_t{1} << r, S = size_t{1} << (L - r);
      FirstLevel first;
      std::vector<Fr> row_pow;
      if (cfg.inverse) first.scale = d.size_inv;
      if (cfg.coset && !cfg.inverse) {
        first.coset = true;
        first.g = cfg.coset_gen;
        row_pow.resize(R);
        row_pow[0] = Fr::one();
        const Fr G = cfg.coset_gen.pow(uint64_t(S));
        for (size_t m = 1; m < R; ++m) row_pow[m] = row_pow[m - 1] * G;
        first.row_pow = row_pow.data();
      }
      // Whole batches of columns per thread, so threads never write to one cache line.
      const size_t batches = (S + kColumnBatch - 1) / kColumnBatch;
      parallel_chunks(batches, threads, [&](size_t b, size_t e, unsigned) {
        columns(x, S, r, b * kColumnBatch, std::min(S, e * kColumnBatch), ps.tw, ps.roots[L], first);
      });
      parallel_chunks(R, threads, [&](size_t b, size_t e, unsigned) {
        for (size_t p = b; p < e; ++p) rec(x + p * S, L - r, ps);
      });
    }
    Fr ginv;
    if (cfg.coset && cfg.inverse) ginv = cfg.coset_gen.inverse();
    finish(x, L, cfg.coset && cfg.inverse ? &ginv : nullptr, threads);
  }
};

}  // namespace

NttPlan::NttPlan(unsigned log_n) : domain_(log_n) {
  const unsigned table_log = std::min(log_n, kTableLog);
  const size_t entries = (size_t{1} << table_log) - 1;
  stages_.fwd.resize(entries);
  stages_.inv.resize(entries);
  for (unsigned k = 1; k <= table_log; ++k) {
    const size_t h = size_t{1} << (k - 1);
    const Fr w = fr_root_of_unity(k), wi = w.inverse();
    Fr a = Fr::one(), b = Fr::one();
    for (size_t i = 0; i < h; ++i) {
      stages_.fwd[h - 1 + i] = a;
      stages_.inv[h - 1 + i] = b;
      a *= w;
      b *= wi;
    }
  }
}

void NttPlan::run(Fr* data, const NttConfig& cfg) const {
  if (cfg.coset && cfg.coset_gen.is_zero()) throw std::invalid_argument("NTT coset generator must not be zero");
  const unsigned L = domain_.log_size;
  std::array<Fr, kFrMaxLogDomain + 1> roots;
  roots[L] = cfg.inverse ? domain_.omega_inv : domain_.omega;
  for (unsigned k = L; k-- > 0;) roots[k] = roots[k + 1].sqr();
  auto clamp = [](unsigned v, unsigned dflt) { return v == 0 ? dflt : std::min(v, kTableLog); };
  const Pass ps{cfg.inverse ? stages_.inv.data() : stages_.fwd.data(), roots.data(), clamp(cfg.row_log, kBaseLog),
                clamp(cfg.column_log, kMaxColumnLog)};
#if defined(__x86_64__)
  if (!cfg.portable && cpu_has_adx()) {
    Kernels<AdxArith>::run(data, domain_, ps, cfg);
    return;
  }
#endif
  Kernels<PortableArith>::run(data, domain_, ps, cfg);
}

void NttPlan::forward(Fr* data, unsigned threads) const {
  NttConfig cfg;
  cfg.threads = threads;
  run(data, cfg);
}

void NttPlan::inverse(Fr* data, unsigned threads) const {
  NttConfig cfg;
  cfg.inverse = true;
  cfg.threads = threads;
  run(data, cfg);
}

void NttPlan::coset_forward(Fr* data, const Fr& g, unsigned threads) const {
  NttConfig cfg;
  cfg.coset = true;
  cfg.coset_gen = g;
  cfg.threads = threads;
  run(data, cfg);
}

void NttPlan::coset_inverse(Fr* data, const Fr& g, unsigned threads) const {
  NttConfig cfg;
  cfg.inverse = true;
  cfg.coset = true;
  cfg.coset_gen = g;
  cfg.threads = threads;
  run(data, cfg);
}

const NttPlan& ntt_plan(unsigned log_n) {
  if (log_n > kFrMaxLogDomain)
    throw std::invalid_argument("NTT of 2^" + std::to_string(log_n) + " points: Fr allows at most 2^" +
                                std::to_string(kFrMaxLogDomain));
  static std::mutex mu;
  static std::array<std::unique_ptr<NttPlan>, kFrMaxLogDomain + 1> plans;
  std::lock_guard<std::mutex> lock(mu);
  if (!plans[log_n]) plans[log_n] = std::make_unique<NttPlan>(log_n);
  return *plans[log_n];
}

void ntt(Fr* data, size_t n, const NttConfig& cfg) {
  if (n == 0 || (n & (n - 1)) != 0)
    throw std::invalid_argument("NTT size " + std::to_string(n) + " is not a power of two");
  ntt_plan((unsigned)std::countr_zero(n)).run(data, cfg);
}

}  // namespace zkinfer::cpu
