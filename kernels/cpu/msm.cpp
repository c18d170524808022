// Pippenger MSM for the CPU backend (method in msm.h). Tuning constants carry the measurements
// that chose them: 2-core AMD EPYC (Zen 4) reference machine, Release build.
#include "msm.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "field_batch.h"
#include "msm_glv.h"
#include "parallel.h"

namespace zkinfer::cpu {
namespace {

using Accumulation = MsmConfig::Accumulation;

// ---- signed digits -------------------------------------------------------------------------

constexpr unsigned kMaxWindowBits = 16;  // digits are stored as int16_t

// Window layout: window w covers `width[w]` bits from bit `offset[w]`.
struct Windows {
  static constexpr unsigned kMax = 128;  // 256 bits in windows of at least 2
  unsigned count = 0, max_width = 0;
  uint8_t width[kMax];
  uint16_t offset[kMax];
};

// Whether magnitudes <= max fit windows whose top one (`top` bits wide) starts at bit `below`:
// its value plus an incoming carry must stay below 2^(top-1), so the recoding never carries out.
bool top_fits(const U256& max, unsigned below, unsigned top) {
  if (below >= 256) return true;
  U256 v = u256::shr(max, below);
  return (v.w[1] | v.w[2] | v.w[3]) == 0 && v.w[0] + 1 < (uint64_t{1} << (top - 1));
}

// As many windows as c-bit ones would need, but with the fewest bits in total, spread evenly
// (wider ones at the bottom). Uniform c-bit windows leave the top one holding the few leftover
// bits of the scalars: for 127-bit GLV halves and c = 15 it used about 110 of 16384 buckets, so
// its batches could not fill and most of its additions fell back to XYZZ.
Windows make_windows(const U256& max, unsigned c) {
  Windows win;
  unsigned count = 1;
  while (!top_fits(max, c * (count - 1), c)) ++count;
  auto top_width = [&](unsigned total) { return total / count; };  // floor: the top is narrowest
  unsigned total = c * count;
  while (total - 1 >= 2 * count && top_fits(max, total - 1 - top_width(total - 1), top_width(total - 1)))
    --total;
  win.count = count;
  unsigned off = 0;
  for (unsigned w = 0; w < count; ++w) {
    win.width[w] = (uint8_t)(total / count + (w < total % count ? 1 : 0));
    win.offset[w] = (uint16_t)off;
    off += win.width[w];
    win.max_width = std::max<unsigned>(win.max_width, win.width[w]);
  }
  return win;
}

// Signed digits of a magnitude (little-endian words), negated when `neg`, written to
// out[w * stride]; counts[w] is incremented for every non-zero digit. A b-bit window value v
// becomes v - 2^b with a carry into the next window when v >= 2^(b-1) (v > 2^(b-1) for a negated
// scalar), so after the negation every digit lies in [-2^(b-1), 2^(b-1) - 1]: int16_t for b <= 16.
void write_digits(const uint64_t* mag, unsigned words, bool neg, const Windows& win, int16_t* out,
                  size_t stride, uint64_t* counts) {
  uint64_t carry = 0;
  for (unsigned w = 0; w < win.count; ++w) {
    const unsigned bits = win.width[w], word = win.offset[w] / 64, off = win.offset[w] % 64;
    const uint64_t half = uint64_t{1} << (bits - 1), full = uint64_t{1} << bits;
    uint64_t v = 0;
    if (word < words) {
      v = mag[word] >> off;
      if (off + bits > 64 && word + 1 < words) v |= mag[word + 1] << (64 - off);
    }
    v = (v & (full - 1)) + carry;
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
};

template <class C>
struct GlvPoints {
  const Affine<C>* p;
  const typename C::Field* phix;
  Affine<C> load(size_t j) const {
    size_t i = j >> 1;
    return {(j & 1) ? phix[i] : p[i].x, p[i].y};
  }
};

// ---- bucket accumulation ---------------------------------------------------------------------

// Independent affine additions per batch: the shared inversion (about 380 multiplications by
// Fermat) is spread over the batch. G1 2^18, c = 16, one thread, CPU time: 512: 1.73 s,
// 1536: 1.66 s, 2048: 1.65 s, 3072: 1.68 s.
constexpr size_t kBatch = 2048;
// With few buckets a large batch mostly collects conflicts: at most a quarter of the buckets.
constexpr size_t kMinBatchCap = 256;
// Conflicting updates (bucket already in the current batch) wait here for a later batch. When
// it is full the batch runs early; if that batch would be too small (one digit value repeated
// over and over, e.g. many equal small scalars), updates go to the bucket's XYZZ side sum.
constexpr size_t kQueue = 2048;
// A batch smaller than this does not pay for its inversion: the leftovers of the last batches
// of a window are finished with XYZZ mixed additions (an inversion costs about 380
// multiplications; batch-affine saves about 4 per addition).
constexpr size_t kMinBatch = 96;

// Scalars +-1 all land in one bucket of the lowest window, where batches cannot take more than
// one of them each; from this many on they are summed apart (Buckets::sum).
constexpr size_t kMinUnits = 256;
// Slots of that sum: a round of them is one conflict-free batch.
constexpr unsigned kUnitSlots = 4096;

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

// out[i] = a[i] * b[i] through cpu::mul_batch: eight Fq products at once in AVX-512 IFMA lanes
// where the CPU has them (6.6 against 15.9 ns a product, bench_field).
inline void mul_many(Fq* out, const Fq* a, const Fq* b, size_t n) { mul_batch(out, a, b, n); }
// Fq2: Karatsuba as Fq2::operator*, its three Fq products as array products over the
// coordinates taken apart, a chunk at a time (out may be a or b).
inline void mul_many(Fq2* out, const Fq2* a, const Fq2* b, size_t n) {
  constexpr size_t kChunk = 64;
  Fq a0[kChunk], a1[kChunk], b0[kChunk], b1[kChunk], as[kChunk], bs[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    for (size_t i = 0; i < m; ++i) {
      a0[i] = a[base + i].c0, a1[i] = a[base + i].c1, b0[i] = b[base + i].c0, b1[i] = b[base + i].c1;
      as[i] = a0[i] + a1[i], bs[i] = b0[i] + b1[i];
    }
    mul_batch(a0, a0, b0, m);  // v0
    mul_batch(a1, a1, b1, m);  // v1
    mul_batch(as, as, bs, m);  // (a0 + a1)(b0 + b1)
    for (size_t i = 0; i < m; ++i) out[base + i] = {a0[i] - a1[i], as[i] - a0[i] - a1[i]};
  }
}
// Interleaved chains of Montgomery's trick in Buckets::execute, one IFMA vector wide. G1, one
// thread, CPU time: 2^16 193 -> 119 ms, 2^20 2.61 -> 1.63 s against one scalar chain (with the
// three products after the chains batched alone: 162 ms and 2.15 s).
constexpr unsigned kLanes = 8;

template <class C>
class Buckets {
 public:
  using A = Affine<C>;
  using X = Xyzz<C>;
  using F = typename C::Field;

  // Room for `capacity` buckets; each task uses nb <= capacity of them. Slots [0, nb) are the
  // buckets, 2 * segs_ more slots after them hold the running and total sums of the batched
  // reduction.
  explicit Buckets(unsigned capacity)
      : capacity_(capacity), flags_(new uint8_t[capacity + kBatch]) {}

  // Sum of d * P_j over the non-zero digits d of one window in [b, e), as sum_k (k+1) bucket_k
  // over its nb buckets.
  template <class Src>
  X accumulate(const Src& src, const int16_t* digits, size_t b, size_t e, unsigned nb,
               bool batch_affine) {
    configure(nb);
    if (!batch_affine) {
      for (size_t j = b; j < e; ++j) {
        int d = digits[j];
        if (d) side_add(bucket_of(d), load(src, j, d));
      }
      return reduce();
    }
    allocate_affine();
    for (size_t j = b; j < e; ++j) {
      int d = digits[j];
      if (d) add(src, j, d);
    }
    drain(src);
    fold_side();
    return reduce_batched();
  }

  // Unweighted sum of the listed points: point i goes to slot i mod `slots`, so a round over the
  // slots is a conflict-free batch; then the slots are added pairwise, halving each level, while
  // a level still fills a worthwhile batch, and the rest in XYZZ.
  template <class Src, class Unit>
  X sum(const Src& src, const Unit* list, size_t m) {
    const unsigned slots =
        (unsigned)std::min<size_t>(capacity_, std::bit_floor(std::max<size_t>(m / 4, 1)));
    configure(slots);
    allocate_affine();
    for (size_t i = 0; i < m; ++i) {
      unsigned k = (unsigned)(i % slots);
      schedule(k, flags_[k], load(src, list[i].j, list[i].neg ? -1 : 1));
      if (nops_ == batch_ || k == slots - 1) execute();
    }
    if (nops_) execute();
    unsigned width = 1;
    for (; slots / (2 * width) >= kMinBatch; width *= 2) {
      for (unsigned k = 0; k + width < slots; k += 2 * width) {
        if (flags_[k + width] & kFull) schedule(k, flags_[k], affine_[k + width]);
        if (nops_ == batch_) execute();
      }
      if (nops_) execute();
    }
    X total = X::infinity();
    for (unsigned k = 0; k < slots; k += width)
      if (flags_[k] & kFull) total = total.add_affine(affine_[k]);
    return total;
  }

 private:
  void configure(unsigned nb) {
    nb_ = nb;
    batch_ = std::clamp<size_t>(nb / 4, kMinBatchCap, kBatch);
    segs_ = (unsigned)std::min<size_t>(batch_ / 2, nb);
    std::memset(flags_.get(), 0, nb_ + 2 * segs_);
  }

  void allocate_affine() {
    if (affine_) return;
    affine_ = aligned_array<A>(capacity_ + kBatch);
    ops_.reset(new Op[kBatch]);
    deferred_.reset(new Deferred[kQueue]);
    pending_.reset(new uint32_t[kBatch]);
    prefix_.reset(new F[kBatch]);
    den_.reset(new F[kBatch]);
    num_.reset(new F[kBatch]);
    inv_.reset(new F[kBatch]);
    lambda_.reset(new F[kBatch]);
  }

  struct Op {
    A p;
    uint32_t k;
    uint8_t kind;
  };
  enum : uint8_t { kAdd, kDbl, kInf };
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
    if ((f & kBusy) && nq_ == kQueue && nops_ >= kMinBatch) {
      // The batch stopped growing: the digits use few buckets (the top window holds only the
      // top bits of the scalars). Run it as it is rather than give up on the queued updates.
      flush(src);
      f = flags_[k];
    }
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
  // Montgomery's trick runs as kLanes interleaved chains (op i in lane i % kLanes), so that
  // every product, in the chains and after them, is an array product (mul_many).
  void execute() {
    const size_t n = nops_, padded = (n + kLanes - 1) / kLanes * kLanes;
    for (size_t i = 0; i < n; ++i) {
      Op& op = ops_[i];
      const A& bk = affine_[op.k];
      F dx = op.p.x - bk.x;
      op.kind = kAdd;
      if (dx.is_zero()) {
        if (op.p.y != bk.y) {  // P + (-P): a neutral factor in its chain
          op.kind = kInf;
          den_[i] = F::one();
          num_[i] = F::zero();
          continue;
        }
        op.kind = kDbl;
        dx = bk.y.dbl();  // y != 0: BN254 G1 and G2 have no points of order 2
        F xx = bk.x.sqr();
        num_[i] = xx.dbl() + xx;
      } else {
        num_[i] = op.p.y - bk.y;
      }
      den_[i] = dx;
    }
    for (size_t i = n; i < padded; ++i) den_[i] = F::one(), num_[i] = F::zero();
    F acc[kLanes];
    for (auto& a : acc) a = F::one();
    for (size_t i = 0; i < padded; i += kLanes) {
      std::copy(acc, acc + kLanes, &prefix_[i]);
      mul_many(acc, acc, &den_[i], kLanes);
    }
    // 1 / acc[l] = (prod of all lanes)^-1 * (prod of the other lanes)
    F before[kLanes], after = F::one();
    before[0] = F::one();
    for (unsigned l = 1; l < kLanes; ++l) before[l] = before[l - 1] * acc[l - 1];
    F inv_all = (before[kLanes - 1] * acc[kLanes - 1]).inverse();
    for (unsigned l = kLanes; l-- > 0;) {
      F others = before[l] * after;
      after *= acc[l];
      acc[l] = inv_all * others;
    }
    for (size_t i = padded; i > 0;) {
      i -= kLanes;
      mul_many(&inv_[i], acc, &prefix_[i], kLanes);
      mul_many(acc, acc, &den_[i], kLanes);
    }
    mul_many(lambda_.get(), num_.get(), inv_.get(), padded);
    mul_many(inv_.get(), lambda_.get(), lambda_.get(), padded);  // lambda^2
    for (size_t i = 0; i < n; ++i) {
      const Op& op = ops_[i];
      if (op.kind == kInf) continue;
      A& bk = affine_[op.k];
      F x3 = inv_[i] - bk.x - op.p.x;
      num_[i] = bk.x - x3;
      bk.x = x3;
    }
    mul_many(num_.get(), lambda_.get(), num_.get(), padded);  // lambda (x1 - x3)
    for (size_t i = 0; i < n; ++i) {
      const Op& op = ops_[i];
      uint8_t& f = flags_[op.k];
      f &= (uint8_t)~kBusy;
      if (op.kind == kInf) {
        f &= (uint8_t)~kFull;
        continue;
      }
      A& bk = affine_[op.k];
      bk.y = num_[i] - bk.y;
    }
    nops_ = 0;
  }

  void side_add(unsigned k, const A& p) {
    if (!side_) side_ = aligned_array<X>(capacity_);
    if (flags_[k] & kSide) {
      side_[k] = side_[k].add_affine(p);
    } else {
      side_[k] = X::from_affine(p);
      flags_[k] |= kSide;
    }
  }

  // Adds every XYZZ side sum into its affine bucket: side sums go to affine with one shared
  // inversion per batch, then join the buckets through ordinary batch-affine additions.
  void fold_side() {
    if (!side_) return;
    size_t m = 0;
    for (unsigned k = 0; k < nb_; ++k) {
      if (!(flags_[k] & kSide)) continue;
      flags_[k] &= (uint8_t)~kSide;
      if (side_[k].is_infinity()) continue;
      pending_[m++] = k;
      if (m == batch_) {
        fold_pending(m);
        m = 0;
      }
    }
    fold_pending(m);
  }

  void fold_pending(size_t m) {
    F acc = F::one();
    for (size_t i = 0; i < m; ++i) {
      prefix_[i] = acc;
      acc *= side_[pending_[i]].zzz;
    }
    F inv = acc.inverse();
    for (size_t i = m; i-- > 0;) {
      unsigned k = pending_[i];
      const X& q = side_[k];
      F izzz = inv * prefix_[i];
      inv *= q.zzz;
      F izz = (izzz * q.zz).sqr();  // (ZZ/ZZZ)^2 = 1/ZZ
      schedule(k, flags_[k], A{q.x * izz, q.y * izzz});
    }
    if (nops_) execute();
  }

  // sum_k (k + 1) * bucket_k with batch-affine additions. The buckets are cut into segs_
  // segments of L; segment s keeps run_s (sum of its buckets so far, from the top) and tot_s
  // (sum of the run_s values), and all segments advance together, so one step is a batch of
  // 2 segs_ independent additions: tot_s += run_s (the value before this step), run_s += bucket.
  // A last tot_s += run_s makes tot_s = sum over the segment of (k - sL + 1) * bucket_k, and
  // result = sum_s tot_s + L * sum_s s * run_s (running sums over the segments, then doublings).
  // Replacing the plain XYZZ running sums (2 XYZZ additions per bucket, against 2 affine ones
  // here) took G1 2^18, c = 16, one thread, from 716 to 674 ms CPU.
  X reduce_batched() {
    const unsigned segs = segs_, len = nb_ / segs;
    const unsigned run0 = nb_, tot0 = nb_ + segs;
    for (unsigned step = 0; step < len; ++step) {
      for (unsigned s = 0; s < segs; ++s) {
        unsigned k = s * len + (len - 1 - step);
        if (flags_[run0 + s] & kFull) schedule(tot0 + s, flags_[tot0 + s], affine_[run0 + s]);
        if (flags_[k] & kFull) schedule(run0 + s, flags_[run0 + s], affine_[k]);
      }
      if (nops_) execute();
    }
    for (unsigned s = 0; s < segs; ++s)
      if (flags_[run0 + s] & kFull) schedule(tot0 + s, flags_[tot0 + s], affine_[run0 + s]);
    if (nops_) execute();
    X running = X::infinity(), weighted = X::infinity(), total = X::infinity();
    for (unsigned s = segs; s-- > 0;) {
      if (flags_[tot0 + s] & kFull) total = total.add_affine(affine_[tot0 + s]);
      if (s == 0) break;
      if (flags_[run0 + s] & kFull) running = running.add_affine(affine_[run0 + s]);
      weighted += running;
    }
    for (unsigned l = len; l > 1; l >>= 1) weighted = weighted.dbl();
    return weighted + total;
  }

  // sum_k (k + 1) * bucket_k by running sums from the top bucket down (XYZZ buckets).
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

  const unsigned capacity_;
  unsigned nb_ = 0, segs_ = 0;
  size_t batch_ = 0;
  std::unique_ptr<uint8_t[]> flags_;
  AlignedArray<A> affine_;
  AlignedArray<X> side_;
  std::unique_ptr<Op[]> ops_;
  std::unique_ptr<Deferred[]> deferred_;
  std::unique_ptr<uint32_t[]> pending_;
  std::unique_ptr<F[]> prefix_, den_, num_, inv_, lambda_;  // per op of a batch, see execute()
  size_t nops_ = 0, nq_ = 0;
};

// ---- tuning ----------------------------------------------------------------------------------
// Measured on the 2-core AMD EPYC (Zen 4) reference machine (MULX/ADX field multiplication,
// batch-affine products in IFMA lanes), one thread, CPU time in ms, best of 1-9 runs;
// [x] marks the choice.

template <class C>
struct Tuning;

template <>
struct Tuning<G1Curve> {
  // Window width by floor(log2(dense virtual points)), where dense counts the scalars other than
  // 0 and +-1 (those cost nothing or are summed apart) and GLV doubles the points. Random scalars:
  //   n = 2^8   XYZZ c=6 2.2, [7] 2.1, 8 2.1 (batch-affine best 2.5)
  //   n = 2^9   batch-affine c=9 3.7, [10] 3.4, 11 3.5 (XYZZ best 3.6)
  //   n = 2^10  c=9 6.1, [10] 4.8, 11 4.9        n = 2^11  c=10 8.1, [11] 7.5, 12 7.5
  //   n = 2^12  c=11 13.4, [12] 12.2, 13 12.7    n = 2^13  c=12 21.5, [13] 20.7, 15 25.3
  //   n = 2^14  c=12 41.3, [13] 35.8, 15 38.7    n = 2^15  c=12 77.6, [13] 67.3, 15 67.1, 16 81.6
  //   n = 2^16  c=13 128, 14 127, [15] 121, 16 125   n = 2^17  c=14 251, 15 237, [16] 224
  //   n = 2^18  c=14 497, 15 450, [16] 418       n = 2^20  c=15 1781, [16] 1595
  // (13 and 14 give the same balanced layout.) Below 2^8 points, XYZZ: n = 2^6 best at
  // c = 5-6, n = 2^4 flat over c = 2-6.
  static constexpr unsigned window_by_log2[] = {2, 2, 3, 3, 4,  4,  5,  5,  6, 7,
                                                10, 10, 11, 12, 13, 13, 13, 15, 16};
  // A window task with fewer non-zero digits fills XYZZ buckets directly, its batches being too
  // small to amortise their inversions: at 512 digits a window (n = 2^8) XYZZ wins, at 1024
  // (n = 2^9) batch-affine does (figures above).
  static constexpr uint64_t min_batch_affine_ops = 768;
};

template <>
struct Tuning<G2Curve> {
  // Measured as for G1 but without GLV (254-bit scalars, twice the windows). GLV on G2 (the
  // default since 2026-11-26) reads this table at log2 of twice the points, not retuned: one
  // thread, random scalars, auto window: 2^16 399 ms with GLV, 412 without (c = 13: 391);
  // 2^18 1428 with, 1439 without (c = 16: 1392). The figures below are without GLV:
  //   n = 2^8   XYZZ [6] 8.3, 7 8.4 (batch-affine best 9.7)
  //   n = 2^9   batch-affine c=9 14.6, [10] 13.9 (XYZZ best 14.3)
  //   n = 2^10  c=8 22.5, [10] 18.8, 11 20.0     n = 2^12  c=10 44.0, [11] 42.4, 12 45.4
  //   n = 2^14  c=11 133, [12] 128, 13 145       n = 2^16  c=12 452, [13] 422, 14 427
  //   n = 2^18  c=14 1551, [15] 1482, 16 1564: 16 takes 4 MiB of 128-byte buckets per thread.
  static constexpr unsigned window_by_log2[] = {2, 2, 3, 3, 4,  4,  5,  5,  6, 10,
                                                10, 10, 11, 12, 12, 13, 13, 15};
  // At 256 digits a window XYZZ wins, at 512 batch-affine does (figures above).
  static constexpr uint64_t min_batch_affine_ops = 384;
};

template <class C>
unsigned choose_window(size_t dense_nv) {
  constexpr auto& table = Tuning<C>::window_by_log2;
  unsigned l = 0;
  while (l + 1 < std::size(table) && (dense_nv >> (l + 1)) != 0) ++l;
  return table[l];
}

// ---- work split ------------------------------------------------------------------------------

struct Task {
  static constexpr unsigned kUnits = ~0u;  // window value of a task summing +-1 scalars
  unsigned window;
  size_t begin, end;  // virtual points, or positions in the unit list
  uint64_t cost;      // additions expected, for heaviest-first order
};

// Whole windows are dealt to the threads; the R windows left over when they do not divide
// evenly (all of them when there are fewer windows than threads) are cut into T / gcd(R, T)
// point ranges each, so the pieces also divide evenly and every thread gets the same share.
// Each piece pays a bucket reduction of its own, which is why whole windows stay whole.
std::vector<Task> plan_windows(const std::vector<uint64_t>& nonzero, size_t nv, unsigned threads) {
  std::vector<unsigned> active;
  for (unsigned w = 0; w < nonzero.size(); ++w)
    if (nonzero[w]) active.push_back(w);
  // Heaviest first: the lightest windows are the ones cut.
  std::stable_sort(active.begin(), active.end(),
                   [&](unsigned a, unsigned b) { return nonzero[a] > nonzero[b]; });
  const unsigned count = (unsigned)active.size();
  const unsigned rest = count >= threads ? count % threads : count;
  const unsigned pieces = (unsigned)std::min<size_t>(threads / std::gcd(rest ? rest : threads, threads), nv);
  std::vector<Task> tasks;
  for (unsigned i = 0; i < count; ++i) {
    const unsigned w = active[i], parts = i < count - rest ? 1 : pieces;
    for (unsigned r = 0; r < parts; ++r)
      tasks.push_back({w, nv * r / parts, nv * (r + 1) / parts, nonzero[w] / parts});
  }
  return tasks;
}

// ---- driver ----------------------------------------------------------------------------------

// A point whose scalar is +-1, summed outside the windows: virtual index and sign.
struct Unit {
  size_t j;
  bool neg;
};

struct Prepared {
  size_t nv = 0;  // virtual points
  Windows win;
  std::unique_ptr<int16_t[]> digits;  // digits[w * nv + j]
  std::vector<uint64_t> nonzero;      // per window
  std::vector<Unit> units;
};

template <class C, class Src>
Xyzz<C> pippenger(const Src& src, const Prepared& prep, unsigned threads, Accumulation mode) {
  using X = Xyzz<C>;
  const size_t nv = prep.nv;
  const unsigned windows = prep.win.count, capacity = 1u << (prep.win.max_width - 1);
  std::vector<Task> tasks = plan_windows(prep.nonzero, nv, threads);
  const size_t nu = prep.units.size();
  const unsigned unit_parts = (unsigned)std::min<size_t>(threads, nu);
  for (unsigned r = 0; r < unit_parts; ++r)
    tasks.push_back({Task::kUnits, nu * r / unit_parts, nu * (r + 1) / unit_parts, nu / unit_parts});
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& a, const Task& b) { return a.cost > b.cost; });
  std::vector<X> partial(tasks.size());
  std::atomic<size_t> next{0};
  const unsigned workers = (unsigned)std::min<size_t>(threads, tasks.size());
  parallel_chunks(workers, workers, [&](size_t, size_t, unsigned) {
    Buckets<C> buckets(capacity);
    std::unique_ptr<Buckets<C>> unit_slots;
    for (size_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks.size();) {
      const Task& task = tasks[t];
      if (task.window == Task::kUnits) {
        if (!unit_slots) unit_slots = std::make_unique<Buckets<C>>(kUnitSlots);
        partial[t] = unit_slots->sum(src, prep.units.data() + task.begin, task.end - task.begin);
        continue;
      }
      bool batch = mode == Accumulation::batch_affine ||
                   (mode == Accumulation::automatic && task.cost >= Tuning<C>::min_batch_affine_ops);
      partial[t] = buckets.accumulate(src, prep.digits.get() + (size_t)task.window * nv,
                                      task.begin, task.end, 1u << (prep.win.width[task.window] - 1),
                                      batch);
    }
  });
  std::vector<X> window_sum(windows, X::infinity());
  X units = X::infinity();
  for (size_t t = 0; t < tasks.size(); ++t)
    (tasks[t].window == Task::kUnits ? units : window_sum[tasks[t].window]) += partial[t];
  X acc = window_sum[windows - 1];
  for (unsigned w = windows - 1; w-- > 0;) {
    for (unsigned i = 0; i < prep.win.width[w]; ++i) acc = acc.dbl();
    acc += window_sum[w];
  }
  return acc + units;
}

// A thread costs tens of microseconds to start, about what a few points cost over all windows.
constexpr size_t kMinPointsPerThread = 16;

unsigned resolve_threads(const MsmConfig& cfg, size_t n) {
  unsigned t = cfg.threads ? cfg.threads : default_threads();
  return (unsigned)std::max<size_t>(1, std::min<size_t>(t, n / kMinPointsPerThread));
}

// Writes the digits of every scalar in parallel: `split` maps point i and its canonical scalar
// to the digits of its `per_point` virtual points (virtual index i * per_point + h), each given
// as little-endian words. Scalars +-1 become units instead when there are enough of them to
// fill batches.
template <class C, class Split>
Prepared prepare(const Fr* scalars, const Affine<C>* points, size_t n, unsigned per_point,
                 const U256& max, const MsmConfig& cfg, unsigned threads, Split&& split) {
  if (cfg.window_bits != 0 && (cfg.window_bits < 2 || cfg.window_bits > kMaxWindowBits))
    throw std::invalid_argument("MsmConfig::window_bits must be 0 (automatic) or 2..16, got " +
                                std::to_string(cfg.window_bits));
  const Fr one = Fr::one(), minus_one = -Fr::one();
  // First pass: how many scalars are 0 or +-1 (compared in Montgomery form, no conversion).
  std::vector<size_t> zeros(threads, 0), units(threads, 0);
  parallel_chunks(n, threads, [&](size_t b, size_t e, unsigned t) {
    for (size_t i = b; i < e; ++i) {
      const Fr& k = scalars[i];
      if (k.is_zero() || points[i].is_infinity())
        ++zeros[t];
      else if (k == one || k == minus_one)
        ++units[t];
    }
  });
  size_t nzero = 0, nunit = 0;
  for (unsigned t = 0; t < threads; ++t) nzero += zeros[t], nunit += units[t];
  const bool split_units = cfg.accumulation != Accumulation::xyzz && nunit >= kMinUnits;
  const size_t dense = n - nzero - (split_units ? nunit : 0);

  Prepared prep;
  prep.nv = n * per_point;
  prep.win = make_windows(max, cfg.window_bits ? cfg.window_bits : choose_window<C>(dense * per_point));
  const unsigned windows = prep.win.count;
  prep.digits.reset(new int16_t[(size_t)windows * prep.nv]);
  std::vector<std::vector<uint64_t>> counts(threads, std::vector<uint64_t>(windows, 0));
  std::vector<std::vector<Unit>> unit_lists(threads);
  parallel_chunks(n, threads, [&](size_t b, size_t e, unsigned t) {
    uint64_t* cnt = counts[t].data();
    for (size_t i = b; i < e; ++i) {
      const Fr& s = scalars[i];
      U256 k{};  // stays zero for a point at infinity, a zero scalar and a unit
      const bool live = !points[i].is_infinity() && !s.is_zero();
      if (live && split_units && (s == one || s == minus_one))
        unit_lists[t].push_back({i * per_point, s != one});
      else if (live)
        k = s.to_canonical();
      split(i, k, [&](unsigned h, const uint64_t* words, unsigned nwords, bool neg) {
        write_digits(words, nwords, neg, prep.win, prep.digits.get() + i * per_point + h, prep.nv,
                     cnt);
      });
    }
  });
  prep.nonzero.assign(windows, 0);
  for (const auto& cnt : counts)
    for (unsigned w = 0; w < windows; ++w) prep.nonzero[w] += cnt[w];
  prep.units.reserve(split_units ? nunit : 0);
  for (const auto& list : unit_lists) prep.units.insert(prep.units.end(), list.begin(), list.end());
  return prep;
}

template <class C>
Jacobian<C> msm_plain(const Fr* scalars, const Affine<C>* points, size_t n, const MsmConfig& cfg) {
  if (n == 0) return Jacobian<C>::infinity();
  unsigned threads = resolve_threads(cfg, n);
  constexpr U256 max = Fr::P_MINUS_1;
  auto prep = prepare(scalars, points, n, 1, max, cfg, threads,
                      [](size_t, const U256& k, auto&& emit) { emit(0, k.w, 4, false); });
  return pippenger<C>(PlainPoints<C>{points}, prep, threads, cfg.accumulation).to_jacobian();
}

// GLV on either group: phi(x, y) = (beta x, y) = [lambda](x, y), with beta in Fq (kG1GlvBeta on
// G1, kG2GlvBeta on G2, where it scales both coordinates of x).
template <class C>
Jacobian<C> msm_glv(const Fr* scalars, const Affine<C>* points, size_t n, const MsmConfig& cfg) {
  if (n == 0) return Jacobian<C>::infinity();
  unsigned threads = resolve_threads(cfg, n);
  constexpr U256 max = {{(uint64_t)kGlvMagnitudeBound, (uint64_t)(kGlvMagnitudeBound >> 64), 0, 0}};
  constexpr Fq beta = Fq::from_canonical(std::is_same_v<C, G1Curve> ? bn254::kG1GlvBeta : bn254::kG2GlvBeta);
  using F = typename C::Field;
  std::unique_ptr<F[]> phix(new F[n]);
  auto prep = prepare(scalars, points, n, 2, max, cfg, threads, [&](size_t i, const U256& k, auto&& emit) {
    phix[i] = points[i].x * beta;
    GlvSplit s = glv_decompose(k);
    uint64_t k1[2] = {(uint64_t)s.k1.mag, (uint64_t)(s.k1.mag >> 64)};
    uint64_t k2[2] = {(uint64_t)s.k2.mag, (uint64_t)(s.k2.mag >> 64)};
    emit(0, k1, 2, s.k1.neg);
    emit(1, k2, 2, s.k2.neg);
  });
  return pippenger<C>(GlvPoints<C>{points, phix.get()}, prep, threads, cfg.accumulation).to_jacobian();
}

}  // namespace

void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
            const MsmConfig& cfg) {
  out = cfg.glv ? msm_glv(scalars, points, n, cfg) : msm_plain(scalars, points, n, cfg);
}

void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n,
            const MsmConfig& cfg) {
  out = cfg.glv ? msm_glv(scalars, points, n, cfg) : msm_plain(scalars, points, n, cfg);
}

}  // namespace zkinfer::cpu
