// Pippenger MSM for the CPU backend; see msm.h for the method and msm_bench numbers in the
// comments next to each tuning constant (2-core AMD EPYC reference machine, Release build).
#include "msm.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "msm_glv.h"
#include "parallel.h"

namespace zkinfer::cpu {
namespace {

using Accumulation = MsmConfig::Accumulation;

// ---- signed digits -------------------------------------------------------------------------

constexpr unsigned kMaxWindowBits = 16;  // digits are stored as int16_t

// Number of c-bit windows for magnitudes <= max. The top window's value plus an incoming carry
// must stay below 2^(c-1), so the recoding below never carries out of the last window.
unsigned window_count(const U256& max, unsigned c) {
  for (unsigned w = 1;; ++w) {
    unsigned shift = c * (w - 1);
    if (shift >= 256) return w;
    U256 top = u256::shr(max, shift);
    if ((top.w[1] | top.w[2] | top.w[3]) == 0 && top.w[0] + 1 < (uint64_t{1} << (c - 1))) return w;
  }
}

// Signed c-bit digits of a magnitude (little-endian words), negated when `neg`, written to
// out[w * stride]; counts[w] is incremented for every non-zero digit. A window value v becomes
// v - 2^c with a carry into the next window when v >= 2^(c-1) (v > 2^(c-1) for a negated scalar),
// so after the negation every digit lies in [-2^(c-1), 2^(c-1) - 1]: it fits int16_t for c <= 16.
void write_digits(const uint64_t* mag, unsigned words, bool neg, unsigned c, unsigned windows,
                  int16_t* out, size_t stride, uint64_t* counts) {
  const uint64_t half = uint64_t{1} << (c - 1), full = uint64_t{1} << c, mask = full - 1;
  uint64_t carry = 0;
  for (unsigned w = 0; w < windows; ++w) {
    unsigned bit = w * c, word = bit / 64, off = bit % 64;
    uint64_t v = 0;
    if (word < words) {
      v = mag[word] >> off;
      if (off + c > 64 && word + 1 < words) v |= mag[word + 1] << (64 - off);
    }
    v = (v & mask) + carry;
    carry = neg ? v > half : v >= half;
    int64_t d = carry ? (int64_t)v - (int64_t)full : (int64_t)v;
    if (neg) d = -d;
    out[w * stride] = (int16_t)d;
    counts[w] += d != 0;
  }
}

// ---- point sources ---------------------------------------------------------------------------
// A source maps a virtual point index j to an affine point. With GLV, j = 2i is P_i and
// j = 2i + 1 is phi(P_i) = (beta x_i, y_i); only beta x_i is stored.

template <class C>
struct PlainPoints {
  const Affine<C>* p;
  Affine<C> load(size_t j) const { return p[j]; }
  const void* addr(size_t j) const { return p + j; }
};

struct GlvPoints {
  const G1Affine* p;
  const Fq* phix;
  G1Affine load(size_t j) const {
    size_t i = j >> 1;
    return {(j & 1) ? phix[i] : p[i].x, p[i].y};
  }
  const void* addr(size_t j) const { return p + (j >> 1); }
};

// ---- bucket accumulation ---------------------------------------------------------------------

// Independent affine additions per batch: the shared inversion (about 380 multiplications by
// Fermat) is spread over the batch. G1 2^18, c = 16, one thread, CPU time: 512: 1.73 s,
// 1536: 1.66 s, 2048: 1.65 s, 3072: 1.68 s.
constexpr size_t kBatch = 2048;
// With few buckets a large batch mostly collects conflicts: at most a quarter of the buckets.
constexpr size_t kMinBatchCap = 256;
// Conflicting updates (bucket already in the current batch) wait here for a later batch; beyond
// this many, they go to the bucket's XYZZ side sum instead (only heavily repeated digits, e.g.
// a witness full of ones, get there).
constexpr size_t kQueue = 2048;
// A batch smaller than this does not pay for its inversion: the leftovers of the last batches
// of a window are finished with XYZZ mixed additions (an inversion costs about 380
// multiplications; batch-affine saves about 4 per addition).
constexpr size_t kMinBatch = 96;

// A window task with fewer non-zero digits than this fills XYZZ buckets directly: its batches
// would be too small to amortise the inversions.
constexpr uint64_t kMinBatchAffineOps = 512;

enum : uint8_t { kFull = 1, kBusy = 2, kSide = 4 };

// Buckets are read at random: each must start a cache line, or an affine G1 bucket straddles two
// lines and the prefetch covers only one (measured: a fifth of the batch time was that miss).
constexpr size_t kLine = 64;
struct AlignedDelete {
  void operator()(void* p) const { ::operator delete[](p, std::align_val_t(kLine)); }
};
template <class T>
using AlignedArray = std::unique_ptr<T[], AlignedDelete>;
template <class T>
AlignedArray<T> aligned_array(size_t n) {
  static_assert(std::is_trivially_destructible_v<T>);
  return AlignedArray<T>(new (::operator new[](n * sizeof(T), std::align_val_t(kLine))) T[n]);
}
template <class T>
void prefetch_lines(const T* p) {
  for (size_t off = 0; off < sizeof(T); off += kLine) __builtin_prefetch((const char*)p + off);
}

template <class C>
class Buckets {
 public:
  using A = Affine<C>;
  using X = Xyzz<C>;
  using F = typename C::Field;

  explicit Buckets(unsigned nb)
      : nb_(nb), batch_(std::clamp<size_t>(nb / 4, kMinBatchCap, kBatch)), flags_(new uint8_t[nb]) {}

  // Sum of (d) * P_j over the non-zero digits of this window in [b, e), as sum_k k * bucket_k.
  template <class Src>
  X accumulate(const Src& src, const int16_t* digits, size_t b, size_t e, bool batch_affine) {
    std::memset(flags_.get(), 0, nb_);
    if (batch_affine) {
      if (!affine_) {
        affine_ = aligned_array<A>(nb_);
        ops_.reset(new Op[batch_]);
        scratch_.reset(new Scratch[batch_]);
        deferred_.reset(new Deferred[kQueue]);
      }
      for (size_t j = b; j < e; ++j) {
        int d = digits[j];
        if (d) add(src, j, d);
      }
      drain(src);
    } else {
      for (size_t j = b; j < e; ++j) {
        int d = digits[j];
        if (d) side_add(bucket_of(d), load(src, j, d));
      }
    }
    return reduce();
  }

 private:
  struct Op {
    A p;
    uint32_t k;
    uint8_t kind;
  };
  enum : uint8_t { kAdd, kDbl, kInf };
  // Montgomery's trick: the product of the denominators before this op, and its own.
  struct Scratch {
    F prefix, den;
  };
  struct Deferred {
    size_t j;
    int d;
  };

  static unsigned bucket_of(int d) { return (unsigned)(d < 0 ? -d : d) - 1; }
  template <class Src>
  static A load(const Src& src, size_t j, int d) {
    A p = src.load(j);
    if (d < 0) p.y = -p.y;
    return p;
  }

  template <class Src>
  void add(const Src& src, size_t j, int d) {
    unsigned k = bucket_of(d);
    uint8_t f = flags_[k];
    if (f & kBusy) {
      if (nq_ < kQueue)
        deferred_[nq_++] = {j, d};
      else
        side_add(k, load(src, j, d));
      return;
    }
    schedule(k, f, load(src, j, d));
    if (nops_ == batch_) flush(src);
  }

  // Bucket k is not in the current batch: an empty bucket takes the point as it is.
  void schedule(unsigned k, uint8_t f, const A& p) {
    if (!(f & kFull)) {
      affine_[k] = p;
      flags_[k] = f | kFull;
      return;
    }
    prefetch_lines(&affine_[k]);
    ops_[nops_].p = p;
    ops_[nops_].k = k;
    ++nops_;
    flags_[k] = f | kBusy;
  }

  // Runs the batch, then moves deferred updates whose bucket is free into the next one.
  template <class Src>
  void flush(const Src& src) {
    do {
      execute();
      size_t keep = 0;
      for (size_t q = 0; q < nq_; ++q) {
        Deferred dq = deferred_[q];
        unsigned k = bucket_of(dq.d);
        if (nops_ == batch_ || (flags_[k] & kBusy)) {
          deferred_[keep++] = dq;
          continue;
        }
        schedule(k, flags_[k], load(src, dq.j, dq.d));
      }
      nq_ = keep;
    } while (nops_ == batch_);
  }

  template <class Src>
  void drain(const Src& src) {
    while (nops_ >= kMinBatch) flush(src);
    for (size_t i = 0; i < nops_; ++i) {
      flags_[ops_[i].k] &= (uint8_t)~kBusy;
      side_add(ops_[i].k, ops_[i].p);
    }
    for (size_t q = 0; q < nq_; ++q) {
      Deferred dq = deferred_[q];
      side_add(bucket_of(dq.d), load(src, dq.j, dq.d));
    }
    nops_ = nq_ = 0;
  }

  // bucket += p for every op: lambda = (y2 - y1) / (x2 - x1) (or 3x^2 / 2y when doubling),
  // x3 = lambda^2 - x1 - x2, y3 = lambda (x1 - x3) - y1, all denominators inverted at once.
  void execute() {
    F acc = F::one();
    for (size_t i = 0; i < nops_; ++i) {
      Op& op = ops_[i];
      const A& bk = affine_[op.k];
      F dx = op.p.x - bk.x;
      op.kind = kAdd;
      if (dx.is_zero()) {
        if (op.p.y != bk.y) {  // P + (-P)
          op.kind = kInf;
          continue;
        }
        op.kind = kDbl;
        dx = bk.y.dbl();  // y != 0: BN254 G1 and G2 have no points of order 2
      }
      scratch_[i] = {acc, dx};
      acc *= dx;
    }
    F inv = acc.inverse();
    for (size_t i = nops_; i-- > 0;) {
      const Op& op = ops_[i];
      A& bk = affine_[op.k];
      uint8_t& f = flags_[op.k];
      f &= (uint8_t)~kBusy;
      if (op.kind == kInf) {
        f &= (uint8_t)~kFull;
        continue;
      }
      F di = inv * scratch_[i].prefix;
      inv *= scratch_[i].den;
      F num;
      if (op.kind == kDbl) {
        F xx = bk.x.sqr();
        num = xx.dbl() + xx;
      } else {
        num = op.p.y - bk.y;
      }
      F lambda = num * di;
      F x3 = lambda.sqr() - bk.x - op.p.x;
      bk.y = lambda * (bk.x - x3) - bk.y;
      bk.x = x3;
    }
    nops_ = 0;
  }

  void side_add(unsigned k, const A& p) {
    if (!side_) side_ = aligned_array<X>(nb_);
    if (flags_[k] & kSide) {
      side_[k] = side_[k].add_affine(p);
    } else {
      side_[k] = X::from_affine(p);
      flags_[k] |= kSide;
    }
  }

  // sum_k (k + 1) * bucket_k by running sums from the top bucket down.
  X reduce() const {
    X running = X::infinity(), total = X::infinity();
    for (size_t k = nb_; k-- > 0;) {
      uint8_t f = flags_[k];
      if (f & kFull) running = running.add_affine(affine_[k]);
      if (f & kSide) running += side_[k];
      total += running;
    }
    return total;
  }

  unsigned nb_;
  size_t batch_;
  std::unique_ptr<uint8_t[]> flags_;
  AlignedArray<A> affine_;
  AlignedArray<X> side_;
  std::unique_ptr<Op[]> ops_;
  std::unique_ptr<Scratch[]> scratch_;
  std::unique_ptr<Deferred[]> deferred_;
  size_t nops_ = 0, nq_ = 0;
};

// ---- work split ------------------------------------------------------------------------------

struct Task {
  unsigned window;
  size_t begin, end;
  uint64_t cost;  // non-zero digits expected, for heaviest-first order
};

// Splits every window into `ranges` point ranges, choosing the count that minimises the
// estimated makespan (rounds of tasks over the threads, each task paying its additions plus a
// bucket reduction, about 4 additions per bucket).
unsigned choose_ranges(unsigned windows, size_t nv, unsigned nb, unsigned threads) {
  unsigned best = 1;
  double best_cost = 0;
  for (unsigned r = 1; r <= 4 * threads && r <= nv; ++r) {
    double rounds = (double)((windows * r + threads - 1) / threads);
    double cost = rounds * ((double)nv / r + 4.0 * nb);
    if (r == 1 || cost < best_cost) {
      best = r;
      best_cost = cost;
    }
  }
  return best;
}

// ---- window choice ---------------------------------------------------------------------------

// Cost model in units of one batch-affine addition: windows * (points + 4 * buckets).
unsigned choose_window(size_t nv, const U256& max) {
  unsigned best = 2;
  double best_cost = 0;
  for (unsigned c = 2; c <= kMaxWindowBits; ++c) {
    double cost = window_count(max, c) * ((double)nv + 4.0 * (double)(1u << (c - 1)));
    if (c == 2 || cost < best_cost) {
      best = c;
      best_cost = cost;
    }
  }
  return best;
}

// ---- driver ----------------------------------------------------------------------------------

template <class C>
struct Prepared {
  size_t nv = 0;  // virtual points
  unsigned c = 0, windows = 0;
  std::unique_ptr<int16_t[]> digits;  // digits[w * nv + j]
  std::vector<uint64_t> nonzero;      // per window
};

template <class C, class Src>
Xyzz<C> pippenger(const Src& src, const Prepared<C>& prep, unsigned threads, Accumulation mode) {
  using X = Xyzz<C>;
  const size_t nv = prep.nv;
  const unsigned nb = 1u << (prep.c - 1), windows = prep.windows;
  unsigned ranges = choose_ranges(windows, nv, nb, threads);
  std::vector<Task> tasks;
  for (unsigned w = 0; w < windows; ++w) {
    if (prep.nonzero[w] == 0) continue;
    for (unsigned r = 0; r < ranges; ++r)
      tasks.push_back({w, nv * r / ranges, nv * (r + 1) / ranges, prep.nonzero[w] / ranges});
  }
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& a, const Task& b) { return a.cost > b.cost; });
  std::vector<X> partial(tasks.size());
  std::atomic<size_t> next{0};
  parallel_chunks(threads, threads, [&](size_t, size_t, unsigned) {
    Buckets<C> buckets(nb);
    for (size_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks.size();) {
      const Task& task = tasks[t];
      bool batch = mode == Accumulation::batch_affine ||
                   (mode == Accumulation::automatic && task.cost >= kMinBatchAffineOps);
      partial[t] = buckets.accumulate(src, prep.digits.get() + (size_t)task.window * nv,
                                      task.begin, task.end, batch);
    }
  });
  std::vector<X> window_sum(windows, X::infinity());
  for (size_t t = 0; t < tasks.size(); ++t) window_sum[tasks[t].window] += partial[t];
  X acc = window_sum[windows - 1];
  for (unsigned w = windows - 1; w-- > 0;) {
    for (unsigned i = 0; i < prep.c; ++i) acc = acc.dbl();
    acc += window_sum[w];
  }
  return acc;
}

// A thread costs tens of microseconds to start, about what a few points cost over all windows.
constexpr size_t kMinPointsPerThread = 16;

unsigned resolve_threads(const MsmConfig& cfg, size_t n) {
  unsigned t = cfg.threads ? cfg.threads : default_threads();
  return (unsigned)std::max<size_t>(1, std::min<size_t>(t, n / kMinPointsPerThread));
}

unsigned resolve_window(const MsmConfig& cfg, size_t nv, const U256& max) {
  if (cfg.window_bits == 0) return choose_window(nv, max);
  if (cfg.window_bits < 2 || cfg.window_bits > kMaxWindowBits)
    throw std::invalid_argument("MsmConfig::window_bits must be 0 (automatic) or 2..16, got " +
                                std::to_string(cfg.window_bits));
  return cfg.window_bits;
}

// Converts the scalars to canonical form and writes their digits, in parallel; `split` maps
// point i and its canonical scalar (zero for a point at infinity) to the digits of its
// `per_point` virtual points, each given as little-endian words.
template <class C, class Split>
Prepared<C> prepare(const Fr* scalars, const Affine<C>* points, size_t n, unsigned per_point,
                    const U256& max, const MsmConfig& cfg, unsigned threads, Split&& split) {
  Prepared<C> prep;
  prep.nv = n * per_point;
  prep.c = resolve_window(cfg, prep.nv, max);
  prep.windows = window_count(max, prep.c);
  prep.digits.reset(new int16_t[(size_t)prep.windows * prep.nv]);
  std::vector<std::vector<uint64_t>> counts(threads, std::vector<uint64_t>(prep.windows, 0));
  parallel_chunks(n, threads, [&](size_t b, size_t e, unsigned t) {
    uint64_t* cnt = counts[t].data();
    for (size_t i = b; i < e; ++i) {
      const Affine<C>& p = points[i];
      U256 k = p.is_infinity() || scalars[i].is_zero() ? U256{} : scalars[i].to_canonical();
      split(i, k, [&](unsigned h, const uint64_t* words, unsigned nwords, bool neg) {
        write_digits(words, nwords, neg, prep.c, prep.windows,
                     prep.digits.get() + i * per_point + h, prep.nv, cnt);
      });
    }
  });
  prep.nonzero.assign(prep.windows, 0);
  for (const auto& cnt : counts)
    for (unsigned w = 0; w < prep.windows; ++w) prep.nonzero[w] += cnt[w];
  return prep;
}

template <class C>
Jacobian<C> msm_plain(const Fr* scalars, const Affine<C>* points, size_t n, const MsmConfig& cfg) {
  if (n == 0) return Jacobian<C>::infinity();
  unsigned threads = resolve_threads(cfg, n);
  constexpr U256 max = Fr::P_MINUS_1;
  auto prep = prepare(scalars, points, n, 1, max, cfg, threads, [](size_t, const U256& k, auto&& emit) {
    emit(0, k.w, 4, false);
  });
  return pippenger(PlainPoints<C>{points}, prep, threads, cfg.accumulation).to_jacobian();
}

G1Jacobian msm_g1_glv(const Fr* scalars, const G1Affine* points, size_t n, const MsmConfig& cfg) {
  if (n == 0) return G1Jacobian::infinity();
  unsigned threads = resolve_threads(cfg, n);
  constexpr U256 max = {{(uint64_t)kGlvMagnitudeBound, (uint64_t)(kGlvMagnitudeBound >> 64), 0, 0}};
  constexpr Fq beta = Fq::from_canonical(bn254::kG1GlvBeta);
  std::unique_ptr<Fq[]> phix(new Fq[n]);
  auto prep = prepare(scalars, points, n, 2, max, cfg, threads, [&](size_t i, const U256& k, auto&& emit) {
    phix[i] = points[i].x * beta;
    GlvSplit s = glv_decompose(k);
    uint64_t k1[2] = {(uint64_t)s.k1.mag, (uint64_t)(s.k1.mag >> 64)};
    uint64_t k2[2] = {(uint64_t)s.k2.mag, (uint64_t)(s.k2.mag >> 64)};
    emit(0, k1, 2, s.k1.neg);
    emit(1, k2, 2, s.k2.neg);
  });
  return pippenger(GlvPoints{points, phix.get()}, prep, threads, cfg.accumulation).to_jacobian();
}

}  // namespace

void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
            const MsmConfig& cfg) {
  out = cfg.glv ? msm_g1_glv(scalars, points, n, cfg) : msm_plain(scalars, points, n, cfg);
}

void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n,
            const MsmConfig& cfg) {
  out = msm_plain(scalars, points, n, cfg);
}

}  // namespace zkinfer::cpu
