// GPU MSM (Pippenger), the part that needs no CUDA: per-thread steps (ZK_HD), the plan (window
// width, batch size, segment and chunk sizes, memory), and the order in which steps run. The CUDA
// driver (msm_driver.cuh) runs each step as one thread of a kernel; the host simulator in
// tests/unit/test_msm_gpu_sim.cpp runs the same steps over every (block, thread) with
// std::stable_sort in place of the radix sort, and compares with the CPU backend (DESIGN.md 4).
// This header compiles with g++ as well as nvcc and makes no CUDA call.
//
// Method, for out = sum_i k_i P_i with W windows of c bits (or of widths within a bit of
// 255 / W, none wider than c: Layout):
//  1. digits: each scalar becomes W signed digits of magnitude 0..2^(c-1) (a window value above
//     2^(c-1) is taken as value - 2^c with a carry into the next window). Each digit gives one
//     (key, value) pair: key = window << c | |digit|, value = point index | sign << 31. A zero
//     digit gets the key W << c, above every real key, so it sorts last and is never read.
//  2. sort: all pairs of a batch by key, the windows together (one radix sort); then count the
//     pairs below the sentinel.
//  3. accumulate: the sorted list is cut into segments of equal length regardless of where
//     buckets begin, so a bucket that holds most of the points (witnesses are full of 0, 1 and
//     small values) is shared by many threads instead of serialising one. A thread sums each run
//     of equal keys in its segment with XYZZ mixed additions. A run inside its segment is
//     complete and goes to its bucket. A run that crosses the segment's first or last edge is
//     partial: it becomes a carry, slot 2s (head) or 2s+1 (tail) of segment s, keyed by the
//     segment's first or last key, so the carries are again a sorted keyed list (unused slots
//     hold the point at infinity). A run over a few segments (at most Tuning::join_segments
//     after the one it starts in) is summed by one thread right after level 0 (step 3a); the
//     other carries are reduced the way the pairs were, level by level, until one segment
//     remains. Each level is launched (its count follows from the sizes alone) but returns at
//     once when the step before left no carry that is not at infinity (a flag word per level):
//     with uniform scalars on an H100's plan, at 2^20 level 0 leaves 260 thousand carries and
//     at 2^16 118 thousand, step 3a sums them all and the nine levels have nothing to do
//     (tests/tools/msm_carry_census counts them); with skewed scalars they work. The keys of a
//     bucket are contiguous, so its sum is complete in exactly one thread of one step: that
//     thread stores it, and nothing else writes the bucket in that batch (no atomics, and no
//     load or addition on the branch where runs end). Buckets start at infinity; a batch after
//     the first accumulates into a second, cleared array, which an elementwise step then adds
//     into the buckets.
//  4. reduce: per window, sum_b b * B_b. Buckets b = 1..B are values X_i, i = b - 1, and the
//     target is sum (i + 1) X_i. A level cuts X into chunks of L (P_k = chunk sum, Q_k = sum of
//     j X_{kL+j}, j < L), and with weighted(X) = sum i X_i, weighted(X) = weighted(L P) +
//     plain(Q). The first level gives the state weighted(X') + plain(Y') with X' = L P (log2 L
//     doublings of each chunk sum) and Y' = Q + P; each later level keeps that form with
//     X' = L P and Y'_k = Q_k + (chunk sum of Y)_k. One element per window left: weighted(X_0)
//     = 0, and the window sum is Y_0. A level's chain of dependent additions is its chunk (the
//     running sums, with Y's sum beside them where registers allow) and log2 L doublings; the
//     latency of such chains is the reduction's cost (H200: 1.09 ms of G1 2^20 for about a
//     hundred dependent operations, whatever the buckets hold).
//  5. combine (host): sum_w 2^(o_w) S_w by doubling, o_w window w's first bit: W points, a few
//     hundred doublings, not worth a kernel of one thread.
//
// Point tables (precomputation, for points that stay on the device across MSMs, such as a
// proving key): with T tables, table j holding 2^(j c G) P_i where G = ceil(W / T), digit window
// w = j G + g of scalar i goes to bucket window g with point j of i. Then
//   sum_i k_i P_i = sum_{g < G} 2^(c g) sum_{i, j} d_{i, jG+g} 2^(j c G) P_i,
// an MSM of T n points with G windows: as many additions as before, but G windows of buckets to
// reduce and combine instead of W (T = W: one). The buckets are the whole reduction's cost, so a
// table also makes wider windows pay (fewer digits, hence fewer additions). The tables cost T
// times the points' memory and one pass of doublings (PrecomputeStep) when the points are made
// resident.
// Balanced widths: where each digit window has its own bucket window (no tables) or all share
// one (a table per window, G = 1, the usual case: memory for all of them), the windows need not
// share a width: digit window w has b_w = floor(255 / W) or one more bits (table w holding
// 2^(o_w) P_i, o_w the window's first bit, and bucket window w weighing 2^(o_w) in step 5).
// Equal widths would leave the top window narrow (c = 19: 7 bits; no tables at 2^16, c = 10: 5
// bits) and all n of its digits would fall into its few buckets, runs over tens or hundreds of
// level-0 segments that only the carry levels sum (tests/tools/msm_carry_census: 9,711 carries
// left at 2^20 with tables, 3,933 at 2^16 without); balanced, every bucket's run stays near the
// others'. Same pairs, same or fewer buckets.
//
// Measured on an H200 (bench_gpu_msm, 2026-11-26; bench/results/gpu_check-2026-11-26-NVIDIA-H200.md),
// when a run's end added its sum into the bucket (load, XYZZ addition, store): G1 2^20 in
// 5.4 ms, of which the level-0 accumulation 3.5 ms; the tuning constants below were swept at
// 2^20 and are kept where the sweep found nothing better. Four batches of 2^18 took 2.4x as
// long as one batch of 2^20 in the accumulation for G1 (9.1 ms against 3.8) and 3.9x for G2 (54
// against 14). A batch of 2^18 has as many runs as one of 2^20 (every bucket is hit) but a
// quarter of the points, so the cost of a run's end, an addition on a branch that diverges
// within the warp, dominated.
// Storing the sum instead (step 3) takes the addition off that branch; four batches still took
// 1.21-1.23x one batch's time on an H200 (2026-11-28). The driver batches only when memory is short.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/fp_access.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/hd.h"

namespace zkinfer::gpu {

// Device memory does not hold what an MSM of this size needs, even in the smallest batches.
class MsmOutOfMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Point tables (method above): for points that stay on the device across MSMs (a proving key),
// `tables` copies of them, table j holding 2^(j c G) times the points (c = window_bits, G the
// bucket windows the tables leave), so that each MSM reduces G windows of buckets instead of
// all ceil(255 / c). Chosen by msm::plan_tables (MsmDriver::plan_tables), written by
// MsmDriver::precompute_g1/g2; every MSM over the tables uses their window width.
struct MsmTables {
  unsigned window_bits = 0;
  unsigned tables = 1;  // 1: plain points, no tables
  size_t stride = 0;    // points from one table to the next (the length of table 0)
  size_t points() const { return tables * stride; }
};

namespace msm {

inline constexpr uint32_t kSignBit = 0x80000000u;
inline constexpr unsigned kMinWindowBits = 2, kMaxWindowBits = 24;

// Tuning of the plan (H100 sweep at 2^20, 2026-11-26, in the comments).
struct Tuning {
  // Level-0 segments (one thread each) aimed for per SM: a few waves of the accumulation kernel
  // at the occupancy its registers allow, so a slow warp does not leave an SM idle at the end.
  // Measured: 256 to 4096 within 2% of each other, 128 a third slower (G1 and G2).
  uint32_t segments_per_sm = 1024;
  // Shortest level-0 segment: shorter ones mostly produce carries.
  uint32_t min_segment = 16;
  // Carry levels: entries per thread. Each level leaves 2/carry_segment as many carries and costs
  // carry_segment dependent additions; 4-8 give the least total depth. At least 4.
  uint32_t carry_segment = 8;
  // Step 3a: a run over at most this many segments after its first is summed by one thread, a
  // chain of as many dependent additions (32: about as deep as four carry levels, in a step that
  // runs anyway); longer ones (skewed buckets) go to the carry levels. At least 1 (1: only runs
  // that cross one edge, as before; bench_gpu_msm's _join1 rows). With uniform scalars on an
  // H100's plan the longest runs span about 20 segments at 2^16 (tests/tools/msm_carry_census;
  // 24 empties the levels there, 16 does not) and 1 to 3 at 2^18 and above; only below 2^16,
  // where the plan picks 4-bit windows of 8 buckets, do they stay longer. The levels cost, when
  // they ran on an H200, 0.27-0.31 ms of each G1 MSM and 0.92-1.03 ms of each G2 one (22% of G1
  // at 2^16). Measured against 1 on an H200 (2026-11-28): 0.97-1.00 at 2^20, but 1.14x slower at
  // 2^16 (G1 1.36 against 1.19 ms), so a rule by size may pay; not yet tried.
  uint32_t join_segments = 32;
  // First reduction level: threads aimed for per SM (chunk length follows). Later levels use
  // chunks of reduce_chunk (a power of two, at least 2). Measured at 2^20 on an H200 (after the
  // 32-bit multiplication rework): 128 against 512 made the reduction 9% faster for G1 (1.00
  // against 1.10 ms) and 15% for G2 (3.75 against 4.43 ms); 2048 was no better than 512.
  uint32_t reduce_threads_per_sm = 128;
  // ... but a first chunk of at most this many buckets. At 2^20 (window 16) 128 threads per SM
  // give chunks of 16; at 2^24 (window 20) they would give 256: 512 dependent additions per
  // thread on a level whose 13.6 million additions need every warp the SM can hold. The cap (a
  // power of two) keeps the measured 2^20 shape and gives large sizes more threads instead (not
  // yet measured).
  uint32_t reduce_max_first_chunk = 16;
  // Measured on an H200 (bench_gpu_msm, 2026-11-28), chunks of 2 against 8: G1 2^20 4.69 against
  // 4.88 ms, with point tables (one 19-bit window, the reduction's longest tail) 4.21 against
  // 4.53, G2 13.86 against 14.67; 4 lies between. More levels, but each a shorter chain.
  uint32_t reduce_chunk = 2;
  // Levels in chunks of 2 as ReducePairStep: X' and Y' of each pair in two threads (warps of one
  // role each), two dependent operations per level instead of one thread's four (three additions
  // and a doubling). The first level is one too where its chunk is 2 (reduce_max_first_chunk 2).
  // The ncu profile of G1 2^20 on an H200 (2026-11-28) showed such levels as pure latency: a
  // block of 128 threads took 225 us for a chain of about 28 additions, some 8 us per dependent
  // addition, whatever the level's size. ptxas (sm_90, nvcc 13.0): G1 146 registers (ReduceStep
  // 206), G2 255 with 112 bytes of spill stores (ReduceStep 3060). Off until a GPU run measures
  // it (bench_gpu_msm's *_split_reduce rows).
  bool reduce_split_pairs = false;
  // The accumulation kernels (level 0, the pairs of carries, the carry levels) compiled for one
  // block of 128 threads more per SM than their registers allow otherwise (MinBlocks below): G1
  // 4 blocks at 128 registers instead of 3 at 136-144, G2 3 blocks at 168 instead of 2 at 255.
  // ptxas (sm_90, nvcc 13.0), bytes of spill stores at level 0: G1 16 (0 otherwise), G2 882 (70).
  // Measured on an H200 (2026-11-28, two runs of bench_gpu_msm's capped_regs rows at 2^20): G1
  // 0.979 of its time both times (4.777 against 4.881 ms, 4.572 against 4.670), G2 1.09x (its
  // spills cost more than the warps gained). So G1's (and G1CurveSquare's) are capped, G2's not;
  // g1_msm_uncapped_regs and g2_msm_capped_regs rows keep both measured.
  bool cap_g1_accumulate_registers = true;
  bool cap_g2_accumulate_registers = false;
};

// G1 whose squares use the device's dedicated square (Fp::sqr with kDeviceSquare) where
// G1Curve's multiply the element by itself; Fq's words and Montgomery form, so points and sums
// have G1Curve's layout and MsmDriver::msm_g1_square reinterprets the arrays. An experiment: a
// chain of dedicated squares took 0.87 of the products' time on an H200 (2026-11-28), and a mixed
// addition has 2 squares in 10 products; bench_gpu_msm's g1_msm_square rows measure it in the
// kernels (register use may decide it) before bn254::FqParams takes device_square.
struct FqParamsSquare : bn254::FqParams {
  static constexpr bool device_square = true;
};
struct G1CurveSquare {
  using Field = Fp<FqParamsSquare>;
  ZK_HDI static constexpr Field b() { return Field::from_u64(bn254::kG1B); }
};
static_assert(sizeof(Affine<G1CurveSquare>) == sizeof(G1Affine) &&
              sizeof(Xyzz<G1CurveSquare>) == sizeof(Xyzz<G1Curve>));

// G1's forms (G1Curve, G1CurveSquare): Fq coordinates, where G2's are Fq2.
template <class C>
inline constexpr bool kOverFq = sizeof(typename C::Field) == sizeof(Fq);

// Whether C's accumulation kernels run with capped registers (Tuning).
template <class C>
bool caps_accumulate_registers(const Tuning& t) {
  return kOverFq<C> ? t.cap_g1_accumulate_registers : t.cap_g2_accumulate_registers;
}

// Window layout: W = ceil(255 / c) digit windows of at most c bits covering 255, so the signed
// recoding of a scalar below 2^254 never carries out of the top window. Without point tables
// each digit window has its buckets; with T tables (method, point tables) digit window w uses
// table w / G and the buckets of window w % G, G = ceil(W / T) bucket windows. Widths balanced
// (method) with G = W or G = 1, else c. B = 2^(b-1) buckets per window for the widest b (c,
// or less when balanced), bucket m (1..B) of window g at index g * B + m - 1.
struct Layout {
  unsigned c = 0;
  unsigned windows = 0;        // bucket windows, G
  unsigned digit_windows = 0;  // W
  unsigned tables = 1;         // point tables read: ceil(W / G)
  uint32_t buckets = 0;
  unsigned key_bits = 0;  // the sort's end bit: c + bit_width(G), room for the sentinel G << c
  // Digit window widths: the first wide_windows have digit_bits + 1 bits, the others digit_bits
  // (c and 0 where the widths are not balanced).
  unsigned digit_bits = 0, wide_windows = 0;
  ZK_HDI uint32_t sentinel() const { return uint32_t(windows) << c; }
  size_t total_buckets() const { return size_t(windows) * buckets; }
  ZK_HDI unsigned width(unsigned w) const { return digit_bits + (w < wide_windows ? 1 : 0); }
  // First scalar bit of digit window w.
  ZK_HDI unsigned offset(unsigned w) const { return w * digit_bits + (w < wide_windows ? w : wide_windows); }
  // Doublings from table j - 1 to table j (j >= 1).
  ZK_HDI unsigned table_shift(unsigned j) const { return offset(j * windows) - offset((j - 1) * windows); }
};

// Window width c with up to max_tables point tables (1: none). The tables actually used may be
// fewer (c = 16 with 10 tables: 16 digit windows, G = 2, so 8 tables).
inline Layout make_layout(unsigned c, unsigned max_tables = 1) {
  if (c < kMinWindowBits || c > kMaxWindowBits)
    throw std::invalid_argument("GPU MSM: window_bits must be 0 or " + std::to_string(kMinWindowBits) +
                                ".." + std::to_string(kMaxWindowBits) + ", got " + std::to_string(c));
  if (max_tables == 0) throw std::invalid_argument("GPU MSM: point tables must be at least 1");
  Layout l;
  l.c = c;
  l.digit_windows = (255 + c - 1) / c;
  l.windows = (l.digit_windows + max_tables - 1) / max_tables;
  l.tables = (l.digit_windows + l.windows - 1) / l.windows;
  l.buckets = uint32_t{1} << (c - 1);
  l.key_bits = c + unsigned(std::bit_width(l.windows));
  l.digit_bits = c;
  if (l.windows == 1 || l.tables == 1) {
    // Widths summing to 255, each at most c (W c >= 255): the top window ends at bit 255, so
    // it never carries out (a scalar is below 2^254, its value below half the window's range).
    l.digit_bits = 255 / l.digit_windows;
    l.wide_windows = 255 % l.digit_windows;
    l.buckets = uint32_t{1} << (l.width(0) - 1);  // the widest window's digits (c = 18: 17 bits)
  }
  return l;
}

// ---- per-thread steps -----------------------------------------------------------------------

// Loads and stores of field elements and points, built on fp_access.h's (two 16-byte vector
// accesses per Fp on the device; the driver checks the alignment of its inputs), assembled per
// coordinate so the values stay in registers.
using gpu::load;
using gpu::store;
template <bool ReadOnly = false>
ZK_HDI Fq2 load(const Fq2* p) {
  return {load<ReadOnly>(&p->c0), load<ReadOnly>(&p->c1)};
}
template <bool ReadOnly = false, class C>
ZK_HDI Affine<C> load(const Affine<C>* p) {
  return {load<ReadOnly>(&p->x), load<ReadOnly>(&p->y)};
}
template <bool ReadOnly = false, class C>
ZK_HDI Xyzz<C> load(const Xyzz<C>* p) {
  return {load<ReadOnly>(&p->x), load<ReadOnly>(&p->y), load<ReadOnly>(&p->zz), load<ReadOnly>(&p->zzz)};
}

ZK_HDI void store(Fq2* p, const Fq2& v) {
  store(&p->c0, v.c0);
  store(&p->c1, v.c1);
}
template <class C>
ZK_HDI void store(Affine<C>* p, const Affine<C>& v) {
  store(&p->x, v.x);
  store(&p->y, v.y);
}
template <class C>
ZK_HDI void store(Xyzz<C>* p, const Xyzz<C>& v) {
  store(&p->x, v.x);
  store(&p->y, v.y);
  store(&p->zz, v.zz);
  store(&p->zzz, v.zzz);
}

// Word i of k, 0 past the top. Selects instead of indexing: a run-time index into a register
// array would put the scalar in local memory on the device (HOPPER.md).
ZK_HDI uint64_t word_of(const U256& k, unsigned i) {
  return i == 0 ? k.w[0] : i == 1 ? k.w[1] : i == 2 ? k.w[2] : i == 3 ? k.w[3] : 0;
}

// 1. Signed digits of scalar i: pairs at [w * n + i] (window-major: writes coalesce). With point
// tables, digit window w = j G + g is keyed by bucket window g and valued by point j * stride + i.
struct DigitsStep {
  static constexpr unsigned kBlock = 256;
  const Fr* scalars;
  size_t n;
  Layout layout;
  uint32_t* keys;
  uint32_t* vals;
  size_t stride = 0;  // points from one table to the next (unused without tables)

  ZK_HDI void operator()(size_t i) const {
    const U256 k = load<true>(scalars + i).to_canonical();
    const unsigned c = layout.c;
    uint32_t carry = 0;
    unsigned g = 0;                // bucket window of digit window w
    uint32_t point = uint32_t(i);  // index of the point it takes, in its table
    for (unsigned w = 0; w < layout.digit_windows; ++w) {
      const unsigned b = layout.width(w), off = layout.offset(w), word = off / 64, sh = off % 64;
      const uint32_t half = uint32_t{1} << (b - 1), mask = (uint32_t{1} << b) - 1;
      uint64_t bits = word_of(k, word) >> sh;
      if (sh + b > 64) bits |= word_of(k, word + 1) << (64 - sh);
      const uint32_t v = (uint32_t(bits) & mask) + carry;  // 0..2^b
      const bool neg = v > half;
      carry = neg;
      const uint32_t mag = neg ? (mask + 1) - v : v;  // 0..2^(b-1), b <= c
      const size_t at = size_t(w) * n + i;
      keys[at] = mag ? (uint32_t(g) << c) | mag : layout.sentinel();
      vals[at] = point | (neg ? kSignBit : 0);
      if (++g == layout.windows) {
        g = 0;
        point += uint32_t(stride);
      }
    }
  }
};

// Point tables: entries j * stride + i for j = 1..tables-1, each 2^(layout.table_shift(j)) times
// the one before, from the points 0..n-1 of table 0. Runs once, when points are made resident:
// one point's doublings per thread and one inversion per table entry (Fermat, a few hundred
// products; batch inversion would need a second pass and buffers for a step that runs once per
// key).
template <class C>
struct PrecomputeStep {
  static constexpr unsigned kBlock = 128;
  Affine<C>* table;
  size_t stride;
  Layout layout;

  ZK_HDI void operator()(size_t i) const {
    Xyzz<C> p = Xyzz<C>::from_affine(load(table + i));
    for (unsigned j = 1; j < layout.tables; ++j) {
      for (unsigned k = layout.table_shift(j); k > 0; --k) p = p.dbl();
      store(table + j * stride + i, p.to_affine());
    }
  }
};

// 2. After the sort: *nnz = the number of keys below the sentinel (set to 0 beforehand). The
// keys are sorted, so that is where they turn into sentinels, found in two launches instead of
// one thread per key (which read every key: 47 us of G1 2^20 on an H200, 2026-11-28): a coarse
// step tests every stride-th key and leaves the stride that holds the turn in *at (set to 0
// beforehand: with no key below the sentinel nothing is written), then one thread per key of
// that stride. Stride: count_stride().
inline constexpr size_t kCountSamples = 4096;
inline size_t count_stride(size_t m) { return std::max<size_t>(1, (m + kCountSamples - 1) / kCountSamples); }

// Whether key i is below the sentinel and key i + step (if any, of m) is not: the turn lies in
// [i, i + step). Both count steps test it, with step = stride and step = 1.
ZK_HDI bool sentinels_follow(const uint32_t* keys, size_t m, uint32_t sentinel, size_t i, size_t step) {
  return i < m && keys[i] != sentinel && (i + step >= m || keys[i + step] == sentinel);
}

struct CountCoarseStep {
  static constexpr unsigned kBlock = 256;
  const uint32_t* keys;
  size_t m;
  size_t stride;
  uint32_t sentinel;
  uint32_t* at;

  ZK_HDI void operator()(size_t j) const {
    if (sentinels_follow(keys, m, sentinel, j * stride, stride)) *at = uint32_t(j);
  }
};

struct CountStep {
  static constexpr unsigned kBlock = 256;
  const uint32_t* keys;
  size_t m;
  size_t stride;
  uint32_t sentinel;
  const uint32_t* at;
  uint32_t* nnz;

  ZK_HDI void operator()(size_t t) const {
    const size_t i = size_t(*at) * stride + t;
    if (sentinels_follow(keys, m, sentinel, i, 1)) *nnz = uint32_t(i + 1);
  }
};

ZK_HDI size_t bucket_index(uint32_t key, const Layout& l) {
  return size_t(key >> l.c) * l.buckets + (key & ((uint32_t{1} << l.c) - 1)) - 1;
}

// Values of level 0: a point, negated for a negative digit.
template <class C>
struct PointSource {
  const uint32_t* vals;
  const Affine<C>* points;
  ZK_HDI void add_to(Xyzz<C>& acc, size_t i) const {
    const uint32_t v = vals[i];
    Affine<C> p = load<true>(points + (v & ~kSignBit));
    if (v & kSignBit) p = -p;
    acc = acc.add_affine(p);
  }
};

// Values of the carry levels: partial bucket sums. (Sums are written a = a + b throughout: with
// Xyzz's operator+=, which returns a reference, nvcc kept G2 accumulators in local memory.)
template <class C>
struct CarrySource {
  const Xyzz<C>* vals;
  ZK_HDI void add_to(Xyzz<C>& acc, size_t i) const { acc = acc + load(vals + i); }
};

// 3. Segment s of a sorted keyed list of `count` entries (method, step 3).
template <class C, class Src>
struct AccumulateStep {
  static constexpr unsigned kBlock = 128;  // not tuned
  const uint32_t* keys;
  Src src;
  size_t count;
  uint32_t seg;
  Layout layout;
  Xyzz<C>* buckets;      // all at infinity before level 0 (method, step 3)
  uint32_t* carry_keys;  // 2 per segment
  Xyzz<C>* carry_vals;
  // Carry levels: the flag of the step before (0: it left no carry, so neither this level nor
  // any after it has work, and its outputs are never read) and this level's, set to 1 where it
  // writes a carry that is not at infinity. Level 0 has neither (step 3a decides) and compiles
  // without them.
  const uint32_t* carries_in = nullptr;
  uint32_t* carries_out = nullptr;
  static constexpr bool kCarryLevel = !std::is_same_v<Src, PointSource<C>>;

  // A bucket's whole sum for this batch: no other thread or level writes it, so it is stored,
  // not added. Empty sums are skipped: a key's empty carry slots (a run that ended inside its
  // segment leaves one) reach later levels after the bucket was written.
  ZK_HDI void store_bucket(uint32_t key, const Xyzz<C>& v) const {
    if (!v.is_infinity()) store(buckets + bucket_index(key, layout), v);
  }
  ZK_HDI void carry(size_t slot, const Xyzz<C>& v) const {
    carry_vals[slot] = v;
    if constexpr (kCarryLevel)
      if (!v.is_infinity()) *carries_out = 1;
  }

  // Carries go out as soon as they are known: only the running sum stays in registers (G2
  // points are large).
  ZK_HDI void operator()(size_t s) const {
    using X = Xyzz<C>;
    if constexpr (kCarryLevel)
      if (*carries_in == 0) return;
    const size_t begin = s * seg, end = begin + seg < count ? begin + seg : count;
    const bool head_open = begin > 0 && keys[begin - 1] == keys[begin];
    const bool tail_open = end < count && keys[end] == keys[end - 1];
    carry_keys[2 * s] = keys[begin];
    carry_keys[2 * s + 1] = keys[end - 1];
    if (!head_open) carry_vals[2 * s] = X::infinity();
    X acc = X::infinity();
    uint32_t cur = keys[begin];
    bool first = true;
    for (size_t i = begin; i < end; ++i) {
      const uint32_t k = keys[i];
      if (k != cur) {  // the run of `cur` ends inside the segment and is not its last
        if (first && head_open)
          carry(2 * s, acc);
        else
          store_bucket(cur, acc);
        acc = X::infinity();
        cur = k;
        first = false;
      }
      src.add_to(acc, i);
    }
    // The last run; a run open at both edges is the head (counted once).
    if (first && head_open) {
      carry(2 * s, acc);
      carry_vals[2 * s + 1] = X::infinity();
    } else if (tail_open) {
      carry(2 * s + 1, acc);
    } else {
      store_bucket(cur, acc);
      carry_vals[2 * s + 1] = X::infinity();
    }
  }
};

// 3a. Between level 0 and the carry levels: a run that crosses segment edges has a carry in
// each segment it touches: the tail slot 2s + 1 of the segment s it starts in, then the head
// slot 2t of every later segment t it reaches (a segment that is all one run carries it in its
// head slot). Thread s owns the run in its tail slot if the run starts in s and goes on into
// s + 1; if it ends within `reach` segments after s, the thread sums its carries, stores the
// bucket and leaves the slots at infinity. Every carry not at infinity belongs to such a run, so
// the carry levels, whose dependent additions are few threads' work, see only the runs longer
// than that (skewed buckets), or nothing; an owner that leaves its run sets *remaining. The
// owners follow from the keys alone, and each run has one, so no slot is read while another
// thread writes it. Census (tests/tools/msm_carry_census, an H100's plan, uniform scalars): at
// 2^16 the runs of 128 pairs span about 9 segments of 16, at 2^20 with point tables up to 3.
template <class C>
struct JoinCarriesStep {
  static constexpr unsigned kBlock = 128;
  const uint32_t* carry_keys;  // level 0's: 2 per segment
  Xyzz<C>* carry_vals;
  size_t segs;
  uint32_t reach;  // Tuning::join_segments
  Layout layout;
  Xyzz<C>* buckets;
  uint32_t* remaining;  // the carry flag the first carry level reads

  ZK_HDI void operator()(size_t s) const {
    if (s + 1 >= segs) return;
    const uint32_t key = carry_keys[2 * s + 1];
    if (carry_keys[2 * s + 2] != key || (s > 0 && carry_keys[2 * s - 1] == key)) return;  // not an owner
    size_t last = s + 1;  // the run's last segment
    while (last + 1 < segs && carry_keys[2 * last + 2] == key)
      if (++last - s > reach) {
        *remaining = 1;
        return;
      }
    Xyzz<C> sum = load(carry_vals + 2 * s + 1);
    carry_vals[2 * s + 1] = Xyzz<C>::infinity();
    for (size_t t = s + 1; t <= last; ++t) {
      sum = sum + load(carry_vals + 2 * t);
      carry_vals[2 * t] = Xyzz<C>::infinity();
    }
    if (!sum.is_infinity()) store(buckets + bucket_index(key, layout), sum);
  }
};

// 3b. After the levels of a batch other than the first: buckets[i] += batch[i].
template <class C>
struct MergeStep {
  static constexpr unsigned kBlock = 128;
  const Xyzz<C>* batch;
  Xyzz<C>* buckets;

  ZK_HDI void operator()(size_t i) const {
    const Xyzz<C> v = load(batch + i);
    if (!v.is_infinity()) store(buckets + i, load(buckets + i) + v);
  }
};

// A step compiled with its registers capped so kBlocks blocks of Step::kBlock threads fit an SM
// (the CUDA executor launches it with __launch_bounds__(Step::kBlock, kBlocks); the simulator
// runs it as Step). Tuning::cap_g1_accumulate_registers, cap_g2_accumulate_registers.
template <class Step, unsigned kBlocks>
struct MinBlocks : Step {};
// Blocks of 128 threads per SM for the capped accumulation kernels: one more than at 136-144
// registers (G1) or 255 (G2).
template <class C>
inline constexpr unsigned kCappedBlocks = kOverFq<C> ? 4 : 3;

// 4. One reduction level (method), thread t = chunk t of all windows' arrays (windows are
// contiguous and the chunk divides the per-window length, so chunk t starts at t * chunk). y_in
// is null on the first level, x_out on the last (X' is not needed: weighted(X_0) = 0).
// Before this form the state carried a factor M for the weighted part, and a level doubled Q by
// the product of all earlier chunks (4 + 7 + 10 + 13 doublings on the critical path at 2^20)
// after its Y loop; now each level doubles its chunk sums by its own L (4 + 3 + 3 + 3 + 2).
// Y's chunk sum runs beside the running sums (kFuseY: three live points) for G1; G2's three
// would be 192 registers of state alone, so it sums Y after them, with two.
// Register use (ptxas -v, sm_90, nvcc 13.0): G1 206 registers, no spills (186 before this
// form; two blocks of 128 threads per SM either way). Every G2 kernel uses all 255 registers
// and spills some (bytes of spill stores): the reduction 3060 (2628 before this form); level 0
// of the accumulation (mixed additions) 70, the carry levels 262, the join step 140, the
// merge of later batches 48. The history: 730 for the reduction with the first 64-bit-row
// multiplication; with the 32-bit one 1816, and 248 / 256 at level 0 / the carry levels while a
// run's end still added into its bucket; storing run sums made those 50 / 142, the Fq2 products
// with lazy reduction (mont32::fq2_mul) 98 / 130, and a b - x y with two reductions
// (mont32::fq2_mul_sub_mul; 4.6% fewer IMAD.WIDE and 5.5% fewer instructions at level 0, 3.4%
// and 2.2% in the carry levels) the figures above.
template <class C>
struct ReduceStep {
  static constexpr unsigned kBlock = 128;  // not tuned
  static constexpr bool kFuseY = kOverFq<C>;
  const Xyzz<C>* x_in;
  const Xyzz<C>* y_in;
  uint32_t chunk;  // L, a power of two (make_plan)
  Xyzz<C>* x_out;
  Xyzz<C>* y_out;

  ZK_HDI void operator()(size_t t) const {
    using X = Xyzz<C>;
    const size_t base = t * chunk;
    X run = X::infinity(), acc = X::infinity();
    if constexpr (kFuseY) {
      X ys = X::infinity();
      for (uint32_t j = chunk; j-- > 0;) {  // acc gains X_{base+j} once for each smaller j: Q
        acc = acc + run;
        run = run + load(x_in + base + j);
        if (y_in) ys = ys + load(y_in + base + j);
      }
      if (!y_in) ys = run;  // first level: Y' = Q + P
      acc = acc + ys;
    } else {
      // The same sums in one loop whose last pass, on the first level only, has nothing left to
      // add to run and gives acc its P: one addition site less (with a larger addition, the FP64
      // experiment's, four sites made nvcc call it out of line, with a 256-byte stack frame).
      const uint32_t extra = y_in ? 0 : 1;
      for (uint32_t i = chunk + extra; i-- > 0;) {
        acc = acc + run;
        if (i >= extra) run = run + load(x_in + base + i - extra);
      }
    }
    if (x_out) {  // stored before Y's sum: one point less in registers from here on
      for (uint32_t l = chunk; l > 1; l >>= 1) run = run.dbl();  // X' = L P: log2 L doublings
      x_out[t] = run;
    }
    if constexpr (!kFuseY)
      if (y_in)
        for (uint32_t j = 0; j < chunk; ++j) acc = acc + load(y_in + base + j);
    y_out[t] = acc;
  }
};

// 4'. A reduction level in chunks of 2 with its two sums in separate threads
// (Tuning::reduce_split_pairs): X'_k = 2 (X_2k + X_2k+1) and Y'_k = (Y_2k + X_2k+1) + Y_2k+1,
// the same values as ReduceStep with chunk 2 (weighted(X) + plain(Y) is kept: 2k X_2k +
// (2k + 1) X_2k+1 = k X'_k + X_2k+1). On the first level Y is the buckets themselves (the
// target sum_i (i + 1) X_i is weighted(X) + plain(X)), so y_in = x_in there. Threads come in
// warps of one role, so a warp never runs both sums one after the other: thread t is pair
// ((t >> 6) << 5) | (t & 31), and computes Y' in even warps and X' in odd ones (threads():
// twice the pairs rounded up to 32). On the last level (x_out null) every thread computes Y'.
template <class C>
struct ReducePairStep {
  static constexpr unsigned kBlock = 128;  // not tuned
  const Xyzz<C>* x_in;
  const Xyzz<C>* y_in;
  size_t pairs;  // outputs: windows times the elements left per window
  Xyzz<C>* x_out;
  Xyzz<C>* y_out;

  size_t threads() const { return x_out ? 2 * ((pairs + 31) / 32 * 32) : pairs; }
  ZK_HDI void operator()(size_t t) const {
    const bool y_role = !x_out || ((t >> 5) & 1) == 0;
    const size_t k = x_out ? (((t >> 6) << 5) | (t & 31)) : t;
    if (k >= pairs) return;
    const Xyzz<C> odd = load(x_in + 2 * k + 1);
    if (y_role) {
      Xyzz<C> y = load(y_in + 2 * k) + odd;
      y = y + load(y_in + 2 * k + 1);
      store(y_out + k, y);
    } else {
      store(x_out + k, (load(x_in + 2 * k) + odd).dbl());
    }
  }
};

// 5. sum_w 2^(o_w) y_w, on the host, o_w the first bit of bucket window w (c w with 1 < G < W;
// with one bucket window, its only term).
template <class C>
Jacobian<C> combine_windows(const Xyzz<C>* y, const Layout& l) {
  Jacobian<C> acc = Jacobian<C>::infinity();
  for (unsigned w = l.windows; w-- > 0;) {
    for (unsigned k = l.width(w); k > 0; --k) acc = acc.dbl();
    acc += y[w].to_jacobian();
  }
  return acc;
}

// ---- the plan ---------------------------------------------------------------------------------

// Estimated MSM time for window width c, used only to rank widths: additions spread over the
// SMs, plus the reduction levels, which are short chains of dependent additions (latency, not
// throughput), plus the carry levels where uniform scalars' runs reach past step 3a. The rates
// are estimates (H100: about 40 XYZZ mixed additions per microsecond per SM from the 8x32-bit
// multiply count; a dependent G1 addition about 4 us); a carry level that runs costs about the
// same whatever it carries (H200, 2026-11-26: nine G1 levels 0.27-0.31 ms at 2^16 to 2^24).
// Measured at 2^20 (G1 and G2): the width this picks, 16, and 15 are the fastest, within 2%;
// 12 and 18 are 10-20% slower.
inline double estimated_cost_us(size_t n, const Layout& l, unsigned sm_count, const Tuning& t = {}) {
  constexpr double kAddsPerSmPerUs = 40, kLevelLatencyUs = 100, kCarryLevelUs = 30;
  const double pairs = double(n) * l.digit_windows;
  const double work = pairs + 3.0 * double(l.total_buckets());
  const double levels = double((l.c - 1 + 2) / 3);
  double cost = work / (double(sm_count) * kAddsPerSmPerUs) + levels * kLevelLatencyUs;
  // Uniform scalars: a digit window of b bits puts about n / 2^(b-1) pairs in each of its
  // buckets; the busiest bucket window gets the narrow windows (G = 1: all of them). Level 0 cuts
  // the pairs into segments (Plan::first_segment); a run within four standard deviations of the
  // mean (Poisson) and a segment for its ragged ends must stay within step 3a's reach.
  const double segment = std::max(double(t.min_segment), pairs / (double(sm_count) * t.segments_per_sm));
  const double narrow = double(n) / double(uint64_t{1} << (l.digit_bits - 1));
  const double mean = l.windows == 1 ? narrow * (double(l.digit_windows - l.wide_windows) + 0.5 * l.wide_windows)
                                     : narrow * l.tables;
  if ((mean + 4 * std::sqrt(mean)) / segment + 1 > double(t.join_segments)) {
    double segs = std::ceil(pairs / segment);
    for (; segs > 1; segs = std::ceil(2 * segs / t.carry_segment)) cost += kCarryLevelUs;
  }
  return cost;
}

// Window width for n points on sm_count SMs, at most max_bucket_points buckets in all, with up
// to max_tables point tables (1: none).
inline unsigned choose_window_bits(size_t n, unsigned sm_count, size_t max_bucket_points, unsigned max_tables = 1,
                                   const Tuning& t = {}) {
  unsigned best = 0;
  double best_cost = 0;
  for (unsigned c = kMinWindowBits; c <= kMaxWindowBits; ++c) {
    const Layout l = make_layout(c, max_tables);
    if (l.total_buckets() > max_bucket_points) break;
    const double cost = estimated_cost_us(n, l, std::max(sm_count, 1u), t);
    if (best == 0 || cost < best_cost) best = c, best_cost = cost;
  }
  return best;  // 0: not even the narrowest window fits
}

// Point tables for MSMs over up to n points (stride n) on sm_count SMs: the window width chosen
// for n, as many tables as max_bytes holds (points of point_bytes each, table 0 included), and
// buckets within bucket_bytes. tables = 1 (none) where fewer than two fit.
inline MsmTables plan_tables(size_t n, size_t point_bytes, size_t max_bytes, unsigned sm_count, size_t bucket_bytes,
                             const Tuning& tuning = {}) {
  MsmTables t;
  t.stride = n;
  if (n == 0 || point_bytes == 0 || n > kSignBit) return t;
  // Values index tables * n points below 2^31 (DigitsStep); more tables than the narrowest
  // width's windows are never used.
  const size_t by_memory = max_bytes / n / point_bytes, by_index = size_t{kSignBit} / n;
  const size_t most = std::min({by_memory, by_index, size_t{(255 + kMinWindowBits - 1) / kMinWindowBits}});
  if (most < 2) return t;
  const size_t xyzz_bytes = 2 * point_bytes;  // an XYZZ bucket holds twice an affine point's fields
  const unsigned c = choose_window_bits(n, sm_count, bucket_bytes / xyzz_bytes, unsigned(most), tuning);
  if (c == 0) return t;
  const Layout l = make_layout(c, unsigned(most));
  if (l.tables < 2) return t;
  t.window_bits = c;
  t.tables = l.tables;
  return t;
}

// Pairs of one sort: the radix sort counts items in an int.
inline constexpr size_t kMaxPairs = size_t{0x7fffffff};
// Carry flags (step 3): word 0 for what step 3a leaves, word l for what carry level l leaves.
// Each level has at most 2 / carry_segment (<= 1/2) as many entries as the one before, and
// level 0 fewer than 2^31 pairs: at most 31 levels.
inline constexpr size_t kCarryFlags = 32;

// Everything that fixes the work and the memory of an MSM.
struct Plan {
  Layout layout;
  Tuning tuning;
  unsigned sm_count = 1;
  size_t n = 0;
  size_t batch = 0;  // points per batch
  size_t point_bytes = 0, xyzz_bytes = 0;
  size_t table_stride = 0;  // with point tables: points from one table to the next

  size_t pair_capacity() const { return batch * layout.digit_windows; }
  // More than one batch: later batches need their own bucket array (method, step 3).
  bool batched() const { return batch < n; }
  size_t target_segments() const { return size_t(sm_count) * tuning.segments_per_sm; }
  // Level-0 segment length for nnz pairs: at most target_segments() segments.
  uint32_t first_segment(size_t nnz) const {
    const size_t t = target_segments();
    return uint32_t(std::max<size_t>(tuning.min_segment, (nnz + t - 1) / t));
  }
  // Each level's carries are at most twice its segments, and no level has more segments than
  // level 0 (<= target_segments(), and <= pairs / min_segment rounded up).
  size_t carry_capacity() const {
    const size_t by_pairs = (pair_capacity() + tuning.min_segment - 1) / tuning.min_segment;
    return 2 * std::max<size_t>(1, std::min(target_segments(), by_pairs));
  }
  // Chunk length of each reduction level; their product is B.
  std::vector<uint32_t> reduce_chunks() const {
    std::vector<uint32_t> out;
    const size_t total = layout.total_buckets();
    const size_t want = std::max<size_t>(1, size_t(sm_count) * tuning.reduce_threads_per_sm);
    uint32_t first = 2;
    while (first < layout.buckets && first < tuning.reduce_max_first_chunk && total / (size_t(first) * 2) >= want)
      first *= 2;
    first = std::min(first, layout.buckets);
    out.push_back(first);
    for (uint32_t m = layout.buckets / first; m > 1;) {
      const uint32_t l = std::min(m, tuning.reduce_chunk);
      out.push_back(l);
      m /= l;
    }
    return out;
  }
  size_t reduce_capacity() const { return layout.total_buckets() / reduce_chunks().front(); }

};

// Sizes of the pieces of Buffers, in the order of carve() below.
inline std::vector<size_t> buffer_sizes(const Plan& p) {
  const size_t pairs = p.pair_capacity() * 4, carries = p.carry_capacity(),
               red = p.reduce_capacity() * p.xyzz_bytes;
  const size_t buckets = p.layout.total_buckets() * p.xyzz_bytes;
  return {pairs, pairs, pairs, pairs, 4 * (2 + kCarryFlags), buckets, p.batched() ? buckets : 0,
          carries * 4, carries * 4, carries * p.xyzz_bytes, carries * p.xyzz_bytes,
          red, red, red, red};
}
inline constexpr size_t kAlign = 256;
inline size_t aligned(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }
inline size_t arena_bytes(const Plan& p) {
  size_t total = 0;
  for (size_t b : buffer_sizes(p)) total += aligned(b);
  return total;
}
// What the caller of make_plan decides.
struct PlanRequest {
  size_t n = 0;
  unsigned sm_count = 1;
  size_t point_bytes = 0;  // sizeof(Affine<C>)
  size_t xyzz_bytes = 0;   // sizeof(Xyzz<C>)
  unsigned window_bits = 0;
  // Point tables (method): the tables the points come with, window_bits fixed by them, and the
  // points from one table to the next (at least n). 1: plain points.
  unsigned tables = 1;
  size_t table_stride = 0;
  size_t max_batch = 0;                // 0: no limit
  size_t budget_bytes = SIZE_MAX;      // device memory the plan may use
  size_t staging_bytes_per_point = 0;  // input buffers for host inputs (both slots)
  std::function<size_t(size_t pairs)> sort_temp_bytes;  // radix-sort scratch; empty: none
  Tuning tuning;
};

// Chooses the window width and the largest batch that fits the budget. Throws
// MsmOutOfMemory when not even batches of min(n, 4096) points fit, std::invalid_argument for a
// bad window width or tuning.
inline Plan make_plan(const PlanRequest& r) {
  if (r.tuning.carry_segment < 4 || r.tuning.min_segment < 4)
    throw std::invalid_argument("GPU MSM: segments must hold at least 4 entries");
  if (r.tuning.join_segments == 0) throw std::invalid_argument("GPU MSM: join_segments must be at least 1");
  if (r.tuning.reduce_chunk < 2 || !std::has_single_bit(r.tuning.reduce_chunk))
    throw std::invalid_argument("GPU MSM: reduce_chunk must be a power of two >= 2");
  if (r.tuning.reduce_max_first_chunk < 2 || !std::has_single_bit(r.tuning.reduce_max_first_chunk))
    throw std::invalid_argument("GPU MSM: reduce_max_first_chunk must be a power of two >= 2");
  if (r.tuning.segments_per_sm == 0 || r.tuning.reduce_threads_per_sm == 0)
    throw std::invalid_argument("GPU MSM: zero thread targets");
  if (r.tables == 0) throw std::invalid_argument("GPU MSM: point tables must be at least 1");
  if (r.tables > 1) {
    if (r.window_bits == 0) throw std::invalid_argument("GPU MSM: point tables need their window width");
    const Layout l = make_layout(r.window_bits, r.tables);
    if (r.table_stride == 0 || r.table_stride < r.n || r.n > kSignBit ||
        (l.tables - 1) > (size_t{kSignBit} - r.n) / r.table_stride)
      throw std::invalid_argument("GPU MSM: point tables of stride " + std::to_string(r.table_stride) + " for " +
                                  std::to_string(r.n) + " points (at least n, and " + std::to_string(l.tables) +
                                  " tables must index below 2^31)");
  }
  Plan p;
  p.tuning = r.tuning;
  p.sm_count = std::max(r.sm_count, 1u);
  p.n = r.n;
  p.point_bytes = r.point_bytes;
  p.xyzz_bytes = r.xyzz_bytes;
  auto mib = [](size_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MiB"; };
  // Buckets take at most a quarter of the budget when the width is automatic.
  const size_t bucket_cap = r.budget_bytes / 4 / std::max<size_t>(r.xyzz_bytes, 1);
  const unsigned c = r.window_bits ? r.window_bits : choose_window_bits(r.n, p.sm_count, bucket_cap, 1, r.tuning);
  if (c == 0)
    throw MsmOutOfMemory("GPU MSM: " + mib(r.budget_bytes) +
                         " of device memory do not hold the buckets of even the narrowest window");
  p.layout = make_layout(c, r.tables);
  p.table_stride = r.tables > 1 ? r.table_stride : 0;
  const size_t min_batch = std::min<size_t>(std::max<size_t>(r.n, 1), 4096);
  size_t batch = std::max<size_t>(r.n, 1);
  if (r.max_batch) batch = std::min(batch, r.max_batch);
  batch = std::min(batch, kMaxPairs / p.layout.digit_windows);
  auto need = [&](size_t b) {
    p.batch = b;
    const size_t sort = r.sort_temp_bytes ? r.sort_temp_bytes(p.pair_capacity()) : 0;
    return arena_bytes(p) + b * r.staging_bytes_per_point + sort;
  };
  while (need(batch) > r.budget_bytes) {
    if (batch <= min_batch)
      throw MsmOutOfMemory("GPU MSM of " + std::to_string(r.n) + " points (window " +
                           std::to_string(c) + " bits): batches of " + std::to_string(batch) +
                           " points need " + mib(need(batch)) + " of device memory, " +
                           mib(r.budget_bytes) + " available");
    batch = std::max(min_batch, batch - batch / 8 - 1);
  }
  p.batch = batch;
  return p;
}

// ---- the order of the steps ---------------------------------------------------------------------
// Exec runs the steps: the CUDA driver's executor launches kernels on a stream, the simulator's
// loops over every (block, thread). It provides
//   template <class Step> void launch(const Step&, size_t threads);   // threads 0..threads-1
//   unsigned sort_pairs(uint32_t* const keys[2], uint32_t* const vals[2], size_t m,
//                       unsigned end_bit);  // stable by key; returns the buffer holding the result
//   void zero(void* p, size_t bytes);
//   uint32_t read_u32(const uint32_t* p);              // waits for the work before it
//   template <class T> void download(T* host, const T* p, size_t n);  // waits likewise
//   void first_level_queued();  // after the point additions, before the carry levels (timing)

// Scratch memory of one MSM, laid out by the executor from the plan's sizes.
template <class C>
struct Buffers {
  uint32_t* keys[2];  // pair_capacity() each
  uint32_t* vals[2];
  uint32_t* nnz;  // one word, then kCarryFlags carry flags, then CountCoarseStep's stride
  Xyzz<C>* buckets;  // total_buckets()
  Xyzz<C>* batch_buckets;  // total_buckets() when the plan is batched(), else null
  uint32_t* carry_keys[2];  // carry_capacity() each
  Xyzz<C>* carry_vals[2];
  Xyzz<C>* red_x[2];  // reduce_capacity() each
  Xyzz<C>* red_y[2];
};

// Lays the buffers out in one arena of arena_bytes(p) (aligned to kAlign).
template <class C>
Buffers<C> carve(const Plan& p, void* arena) {
  const std::vector<size_t> sizes = buffer_sizes(p);
  char* at = static_cast<char*>(arena);
  size_t i = 0;
  auto next = [&](auto* type_tag) {
    using T = std::remove_pointer_t<decltype(type_tag)>;
    T* r = reinterpret_cast<T*>(at);
    at += aligned(sizes[i++]);
    return r;
  };
  Buffers<C> b;
  b.keys[0] = next((uint32_t*)nullptr);
  b.keys[1] = next((uint32_t*)nullptr);
  b.vals[0] = next((uint32_t*)nullptr);
  b.vals[1] = next((uint32_t*)nullptr);
  b.nnz = next((uint32_t*)nullptr);
  b.buckets = next((Xyzz<C>*)nullptr);
  b.batch_buckets = next((Xyzz<C>*)nullptr);
  if (!p.batched()) b.batch_buckets = nullptr;
  b.carry_keys[0] = next((uint32_t*)nullptr);
  b.carry_keys[1] = next((uint32_t*)nullptr);
  b.carry_vals[0] = next((Xyzz<C>*)nullptr);
  b.carry_vals[1] = next((Xyzz<C>*)nullptr);
  b.red_x[0] = next((Xyzz<C>*)nullptr);
  b.red_y[0] = next((Xyzz<C>*)nullptr);
  b.red_x[1] = next((Xyzz<C>*)nullptr);
  b.red_y[1] = next((Xyzz<C>*)nullptr);
  return b;
}

// Before the first batch: every bucket at infinity (all-zero words: ZZ = 0).
template <class Exec, class C>
void clear_buckets(Exec& ex, const Plan& p, const Buffers<C>& b) {
  ex.zero(b.buckets, p.layout.total_buckets() * sizeof(Xyzz<C>));
}

// Steps 1-2 for nb scalars; returns which keys/vals buffer holds the sorted pairs. The count of
// non-zero pairs is left in *b.nnz.
template <class Exec, class C>
unsigned sort_batch(Exec& ex, const Plan& p, const Buffers<C>& b, const Fr* scalars, size_t nb) {
  const size_t m = nb * p.layout.digit_windows;
  ex.launch(DigitsStep{scalars, nb, p.layout, b.keys[0], b.vals[0], p.table_stride}, nb);
  const unsigned cur = ex.sort_pairs(b.keys, b.vals, m, p.layout.key_bits);
  ex.zero(b.nnz, (2 + kCarryFlags) * sizeof(uint32_t));  // the carry flags of this batch too
  const size_t stride = count_stride(m);
  uint32_t* const at = b.nnz + 1 + kCarryFlags;
  ex.launch(CountCoarseStep{b.keys[cur], m, stride, p.layout.sentinel(), at}, (m + stride - 1) / stride);
  ex.launch(CountStep{b.keys[cur], m, stride, p.layout.sentinel(), at, b.nnz}, stride);
  return cur;
}

// Step 3 for batch number `batch`: the nnz sorted pairs in buffer `cur`, points of this batch
// (indices 0..nb-1). The first batch sums into the buckets, which clear_buckets left at
// infinity; a later one into the cleared batch array, then added into the buckets.
template <class Exec, class C>
void accumulate_batch(Exec& ex, const Plan& p, const Buffers<C>& b, size_t batch, unsigned cur,
                      size_t nnz, const Affine<C>* points) {
  if (nnz == 0) return;
  Xyzz<C>* const sums = batch == 0 ? b.buckets : b.batch_buckets;
  if (batch > 0) ex.zero(sums, p.layout.total_buckets() * sizeof(Xyzz<C>));
  auto launch = [&](const auto& step, size_t threads) {
    using Step = std::remove_cvref_t<decltype(step)>;
    if (caps_accumulate_registers<C>(p.tuning)) {
      ex.launch(MinBlocks<Step, kCappedBlocks<C>>{step}, threads);
    } else {
      ex.launch(step, threads);
    }
  };
  uint32_t seg = p.first_segment(nnz);
  size_t segs = (nnz + seg - 1) / seg;
  launch(AccumulateStep<C, PointSource<C>>{b.keys[cur], {b.vals[cur], points}, nnz, seg, p.layout, sums,
                                           b.carry_keys[0], b.carry_vals[0]},
         segs);
  ex.first_level_queued();
  uint32_t* const flags = b.nnz + 1;  // zeroed with nnz (sort_batch)
  if (segs > 1)
    launch(JoinCarriesStep<C>{b.carry_keys[0], b.carry_vals[0], segs, p.tuning.join_segments, p.layout, sums, flags},
           segs);
  unsigned in = 0;
  for (size_t level = 1; segs > 1; ++level) {
    if (level >= kCarryFlags) throw std::logic_error("GPU MSM: more carry levels than carry flags");
    const size_t m = 2 * segs;
    seg = p.tuning.carry_segment;
    segs = (m + seg - 1) / seg;
    launch(AccumulateStep<C, CarrySource<C>>{b.carry_keys[in], {b.carry_vals[in]}, m, seg, p.layout, sums,
                                             b.carry_keys[in ^ 1], b.carry_vals[in ^ 1], flags + level - 1,
                                             flags + level},
           segs);
    in ^= 1;
  }
  if (batch > 0) ex.launch(MergeStep<C>{sums, b.buckets}, p.layout.total_buckets());
}

// Steps 4-5.
template <class Exec, class C>
Jacobian<C> reduce_buckets(Exec& ex, const Plan& p, const Buffers<C>& b) {
  const Layout& l = p.layout;
  const Xyzz<C>* x = b.buckets;
  const Xyzz<C>* y = nullptr;
  size_t m = l.buckets;
  unsigned out = 0;
  for (uint32_t chunk : p.reduce_chunks()) {
    m /= chunk;
    Xyzz<C>* const x_out = m > 1 ? b.red_x[out] : nullptr;
    if (chunk == 2 && p.tuning.reduce_split_pairs) {
      const ReducePairStep<C> step{x, y ? y : x, l.windows * m, x_out, b.red_y[out]};
      ex.launch(step, step.threads());
    } else {
      ex.launch(ReduceStep<C>{x, y, chunk, x_out, b.red_y[out]}, l.windows * m);
    }
    x = b.red_x[out];
    y = b.red_y[out];
    out ^= 1;
  }
  std::vector<Xyzz<C>> hy(l.windows);
  ex.download(hy.data(), y, l.windows);
  return combine_windows(hy.data(), l);
}

// Point tables for n points whose table 0 is written at `table`, entries stride apart (method).
template <class Exec, class C>
void precompute_tables(Exec& ex, Affine<C>* table, size_t n, size_t stride, const Layout& l) {
  if (l.tables > 1) ex.launch(PrecomputeStep<C>{table, stride, l}, n);
}

// The whole MSM, batch after batch, inputs already where the executor's steps read them; with
// point tables, `points` is table 0 (p.table_stride to the next). The CUDA driver runs the same
// phases with input copies in between (msm_driver.cuh).
template <class Exec, class C>
Jacobian<C> run(Exec& ex, const Plan& p, const Buffers<C>& b, const Fr* scalars,
                const Affine<C>* points, size_t n) {
  if (n == 0) return Jacobian<C>::infinity();
  clear_buckets(ex, p, b);
  for (size_t off = 0; off < n; off += p.batch) {
    const size_t nb = std::min(p.batch, n - off);
    const unsigned cur = sort_batch(ex, p, b, scalars + off, nb);
    accumulate_batch(ex, p, b, off / p.batch, cur, ex.read_u32(b.nnz), points + off);
  }
  return reduce_buckets(ex, p, b);
}

}  // namespace msm
}  // namespace zkinfer::gpu
