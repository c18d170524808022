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
  return (v.w[1] | v.w[2] | v.w[3]) == 0 && v.w[0] < (uint64_t{1} << (top - 1)) - 1;  // no wrap at 2^64 - 1
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
  if (words <= 2) {
    // GLV halves: the magnitude in one 128-bit integer shifted along, branch-free sign.
    u128 m = (u128)mag[0] | (words > 1 ? (u128)mag[1] << 64 : 0);
    const uint64_t sign = neg, flip = uint64_t{0} - sign;
    uint64_t carry = 0;
    for (unsigned w = 0; w < win.count; ++w) {
      const unsigned bits = win.width[w];
      const uint64_t half = uint64_t{1} << (bits - 1), full = uint64_t{1} << bits;
      const uint64_t v = ((uint64_t)m & (full - 1)) + carry;
      m >>= bits;
      carry = v >= half + sign;
      const int64_t d = (int64_t)((((v - (carry ? full : 0)) ^ flip) + sign));
      out[w * stride] = (int16_t)d;
      counts[w] += d != 0;
    }
    return;
  }
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
// A source maps a virtual point index j to an affine point. Points are those of the call, or the
// subset listed in `index` (a class of scalars, see msm()). With GLV, j = 2i is P_i and
// j = 2i + 1 is phi(P_i) = (beta x_i, y_i); only beta x_i is stored.

template <class C>
struct PlainPoints {
  const Affine<C>* p;
  const size_t* index = nullptr;  // null: all points in order
  Affine<C> load(size_t j) const { return p[index ? index[j] : j]; }
};

template <class C>
struct GlvPoints {
  const Affine<C>* p;
  const size_t* index;
  const typename C::Field* phix;  // by position in the subset
  Affine<C> load(size_t j) const {
    const size_t i = j >> 1;
    const Affine<C>& q = p[index ? index[i] : i];
    return {(j & 1) ? phix[i] : q.x, q.y};
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

// inv[i] = 1 / den[i] for i < padded (a multiple of kLanes, no zero in den) by Montgomery's
// trick in kLanes interleaved chains (element i in chain i % kLanes), so that every product is
// an array product.
static_assert(kLanes == 8, "invert_lanes_vartime ends eight chains");
inline void invert_chains(Fq* inv, const Fq* den, Fq* prefix, size_t padded) {
  Fq acc[kLanes];
  for (auto& a : acc) a = Fq::one();
  for (size_t i = 0; i < padded; i += kLanes) {
    std::copy(acc, acc + kLanes, &prefix[i]);
    mul_many(acc, acc, &den[i], kLanes);
  }
  invert_lanes_vartime(acc);
  for (size_t i = padded; i > 0;) {
    i -= kLanes;
    mul_many(&inv[i], acc, &prefix[i], kLanes);
    mul_many(acc, acc, &den[i], kLanes);
  }
}

// out[i] = a[i]^2. On Fq2, (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u: two Fq products
// where the general product takes three.
inline void sqr_many(Fq* out, const Fq* a, size_t n) { mul_batch(out, a, a, n); }
inline void sqr_many(Fq2* out, const Fq2* a, size_t n) {
  constexpr size_t kChunk = 64;
  Fq s[kChunk], d[kChunk], a0[kChunk], a1[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    for (size_t i = 0; i < m; ++i) {
      a0[i] = a[base + i].c0, a1[i] = a[base + i].c1;
      s[i] = a0[i] + a1[i], d[i] = a0[i] - a1[i];
    }
    mul_batch(s, s, d, m);
    mul_batch(a0, a0, a1, m);
    for (size_t i = 0; i < m; ++i) out[base + i] = {s[i], a0[i].dbl()};
  }
}

// Fq scratch of the Fq2 inversion below: norms, their inverses, chain prefixes.
struct NormScratch {
  std::unique_ptr<Fq[]> norm, norm_inv, prefix;
  explicit NormScratch(size_t n) : norm(new Fq[n]), norm_inv(new Fq[n]), prefix(new Fq[n]) {}
};

inline void invert_many(Fq* inv, const Fq* den, Fq* prefix, NormScratch*, size_t padded) {
  invert_chains(inv, den, prefix, padded);
}
// 1 / d = conj(d) / N(d) with the norm N(d) = d0^2 + d1^2 in Fq (non-zero for d != 0: -1 is
// not a square in Fq). The chains run over the norms: 2 + 3 + 2 = 7 Fq products an element,
// against 9 for chains over Fq2 (three Fq2 products of three).
inline void invert_many(Fq2* inv, const Fq2* den, Fq2*, NormScratch* scratch, size_t padded) {
  constexpr size_t kChunk = 64;
  Fq d0[kChunk], d1[kChunk];
  Fq* norm = scratch->norm.get();
  for (size_t base = 0; base < padded; base += kChunk) {
    const size_t m = std::min(kChunk, padded - base);
    for (size_t i = 0; i < m; ++i) d0[i] = den[base + i].c0, d1[i] = den[base + i].c1;
    mul_batch(d0, d0, d0, m);
    mul_batch(d1, d1, d1, m);
    for (size_t i = 0; i < m; ++i) norm[base + i] = d0[i] + d1[i];
  }
  Fq* norm_inv = scratch->norm_inv.get();
  invert_chains(norm_inv, norm, scratch->prefix.get(), padded);
  for (size_t base = 0; base < padded; base += kChunk) {
    const size_t m = std::min(kChunk, padded - base);
    for (size_t i = 0; i < m; ++i) d0[i] = den[base + i].c0, d1[i] = den[base + i].c1;
    mul_batch(d0, d0, &norm_inv[base], m);
    mul_batch(d1, d1, &norm_inv[base], m);
    for (size_t i = 0; i < m; ++i) inv[base + i] = {d0[i], -d1[i]};
  }
}

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
      schedule(k, flags_[k], load(src, list[i].i, list[i].neg ? -1 : 1));
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
    if constexpr (std::is_same_v<F, Fq2>) norm_scratch_ = std::make_unique<NormScratch>(kBatch);
    bucket_at_.reset(new A*[kBatch + kLanes]);
    point_at_.reset(new const A*[kBatch + kLanes]);
    for (size_t i = 0; i < kBatch; ++i) point_at_[i] = &ops_[i].p;
    fused_scratch_ = aligned_array<uint64_t>(affine_add_scratch_words(kBatch + kLanes));
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
    bucket_at_[nops_] = &affine_[k];
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
    if (fused_ && execute_fused()) return;
    // The inversions run as interleaved chains (invert_many) and every product, in the chains
    // and after them, is an array product (mul_many, sqr_many).
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
    invert_many(inv_.get(), den_.get(), prefix_.get(), norm_scratch_.get(), padded);
    mul_many(lambda_.get(), num_.get(), inv_.get(), padded);
    sqr_many(inv_.get(), lambda_.get(), padded);  // lambda^2
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

  // Where the CPU has IFMA, the batch in one pass of vector code that reads the buckets and the
  // points where they are and writes the sums over the buckets (affine_add_in_place). False,
  // with nothing done, where it declines: a batch holding a doubling or P + (-P) (rare but for
  // repeated points), or a CPU without IFMA (then never asked again).
  bool execute_fused() {
    const size_t n = nops_, padded = (n + kLanes - 1) / kLanes * kLanes;
    // Padding lanes add a point to a bucket of another x, both thrown away.
    pad_bucket_ = A{F::zero(), F::zero()};
    pad_point_ = A{F::one(), F::zero()};
    for (size_t i = n; i < padded; ++i) bucket_at_[i] = &pad_bucket_, point_at_[i] = &pad_point_;
    BatchStatus status;
    if constexpr (std::is_same_v<F, Fq>)
      status = affine_add_in_place(AffineAddInPlace{bucket_at_.get(), point_at_.get(), padded,
                                                    fused_scratch_.get()});
    else
      status = affine_add_in_place(AffineAddInPlace2{bucket_at_.get(), point_at_.get(), padded,
                                                     fused_scratch_.get()});
    for (size_t i = n; i < padded; ++i) point_at_[i] = &ops_[i].p;
    if (status == BatchStatus::no_ifma) fused_ = false;
    if (status != BatchStatus::done) return false;
    for (size_t i = 0; i < n; ++i) flags_[ops_[i].k] &= (uint8_t)~kBusy;
    nops_ = 0;
    return true;
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
    F inv = acc.inverse_vartime();
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
  std::unique_ptr<NormScratch> norm_scratch_;                // G2 only
  // execute_fused: where op i's bucket and point are (then padding), its scratch, and the
  // padding lanes' operands.
  std::unique_ptr<A*[]> bucket_at_;
  std::unique_ptr<const A*[]> point_at_;
  AlignedArray<uint64_t> fused_scratch_;
  A pad_bucket_, pad_point_;
  bool fused_ = true;  // until affine_add_in_place says the CPU lacks IFMA
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
  // Retuned at the top with GLV and the IFMA batch step (2026-11-26, two threads, wall ms,
  // medians of 5, two rounds each, noisy): 2^16 points c=13 136-143, [14] 129-144, 15 131-155;
  // 2^17 c=14 254-298, [15] 253-265, 16 253-299; 2^18 c=15 503-510, [16] 458-499.
  static constexpr unsigned window_by_log2[] = {2, 2, 3, 3, 4,  4,  5,  5,  6, 10,
                                                10, 10, 11, 12, 12, 13, 13, 14, 15, 16};
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

// A point whose scalar is +-1, summed outside the windows: index into the call's points, sign.
struct Unit {
  size_t i;
  bool neg;
};

struct Prepared {
  size_t nv = 0;  // virtual points
  Windows win;
  std::unique_ptr<int16_t[]> digits;  // digits[w * nv + j]
  std::vector<uint64_t> nonzero;      // per window
};

// The windows of `prep` over `src`, and the units (scalars +-1) over the call's `points`, as one
// pool of tasks for the threads.
template <class C, class Src>
Xyzz<C> pippenger(const Src& src, const Prepared& prep, const Affine<C>* points,
                  const std::vector<Unit>& units, unsigned threads, Accumulation mode) {
  using X = Xyzz<C>;
  const size_t nv = prep.nv;
  const unsigned windows = prep.win.count;
  const unsigned capacity = windows ? 1u << (prep.win.max_width - 1) : 0;
  std::vector<Task> tasks = plan_windows(prep.nonzero, nv, threads);
  const size_t nu = units.size();
  const unsigned unit_parts = (unsigned)std::min<size_t>(threads, nu);
  for (unsigned r = 0; r < unit_parts; ++r)
    tasks.push_back({Task::kUnits, nu * r / unit_parts, nu * (r + 1) / unit_parts, nu / unit_parts});
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& a, const Task& b) { return a.cost > b.cost; });
  std::vector<X> partial(tasks.size());
  std::atomic<size_t> next{0};
  const unsigned workers = (unsigned)std::min<size_t>(threads, tasks.size());
  parallel_chunks(workers, workers, [&](size_t, size_t, unsigned) {
    std::unique_ptr<Buckets<C>> buckets, unit_slots;
    for (size_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks.size();) {
      const Task& task = tasks[t];
      if (task.window == Task::kUnits) {
        if (!unit_slots) unit_slots = std::make_unique<Buckets<C>>(kUnitSlots);
        partial[t] = unit_slots->sum(PlainPoints<C>{points}, units.data() + task.begin,
                                     task.end - task.begin);
        continue;
      }
      if (!buckets) buckets = std::make_unique<Buckets<C>>(capacity);
      bool batch = mode == Accumulation::batch_affine ||
                   (mode == Accumulation::automatic && task.cost >= Tuning<C>::min_batch_affine_ops);
      partial[t] = buckets->accumulate(src, prep.digits.get() + (size_t)task.window * nv, task.begin,
                                       task.end, 1u << (prep.win.width[task.window] - 1), batch);
    }
  });
  std::vector<X> window_sum(windows, X::infinity());
  X acc = X::infinity();
  for (size_t t = 0; t < tasks.size(); ++t)
    (tasks[t].window == Task::kUnits ? acc : window_sum[tasks[t].window]) += partial[t];
  X combined = X::infinity();
  for (unsigned w = windows; w-- > 0;) {
    combined += window_sum[w];
    if (w > 0)
      for (unsigned i = 0; i < prep.win.width[w - 1]; ++i) combined = combined.dbl();
  }
  return acc + combined;
}

// A thread costs tens of microseconds to start, about what a few points cost over all windows.
constexpr size_t kMinPointsPerThread = 16;

unsigned resolve_threads(const MsmConfig& cfg, size_t n) {
  unsigned t = cfg.threads ? cfg.threads : default_threads();
  return (unsigned)std::max<size_t>(1, std::min<size_t>(t, n / kMinPointsPerThread));
}

// ---- scalar classes --------------------------------------------------------------------------
// A scalar k is taken as the signed magnitude min(k, r - k): the small negative values of
// quantized witnesses are as cheap as the small positive ones. Those of at most kSmallBits bits
// go through the plain method with windows covering only the bits they use; GLV would split
// them into two halves of about 127 bits each and double the points for nothing. Wider ones go
// through GLV (or the plain method over 253 bits without it). Before this, every scalar got the
// windows of a full one: a witness of bits and 32-bit values spent a fifth of a 2^16 prove
// writing digits that were zero.
constexpr unsigned kSmallBits = 128;
// Fewer small scalars than this beside big ones go through GLV with them.
constexpr size_t kMinSmallClass = 64;

struct Signed {
  U256 mag;
  bool neg;
};

inline Signed signed_scalar(const Fr& s) {
  U256 k = s.to_canonical();
  if (!u256::less(Fr::P_MINUS_1_HALF, k)) return {k, false};
  uint64_t borrow = 0;
  return {u256::sub(Fr::MOD, k, borrow), true};
}

// What a scalar costs. Units (+-1) are summed apart only when there are enough of them
// (kMinUnits); the others count as small.
enum Kind : uint8_t { kZero, kUnitPlus, kUnitMinus, kSmall, kBig };

struct Scan {
  std::unique_ptr<uint8_t[]> kind;  // per scalar
  size_t zeros = 0, units = 0, small = 0, big = 0;
  unsigned small_bits = 0;  // widest small magnitude
};

// Kinds of all scalars, and their counts; a point at infinity counts as a zero scalar.
template <class C>
Scan scan(const Fr* scalars, const Affine<C>* points, size_t n, bool may_split_units,
          unsigned threads) {
  struct Part {
    size_t zeros = 0, units = 0, small = 0, big = 0;
    uint64_t small_or[4] = {0, 0, 0, 0};
  };
  Scan sc;
  sc.kind.reset(new uint8_t[n]);
  std::vector<Part> part(threads);
  parallel_chunks(n, threads, [&](size_t b, size_t e, unsigned t) {
    Part s;
    for (size_t i = b; i < e; ++i) {
      uint8_t kind;
      if (points[i].is_infinity() || scalars[i].is_zero()) {
        kind = kZero, ++s.zeros;
      } else {
        Signed k = signed_scalar(scalars[i]);
        if (may_split_units && k.mag == u256::from_u64(1)) {
          kind = k.neg ? kUnitMinus : kUnitPlus, ++s.units;
        } else if (k.mag.bit_length() > kSmallBits) {
          kind = kBig, ++s.big;
        } else {
          kind = kSmall, ++s.small;
          for (int w = 0; w < 4; ++w) s.small_or[w] |= k.mag.w[w];
        }
      }
      sc.kind[i] = kind;
    }
    part[t] = s;
  });
  uint64_t small_or[4] = {0, 0, 0, 0};
  for (const Part& s : part) {
    sc.zeros += s.zeros, sc.units += s.units, sc.small += s.small, sc.big += s.big;
    for (int w = 0; w < 4; ++w) small_or[w] |= s.small_or[w];
  }
  sc.small_bits = U256{{small_or[0], small_or[1], small_or[2], small_or[3]}}.bit_length();
  if (sc.units > 0 && sc.units < kMinUnits) {  // too few to sum apart: they join the small ones
    sc.small += sc.units, sc.units = 0;
    sc.small_bits = std::max(sc.small_bits, 1u);
    for (size_t i = 0; i < n; ++i)
      if (sc.kind[i] == kUnitPlus || sc.kind[i] == kUnitMinus) sc.kind[i] = kSmall;
  }
  return sc;
}

// The largest value of `bits` bits.
U256 max_of_bits(unsigned bits) {
  U256 m{};
  for (unsigned w = 0; w < 4; ++w) {
    const unsigned b = bits > 64 * w ? std::min(bits - 64 * w, 64u) : 0;
    m.w[w] = b == 64 ? ~uint64_t{0} : (uint64_t{1} << b) - 1;
  }
  return m;
}

// Writes the digits of the scalars at positions [0, m) of a class (point index[t], or t when
// index is null) in parallel: `split` maps position t and its scalar to the digits of its
// `per_point` virtual points (virtual index t * per_point + h), each given as little-endian words
// of a magnitude and a sign. Scalars outside the class (zeros, units) get zero digits.
template <class Split>
Prepared prepare(const size_t* index, size_t m, unsigned per_point, const U256& max, unsigned window,
                 unsigned threads, Split&& split) {
  Prepared prep;
  prep.nv = m * per_point;
  prep.win = make_windows(max, window);
  const unsigned windows = prep.win.count;
  prep.digits.reset(new int16_t[(size_t)windows * prep.nv]);
  std::vector<std::vector<uint64_t>> counts(threads, std::vector<uint64_t>(windows, 0));
  parallel_chunks(m, threads, [&](size_t b, size_t e, unsigned t) {
    uint64_t* cnt = counts[t].data();
    for (size_t p = b; p < e; ++p) {
      split(p, index ? index[p] : p, [&](unsigned h, const uint64_t* words, unsigned nwords, bool neg) {
        write_digits(words, nwords, neg, prep.win, prep.digits.get() + p * per_point + h, prep.nv,
                     cnt);
      });
    }
  });
  prep.nonzero.assign(windows, 0);
  for (const auto& cnt : counts)
    for (unsigned w = 0; w < windows; ++w) prep.nonzero[w] += cnt[w];
  return prep;
}

template <class C>
Jacobian<C> msm(const Fr* scalars, const Affine<C>* points, size_t n, const MsmConfig& cfg) {
  if (cfg.window_bits != 0 && (cfg.window_bits < 2 || cfg.window_bits > kMaxWindowBits))
    throw std::invalid_argument("MsmConfig::window_bits must be 0 (automatic) or 2..16, got " +
                                std::to_string(cfg.window_bits));
  if (n == 0) return Jacobian<C>::infinity();
  const unsigned threads = resolve_threads(cfg, n);
  const Scan sc = scan(scalars, points, n, cfg.accumulation != Accumulation::xyzz, threads);
  const uint8_t* kind = sc.kind.get();

  // The classes: one over all the points (no index list) when the other is empty, else two
  // index lists. Units are listed apart either way.
  // A few small scalars among big ones (a witness's constants and inputs) ride with the big
  // ones: a class of their own would cost its own passes and bucket reductions.
  const bool glv = cfg.glv && sc.big > 0, two_classes = glv && sc.small >= kMinSmallClass;
  std::vector<Unit> units;
  std::vector<size_t> small_index, big_index;
  if (sc.units > 0 || two_classes) {
    units.reserve(sc.units);
    small_index.reserve(two_classes ? sc.small : 0);
    big_index.reserve(two_classes ? sc.big : 0);
    for (size_t i = 0; i < n; ++i) {
      if (kind[i] == kUnitPlus || kind[i] == kUnitMinus)
        units.push_back({i, kind[i] == kUnitMinus});
      else if (two_classes && kind[i] == kSmall)
        small_index.push_back(i);
      else if (two_classes && kind[i] == kBig)
        big_index.push_back(i);
    }
  }
  auto window_for = [&](size_t dense_virtual) {
    return cfg.window_bits ? cfg.window_bits : choose_window<C>(dense_virtual);
  };
  // Plain method over a class: signed magnitudes in windows up to `bits`.
  auto run_plain = [&](const size_t* index, size_t m, size_t dense, unsigned bits,
                       const std::vector<Unit>& with_units) {
    Prepared prep;
    if (dense > 0)
      prep = prepare(index, m, 1, max_of_bits(bits), window_for(dense), threads,
                     [&](size_t, size_t i, auto&& emit) {
                       Signed k{};
                       if (kind[i] == kSmall || kind[i] == kBig) k = signed_scalar(scalars[i]);
                       emit(0, k.mag.w, 4, k.neg);
                     });
    return pippenger<C>(PlainPoints<C>{points, index}, prep, points, with_units, threads,
                        cfg.accumulation);
  };
  // GLV over a class: phi(x, y) = (beta x, y) = [lambda](x, y), with beta in Fq (kG1GlvBeta on
  // G1, kG2GlvBeta on G2, where it scales both coordinates of x).
  auto run_glv = [&](const size_t* index, size_t m, size_t dense, const std::vector<Unit>& with_units) {
    constexpr U256 max = {{(uint64_t)kGlvMagnitudeBound, (uint64_t)(kGlvMagnitudeBound >> 64), 0, 0}};
    constexpr Fq beta =
        Fq::from_canonical(std::is_same_v<C, G1Curve> ? bn254::kG1GlvBeta : bn254::kG2GlvBeta);
    std::unique_ptr<typename C::Field[]> phix(new typename C::Field[m]);
    auto prep = prepare(index, m, 2, max, window_for(2 * dense), threads,
                        [&](size_t p, size_t i, auto&& emit) {
                          phix[p] = points[i].x * beta;
                          U256 k{};
                          if (kind[i] == kSmall || kind[i] == kBig) k = scalars[i].to_canonical();
                          GlvSplit s = glv_decompose(k);
                          uint64_t k1[2] = {(uint64_t)s.k1.mag, (uint64_t)(s.k1.mag >> 64)};
                          uint64_t k2[2] = {(uint64_t)s.k2.mag, (uint64_t)(s.k2.mag >> 64)};
                          emit(0, k1, 2, s.k1.neg);
                          emit(1, k2, 2, s.k2.neg);
                        });
    return pippenger<C>(GlvPoints<C>{points, index, phix.get()}, prep, points, with_units, threads,
                        cfg.accumulation);
  };
  Xyzz<C> total;
  if (two_classes) {
    total = run_glv(big_index.data(), big_index.size(), sc.big, units) +
            run_plain(small_index.data(), small_index.size(), sc.small, sc.small_bits, {});
  } else if (glv) {
    total = run_glv(nullptr, n, sc.big + sc.small, units);
  } else {
    // Without GLV a big scalar needs 253 bits: the largest signed magnitude is (r - 1) / 2.
    const unsigned bits = sc.big > 0 ? Fr::P_MINUS_1_HALF.bit_length() : sc.small_bits;
    total = run_plain(nullptr, n, sc.small + sc.big, bits, units);
  }
  return total.to_jacobian();
}

}  // namespace

void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
            const MsmConfig& cfg) {
  out = msm(scalars, points, n, cfg);
}

void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n,
            const MsmConfig& cfg) {
  out = msm(scalars, points, n, cfg);
}

}  // namespace zkinfer::cpu
