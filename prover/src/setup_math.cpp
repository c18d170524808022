#include "setup_math.h"

#include <algorithm>
#include <stdexcept>

#include "cpu/field_batch.h"
#include "cpu/msm_glv.h"
#include "cpu/parallel.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/csprng.h"

namespace zkinfer::prover::setup_detail {

// ---- secrets ----------------------------------------------------------------------------------

void wipe_bytes(void* p, size_t n) { secure_wipe(p, n); }

Fr random_nonzero_fr() {
  for (;;) {
    Fr x = secure_random_fr();
    if (!x.is_zero()) return x;
  }
}

namespace {

// ---- scalar digits ---------------------------------------------------------------------------

uint64_t bits_at(const U256& k, unsigned pos, unsigned w) {
  unsigned word = pos / 64, off = pos % 64;
  if (word >= 4) return 0;
  uint64_t v = k.w[word] >> off;
  if (off + w > 64 && word + 1 < 4) v |= k.w[word + 1] << (64 - off);
  return v & ((uint64_t{1} << w) - 1);
}

// Width-w NAF of a non-negative integer below 2^255, least significant digit first; returns the
// number of digits (at most 256).
int wnaf(U256 k, unsigned w, int8_t* digits) {
  const int64_t mod = int64_t{1} << w, half = mod / 2;
  int len = 0;
  while (!k.is_zero()) {
    int64_t d = 0;
    if (k.w[0] & 1) {
      d = (int64_t)(k.w[0] & (uint64_t)(mod - 1));
      if (d >= half) d -= mod;
      uint64_t c = 0;
      k = d > 0 ? u256::sub(k, u256::from_u64((uint64_t)d), c) : u256::add(k, u256::from_u64((uint64_t)-d), c);
    }
    digits[len++] = (int8_t)d;
    k = u256::shr(k, 1);
  }
  return len;
}

U256 from_u128(u128 v) { return U256{{(uint64_t)v, (uint64_t)(v >> 64), 0, 0}}; }

template <class C>
void odd_multiples(const Jacobian<C>& p, Jacobian<C>* t, int count) {
  t[0] = p;
  if (count == 1) return;
  Jacobian<C> p2 = p.dbl();
  for (int i = 1; i < count; ++i) t[i] = t[i - 1] + p2;
}

unsigned naf_width(unsigned bits) { return bits <= 16 ? 3 : bits <= 96 ? 4 : 5; }

// The smaller of k and r - k, and whether it is r - k.
U256 signed_magnitude(const Fr& k, bool& neg) {
  U256 v = k.to_canonical();
  constexpr U256 half = Fr::P_MINUS_1_HALF;
  neg = u256::less(half, v);
  if (!neg) return v;
  uint64_t b = 0;
  return u256::sub(Fr::MOD, v, b);
}

}  // namespace

namespace {

// One signed scalar half of Straus's method: magnitude m applied to point p.
template <class C>
struct Half {
  Affine<C> p;
  U256 m;
};

// The terms as halves: k P with k's sign folded into P; on G1, scalars beyond 128 bits split
// by GLV into k1 P + k2 phi(P) with |k1|, |k2| < 2^127.
template <class C>
void to_halves(std::span<const Affine<C>> pts, std::span<const Fr> ks, std::vector<Half<C>>& out) {
  out.clear();
  for (size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].is_infinity()) continue;
    bool neg = false;
    U256 m = signed_magnitude(ks[i], neg);
    if (m.is_zero()) continue;
    if constexpr (std::is_same_v<C, G1Curve>) {
      if (m.bit_length() > 128) {
        constexpr Fq beta = Fq::from_canonical(bn254::kG1GlvBeta);
        cpu::GlvSplit s = cpu::glv_decompose(ks[i].to_canonical());
        const G1Affine& p = pts[i];
        out.push_back({s.k1.neg ? -p : p, from_u128(s.k1.mag)});
        out.push_back({{p.x * beta, s.k2.neg ? -p.y : p.y}, from_u128(s.k2.mag)});
        continue;
      }
    }
    out.push_back({neg ? -pts[i] : pts[i], m});
  }
}

// Straus's method: sum m_h p_h with one doubling chain for all halves, each half's width-w NAF
// digits added from a table of its odd multiples.
template <class C>
Jacobian<C> straus(const std::vector<Half<C>>& hs) {
  if (hs.empty()) return Jacobian<C>::infinity();
  if (hs.size() == 1 && hs[0].m.bit_length() == 1) return Jacobian<C>::from_affine(hs[0].p);
  thread_local std::vector<int8_t> digits;
  thread_local std::vector<int> len, table_at;
  thread_local std::vector<Jacobian<C>> table;
  const size_t n = hs.size();
  digits.resize(n * 260);
  len.resize(n);
  table_at.resize(n);
  table.clear();
  int top = 0;
  for (size_t h = 0; h < n; ++h) {
    unsigned w = naf_width(hs[h].m.bit_length());
    len[h] = wnaf(hs[h].m, w, digits.data() + h * 260);
    top = std::max(top, len[h]);
    table_at[h] = (int)table.size();
    table.resize(table.size() + (size_t{1} << (w - 2)));
    odd_multiples(Jacobian<C>::from_affine(hs[h].p), table.data() + table_at[h], 1 << (w - 2));
  }
  Jacobian<C> acc = Jacobian<C>::infinity();
  for (int i = top - 1; i >= 0; --i) {
    acc = acc.dbl();
    for (size_t h = 0; h < n; ++h) {
      if (i >= len[h]) continue;
      int d = digits[h * 260 + i];
      if (d > 0) acc += table[table_at[h] + d / 2];
      else if (d < 0) acc += -table[table_at[h] + (-d) / 2];
    }
  }
  return acc;
}

template <class C>
Jacobian<C> lincomb_impl(std::span<const Affine<C>> pts, std::span<const Fr> ks) {
  if (pts.size() != ks.size()) throw std::logic_error("lincomb: sizes differ");
  thread_local std::vector<Half<C>> hs;
  to_halves<C>(pts, ks, hs);
  return straus<C>(hs);
}

}  // namespace

Jacobian<G1Curve> lincomb(std::span<const G1Affine> pts, std::span<const Fr> ks) {
  return lincomb_impl<G1Curve>(pts, ks);
}
Jacobian<G2Curve> lincomb(std::span<const G2Affine> pts, std::span<const Fr> ks) {
  return lincomb_impl<G2Curve>(pts, ks);
}
Jacobian<G1Curve> mul_var(const G1Affine& p, const Fr& k) { return lincomb({&p, 1}, {&k, 1}); }
Jacobian<G2Curve> mul_var(const G2Affine& p, const Fr& k) { return lincomb({&p, 1}, {&k, 1}); }

// ---- affine conversion -----------------------------------------------------------------------

template <class C>
void to_affine(std::span<const Jacobian<C>> in, std::span<Affine<C>> out) {
  if (in.size() != out.size()) throw std::logic_error("to_affine: sizes differ");
  constexpr size_t kChunk = 4096;
  size_t chunks = (in.size() + kChunk - 1) / kChunk;
  cpu::parallel_for(chunks, [&](size_t b, size_t e) {
    std::vector<typename C::Field> scratch(kChunk);
    for (size_t c = b; c < e; ++c) {
      size_t first = c * kChunk, n = std::min(kChunk, in.size() - first);
      batch_to_affine(in.data() + first, out.data() + first, n, scratch.data());
    }
  });
}
template void to_affine<G1Curve>(std::span<const G1Jacobian>, std::span<G1Affine>);
template void to_affine<G2Curve>(std::span<const G2Jacobian>, std::span<G2Affine>);

// ---- fixed base ------------------------------------------------------------------------------

namespace {

constexpr unsigned kScalarBits = 254;  // Fr < 2^254
constexpr size_t kMaxTableBytes = size_t{24} << 20;

unsigned windows_for(unsigned w) { return (kScalarBits + 1 + w - 1) / w; }

// x[i] <- 1/x[i] for non-zero x, one inversion: Montgomery's trick as four interleaved chains
// of products, so that consecutive multiplications do not wait for each other.
template <class F>
void batch_inverse(F* x, F* scratch, size_t m) {
  if (m == 0) return;
  F acc[4] = {F::one(), F::one(), F::one(), F::one()};
  for (size_t i = 0; i < m; ++i) {
    scratch[i] = acc[i & 3];
    acc[i & 3] *= x[i];
  }
  F p01 = acc[0] * acc[1], p23 = acc[2] * acc[3];
  F all = (p01 * p23).inverse();
  F inv[4] = {all * p23 * acc[1], all * p23 * acc[0], all * p01 * acc[3], all * p01 * acc[2]};
  for (size_t i = m; i-- > 0;) {
    F t = inv[i & 3] * scratch[i];
    inv[i & 3] *= x[i];
    x[i] = t;
  }
}

}  // namespace

template <class C>
FixedBase<C>::FixedBase(const Affine<C>& base, size_t expected_scalars) {
  // Cost in batch-affine additions (about 6 multiplications): one per window per scalar, plus
  // building the table (a Jacobian addition and a share of the affine conversion per entry,
  // about 3 of those).
  double best = 0;
  for (unsigned w = 2; w <= 16; ++w) {
    size_t entries = (size_t)windows_for(w) << (w - 1);
    if (w > 2 && entries * sizeof(Affine<C>) > kMaxTableBytes) break;
    double cost = (double)expected_scalars * windows_for(w) + 3.0 * (double)entries;
    if (w == 2 || cost < best) {
      best = cost;
      w_ = w;
    }
  }
  windows_ = windows_for(w_);
  per_window_ = size_t{1} << (w_ - 1);
  table_.resize(windows_ * per_window_);
  if (base.is_infinity()) return;  // every entry stays the point at infinity

  // Window bases 2^(w j) * base, then each window's multiples by successive additions.
  std::vector<Jacobian<C>> wb(windows_);
  wb[0] = Jacobian<C>::from_affine(base);
  for (unsigned j = 1; j < windows_; ++j) {
    Jacobian<C> t = wb[j - 1];
    for (unsigned i = 0; i < w_; ++i) t = t.dbl();
    wb[j] = t;
  }
  std::vector<Affine<C>> wba(windows_);
  to_affine<C>(wb, wba);
  cpu::parallel_for(windows_, [&](size_t b, size_t e) {
    std::vector<Jacobian<C>> jac(per_window_);
    std::vector<typename C::Field> scratch(per_window_);
    for (size_t j = b; j < e; ++j) {
      jac[0] = Jacobian<C>::from_affine(wba[j]);
      for (size_t d = 1; d < per_window_; ++d) jac[d] = jac[d - 1].add_affine(wba[j]);
      batch_to_affine(jac.data(), table_.data() + j * per_window_, per_window_, scratch.data());
    }
  });
}

template <class C>
void FixedBase<C>::mul(std::span<const Fr> scalars, std::span<Affine<C>> out) const {
  using F = typename C::Field;
  if (scalars.size() != out.size()) throw std::logic_error("FixedBase::mul: sizes differ");
  // Batch-affine accumulation: the scalars of a batch go through the windows together, and
  // the additions of one window share one field inversion (Montgomery's trick), so an addition
  // costs about 6 multiplications instead of the 10 of a mixed XYZZ addition.
  // Up to 2048 scalars a batch: one inversion (about 380 products) per window per batch is then
  // under 3% of the work; fewer when that would leave a core without a batch.
  const size_t threads = cpu::default_threads();
  const size_t kBatch = std::clamp<size_t>((scalars.size() + threads - 1) / threads, 64, 2048);
  const size_t batches = (scalars.size() + kBatch - 1) / kBatch;
  const int64_t half = int64_t{1} << (w_ - 1), full = int64_t{1} << w_;
  cpu::parallel_for(batches, [&](size_t b, size_t e) {
    std::vector<int32_t> digits(kBatch * windows_);
    std::vector<uint8_t> finite(kBatch);
    std::vector<F> prefix(kBatch), dx(kBatch), lam(kBatch);
    std::vector<Affine<C>> add(kBatch);
    std::vector<uint32_t> pending(kBatch);
    for (size_t bi = b; bi < e; ++bi) {
      const size_t first = bi * kBatch, n = std::min(kBatch, scalars.size() - first);
      Affine<C>* acc = out.data() + first;
      for (size_t i = 0; i < n; ++i) {
        U256 k = scalars[first + i].to_canonical();
        int64_t carry = 0;
        for (unsigned j = 0; j < windows_; ++j) {
          int64_t v = (int64_t)bits_at(k, j * w_, w_) + carry;
          carry = v > half;
          if (carry) v -= full;
          digits[i * windows_ + j] = (int32_t)v;
        }
        wipe(k);
        finite[i] = 0;
        acc[i] = Affine<C>::infinity();
      }
      for (unsigned j = 0; j < windows_; ++j) {
        const Affine<C>* tab = table_.data() + j * per_window_;
        size_t m = 0;
        for (size_t i = 0; i < n; ++i) {
          int32_t d = digits[i * windows_ + j];
          if (d == 0) continue;
          Affine<C> p = d > 0 ? tab[d - 1] : -tab[-d - 1];
          if (!finite[i]) {
            acc[i] = p;
            finite[i] = !p.is_infinity();
          } else if (acc[i].x == p.x) {
            // acc = +-p: a doubling or the point at infinity (rare; not batched).
            Affine<C> r = Jacobian<C>::from_affine(acc[i]).add_affine(p).to_affine();
            acc[i] = r;
            finite[i] = !r.is_infinity();
          } else {
            add[m] = p;
            pending[m] = (uint32_t)i;
            dx[m] = p.x - acc[i].x;
            ++m;
          }
        }
        batch_inverse(dx.data(), prefix.data(), m);
        if constexpr (std::is_same_v<F, Fq>) {
          // The independent products in AVX-512 IFMA lanes where the CPU has them (field_batch.h).
          F* num = prefix.data();  // free again after the inversion
          for (size_t t = 0; t < m; ++t) num[t] = add[t].y - acc[pending[t]].y;
          cpu::mul_batch(lam.data(), num, dx.data(), m);  // lambda = dy / dx
          cpu::mul_batch(num, lam.data(), lam.data(), m);  // lambda^2
          for (size_t t = 0; t < m; ++t) {
            Affine<C>& a = acc[pending[t]];
            F x3 = num[t] - a.x - add[t].x;
            dx[t] = a.x - x3;
            a.x = x3;
          }
          cpu::mul_batch(dx.data(), lam.data(), dx.data(), m);
          for (size_t t = 0; t < m; ++t) {
            Affine<C>& a = acc[pending[t]];
            a.y = dx[t] - a.y;
          }
        } else {
          for (size_t t = 0; t < m; ++t) {
            Affine<C>& a = acc[pending[t]];
            const Affine<C>& p = add[t];
            F lambda = (p.y - a.y) * dx[t];
            F x3 = lambda.sqr() - a.x - p.x;
            a.y = lambda * (a.x - x3) - a.y;
            a.x = x3;
          }
        }
      }
      for (size_t i = 0; i < n; ++i)
        if (!finite[i]) acc[i] = Affine<C>::infinity();
      wipe(digits);
    }
  });
}

template class FixedBase<G1Curve>;
template class FixedBase<G2Curve>;

// ---- field -----------------------------------------------------------------------------------

void geometric(const Fr& start, const Fr& ratio, std::span<Fr> out) {
  cpu::parallel_for(out.size(), [&](size_t b, size_t e) {
    Fr x = start * ratio.pow((uint64_t)b);
    for (size_t i = b; i < e; ++i) {
      out[i] = x;
      x *= ratio;
    }
    wipe(x);
  });
}

void lagrange_values(unsigned log_n, const Fr& tau, size_t first, std::span<Fr> out,
                     bool drop_last_power) {
  const uint64_t n = uint64_t{1} << log_n;
  const Fr w = fr_root_of_unity(log_n);
  const Fr n_inv = Fr::from_u64(n).inverse();
  Fr tau_n = tau.pow(n);
  if (tau_n == Fr::one()) throw std::invalid_argument("lagrange_values: tau lies in the domain");
  Fr c = (tau_n - Fr::one()) * n_inv;
  Fr last = drop_last_power ? tau.pow(n - 1) * n_inv : Fr::zero();
  cpu::parallel_for(out.size(), [&](size_t b, size_t e) {
    size_t m = e - b;
    std::vector<Fr> wi(m), prefix(m);
    Fr x = w.pow((uint64_t)(first + b));
    Fr acc = Fr::one();
    for (size_t i = 0; i < m; ++i) {
      wi[i] = x;
      prefix[i] = acc;
      acc *= tau - x;
      x *= w;
    }
    Fr inv = acc.inverse();
    for (size_t i = m; i-- > 0;) {
      Fr d = tau - wi[i];
      Fr di = inv * prefix[i];
      inv *= d;
      out[b + i] = c * wi[i] * di - last * wi[i];
    }
    wipe(prefix);
    wipe(acc);
    wipe(inv);
  });
  wipe(tau_n);
  wipe(c);
  wipe(last);
}

}  // namespace zkinfer::prover::setup_detail
