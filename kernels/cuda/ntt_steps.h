// The CUDA NTT's per-thread steps and its launch schedule, shared by the kernels (ntt.cu) and
// the host simulator test (tests/unit/test_ntt_sim.cpp): every step is __host__ __device__ and
// this header compiles without nvcc (DESIGN.md 4).
//
// Algorithm: decimation in frequency as a chain of passes. A vector of n = 2^L points is seen
// level by level as rows: at a level with rows of 2^ls points, a pass does the top k bits of
// the row index: for every column c < 2^(ls-k) it runs a 2^k-point radix-2 DIF over the points
// c + a * 2^(ls-k) (a < 2^k), in shared memory, which leaves frequency f = bitrev_k(a) at
// position a, and multiplies that point by w_(2^ls)^(c*f) (the four-step twiddle). The rows of
// 2^(ls-k) points are then independent transforms, done by the next pass. The last pass has
// whole rows in shared memory and needs no twiddle. Row R of the last pass, position a, holds
// frequency bitrev_t(a) * 2^(L-t) + bitrev_(L-t)(R) (t = tile_log). Two ways back to natural
// order:
// - out of place (the default): the first pass reads the data and writes a scratch vector, the
//   last reads the scratch and writes each element straight to its natural position in the data.
//   Its tile number is bitrev(R), so blocks that run together write neighbouring elements and
//   L2 gathers their 32-byte stores into whole lines. This costs no pass, only scratch memory;
// - in place: a final pass swaps tiles of bit-reversed positions (the fallback when no scratch
//   memory can be had).
// A transform that fits one tile (L <= tile_log) is one kernel: it writes natural order straight
// from shared memory.
//
// The four-step twiddles of a non-last pass come from a table of the pass's 2^ls values, read by
// position in the row like the data (one multiplication per element; with the table in Shoup form,
// NttDriverConfig::shoup_pass_twiddles, a product by a fixed factor), or where the driver has no
// table from the two small power tables (two multiplications).
//
// Per-element factors ride along instead of costing passes: the coset forward multiplies point
// i by g^i while the first pass loads it; the inverse (computed as the forward transform with
// inverse roots) multiplies coefficient i by 1/n (and g^-i for the coset) while the last kernel
// stores it. Powers w^e and g^i come from two small tables, lo[e mod 2^m] * hi[e >> m].
//
// A kernel with barriers is a list of phases (phase_count, run_phase): the kernel runs each
// phase on all its threads with __syncthreads() between them; the simulator runs each phase
// over every thread in turn. A pass's phases are its load, one per radix-2 stage (or, with
// Shape::radix4, one per two stages, four points per thread in registers) and its store.
// Shared tiles hold an element as two 16-byte halves in separate planes, so a warp reading
// consecutive slots reads consecutive 16-byte words (no bank conflicts, one 128-bit access per
// half).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/fp_access.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/hd.h"
#include "zkinfer/ff/mont32.h"

namespace zkinfer::gpu::ntt {

// ---- limits and defaults ------------------------------------------------------------------------
// With these, on an H200 (bench_gpu_ntt, 2026-11-28, Shoup twiddles): 2^20 in 0.268 ms, 2^24 in
// 4.42 ms, of which the field multiplications alone take about 4.2 ms (some 2.5e8 of them at
// 2^24, at the measured 6.0e10 per second); bench_gpu_ntt's sweep times the other shapes.
// Largest tile: 2^12 elements = 128 KiB of shared memory. The stage twiddle table covers spans
// up to 2^(kMaxTileLog-1).
inline constexpr uint32_t kMaxTileLog = 12;
// Default tile: 2^10 elements = 32 KiB, so up to seven blocks fit an H100 SM (228 KiB); 2^20
// points then take three passes (two with 2^11 tiles: a pass that is not the last does at most
// 10 - 2 stages, kDefaultMinColumnsLog below) and 2^24 three, plus the reordering pass when
// there is no scratch vector. Measured on an H200 (bench_gpu_ntt, 2026-11-28, Shoup twiddles):
// 2^24 forward 4.41 ms against 4.53 with 2^11 tiles, 2^20 0.266 against 0.274; 2^12 tiles were
// slower at both (7.0 and 0.37).
inline constexpr uint32_t kDefaultTileLog = 10;
// Threads per block of the pass kernel: 256 threads do the 512 butterflies of a 2^10 tile's
// stage in two rounds. The kernel is compiled for at most kMaxThreads.
inline constexpr uint32_t kDefaultThreads = 256;
inline constexpr uint32_t kMaxThreads = 512;
// A pass that is not the last loads at least 2^kDefaultMinColumnsLog adjacent columns per row
// of its tile: 4 x 32 bytes = one whole 128-byte line per row instead of a lone 32-byte sector.
inline constexpr uint32_t kDefaultMinColumnsLog = 2;
// The reordering pass swaps 2^s x 2^s tiles, s <= kPermuteLog: rows of 16 elements are 512
// contiguous bytes both when read and when written.
inline constexpr uint32_t kPermuteLog = 4;
inline constexpr uint32_t kPermuteThreads = 1u << (2 * kPermuteLog);
// Slots of the reordering tile: two tiles of 2^s rows, each row padded by one element so the
// transposed reads do not all land in the same banks.
inline constexpr uint32_t kPermuteSlots = 2 * (1u << kPermuteLog) * ((1u << kPermuteLog) + 1);
// The most passes one transform can need (tile_log 1: one stage per pass).
inline constexpr uint32_t kMaxPasses = kFrMaxLogDomain;

// ---- small helpers ------------------------------------------------------------------------------

ZK_HDI uint32_t bitrev(uint32_t x, uint32_t bits) {
  if (bits == 0) return 0;
#if defined(__CUDA_ARCH__)
  return __brev(x) >> (32 - bits);
#else
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = __builtin_bswap32(x);
  return x >> (32 - bits);
#endif
}

// Global memory: an element as two 16-byte accesses on the device (fp_access.h; a warp's loads
// of adjacent elements cover whole lines). Tables, which no kernel writes, are read with
// load<true> (the read-only cache).
using gpu::load;
using gpu::store;

// Half of an element in a shared tile.
struct alignas(16) Half {
  uint64_t x, y;
};

// A tile of shared memory: slot s is (lo[s], hi[s]).
struct SharedTile {
  Half* lo;
  Half* hi;
  ZK_HDI Fr get(uint32_t s) const {
    const Half a = lo[s], b = hi[s];
    return Fr{{a.x, a.y, b.x, b.y}};
  }
  ZK_HDI void set(uint32_t s, const Fr& v) const {
    lo[s] = Half{v.v[0], v.v[1]};
    hi[s] = Half{v.v[2], v.v[3]};
  }
};

// base^e for e < 2^(lo_log + hi entries' bits), as lo[e mod 2^lo_log] * hi[e >> lo_log]; lo may
// carry a constant factor (lo[x] = scale * base^x), hi[0] is 1.
struct Powers {
  const Fr* lo = nullptr;
  const Fr* hi = nullptr;
  uint32_t lo_log = 0;
  ZK_HDI Fr at(uint64_t e) const {
    const Fr a = load<true>(lo + (e & ((uint64_t{1} << lo_log) - 1)));
    const uint64_t h = e >> lo_log;
    return h == 0 ? a : a * load<true>(hi + h);
  }
};

// What happens to element i (its position in its vector, natural order) as it is loaded or
// stored: nothing, times a constant, or times Powers::at(i).
struct Factor {
  enum Mode : uint32_t { kNone, kConstant, kPowers };
  Mode mode = kNone;
  Fr constant = Fr::one();
  Powers powers;
  ZK_HDI Fr apply(const Fr& x, uint64_t i) const {
    if (mode == kConstant) return x * constant;
    if (mode == kPowers) return x * powers.at(i);
    return x;
  }
};

// scale * base^i: one entry of a power table (the driver fills tables on the device with this,
// the simulator on the host).
// Right-to-left square-and-multiply over a 64-bit exponent: no exponent array for the device
// to keep in local memory (Fp::pow indexes a 256-bit one).
ZK_HD inline Fr power_entry(const Fr& base, const Fr& scale, uint64_t i) {
  Fr r = scale, b = base;
  for (; i != 0; i >>= 1) {
    if (i & 1) r = r * b;
    b = b.sqr();
  }
  return r;
}

// Groth16's quotient at one point of the coset: h = a b - c (NttDriver::coset_quotient).
ZK_HDI Fr quotient_entry(const Fr& a, const Fr& b, const Fr& c) { return a * b - c; }

// ---- the pass kernel ----------------------------------------------------------------------------

// One pass: rows of 2^ls points, the top k bits of the row index, 2^log_g sub-transforms of 2^k
// points per tile (a tile is 2^(k + log_g) elements, one thread block's work at a time).
struct Pass {
  uint32_t log_n = 0;
  uint32_t ls = 0;
  uint32_t k = 0;
  uint32_t log_g = 0;
  bool twiddle = false;  // not the last pass: times w_(2^ls)^(c*f) on the way out
  bool fused = false;    // the only pass (ls = k = log_n): store in natural order
  bool ordered = false;  // last of an out-of-place schedule: its tiles take rows in bit-reversed
                         // order and store every element at its natural position
  bool radix4 = false;   // stages two at a time (phase_stage4; Shape::radix4)
  ZK_HDI uint32_t tile_log() const { return k + log_g; }
};

// The four-step twiddle of row element a * 2^(ls-k) + c of a non-last pass, w_(2^ls)^(c *
// bitrev_k(a)), as an exponent of w_n (c < 2^(ls-k), so the exponent is below 2^log_n).
ZK_HDI uint64_t pass_twiddle_exponent(const Pass& ps, uint32_t a, uint64_t c) {
  return (c * bitrev(a, ps.k)) << (ps.log_n - ps.ls);
}

// Entry i of a non-last pass's twiddle table: the twiddle of position i of a row.
ZK_HDI Fr pass_twiddle_entry(const Pass& ps, const Powers& level, uint64_t i) {
  const uint32_t cl = ps.ls - ps.k;
  const uint64_t e = pass_twiddle_exponent(ps, uint32_t(i >> cl), i & ((uint64_t{1} << cl) - 1));
  return e == 0 ? Fr::one() : level.at(e);
}

// A stage twiddle for products by a fixed factor (Shoup, mont32::mul_shoup): the value w
// canonical and w' = floor(w 2^256 / p), both as raw words in Fr's storage. A butterfly's
// product then takes 97 IMAD.WIDE in SASS instead of 123 (bench_gpu_field's
// fr_mul_shoup_chain_ilp4 and bench_gpu_ntt's shoup rows measure whether that is faster).
struct ShoupTwiddle {
  Fr w, wq;
};

// The Shoup form of the twiddle t (Montgomery form): on the host for the stage tables, and on
// the device (plain C++, once per entry) for the pass tables of NttDriverConfig::shoup_pass_twiddles.
ZK_HD inline ShoupTwiddle shoup_twiddle(const Fr& t) {
  uint32_t m[mont32::kLimbs], q[mont32::kLimbs];
  const U256 mont = t.mont();
  for (int i = 0; i < 4; ++i) {
    m[2 * i] = uint32_t(mont.w[i]);
    m[2 * i + 1] = uint32_t(mont.w[i] >> 32);
  }
  mont32::shoup_quotient_plain<bn254::FrParams>(q, m);
  ShoupTwiddle s;
  s.w = Fr::from_mont(t.to_canonical());
  for (int i = 0; i < 4; ++i) s.wq.v[i] = uint64_t(q[2 * i]) | (uint64_t(q[2 * i + 1]) << 32);
  return s;
}

// d * t for the stage twiddle at `at`: from the Shoup table on the device where there is one,
// else the Montgomery product with the stage table's entry (the host simulator's path; both give
// the same fully reduced element).
ZK_HDI Fr stage_product(const Fr& d, const Fr* stage, const ShoupTwiddle* shoup, uint32_t at) {
#if defined(__CUDA_ARCH__)
  if (shoup) {
    const Fr w = load<true>(&shoup[at].w), wq = load<true>(&shoup[at].wq);
    Fr r;
    fp_device::mul_shoup<bn254::FrParams>(r.v, d.v, w.v, wq.v);
    return r;
  }
#else
  (void)shoup;
#endif
  return d * load<true>(stage + at);
}

// Entry i of a non-last pass's twiddle table in Shoup form (NttDriverConfig::shoup_pass_twiddles).
ZK_HD inline ShoupTwiddle pass_twiddle_shoup_entry(const Pass& ps, const Powers& level, uint64_t i) {
  return shoup_twiddle(pass_twiddle_entry(ps, level, i));
}

struct PassArgs {
  // batch vectors of 2^log_n elements, back to back: read from src, written to dst (the same
  // memory for an in-place pass; a tile stores only after all of it is loaded)
  const Fr* src = nullptr;
  Fr* dst = nullptr;
  Pass pass;
  uint64_t tiles = 0;         // tiles in the whole launch
  const Fr* stage = nullptr;  // stage table: [h-1, 2h-1) holds w_2h^i for i < h
  const ShoupTwiddle* stage_shoup = nullptr;  // the same in Shoup form, or null (device only)
  Powers level;               // w_n^e for e < n (non-last passes)
  const Fr* twiddles = nullptr;  // non-last pass: its twiddle table (2^ls entries), or null
  const ShoupTwiddle* twiddles_shoup = nullptr;  // the same in Shoup form instead
  Factor pre;                 // on load (the first pass: coset forward)
  Factor fin;                 // on store (a fused pass: the inverse's scale)
};

// Where tile element p (p < 2^tile_log, in an order that makes adjacent p adjacent in memory)
// lives: its shared slot, its global index, its row of the sub-transform (a) and the
// sub-transform's global number (q).
struct TileElem {
  uint32_t slot;
  uint32_t a;
  uint64_t idx;
  uint64_t q;
};

// Slots are a * 2^log_g + j for row a of sub-transform j. When a tile's sub-transforms are
// columns of one row (log_g <= ls - k), adjacent j are adjacent in memory, so p = slot; when
// the tile holds whole rows, the tile is one contiguous range and p is the offset in it.
ZK_HDI TileElem tile_elem(const Pass& ps, uint64_t tile, uint32_t p) {
  const uint32_t cl = ps.ls - ps.k;
  const uint64_t col_mask = (uint64_t{1} << cl) - 1;
  TileElem e;
  if (ps.log_g <= cl) {
    e.a = p >> ps.log_g;
    const uint32_t j = p & ((1u << ps.log_g) - 1);
    e.q = (tile << ps.log_g) | j;
    e.idx = ((e.q >> cl) << ps.ls) | (uint64_t(e.a) << cl) | (e.q & col_mask);
    e.slot = p;
  } else {
    e.idx = (tile << ps.tile_log()) | p;
    const uint32_t c = p & uint32_t(col_mask);
    e.a = (p >> cl) & ((1u << ps.k) - 1);
    const uint32_t j = ((p >> (cl + ps.k)) << cl) | c;
    e.q = (tile << ps.log_g) | j;
    e.slot = (e.a << ps.log_g) | j;
  }
  return e;
}

// An ordered pass (ls = k) has 2^log_g rows per tile (Shape::last_rows_log), slot a * 2^log_g + j
// holding element a of the tile's row j. Row j of tile t is r = t * 2^log_g + j counted in the
// store order: it is row R = bitrev(r mod 2^(L-k)) of vector r >> (L-k), and element a of it
// (the slot's load) sits at (v, R, a); after the stages it holds frequency bitrev_k(a) *
// 2^(L-k) + (r mod 2^(L-k)), its natural position (the slot's store). The tile's rows thus
// store side by side: 2^log_g adjacent elements for each a.
ZK_HDI uint64_t ordered_load_index(const Pass& ps, uint64_t tile, uint32_t slot) {
  const uint32_t rb = ps.log_n - ps.k;
  const uint64_t r_mask = (uint64_t{1} << rb) - 1;
  const uint64_t r = (tile << ps.log_g) | (slot & ((1u << ps.log_g) - 1));
  const uint64_t row = (r & ~r_mask) | bitrev(uint32_t(r & r_mask), rb);
  return (row << ps.k) | (slot >> ps.log_g);
}
ZK_HDI uint64_t ordered_store_index(const Pass& ps, uint64_t tile, uint32_t slot) {
  const uint32_t rb = ps.log_n - ps.k;
  const uint64_t r_mask = (uint64_t{1} << rb) - 1;
  const uint64_t r = (tile << ps.log_g) | (slot & ((1u << ps.log_g) - 1));
  return ((r >> rb) << ps.log_n) | (uint64_t(bitrev(slot >> ps.log_g, ps.k)) << rb) | (r & r_mask);
}

// x times the four-step twiddle w_n^exp of row position `at` in a non-last pass: from its table
// in Shoup form, from its table, or from the level's power tables (two products). On the host
// (the simulator) a Shoup entry gives its w as a Montgomery product, so the simulator checks the
// tables' w and their places; w' is the device's alone (test_mont32_emu checks it).
ZK_HDI Fr pass_product(const PassArgs& A, const Fr& x, uint64_t at, uint64_t exp) {
  if (A.twiddles_shoup) {
    const Fr w = load<true>(&A.twiddles_shoup[at].w);
#if defined(__CUDA_ARCH__)
    const Fr wq = load<true>(&A.twiddles_shoup[at].wq);
    Fr r;
    fp_device::mul_shoup<bn254::FrParams>(r.v, x.v, w.v, wq.v);
    return r;
#else
    return x * Fr::from_canonical(w.mont());
#endif
  }
  return x * (A.twiddles ? load<true>(A.twiddles + at) : A.level.at(exp));
}

// Phase 0: the tile from global memory into shared memory (times the load factor).
ZK_HD inline void phase_load(const PassArgs& A, uint64_t tile, uint32_t tid, uint32_t nthreads,
                             const SharedTile& sh) {
  const Pass& ps = A.pass;
  const uint32_t T = 1u << ps.tile_log();
  const uint64_t n_mask = (uint64_t{1} << ps.log_n) - 1;
  if (ps.ordered) {
    // Slots in order, as stored: with 2^log_g rows, 2^log_g threads in a row read 2^log_g rows
    // at the same a, each row contiguous, so a warp still reads whole lines.
    for (uint32_t p = tid; p < T; p += nthreads) {
      const uint64_t i = ordered_load_index(ps, tile, p);
      sh.set(p, A.pre.apply(load(A.src + i), i & n_mask));
    }
    return;
  }
  for (uint32_t p = tid; p < T; p += nthreads) {
    const TileElem e = tile_elem(ps, tile, p);
    sh.set(e.slot, A.pre.apply(load(A.src + e.idx), e.idx & n_mask));
  }
}

// Phase 1 + s: radix-2 DIF stage s (span h = 2^(k-1-s)) of every sub-transform in the tile.
// Adjacent threads take adjacent sub-transforms, then adjacent butterflies.
ZK_HD inline void phase_stage(const PassArgs& A, uint32_t s, uint32_t tid, uint32_t nthreads, const SharedTile& sh) {
  const Pass& ps = A.pass;
  const uint32_t half = 1u << (ps.tile_log() - 1);
  const uint32_t log_h = ps.k - 1 - s, h = 1u << log_h;
  const uint32_t g_mask = (1u << ps.log_g) - 1;
  for (uint32_t u = tid; u < half; u += nthreads) {
    const uint32_t j = u & g_mask, v = u >> ps.log_g;
    const uint32_t i = v & (h - 1);
    const uint32_t a = ((v >> log_h) << (log_h + 1)) | i;
    const uint32_t lo = (a << ps.log_g) | j, hi = lo + (h << ps.log_g);
    const Fr x = sh.get(lo), y = sh.get(hi);
    sh.set(lo, x + y);
    const Fr d = x - y;
    sh.set(hi, i == 0 ? d : stage_product(d, A.stage, A.stage_shoup, h - 1 + i));
  }
}

// Stages s and s + 1 (spans h = 2^(k-1-s) and h / 2) as one phase (Shape::radix4): each thread
// takes four points a, a + h/2, a + h, a + 3h/2 (a mod 2h < h/2), does both radix-2 stages on
// them in registers and stores them once. The same butterflies and products as two phase_stage
// calls, with half the barriers and shared-memory round trips, and two independent products in
// flight per stage.
ZK_HD inline void phase_stage4(const PassArgs& A, uint32_t s, uint32_t tid, uint32_t nthreads, const SharedTile& sh) {
  const Pass& ps = A.pass;
  const uint32_t quarter = 1u << (ps.tile_log() - 2);
  const uint32_t log_h = ps.k - 1 - s, h = 1u << log_h, q = h >> 1;
  const uint32_t g_mask = (1u << ps.log_g) - 1;
  for (uint32_t u = tid; u < quarter; u += nthreads) {
    const uint32_t j = u & g_mask, v = u >> ps.log_g;
    const uint32_t i = v & (q - 1);
    const uint32_t a = ((v >> (log_h - 1)) << (log_h + 1)) | i;
    const uint32_t s0 = (a << ps.log_g) | j, s1 = s0 + (q << ps.log_g), s2 = s0 + (h << ps.log_g),
                   s3 = s2 + (q << ps.log_g);
    const Fr x0 = sh.get(s0), x1 = sh.get(s1), x2 = sh.get(s2), x3 = sh.get(s3);
    // Stage s: pairs (a, a + h) and (a + h/2, a + 3h/2), twiddles w_2h^i and w_2h^(i + h/2).
    const Fr y0 = x0 + x2, y1 = x1 + x3;
    Fr y2 = x0 - x2;
    if (i != 0) y2 = stage_product(y2, A.stage, A.stage_shoup, h - 1 + i);
    const Fr y3 = stage_product(x1 - x3, A.stage, A.stage_shoup, h - 1 + q + i);
    // Stage s + 1: pairs (a, a + h/2) and (a + h, a + 3h/2), both with twiddle w_h^i.
    sh.set(s0, y0 + y1);
    sh.set(s2, y2 + y3);
    Fr z1 = y0 - y1, z3 = y2 - y3;
    if (i != 0) {
      z1 = stage_product(z1, A.stage, A.stage_shoup, q - 1 + i);
      z3 = stage_product(z3, A.stage, A.stage_shoup, q - 1 + i);
    }
    sh.set(s1, z1);
    sh.set(s3, z3);
  }
}

// The last phase: the tile back to global memory, in place. A non-last pass multiplies by the
// level twiddle; the fused single pass writes natural order and applies the store factor.
ZK_HD inline void phase_store(const PassArgs& A, uint64_t tile, uint32_t tid, uint32_t nthreads, const SharedTile& sh) {
  const Pass& ps = A.pass;
  const uint32_t T = 1u << ps.tile_log();
  if (ps.fused) {
    // ls = k = log_n: the tile is 2^log_g whole vectors, contiguous.
    const uint32_t n_mask = (1u << ps.k) - 1;
    for (uint32_t p = tid; p < T; p += nthreads) {
      const uint32_t j = p >> ps.k, i = p & n_mask;
      const Fr x = sh.get((bitrev(i, ps.k) << ps.log_g) | j);
      store(A.dst + ((tile << ps.tile_log()) | p), A.fin.apply(x, i));
    }
    return;
  }
  if (ps.ordered) {
    // Slots in order (no bank conflicts); 2^log_g adjacent threads store adjacent elements, and
    // the next 2^log_g land 2^(L-k) elements further on; the blocks of the neighbouring tiles
    // fill in between (with one row per tile, each store is a lone 32-byte sector).
    const uint64_t n_mask = (uint64_t{1} << ps.log_n) - 1;
    for (uint32_t p = tid; p < T; p += nthreads) {
      const uint64_t o = ordered_store_index(ps, tile, p);
      store(A.dst + o, A.fin.apply(sh.get(p), o & n_mask));
    }
    return;
  }
  const uint64_t col_mask = (uint64_t{1} << (ps.ls - ps.k)) - 1;
  const uint64_t row_mask = (uint64_t{1} << ps.ls) - 1;
  for (uint32_t p = tid; p < T; p += nthreads) {
    const TileElem e = tile_elem(ps, tile, p);
    Fr x = sh.get(e.slot);
    if (ps.twiddle) {
      const uint64_t exp = pass_twiddle_exponent(ps, e.a, e.q & col_mask);
      if (exp != 0) x = pass_product(A, x, e.idx & row_mask, exp);
    }
    store(A.dst + e.idx, x);
  }
}

// Phases of the stages: k, or with Shape::radix4 ceil(k / 2) (stages 2p and 2p + 1 in phase
// 1 + p, the last stage alone when k is odd). The kernels use the template, so the radix-2
// instance does not read the flag.
template <bool kRadix4>
ZK_HDI uint32_t stage_phases(uint32_t k) { return kRadix4 ? (k + 1) / 2 : k; }
ZK_HDI uint32_t stage_phase_count(const Pass& ps) {
  return ps.radix4 ? stage_phases<true>(ps.k) : stage_phases<false>(ps.k);
}
ZK_HDI uint32_t pass_phase_count(const Pass& ps) { return stage_phase_count(ps) + 2; }
template <bool kRadix4>
ZK_HDI uint32_t pass_phases(const Pass& ps) { return stage_phases<kRadix4>(ps.k) + 2; }

// kRadix4 must be A.pass.radix4 (the driver and the simulator pick the instance from the pass):
// a kernel without phase_stage4 keeps the registers of the radix-2 butterfly (64, against 104
// with both in one kernel).
template <bool kRadix4 = false>
ZK_HD inline void run_pass_phase(const PassArgs& A, uint32_t phase, uint64_t tile, uint32_t tid, uint32_t nthreads,
                                 const SharedTile& sh) {
  if (phase == 0) {
    phase_load(A, tile, tid, nthreads, sh);
  } else if (phase <= stage_phases<kRadix4>(A.pass.k)) {
    if constexpr (!kRadix4) {
      phase_stage(A, phase - 1, tid, nthreads, sh);
    } else {
      const uint32_t s = 2 * (phase - 1);
      if (s + 1 < A.pass.k) phase_stage4(A, s, tid, nthreads, sh);
      else phase_stage(A, s, tid, nthreads, sh);
    }
  } else {
    phase_store(A, tile, tid, nthreads, sh);
  }
}

// ---- the reordering kernel ----------------------------------------------------------------------
// Position i = (A, m, C), A and C of s bits: bitrev(i) = (rev C, rev m, rev A). Item (v, m) of
// vector v with m <= rev m loads the 2^s x 2^s tiles of m and rev m and writes each to the
// other's place transposed; m = rev m swaps within its tile.

struct PermuteArgs {
  Fr* data = nullptr;
  uint32_t log_n = 0;
  uint32_t s = 0;      // tile side 2^s, 2s <= log_n, s <= kPermuteLog
  uint64_t items = 0;  // batch * 2^(log_n - 2s)
  Factor fin;          // on store, by natural position
};

// Items with m > rev m have nothing to do (their partner does it); uniform per block.
ZK_HDI bool permute_active(const PermuteArgs& P, uint64_t item) {
  const uint32_t mb = P.log_n - 2 * P.s;
  const uint32_t m = uint32_t(item & ((uint64_t{1} << mb) - 1));
  return m <= bitrev(m, mb);
}

ZK_HD inline void run_permute_phase(const PermuteArgs& P, uint32_t phase, uint64_t item,
                                    uint32_t tid, uint32_t nthreads, const SharedTile& sh) {
  const uint32_t L = P.log_n, s = P.s, S = 1u << s, mb = L - 2 * s, row = S + 1;
  const uint32_t m = uint32_t(item & ((uint64_t{1} << mb) - 1)), mr = bitrev(m, mb);
  Fr* base = P.data + ((item >> mb) << L);
  const uint32_t other = S * row;  // slot offset of the second tile
  for (uint32_t e = tid; e < S * S; e += nthreads) {
    const uint32_t hi = e >> s, lo = e & (S - 1);
    if (phase == 0) {
      // Row hi (A), column lo (C).
      const uint64_t at = (uint64_t(hi) << (L - s)) | (uint64_t(m) << s) | lo;
      sh.set(hi * row + lo, load(base + at));
      if (m != mr) {
        const uint64_t at2 = (uint64_t(hi) << (L - s)) | (uint64_t(mr) << s) | lo;
        sh.set(other + hi * row + lo, load(base + at2));
      }
    } else {
      // Output row hi (rev C), column lo (rev A): the element from (A, C) = (rev lo, rev hi).
      const uint32_t src = bitrev(lo, s) * row + bitrev(hi, s);
      const uint64_t o = (uint64_t(hi) << (L - s)) | (uint64_t(mr) << s) | lo;
      store(base + o, P.fin.apply(sh.get(src), o));
      if (m != mr) {
        const uint64_t o2 = (uint64_t(hi) << (L - s)) | (uint64_t(m) << s) | lo;
        store(base + o2, P.fin.apply(sh.get(other + src), o2));
      }
    }
  }
}

inline constexpr uint32_t kPermutePhaseCount = 2;

// ---- schedule (host) ----------------------------------------------------------------------------

// How the driver splits work; the simulator and the GPU tests use small tiles to force the
// multi-pass path onto small sizes.
struct Shape {
  uint32_t tile_log = kDefaultTileLog;
  uint32_t threads = kDefaultThreads;
  uint32_t min_columns_log = kDefaultMinColumnsLog;
  bool radix4 = false;  // two stages per phase (phase_stage4); off: 1.01-1.10x slower on an H200
  // Rows per tile of a multi-pass transform's last pass, log2: that pass does tile_log -
  // last_rows_log stages, the others the rest. With a scratch vector the last pass writes natural
  // order, each row's elements 2^(L-k) apart; 2^last_rows_log rows per tile put that many
  // adjacent elements side by side (2: a 128-byte line), where one row per tile (0) writes lone
  // 32-byte sectors and relies on neighbouring blocks to fill each line. Not yet measured (the
  // 2^24 profile on an H200 showed that last pass at 41% of memory throughput, 2.03 of 4.7 ms).
  uint32_t last_rows_log = 0;
};

// A table split for powers of one base: lo has 2^lo_log entries, hi 2^(log_n - lo_log) (at
// least one), so every exponent below 2^log_n is covered.
inline uint32_t powers_lo_log(uint32_t log_n) { return (log_n + 1) / 2; }
inline uint64_t powers_hi_count(uint32_t log_n) {
  return uint64_t{1} << (log_n - powers_lo_log(log_n));
}

// Table recipes, shared by the driver (which fills on the device) and the simulator: `count`
// entries scale * base^i from table + offset.
struct PowerFill {
  uint64_t offset = 0;
  Fr base = Fr::one();
  Fr scale = Fr::one();
  uint64_t count = 0;
};

// Stage table entries of span h = 2^(k-1), k = 1..tile_log: w_(2^k)^i (inverse: w^-i).
inline PowerFill stage_fill(uint32_t k, bool inverse) {
  const Fr w = fr_root_of_unity(k);
  PowerFill f;
  f.offset = (uint64_t{1} << (k - 1)) - 1;
  f.base = inverse ? w.inverse() : w;
  f.count = uint64_t{1} << (k - 1);
  return f;
}
inline uint64_t stage_entries(uint32_t tile_log) { return (uint64_t{1} << tile_log) - 1; }

// The whole stage table for tiles up to 2^tile_log in Shoup form (NttDriverConfig::shoup_twiddles),
// made on the host (each entry's w' needs the element itself): entry j holds the same twiddle as
// entry j of the stage table the stage_fill recipes make.
inline std::vector<ShoupTwiddle> shoup_stage_table(uint32_t tile_log, bool inverse) {
  std::vector<ShoupTwiddle> t(stage_entries(tile_log));
  for (uint32_t k = 1; k <= tile_log; ++k) {
    const PowerFill f = stage_fill(k, inverse);
    Fr x = f.scale;
    for (uint64_t i = 0; i < f.count; ++i, x = x * f.base) t[f.offset + i] = shoup_twiddle(x);
  }
  return t;
}

// scale * base^e for e < 2^log_n as Powers: lo then hi, powers_entries(log_n) in all.
inline std::array<PowerFill, 2> powers_fills(uint32_t log_n, const Fr& base, const Fr& scale) {
  const uint64_t lo = uint64_t{1} << powers_lo_log(log_n);
  std::array<PowerFill, 2> f;
  f[0].base = base;
  f[0].scale = scale;
  f[0].count = lo;
  f[1].offset = lo;
  f[1].base = base.pow(lo);
  f[1].count = powers_hi_count(log_n);
  return f;
}
inline uint64_t powers_entries(uint32_t log_n) {
  return (uint64_t{1} << powers_lo_log(log_n)) + powers_hi_count(log_n);
}
inline Powers powers_at(const Fr* table, uint32_t log_n) {
  Powers p;
  p.lo = table;
  p.hi = table + (uint64_t{1} << powers_lo_log(log_n));
  p.lo_log = powers_lo_log(log_n);
  return p;
}

// The transform's device-side inputs, whatever memory they live in.
struct Inputs {
  Fr* data = nullptr;
  Fr* scratch = nullptr;  // batch << log_n elements for the out-of-place schedule; null: in place
  const Fr* pass_twiddles = nullptr;  // the non-last passes' tables (pass_tables), or null
  const ShoupTwiddle* pass_shoup = nullptr;  // the same in Shoup form instead, or null
  uint32_t log_n = 0;
  uint64_t batch = 1;
  const Fr* stage = nullptr;  // stage table of the direction (>= 2^tile_log - 1 entries)
  const ShoupTwiddle* stage_shoup = nullptr;  // its Shoup form (device), or null
  Powers level;               // w_n powers of the direction
  Factor pre;                 // load factor of the first pass
  Factor fin;                 // store factor at natural positions
};

struct PassLaunch {
  PassArgs args;
  uint32_t threads = 0;
  uint32_t smem_bytes = 0;  // dynamic shared memory: 2^tile_log elements
};

struct Schedule {
  uint32_t count = 0;
  std::array<PassLaunch, kMaxPasses> passes{};
  bool permute = false;
  PermuteArgs perm;
  uint32_t perm_threads = 0;
};

// Inputs of one transform from its tables: stage and level tables of the direction (inverse
// roots for the inverse kinds); for the coset kinds the coset table: g^i (forward) or
// (1/n) * g^-i (inverse), filled by powers_fills(log_n, g, 1) or (log_n, g^-1, 1/n).
inline Inputs make_inputs(Fr* data, uint32_t log_n, uint64_t batch, bool inverse, const Fr* stage,
                          const Fr* level, const Fr* coset, const Fr& size_inv) {
  Inputs in;
  in.data = data;
  in.log_n = log_n;
  in.batch = batch;
  in.stage = stage;
  in.level = powers_at(level, log_n);
  if (coset && !inverse) {
    in.pre.mode = Factor::kPowers;
    in.pre.powers = powers_at(coset, log_n);
  } else if (coset) {
    in.fin.mode = Factor::kPowers;
    in.fin.powers = powers_at(coset, log_n);
  } else if (inverse) {
    in.fin.mode = Factor::kConstant;
    in.fin.constant = size_inv;
  }
  return in;
}

inline Shape checked(Shape sh) {
  if (sh.tile_log < 1 || sh.tile_log > kMaxTileLog)
    throw std::invalid_argument("NTT tile_log " + std::to_string(sh.tile_log) + " not in 1.." +
                                std::to_string(kMaxTileLog));
  if (sh.threads < 1 || sh.threads > kMaxThreads)
    throw std::invalid_argument("NTT threads " + std::to_string(sh.threads) + " not in 1.." +
                                std::to_string(kMaxThreads));
  sh.min_columns_log = std::min(sh.min_columns_log, sh.tile_log - 1);
  sh.last_rows_log = std::min(sh.last_rows_log, sh.tile_log - 1);
  return sh;
}

// Passes for one transform: one fused pass when the vector fits a tile; otherwise passes of at
// most tile_log - min_columns_log bits (as few as possible, of balanced sizes) and a last pass of
// tile_log - last_rows_log bits, then natural order: through in.scratch when there is one (data -> scratch ->
// ordered last pass -> data), else with the reordering pass. Tiles never span two vectors unless
// the batch allows whole vectors per tile (the batch's power-of-two factor).
inline Schedule make_schedule(const Inputs& in, Shape shape) {
  shape = checked(shape);
  const uint32_t L = in.log_n, t = shape.tile_log;
  if (L == 0 || L > kFrMaxLogDomain || in.batch == 0)
    throw std::invalid_argument("NTT schedule: log_n must be in 1..28 and batch positive");
  const uint32_t batch_log = uint32_t(std::countr_zero(in.batch));
  Schedule sc;
  uint64_t twiddle_offset = 0;
  auto add = [&](uint32_t ls, uint32_t k, bool last) {
    Pass ps;
    ps.log_n = L;
    ps.ls = ls;
    ps.k = k;
    ps.log_g = std::min(t - k, L - k + batch_log);
    ps.twiddle = !last;
    ps.fused = last && k == L;
    ps.ordered = last && !ps.fused && in.scratch != nullptr;
    ps.radix4 = shape.radix4;
    PassLaunch& pl = sc.passes[sc.count++];
    // Out of place: the first pass reads the data, the last writes it, the rest use the scratch.
    const bool first = sc.count == 1;
    pl.args.src = in.scratch && !first ? in.scratch : in.data;
    pl.args.dst = in.scratch && !last ? in.scratch : in.data;
    pl.args.pass = ps;
    pl.args.tiles = (in.batch << L) >> ps.tile_log();
    pl.args.stage = in.stage;
    pl.args.stage_shoup = in.stage_shoup;
    pl.args.level = in.level;
    if (!last && (in.pass_twiddles || in.pass_shoup)) {
      if (in.pass_twiddles) pl.args.twiddles = in.pass_twiddles + twiddle_offset;
      if (in.pass_shoup) pl.args.twiddles_shoup = in.pass_shoup + twiddle_offset;
      twiddle_offset += uint64_t{1} << ls;
    }
    if (first) pl.args.pre = in.pre;
    if (ps.fused || ps.ordered) pl.args.fin = in.fin;
    pl.threads = std::min(shape.threads, 1u << (ps.tile_log() - 1));
    pl.smem_bytes = uint32_t(sizeof(Fr)) << ps.tile_log();
  };
  if (L <= t) {
    add(L, L, true);
    return sc;
  }
  const uint32_t last_k = t - shape.last_rows_log;
  const uint32_t rest = L - last_k, step = t - shape.min_columns_log;
  const uint32_t count = (rest + step - 1) / step;
  uint32_t ls = L;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t k = rest / count + (i < rest % count ? 1 : 0);
    add(ls, k, false);
    ls -= k;
  }
  add(last_k, last_k, true);
  if (in.scratch) return sc;
  sc.permute = true;
  sc.perm.data = in.data;
  sc.perm.log_n = L;
  sc.perm.s = std::min(kPermuteLog, L / 2);
  sc.perm.items = in.batch << (L - 2 * sc.perm.s);
  sc.perm.fin = in.fin;
  sc.perm_threads = 1u << (2 * sc.perm.s);
  return sc;
}

// The twiddle tables of a transform's non-last passes, back to back in pass order (as
// make_schedule reads Inputs::pass_twiddles): pass i's table of 2^ls entries starts at
// offset[i]. Which passes there are depends only on log_n and the shape.
struct PassTables {
  uint32_t count = 0;
  std::array<Pass, kMaxPasses> passes{};
  std::array<uint64_t, kMaxPasses> offset{};
  uint64_t entries = 0;
};

inline PassTables pass_tables(uint32_t log_n, const Shape& shape) {
  Inputs in;
  in.log_n = log_n;
  const Schedule sc = make_schedule(in, shape);
  PassTables t;
  for (uint32_t i = 0; i < sc.count; ++i) {
    const Pass& ps = sc.passes[i].args.pass;
    if (!ps.twiddle) continue;
    t.passes[t.count] = ps;
    t.offset[t.count++] = t.entries;
    t.entries += uint64_t{1} << ps.ls;
  }
  return t;
}

}  // namespace zkinfer::gpu::ntt
