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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "parallel.h"

namespace zkinfer::cpu {
namespace {

// ---- tuning (measured on the 2-core AMD EPYC dev machine, 1 MiB L2 per core) ----------------
// Rows up to 2^kBaseLog points run as plain radix-2 stages; 2^13 points (256 KiB, 320 KiB in
// the vector layout) plus their twiddles stay in L2. 12..14 measured within noise of each other.
constexpr unsigned kBaseLog = 13;
// Largest column transform R = 2^kMaxColumnLog: R * kColumnBatch elements stay cache-resident.
constexpr unsigned kMaxColumnLog = 10;
// Adjacent columns transformed together: 8 elements = 256 bytes = 4 whole cache lines per row,
// and exactly the 8 lanes of one AVX-512 vector.
constexpr size_t kColumnBatch = 8;
// Below 2^kMinParallelLog points starting threads costs more than it saves (three parallel
// regions of about 22 us thread start-up each). Two threads against one, vector kernels:
// 2^12 260 vs 220 us, 2^13 395 vs 452 us, 2^14 570 vs 770 us.
constexpr unsigned kMinParallelLog = 13;
// Bit reversal swaps 2^kTileLog x 2^kTileLog tiles so both sides touch whole cache lines.
constexpr unsigned kTileLog = 3;
// Stage tables cover spans up to 2^(kTableLog-1): a level of up to 2^kTableLog points reads
// every twiddle from them instead of multiplying its way along the column.
constexpr unsigned kTableLog = 14;
static_assert(kTableLog >= kBaseLog && kTableLog >= kMaxColumnLog);

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
  bool plain() const { return scale.is_one() && !coset; }
};

// One transform's fixed inputs: twiddle tables and level roots for its direction, and how
// sizes split (rows up to 2^row_log are plain radix-2; columns at most 2^col_log points).
struct Pass {
  const Fr* tw;         // stage table (NttPlan::Tables)
  const uint64_t* vtw;  // the same twiddles in the vector layout, or null: scalar only
  const Fr* roots;      // roots[k]: primitive 2^k-th root of unity (inverse for the inverse NTT)
  unsigned row_log, col_log;
};

// One thread's working memory for sub-transforms of up to 2^L points: a column batch (scalar),
// or a row or column batch in the vector layout (5 words per element). Left uninitialized:
// small transforms would otherwise spend a good part of their time clearing it.
struct Scratch {
  std::unique_ptr<Fr[]> batch;
  std::unique_ptr<uint64_t[]> vec;
  Scratch(const Pass& ps, unsigned L)
      : batch(std::make_unique_for_overwrite<Fr[]>(kColumnBatch << std::min(L, ps.col_log))),
        vec(ps.vtw ? std::make_unique_for_overwrite<uint64_t[]>(
                         std::max(size_t{5} << std::min(L, ps.row_log),
                                  size_t{5} * kColumnBatch << std::min(L, ps.col_log)))
                   : nullptr) {}
};

// ---- scalar kernels: fp.h arithmetic, values in [0, p) ----------------------------------------

// DIF butterflies: (u, v) -> (u + v, (u - v) * w); the w = 1 form skips the product.
inline void bf(Fr& u, Fr& v, const Fr& w) {
  const Fr a = u, b = v;
  u = a + b;
  v = (a - b) * w;
}
inline void bf1(Fr& u, Fr& v) {
  const Fr a = u, b = v;
  u = a + b;
  v = a - b;
}

// Radix-2 DIF on contiguous x[0, 2^L), bit-reversed output; tw is the per-stage table.
void base_scalar(Fr* x, unsigned L, const Fr* tw) {
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
// with k = bitrev(p), wn the root of order R*S. buf holds R * kColumnBatch elements.
void columns_scalar(Fr* x, size_t S, unsigned r, size_t jb, size_t je, const Fr* tw, const Fr& wn,
                    const FirstLevel& first, Fr* buf) {
  constexpr size_t J = kColumnBatch;
  const size_t R = size_t{1} << r, n = R * S;
  std::vector<uint32_t> rev(R);
  for (size_t k = 0; k < R; ++k) rev[k] = (uint32_t)bit_reverse(k, r);
  // wn^e for e < n: from the stage table of span n/2 when it exists (wn^(e + n/2) = -wn^e).
  const bool table = n <= (size_t{1} << kTableLog);
  const Fr* level = table ? tw + n / 2 - 1 : nullptr;
  const bool plain = first.plain();
  Fr wj = table ? Fr::one() : wn.pow(uint64_t(jb));  // wn^j, for the chains without a table
  Fr cj = first.scale;                               // scale * g^j
  if (first.coset) cj *= first.g.pow(uint64_t(jb));
  for (size_t jc = jb; jc < je; jc += J) {
    const size_t jn = std::min(J, je - jc);
    // The batch's R row pieces lie a power-of-two stride apart, so in place they would all
    // compete for the same few cache sets; the butterflies run on a contiguous copy instead.
    for (size_t m = 0; m < R; ++m) {
      const Fr* src = x + m * S + jc;
      Fr* dst = buf + m * J;
      if (first.coset && m > 0) {
        for (size_t j = 0; j < jn; ++j) dst[j] = src[j] * first.row_pow[m];
      } else {
        std::copy(src, src + jn, dst);
      }
    }
    for (size_t h = R >> 1; h >= 1; h >>= 1) {
      const Fr* w = tw + h - 1;
      for (size_t s = 0; s < R; s += 2 * h) {
        Fr* lo = buf + s * J;
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
    for (size_t j = 0; j < jn; ++j) {
      Fr* c = buf + j;
      if (!plain) c[0] *= cj;
      if (table) {
        const size_t col = jc + j;
        for (size_t k = 1; k < R; ++k) {
          const size_t e = col * k;
          Fr t = e < n / 2 ? level[e] : -level[e - n / 2];
          if (!plain) t *= cj;
          c[rev[k] * J] *= t;
        }
      } else {
        Fr t = plain ? wj : cj * wj;
        for (size_t k = 1; k < R; ++k) {
          if (k > 1) t *= wj;
          c[rev[k] * J] *= t;
        }
        wj *= wn;
      }
      if (first.coset) cj *= first.g;
    }
    for (size_t m = 0; m < R; ++m) std::copy(buf + m * J, buf + m * J + jn, x + m * S + jc);
  }
}

// ---- AVX-512 IFMA kernels ----------------------------------------------------------------------
// Eight field elements at a time, each as five 52-bit limbs (value = sum l_j 2^(52 j)), one
// vector per limb. vpmadd52{lo,hi}uq give 8 Montgomery products in about 37 ns on Zen 4, 4.6 ns
// per product against 15 ns for the scalar MULX/ADX code: the butterflies run about 3x faster.
//
// The 52-bit Montgomery product computes a*b / 2^260. Data stay in fp.h's form (x * 2^256), so
// every twiddle is stored as w * 2^260 mod p: the product of the two is then x*w * 2^256, fp.h's
// form again, and conversions are pure bit repacking. Between butterflies values lie in
// [0, 2p) with normalized limbs (each below 2^52); vectors go back to memory in [0, p).
#if defined(__x86_64__)
#define ZK_IFMA __attribute__((target("avx512f,avx512ifma")))

namespace simd {

constexpr uint64_t kMask = (uint64_t{1} << 52) - 1;
constexpr size_t kVec = 40;  // uint64 words of one vector of 8 elements in memory (5 limbs x 8)

struct Limbs {
  uint64_t w[5];
};

constexpr Limbs to_limbs(const U256& a) {
  return Limbs{{a.w[0] & kMask, ((a.w[0] >> 52) | (a.w[1] << 12)) & kMask,
                ((a.w[1] >> 40) | (a.w[2] << 24)) & kMask,
                ((a.w[2] >> 28) | (a.w[3] << 36)) & kMask, a.w[3] >> 16}};
}
constexpr Limbs kP = to_limbs(Fr::MOD);
constexpr Limbs kP2 = [] {
  uint64_t c = 0;
  return to_limbs(u256::add(Fr::MOD, Fr::MOD, c));
}();
constexpr uint64_t kPinv = Fr::INV & kMask;  // -p^-1 mod 2^52

// w * 2^260 mod p in limbs: the second operand of the 52-bit product (see above).
Limbs twiddle_limbs(const Fr& w) { return to_limbs(w.dbl().dbl().dbl().dbl().mont()); }

// Writes lane `lane` of the vector at v (kVec words).
void put_lane(uint64_t* v, size_t lane, const Limbs& l) {
  for (int j = 0; j < 5; ++j) v[8 * j + lane] = l.w[j];
}

struct V5 {
  __m512i l[5];
};

ZK_IFMA inline V5 load(const uint64_t* s) {
  V5 v;
  for (int j = 0; j < 5; ++j) v.l[j] = _mm512_loadu_si512(s + 8 * j);
  return v;
}
ZK_IFMA inline void store(uint64_t* d, const V5& v) {
  for (int j = 0; j < 5; ++j) _mm512_storeu_si512(d + 8 * j, v.l[j]);
}
ZK_IFMA inline V5 splat(const Limbs& c) {
  V5 v;
  for (int j = 0; j < 5; ++j) v.l[j] = _mm512_set1_epi64((long long)c.w[j]);
  return v;
}
// Lane `lane` of the vector at s, in every lane.
ZK_IFMA inline V5 splat_lane(const uint64_t* s, size_t lane) {
  V5 v;
  for (int j = 0; j < 5; ++j) v.l[j] = _mm512_set1_epi64((long long)s[8 * j + lane]);
  return v;
}

// Carries limb j's excess (signed) into limb j+1; limbs 0..3 end in [0, 2^52).
ZK_IFMA inline void carry(V5& v) {
  const __m512i mask = _mm512_set1_epi64((long long)kMask);
  for (int j = 0; j < 4; ++j) {
    v.l[j + 1] = _mm512_add_epi64(v.l[j + 1], _mm512_srai_epi64(v.l[j], 52));
    v.l[j] = _mm512_and_si512(v.l[j], mask);
  }
}
// x - m where that is not negative, else x (x normalized).
ZK_IFMA inline V5 sub_if_ge(const V5& x, const Limbs& m) {
  V5 t;
  for (int j = 0; j < 5; ++j)
    t.l[j] = _mm512_sub_epi64(x.l[j], _mm512_set1_epi64((long long)m.w[j]));
  carry(t);
  const __mmask8 neg = _mm512_cmplt_epi64_mask(t.l[4], _mm512_setzero_si512());
  for (int j = 0; j < 5; ++j) t.l[j] = _mm512_mask_blend_epi64(neg, t.l[j], x.l[j]);
  return t;
}
// a + b in [0, 2p) for a, b in [0, 2p).
ZK_IFMA inline V5 add(const V5& a, const V5& b) {
  V5 r;
  for (int j = 0; j < 5; ++j) r.l[j] = _mm512_add_epi64(a.l[j], b.l[j]);
  carry(r);
  return sub_if_ge(r, kP2);
}
// a - b + 2p in (0, 4p) for a, b in [0, 2p): only as the left operand of mul.
ZK_IFMA inline V5 sub_lazy(const V5& a, const V5& b) {
  V5 r;
  for (int j = 0; j < 5; ++j)
    r.l[j] =
        _mm512_sub_epi64(_mm512_add_epi64(a.l[j], _mm512_set1_epi64((long long)kP2.w[j])), b.l[j]);
  carry(r);
  return r;
}
// a - b in [0, 2p) for a, b in [0, 2p).
ZK_IFMA inline V5 sub(const V5& a, const V5& b) { return sub_if_ge(sub_lazy(a, b), kP2); }

// a * b / 2^260 mod p, in [0, 2p) when a * b < p * 2^260 (a < 4p and b < 2p, say): operand
// scanning into 64-bit lane accumulators (52-bit partial products leave 12 bits of headroom),
// then five word-by-word Montgomery steps, then one carry pass.
ZK_IFMA inline V5 mul(const V5& a, const V5& b) {
  const __m512i zero = _mm512_setzero_si512();
  __m512i t[10];
  for (int k = 0; k < 10; ++k) t[k] = zero;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) {
      t[i + j] = _mm512_madd52lo_epu64(t[i + j], a.l[i], b.l[j]);
      t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a.l[i], b.l[j]);
    }
  const __m512i pinv = _mm512_set1_epi64((long long)kPinv);
  __m512i p[5];
  for (int j = 0; j < 5; ++j) p[j] = _mm512_set1_epi64((long long)kP.w[j]);
  for (int i = 0; i < 5; ++i) {
    // m = t_i * (-p^-1) mod 2^52 (the product reads only t_i's low 52 bits); t_i + m*p0 then
    // ends in 52 zero bits and only its carry moves on.
    const __m512i m = _mm512_madd52lo_epu64(zero, t[i], pinv);
    const __m512i c = _mm512_madd52lo_epu64(t[i], m, p[0]);
    t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64(c, 52));
    t[i + 1] = _mm512_madd52hi_epu64(t[i + 1], m, p[0]);
    for (int j = 1; j < 5; ++j) {
      t[i + j] = _mm512_madd52lo_epu64(t[i + j], m, p[j]);
      t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], m, p[j]);
    }
  }
  V5 r{{t[5], t[6], t[7], t[8], t[9]}};
  carry(r);
  return r;
}

// Eight consecutive elements <-> limb vectors: an 8x4 transpose of 64-bit words (two rounds
// of two-source permutes), then shifting the words into 52-bit limbs.
ZK_IFMA inline V5 from_fr(const Fr* x) {
  const __m512i i1 = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13),
                i2 = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i i3 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11),
                i4 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i z0 = _mm512_loadu_si512(x), z1 = _mm512_loadu_si512(x + 2),
                z2 = _mm512_loadu_si512(x + 4), z3 = _mm512_loadu_si512(x + 6);
  const __m512i t0 = _mm512_permutex2var_epi64(z0, i1, z1),
                t1 = _mm512_permutex2var_epi64(z0, i2, z1);
  const __m512i t2 = _mm512_permutex2var_epi64(z2, i1, z3),
                t3 = _mm512_permutex2var_epi64(z2, i2, z3);
  const __m512i w0 = _mm512_permutex2var_epi64(t0, i3, t2),
                w1 = _mm512_permutex2var_epi64(t0, i4, t2);
  const __m512i w2 = _mm512_permutex2var_epi64(t1, i3, t3),
                w3 = _mm512_permutex2var_epi64(t1, i4, t3);
  const __m512i mask = _mm512_set1_epi64((long long)kMask);
  V5 v;
  v.l[0] = _mm512_and_si512(w0, mask);
  v.l[1] =
      _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(w0, 52), _mm512_slli_epi64(w1, 12)), mask);
  v.l[2] =
      _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(w1, 40), _mm512_slli_epi64(w2, 24)), mask);
  v.l[3] =
      _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(w2, 28), _mm512_slli_epi64(w3, 36)), mask);
  v.l[4] = _mm512_srli_epi64(w3, 16);
  return v;
}
// Stores v (normalized, in [0, 2p)) as eight elements in [0, p).
ZK_IFMA inline void to_fr(Fr* x, const V5& in) {
  const V5 v = sub_if_ge(in, kP);
  const __m512i w0 = _mm512_or_si512(v.l[0], _mm512_slli_epi64(v.l[1], 52));
  const __m512i w1 = _mm512_or_si512(_mm512_srli_epi64(v.l[1], 12), _mm512_slli_epi64(v.l[2], 40));
  const __m512i w2 = _mm512_or_si512(_mm512_srli_epi64(v.l[2], 24), _mm512_slli_epi64(v.l[3], 28));
  const __m512i w3 = _mm512_or_si512(_mm512_srli_epi64(v.l[3], 36), _mm512_slli_epi64(v.l[4], 16));
  const __m512i i1 = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13),
                i2 = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i i3 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11),
                i4 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i t0 = _mm512_permutex2var_epi64(w0, i3, w1),
                t2 = _mm512_permutex2var_epi64(w0, i4, w1);
  const __m512i t1 = _mm512_permutex2var_epi64(w2, i3, w3),
                t3 = _mm512_permutex2var_epi64(w2, i4, w3);
  _mm512_storeu_si512(x, _mm512_permutex2var_epi64(t0, i1, t1));
  _mm512_storeu_si512(x + 2, _mm512_permutex2var_epi64(t0, i2, t1));
  _mm512_storeu_si512(x + 4, _mm512_permutex2var_epi64(t2, i1, t3));
  _mm512_storeu_si512(x + 6, _mm512_permutex2var_epi64(t2, i2, t3));
}

ZK_IFMA inline void permute(V5& x, V5& y, const V5& a, const V5& b, __m512i ix, __m512i iy) {
  for (int j = 0; j < 5; ++j) {
    x.l[j] = _mm512_permutex2var_epi64(a.l[j], ix, b.l[j]);
    y.l[j] = _mm512_permutex2var_epi64(a.l[j], iy, b.l[j]);
  }
}

// The last three stages (spans 4, 2, 1) of two adjacent vectors a, b: each span gathers the
// butterfly partners of both vectors into x (lower halves) and y (upper), one vector operation
// per step, and scatters them back. t4, t2: that span's twiddles, already laid out per lane.
ZK_IFMA inline void last_stages(V5& a, V5& b, const V5& t4, const V5& t2) {
  V5 x, y;
  // span 4: pairs (l, l+4); the gather is its own inverse.
  const __m512i g4x = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11),
                g4y = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  permute(x, y, a, b, g4x, g4y);
  V5 u = add(x, y), v = mul(sub_lazy(x, y), t4);
  permute(a, b, u, v, g4x, g4y);
  // span 2: pairs (l, l+2) for l in {0, 1, 4, 5}.
  permute(x, y, a, b, _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13),
          _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15));
  u = add(x, y);
  v = mul(sub_lazy(x, y), t2);
  permute(a, b, u, v, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11),
          _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15));
  // span 1: pairs (l, l+1), twiddle 1.
  permute(x, y, a, b, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14),
          _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15));
  u = add(x, y);
  v = sub(x, y);
  permute(a, b, u, v, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11),
          _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15));
}

// Vector twiddle table: span h < 8 has one vector whose lanes repeat w_2h^(lane mod h), span
// h >= 8 has h/8 vectors with lanes w_2h^i, i < h; all as w * 2^260 (see above).
size_t slot(size_t h) { return h < 8 ? (size_t)std::countr_zero(h) : h / 8 + 2; }
size_t slots(unsigned table_log) {
  return table_log == 0 ? 0
                        : slot(size_t{1} << (table_log - 1)) +
                              std::max<size_t>(1, (size_t{1} << (table_log - 1)) / 8);
}

std::vector<uint64_t> vector_table(const std::vector<Fr>& stages, unsigned table_log) {
  std::vector<uint64_t> v(slots(table_log) * kVec);
  for (unsigned k = 0; k < table_log; ++k) {
    const size_t h = size_t{1} << k;
    const Fr* w = stages.data() + h - 1;
    uint64_t* s = v.data() + slot(h) * kVec;
    if (h < 8) {
      for (size_t lane = 0; lane < 8; ++lane) put_lane(s, lane, twiddle_limbs(w[lane % h]));
    } else {
      for (size_t i = 0; i < h; ++i) put_lane(s + (i / 8) * kVec, i % 8, twiddle_limbs(w[i]));
    }
  }
  return v;
}

// base_scalar on vectors, for 16 <= 2^L points: rows go to the limb layout in buf (5 * 2^L
// words), spans >= 8 pair whole vectors, the last three spans work inside vector pairs.
ZK_IFMA void base(Fr* x, unsigned L, const uint64_t* vtw, uint64_t* buf) {
  const size_t groups = (size_t{1} << L) / 8;
  for (size_t g = 0; g < groups; ++g) store(buf + g * kVec, from_fr(x + 8 * g));
  for (size_t hv = groups / 2; hv >= 1; hv >>= 1) {  // span h = 8 * hv
    const uint64_t* tw = vtw + slot(8 * hv) * kVec;
    for (size_t s = 0; s < groups; s += 2 * hv)
      for (size_t i = 0; i < hv; ++i) {
        uint64_t* pa = buf + (s + i) * kVec;
        uint64_t* pb = pa + hv * kVec;
        const V5 a = load(pa), b = load(pb);
        store(pa, add(a, b));
        store(pb, mul(sub_lazy(a, b), load(tw + i * kVec)));
      }
  }
  const V5 t4 = load(vtw + slot(4) * kVec), t2 = load(vtw + slot(2) * kVec);
  for (size_t g = 0; g < groups; g += 2) {
    V5 a = load(buf + g * kVec), b = load(buf + (g + 1) * kVec);
    last_stages(a, b, t4, t2);
    to_fr(x + 8 * g, a);
    to_fr(x + 8 * g + 8, b);
  }
}

// columns_scalar for whole batches of 8 columns (S a multiple of 8): each row piece of a batch
// is one vector, so the column butterflies are vector operations with a broadcast twiddle.
// buf holds R vectors.
ZK_IFMA void columns(Fr* x, size_t S, unsigned r, size_t jb, size_t je, const uint64_t* vtw,
                     const Fr& wn, const FirstLevel& first, uint64_t* buf) {
  const size_t R = size_t{1} << r;
  std::vector<uint32_t> rev(R);
  for (size_t k = 0; k < R; ++k) rev[k] = (uint32_t)bit_reverse(k, r);
  std::vector<Limbs> row_pow;
  if (first.coset) {
    row_pow.resize(R);
    for (size_t m = 0; m < R; ++m) row_pow[m] = twiddle_limbs(first.row_pow[m]);
  }
  const bool plain = first.plain();
  // Lane d of wj holds wn^(j+d) and of cj scale * g^(j+d), for the batch starting at column j;
  // each batch moves them on by wn^8 and g^8.
  uint64_t init[2][kVec];
  {
    Fr w = wn.pow(uint64_t(jb)), c = first.scale;
    if (first.coset) c *= first.g.pow(uint64_t(jb));
    for (size_t d = 0; d < 8; ++d) {
      put_lane(init[0], d, twiddle_limbs(w));
      put_lane(init[1], d, twiddle_limbs(c));
      w *= wn;
      if (first.coset) c *= first.g;
    }
  }
  V5 wj = load(init[0]), cj = load(init[1]);
  const V5 wn8 = splat(twiddle_limbs(wn.pow(uint64_t{8})));
  const V5 g8 = splat(twiddle_limbs(first.g.pow(uint64_t{8})));
  for (size_t jc = jb; jc < je; jc += 8) {
    for (size_t m = 0; m < R; ++m) {
      V5 v = from_fr(x + m * S + jc);
      if (first.coset && m > 0) v = mul(v, splat(row_pow[m]));
      store(buf + m * kVec, v);
    }
    for (size_t h = R >> 1; h >= 1; h >>= 1) {
      const uint64_t* tw = vtw + slot(h) * kVec;
      for (size_t s = 0; s < R; s += 2 * h)
        for (size_t i = 0; i < h; ++i) {
          uint64_t* pa = buf + (s + i) * kVec;
          uint64_t* pb = pa + h * kVec;
          const V5 a = load(pa), b = load(pb);
          store(pa, add(a, b));
          if (i == 0)
            store(pb, sub(a, b));
          else
            store(pb, mul(sub_lazy(a, b), splat_lane(tw + (i / 8) * kVec, i % 8)));
        }
    }
    // Post-twiddles, all left in [0, 2p): products of two values below 2p stay below 2p.
    if (!plain) store(buf, mul(load(buf), cj));
    V5 t = plain ? wj : mul(cj, wj);
    for (size_t k = 1; k < R; ++k) {
      if (k > 1) t = mul(t, wj);
      uint64_t* pe = buf + rev[k] * kVec;
      store(pe, mul(load(pe), t));
    }
    for (size_t m = 0; m < R; ++m) to_fr(x + m * S + jc, load(buf + m * kVec));
    wj = mul(wj, wn8);
    if (first.coset) cj = mul(cj, g8);
  }
}

// x[i] *= c * g^i for i < n, n a multiple of 8: eight running powers, each step times g^8.
ZK_IFMA void scale_by_powers(Fr* x, size_t n, const Fr& c, const Fr& g) {
  uint64_t init[kVec];
  Fr f = c;
  for (size_t d = 0; d < 8; ++d, f *= g) put_lane(init, d, twiddle_limbs(f));
  V5 pw = load(init);
  const V5 g8 = splat(twiddle_limbs(g.pow(uint64_t{8})));
  for (size_t i = 0; i < n; i += 8) {
    to_fr(x + i, mul(from_fr(x + i), pw));
    pw = mul(pw, g8);
  }
}

}  // namespace simd

#endif

// ---- drivers ----------------------------------------------------------------------------------

void base(Fr* x, unsigned L, const Pass& ps, Scratch& scratch) {
#if defined(__x86_64__)
  if (ps.vtw && L >= 4) {
    simd::base(x, L, ps.vtw, scratch.vec.get());
    return;
  }
#endif
  base_scalar(x, L, ps.tw);
}

void columns(Fr* x, size_t S, unsigned r, size_t jb, size_t je, const Pass& ps, const Fr& wn,
             const FirstLevel& first, Scratch& scratch) {
#if defined(__x86_64__)
  if (ps.vtw && S % kColumnBatch == 0) {
    simd::columns(x, S, r, jb, je, ps.vtw, wn, first, scratch.vec.get());
    return;
  }
#endif
  columns_scalar(x, S, r, jb, je, ps.tw, wn, first, scratch.batch.get());
}

unsigned split(const Pass& ps, unsigned L) {
  return L > ps.row_log ? std::min(L - ps.row_log, ps.col_log) : 0;
}

// Single-threaded DIF of 2^L contiguous points (a row of an enclosing level).
void rec(Fr* x, unsigned L, const Pass& ps, Scratch& scratch) {
  const unsigned r = split(ps, L);
  if (r == 0) {
    base(x, L, ps, scratch);
    return;
  }
  const size_t S = size_t{1} << (L - r);
  columns(x, S, r, 0, S, ps, ps.roots[L], FirstLevel{}, scratch);
  for (size_t p = 0; p < (size_t{1} << r); ++p) rec(x + p * S, L - r, ps, scratch);
}

// In-place bit-reversal permutation of x[0, 2^L).
void bit_reverse_permute(Fr* x, unsigned L, unsigned threads) {
  const size_t n = size_t{1} << L;
  if (L <= 2 * kTileLog) {
    for (size_t i = 0; i < n; ++i) {
      const size_t ri = bit_reverse(i, L);
      if (i < ri) std::swap(x[i], x[ri]);
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
          if (m < mr || i < ri) std::swap(x[i], x[ri]);
        }
    }
  });
}

// x[i] *= g^i for i < n (the coset-inverse scaling), a running product per thread.
void scale_by_powers(Fr* x, size_t n, const Fr& g, const Pass& ps, unsigned threads) {
  const size_t groups = (n + kColumnBatch - 1) / kColumnBatch;
  parallel_chunks(groups, threads, [&](size_t b, size_t e, unsigned) {
    const size_t begin = b * kColumnBatch, end = std::min(n, e * kColumnBatch);
#if defined(__x86_64__)
    if (ps.vtw && n % 8 == 0) {
      simd::scale_by_powers(x + begin, end - begin, g.pow(uint64_t(begin)), g);
      return;
    }
#endif
    Fr f = g.pow(uint64_t(begin));
    for (size_t i = begin; i < end; ++i) {
      x[i] *= f;
      f *= g;
    }
  });
}

void transform(Fr* x, const Domain& d, const Pass& ps, const NttConfig& cfg) {
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
    Scratch scratch(ps, L);
    base(x, L, ps, scratch);
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
      Scratch scratch(ps, r);
      columns(x, S, r, b * kColumnBatch, std::min(S, e * kColumnBatch), ps, ps.roots[L], first,
              scratch);
    });
    parallel_chunks(R, threads, [&](size_t b, size_t e, unsigned) {
      Scratch scratch(ps, L - r);
      for (size_t p = b; p < e; ++p) rec(x + p * S, L - r, ps, scratch);
    });
  }
  bit_reverse_permute(x, L, threads);
  if (cfg.coset && cfg.inverse) scale_by_powers(x, d.size, cfg.coset_gen.inverse(), ps, threads);
}

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
#if ZKINFER_X86_64_HOST
  if (x86::cpu_has_avx512ifma()) {
    stages_.vfwd = simd::vector_table(stages_.fwd, table_log);
    stages_.vinv = simd::vector_table(stages_.inv, table_log);
  }
#endif
}

void NttPlan::run(Fr* data, const NttConfig& cfg) const {
  if (cfg.coset && cfg.coset_gen.is_zero())
    throw std::invalid_argument("NTT coset generator must not be zero");
  const unsigned L = domain_.log_size;
  std::array<Fr, kFrMaxLogDomain + 1> roots;
  roots[L] = cfg.inverse ? domain_.omega_inv : domain_.omega;
  for (unsigned k = L; k-- > 0;) roots[k] = roots[k + 1].sqr();
  auto clamp = [](unsigned v, unsigned dflt) { return v == 0 ? dflt : std::min(v, kTableLog); };
  const std::vector<uint64_t>& vtw = cfg.inverse ? stages_.vinv : stages_.vfwd;
  // ZKINFER_CPU_ISA below adx (portable or x86_64) keeps the NTT on fp.h's arithmetic too.
#if ZKINFER_X86_64_HOST
  const bool simd = cfg.simd && !vtw.empty() && x86::host_isa == HostIsa::adx;
#else
  const bool simd = false;
#endif
  const Pass ps{cfg.inverse ? stages_.inv.data() : stages_.fwd.data(), simd ? vtw.data() : nullptr,
                roots.data(), clamp(cfg.row_log, kBaseLog), clamp(cfg.column_log, kMaxColumnLog)};
  transform(data, domain_, ps, cfg);
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

bool ntt_has_simd() {
#if ZKINFER_X86_64_HOST
  return x86::cpu_has_avx512ifma() && x86::host_isa == HostIsa::adx;
#else
  return false;
#endif
}

const NttPlan& ntt_plan(unsigned log_n) {
  if (log_n > kFrMaxLogDomain)
    throw std::invalid_argument("NTT of 2^" + std::to_string(log_n) +
                                " points: Fr allows at most 2^" + std::to_string(kFrMaxLogDomain));
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
