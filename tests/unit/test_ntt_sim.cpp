// The CUDA NTT's kernels run on the host (DESIGN.md 4): the schedule and steps of
// kernels/cuda/ntt_steps.h, the same code the GPU runs, executed phase by phase over every
// (block, thread) with a simulated shared-memory tile, against the CPU backend's NTT. Small
// tiles push small sizes through the multi-pass path, both ways back to natural order (a scratch
// vector and an ordered last pass, or the reordering pass), with the four-step twiddles from
// tables or computed. Threads of a phase run in a random
// order and each tile (and the scratch) starts from garbage, so a race between threads of one
// phase or a read of a slot nobody wrote changes the result. No GPU or nvcc needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../support/seed.h"
#include "backend.h"
#include "cuda/ntt_steps.h"
#include "cuda/rows_steps.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

namespace ntt = gpu::ntt;

constexpr NttKind kKinds[] = {NttKind::kForward, NttKind::kInverse, NttKind::kCosetForward,
                              NttKind::kCosetInverse};

ntt::Shape shape(uint32_t tile_log, uint32_t threads, uint32_t min_columns_log, bool radix4 = false,
                 uint32_t last_rows_log = 0) {
  ntt::Shape s;
  s.tile_log = tile_log;
  s.threads = threads;
  s.min_columns_log = min_columns_log;
  s.radix4 = radix4;
  s.last_rows_log = last_rows_log;
  return s;
}

std::string describe(const ntt::Shape& s) {
  return "tile_log=" + std::to_string(s.tile_log) + " threads=" + std::to_string(s.threads) +
         " min_columns_log=" + std::to_string(s.min_columns_log) + (s.radix4 ? " radix4" : "") +
         (s.last_rows_log ? " last_rows_log=" + std::to_string(s.last_rows_log) : "");
}

void fill_host(std::vector<Fr>& table, const ntt::PowerFill& f) {
  for (uint64_t i = 0; i < f.count; ++i) table[f.offset + i] = ntt::power_entry(f.base, f.scale, i);
}

// The driver's tables, built on the host from the same recipes.
struct HostTables {
  std::vector<Fr> stage_fwd, stage_inv, level_fwd, level_inv, coset;
  Fr size_inv;

  HostTables(uint32_t log_n, uint32_t tile_log, bool coset_kind, bool inverse, const Fr& g) {
    stage_fwd.resize(ntt::stage_entries(tile_log));
    stage_inv.resize(ntt::stage_entries(tile_log));
    for (uint32_t k = 1; k <= tile_log; ++k) {
      fill_host(stage_fwd, ntt::stage_fill(k, false));
      fill_host(stage_inv, ntt::stage_fill(k, true));
    }
    const Domain d(log_n);
    size_inv = d.size_inv;
    level_fwd.resize(ntt::powers_entries(log_n));
    level_inv.resize(ntt::powers_entries(log_n));
    for (const auto& f : ntt::powers_fills(log_n, d.omega, Fr::one())) fill_host(level_fwd, f);
    for (const auto& f : ntt::powers_fills(log_n, d.omega_inv, Fr::one())) fill_host(level_inv, f);
    if (coset_kind) {
      coset.resize(ntt::powers_entries(log_n));
      const auto fills = inverse ? ntt::powers_fills(log_n, g.inverse(), d.size_inv)
                                 : ntt::powers_fills(log_n, g, Fr::one());
      for (const auto& f : fills) fill_host(coset, f);
    }
  }
};

// Runs one kernel launch the way the GPU would, threads of a phase in a random order.
template <class Phase>
void simulate_block(uint32_t phases, uint32_t threads, std::mt19937_64& rng, Phase&& phase) {
  std::vector<uint32_t> order(threads);
  std::iota(order.begin(), order.end(), 0u);
  for (uint32_t ph = 0; ph < phases; ++ph) {
    std::shuffle(order.begin(), order.end(), rng);
    for (uint32_t tid : order) phase(ph, tid);
  }
}

void poison(std::vector<ntt::Half>& v, std::mt19937_64& rng) {
  for (auto& h : v) h = ntt::Half{rng(), rng()};
}

void simulate(const ntt::Schedule& sc, std::mt19937_64& rng) {
  for (uint32_t i = 0; i < sc.count; ++i) {
    const ntt::PassLaunch& pl = sc.passes[i];
    const uint32_t T = 1u << pl.args.pass.tile_log();
    ASSERT_EQ(pl.smem_bytes, T * sizeof(Fr));
    std::vector<ntt::Half> lo(T), hi(T);
    const ntt::SharedTile sh{lo.data(), hi.data()};
    // Blocks in a random order too: a pass must not depend on the order of its tiles.
    std::vector<uint64_t> tiles(pl.args.tiles);
    std::iota(tiles.begin(), tiles.end(), uint64_t{0});
    std::shuffle(tiles.begin(), tiles.end(), rng);
    for (uint64_t tile : tiles) {
      poison(lo, rng);
      poison(hi, rng);
      simulate_block(ntt::pass_phase_count(pl.args.pass), pl.threads, rng,
                     [&](uint32_t ph, uint32_t tid) {
                       // The kernel instance the driver launches for this pass (ntt.cu).
                       (pl.args.pass.radix4 ? ntt::run_pass_phase<true>
                                            : ntt::run_pass_phase<false>)(pl.args, ph, tile, tid, pl.threads, sh);
                     });
    }
  }
  if (!sc.permute) return;
  ASSERT_LE(sc.perm_threads, ntt::kPermuteThreads);
  std::vector<ntt::Half> lo(ntt::kPermuteSlots), hi(ntt::kPermuteSlots);
  const ntt::SharedTile sh{lo.data(), hi.data()};
  for (uint64_t item = 0; item < sc.perm.items; ++item) {
    if (!ntt::permute_active(sc.perm, item)) continue;
    poison(lo, rng);
    poison(hi, rng);
    simulate_block(ntt::kPermutePhaseCount, sc.perm_threads, rng, [&](uint32_t ph, uint32_t tid) {
      ntt::run_permute_phase(sc.perm, ph, item, tid, sc.perm_threads, sh);
    });
  }
}

// The driver's choices beyond the shape (ntt_steps.h): back to natural order through a scratch
// vector or with the reordering pass; the non-last passes' twiddles from tables (in Montgomery
// or in Shoup form: NttDriverConfig::shoup_pass_twiddles) or computed.
struct Variant {
  bool scratch = true;
  bool tables = true;
  bool shoup = false;  // the tables in Shoup form
  std::string name() const {
    return std::string(scratch ? "scratch" : "reorder-pass") +
           (tables ? (shoup ? "+shoup-tables" : "+tables") : "+computed");
  }
};
constexpr Variant kVariants[] = {{true, true}, {true, false}, {false, true}, {false, false}, {true, true, true}};

// Simulated transform of `batch` vectors in place; the scratch vector starts as garbage.
void simulated_ntt(std::vector<Fr>& data, uint32_t log_n, size_t batch, NttKind kind, const Fr& g,
                   const ntt::Shape& shape, const Variant& v, std::mt19937_64& rng) {
  const bool inverse = kind == NttKind::kInverse || kind == NttKind::kCosetInverse;
  const bool coset = kind == NttKind::kCosetForward || kind == NttKind::kCosetInverse;
  const HostTables t(log_n, shape.tile_log, coset, inverse, g);
  const Fr* level = inverse ? t.level_inv.data() : t.level_fwd.data();
  ntt::Inputs in = ntt::make_inputs(data.data(), log_n, batch, inverse,
                                    inverse ? t.stage_inv.data() : t.stage_fwd.data(), level,
                                    coset ? t.coset.data() : nullptr, t.size_inv);
  std::vector<Fr> scratch, twiddles;
  std::vector<ntt::ShoupTwiddle> shoup;
  if (v.scratch) {
    scratch.resize(data.size());
    for (Fr& x : scratch) x = Fr::from_mont(U256{{rng(), rng(), rng(), rng() >> 3}});
    in.scratch = scratch.data();
  }
  if (v.tables && log_n > ntt::checked(shape).tile_log) {
    const ntt::PassTables pt = ntt::pass_tables(log_n, shape);
    const ntt::Powers powers = ntt::powers_at(level, log_n);
    if (v.shoup) shoup.resize(pt.entries);
    else twiddles.resize(pt.entries);
    for (uint32_t i = 0; i < pt.count; ++i)
      for (uint64_t e = 0; e < (uint64_t{1} << pt.passes[i].ls); ++e) {
        if (v.shoup) shoup[pt.offset[i] + e] = ntt::pass_twiddle_shoup_entry(pt.passes[i], powers, e);
        else twiddles[pt.offset[i] + e] = ntt::pass_twiddle_entry(pt.passes[i], powers, e);
      }
    if (v.shoup) in.pass_shoup = shoup.data();
    else in.pass_twiddles = twiddles.data();
  }
  simulate(ntt::make_schedule(in, shape), rng);
}

std::vector<Fr> random_vector(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> v(n);
  for (auto& x : v) x = field_random<Fr>(rng);
  return v;
}

// The simulated kernels against the CPU backend, vector by vector.
void check_against_cpu(Backend& cpu, uint32_t log_n, size_t batch, NttKind kind, const ntt::Shape& shape,
                       const Variant& v, std::mt19937_64& rng) {
  const size_t n = size_t{1} << log_n;
  const Fr g = field_random<Fr>(rng);
  std::vector<Fr> data = random_vector(rng, n * batch);
  std::vector<Fr> want = data;
  for (size_t v = 0; v < batch; ++v) cpu.ntt(want.data() + v * n, n, kind, g);
  simulated_ntt(data, log_n, batch, kind, g, shape, v, rng);
  const std::string what = std::string(ntt_kind_name(kind)) + " 2^" + std::to_string(log_n) +
                           " batch " + std::to_string(batch) + " " + describe(shape) + " " +
                           v.name();
  size_t bad = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == want[i]) continue;
    if (bad++ < 3)
      ADD_FAILURE() << what << ": vector " << i / n << " element " << i % n << " is "
                    << u256_to_hex(data[i].mont()) << ", want " << u256_to_hex(want[i].mont());
  }
  ASSERT_EQ(bad, 0u) << what;
}

TEST(NttSim, PowerEntry) {
  auto rng = testing::seeded_rng();
  const Fr b = field_random<Fr>(rng), s = field_random<Fr>(rng);
  for (uint64_t e : {0ull, 1ull, 2ull, 3ull, 255ull, 4096ull, 123456789ull, ~0ull})
    EXPECT_EQ(ntt::power_entry(b, s, e), s * b.pow(e)) << e;
}

TEST(NttSim, BitReverse) {
  for (uint32_t bits = 0; bits <= 28; ++bits)
    for (uint32_t x : {0u, 1u, 2u, 5u, 0x0abcdefu, 0x0fffffffu}) {
      const uint32_t v = bits ? (x & ((1u << bits) - 1)) : 0u;
      uint32_t want = 0;
      for (uint32_t b = 0; b < bits; ++b) want |= ((v >> b) & 1u) << (bits - 1 - b);
      EXPECT_EQ(ntt::bitrev(v, bits), want) << v << " " << bits;
    }
}

// The default shape's plans for the sizes the prover uses: pass sizes, tiles, shared memory,
// and which memory each pass reads and writes, with and without a scratch vector and tables.
TEST(NttSim, DefaultSchedule) {
  Fr data_word, scratch_word, table_word;  // addresses only: nothing is run
  ntt::ShoupTwiddle shoup_word;
  ntt::Inputs in;
  in.batch = 1;
  in.data = &data_word;
  struct Case {
    uint32_t log_n;
    std::vector<uint32_t> ks;
  };
  for (const Variant& v : kVariants) {
    in.scratch = v.scratch ? &scratch_word : nullptr;
    in.pass_twiddles = v.tables && !v.shoup ? &table_word : nullptr;
    in.pass_shoup = v.tables && v.shoup ? &shoup_word : nullptr;
    for (const Case& c : {Case{10, {10}}, Case{11, {1, 10}}, Case{12, {2, 10}}, Case{20, {5, 5, 10}},
                          Case{21, {6, 5, 10}}, Case{24, {7, 7, 10}}, Case{28, {6, 6, 6, 10}}}) {
      in.log_n = c.log_n;
      const std::string what = std::to_string(c.log_n) + " " + v.name();
      const ntt::Schedule sc = ntt::make_schedule(in, ntt::Shape{});
      ASSERT_EQ(sc.count, c.ks.size()) << what;
      const ntt::PassTables pt = ntt::pass_tables(c.log_n, ntt::Shape{});
      ASSERT_EQ(pt.count, sc.count - 1) << what;
      const bool multi = c.log_n > ntt::kDefaultTileLog;
      uint32_t ls = c.log_n;
      uint64_t table_entries = 0;
      for (uint32_t i = 0; i < sc.count; ++i) {
        const ntt::PassArgs& a = sc.passes[i].args;
        const ntt::Pass& p = a.pass;
        const bool first = i == 0, last = i + 1 == sc.count;
        EXPECT_EQ(p.k, c.ks[i]) << what << " pass " << i;
        EXPECT_EQ(p.ls, ls) << what << " pass " << i;
        EXPECT_EQ(p.tile_log(), std::min(c.log_n, ntt::kDefaultTileLog));
        EXPECT_EQ(a.tiles, uint64_t{1} << (c.log_n - p.tile_log()));
        EXPECT_EQ(sc.passes[i].smem_bytes, sizeof(Fr) << p.tile_log());
        EXPECT_EQ(sc.passes[i].threads, std::min(ntt::kDefaultThreads, 1u << (p.tile_log() - 1)));
        // Non-last passes keep at least 4 adjacent columns per tile row.
        if (!last) EXPECT_GE(p.log_g, ntt::kDefaultMinColumnsLog);
        EXPECT_EQ(p.fused, !multi) << what;
        EXPECT_EQ(p.ordered, multi && last && in.scratch) << what << " pass " << i;
        const Fr* src = first || !in.scratch ? in.data : in.scratch;
        const Fr* dst = last || !in.scratch ? in.data : in.scratch;
        EXPECT_EQ(a.src, src) << what << " pass " << i;
        EXPECT_EQ(a.dst, dst) << what << " pass " << i;
        // A non-last pass reads its table where pass_tables puts it.
        if (last || !v.tables) {
          EXPECT_EQ(a.twiddles, nullptr) << what << " pass " << i;
          EXPECT_EQ(a.twiddles_shoup, nullptr) << what << " pass " << i;
        } else {
          EXPECT_EQ(a.twiddles, v.shoup ? nullptr : &table_word + pt.offset[i]) << what << " pass " << i;
          EXPECT_EQ(a.twiddles_shoup, v.shoup ? &shoup_word + pt.offset[i] : nullptr) << what << " pass " << i;
          EXPECT_EQ(pt.passes[i].ls, p.ls) << what << " pass " << i;
          EXPECT_EQ(pt.passes[i].k, p.k) << what << " pass " << i;
          table_entries += uint64_t{1} << p.ls;
        }
        ls -= p.k;
      }
      if (v.tables) EXPECT_EQ(pt.entries, table_entries) << what;
      EXPECT_EQ(sc.permute, multi && !in.scratch) << what;
    }
  }
}

// Shape::last_rows_log: the last pass of a multi-pass transform does that many fewer stages,
// over 2^last_rows_log rows per tile, and the other passes take up the rest, their twiddle
// tables following; 2^24 in three passes of 8 stages, 2^20 in 6 + 6 + 8.
TEST(NttSim, LastRowsShapeSchedule) {
  Fr data_word, scratch_word;
  ntt::Inputs in;
  in.batch = 1;
  in.data = &data_word;
  in.scratch = &scratch_word;
  ntt::Shape shape;
  shape.last_rows_log = 2;
  struct Case {
    uint32_t log_n;
    std::vector<uint32_t> ks;
  };
  for (const Case& c : {Case{10, {10}}, Case{11, {3, 8}}, Case{16, {8, 8}}, Case{20, {6, 6, 8}},
                        Case{24, {8, 8, 8}}, Case{28, {7, 7, 6, 8}}}) {
    in.log_n = c.log_n;
    const ntt::Schedule sc = ntt::make_schedule(in, shape);
    const ntt::PassTables pt = ntt::pass_tables(c.log_n, shape);
    ASSERT_EQ(sc.count, c.ks.size()) << c.log_n;
    ASSERT_EQ(pt.count, sc.count - 1) << c.log_n;
    for (uint32_t i = 0; i < sc.count; ++i) {
      const ntt::Pass& p = sc.passes[i].args.pass;
      EXPECT_EQ(p.k, c.ks[i]) << "2^" << c.log_n << " pass " << i;
      EXPECT_EQ(p.tile_log(), std::min(c.log_n, ntt::kDefaultTileLog)) << "2^" << c.log_n << " pass " << i;
      if (i + 1 < sc.count) EXPECT_EQ(pt.passes[i].ls, p.ls) << "2^" << c.log_n << " pass " << i;
    }
    const ntt::Pass& last = sc.passes[sc.count - 1].args.pass;
    EXPECT_EQ(last.log_g, c.log_n > ntt::kDefaultTileLog ? 2u : 0u) << c.log_n;
    EXPECT_EQ(last.ordered, c.log_n > ntt::kDefaultTileLog) << c.log_n;
  }
}

// Shape::radix4 reaches every pass and halves its stage phases (an odd stage count leaves the
// last stage alone); the default shape keeps one phase per stage.
TEST(NttSim, Radix4PassesRunTwoStagesPerPhase) {
  Fr data_word;
  ntt::Inputs in;
  in.batch = 1;
  in.data = &data_word;
  for (const bool radix4 : {false, true}) {
    for (const uint32_t log_n : {3u, 11u, 12u, 20u, 24u}) {
      in.log_n = log_n;
      ntt::Shape shape;
      shape.radix4 = radix4;
      const ntt::Schedule sc = ntt::make_schedule(in, shape);
      for (uint32_t i = 0; i < sc.count; ++i) {
        const ntt::Pass& p = sc.passes[i].args.pass;
        EXPECT_EQ(p.radix4, radix4) << "2^" << log_n << " pass " << i;
        EXPECT_EQ(ntt::stage_phase_count(p), radix4 ? (p.k + 1) / 2 : p.k) << "2^" << log_n << " pass " << i;
        EXPECT_EQ(ntt::pass_phase_count(p), ntt::stage_phase_count(p) + 2);
      }
    }
  }
}

// Every pass loads and stores each element of every vector exactly once, whatever the shape
// (one row per last-pass tile, and two or four).
TEST(NttSim, TilesCoverEveryElementOnce) {
  Fr scratch_word;
  for (uint32_t last_rows_log : {0u, 1u, 2u})
  for (uint32_t tile_log : {1u, 2u, 3u, 5u, 11u})
    for (uint32_t log_n = 1; log_n <= 13; ++log_n)
      for (uint64_t batch : {1ull, 2ull, 3ull, 8ull}) {
        ntt::Inputs in;  // in place first
        in.log_n = log_n;
        in.batch = batch;
        ntt::Shape shape;
        shape.tile_log = tile_log;
        shape.min_columns_log = 1;
        shape.last_rows_log = last_rows_log;
        const ntt::Schedule sc = ntt::make_schedule(in, shape);
        const uint64_t total = batch << log_n;
        for (uint32_t i = 0; i < sc.count; ++i) {
          const ntt::Pass& ps = sc.passes[i].args.pass;
          std::vector<uint8_t> hits(total, 0);
          const uint32_t T = 1u << ps.tile_log();
          for (uint64_t tile = 0; tile < sc.passes[i].args.tiles; ++tile) {
            std::vector<uint8_t> slots(T, 0);
            for (uint32_t p = 0; p < T; ++p) {
              const ntt::TileElem e = ntt::tile_elem(ps, tile, p);
              ASSERT_LT(e.idx, total);
              ASSERT_LT(e.slot, T);
              ++hits[e.idx];
              ++slots[e.slot];
            }
            for (uint32_t s = 0; s < T; ++s) ASSERT_EQ(slots[s], 1) << "slot " << s;
          }
          for (uint64_t x = 0; x < total; ++x)
            ASSERT_EQ(hits[x], 1) << "2^" << log_n << " batch " << batch << " tile_log " << tile_log
                                  << " pass " << i << " element " << x;
        }
        // The last pass of the out-of-place schedule: its tiles load every row once (2^log_g
        // rows each) and store every natural position once, within the tile's own vector; the
        // 2^log_g slots a * 2^log_g + j of one a store to adjacent positions.
        in.scratch = &scratch_word;
        const ntt::Schedule out = ntt::make_schedule(in, shape);
        const ntt::PassArgs& last = out.passes[out.count - 1].args;
        if (!last.pass.ordered) {
          ASSERT_LE(log_n, tile_log);
          continue;
        }
        ASSERT_EQ(last.pass.log_g, std::min(last_rows_log, tile_log - 1));
        ASSERT_EQ(last.pass.k + last.pass.log_g, tile_log);
        std::vector<uint8_t> loads(total, 0), stores(total, 0);
        const uint32_t T = 1u << last.pass.tile_log();
        for (uint64_t tile = 0; tile < last.tiles; ++tile)
          for (uint32_t p = 0; p < T; ++p) {
            const uint64_t from = ntt::ordered_load_index(last.pass, tile, p);
            const uint64_t to = ntt::ordered_store_index(last.pass, tile, p);
            ASSERT_LT(from, total);
            ASSERT_LT(to, total);
            ASSERT_EQ(from >> log_n, to >> log_n) << "tile " << tile << " slot " << p;
            // Row j of the tile: 2^k elements in a row from the row's start.
            ASSERT_EQ(from % (uint64_t{1} << last.pass.k), p >> last.pass.log_g);
            if ((p & ((1u << last.pass.log_g) - 1)) != 0)
              ASSERT_EQ(to, ntt::ordered_store_index(last.pass, tile, p - 1) + 1) << "tile " << tile << " slot " << p;
            ++loads[from];
            ++stores[to];
          }
        for (uint64_t x = 0; x < total; ++x) {
          ASSERT_EQ(loads[x], 1) << "2^" << log_n << " batch " << batch << " tile_log "
                                 << tile_log << " ordered pass loads " << x;
          ASSERT_EQ(stores[x], 1) << "2^" << log_n << " batch " << batch << " tile_log "
                                  << tile_log << " ordered pass stores " << x;
        }
      }
}

// All kinds, all small sizes, several shapes (tiny tiles force up to 13 passes), batches of
// odd and even counts (even ones put several whole vectors in one tile).
TEST(NttSim, MatchesCpuBackend) {
  auto rng = testing::seeded_rng();
  auto cpu = make_cpu_backend({1});
  std::vector<ntt::Shape> shapes;
  shapes.push_back(ntt::Shape{});  // the default: one fused pass up to 2^11
  shapes.push_back(shape(1, 1, 0));
  shapes.push_back(shape(2, 2, 1));
  shapes.push_back(shape(3, 3, 1));  // thread count that divides nothing
  shapes.push_back(shape(4, 8, 2));
  shapes.push_back(shape(6, 5, 0));
  shapes.push_back(shape(8, 64, 2));
  // Two stages per phase: odd and even stage counts per pass, a thread count that divides
  // nothing, threads beyond a radix-4 phase's units (tile 2^3: two units, 4 threads).
  shapes.push_back(shape(ntt::kDefaultTileLog, ntt::kDefaultThreads, ntt::kDefaultMinColumnsLog, true));
  shapes.push_back(shape(2, 2, 1, true));
  shapes.push_back(shape(3, 4, 1, true));
  shapes.push_back(shape(5, 7, 2, true));
  shapes.push_back(shape(8, 64, 1, true));
  // Several rows per tile in the last pass: 2 and 4 (with radix4 and an odd stage count too).
  shapes.push_back(shape(ntt::kDefaultTileLog, ntt::kDefaultThreads, ntt::kDefaultMinColumnsLog, false, 2));
  shapes.push_back(shape(4, 8, 2, false, 1));
  shapes.push_back(shape(5, 7, 1, true, 2));
  for (const ntt::Shape& s : shapes) {
    for (uint32_t log_n = 1; log_n <= 14; ++log_n) {
      // Tiny tiles at the largest sizes take long to simulate and add nothing new.
      if (log_n > 10 && s.tile_log < 3) continue;
      for (NttKind kind : kKinds) {
        const size_t batch = 1 + rng() % 4;
        // Every variant up to 2^12; past that one drawn per case, to keep the time.
        const size_t drawn = rng() % std::size(kVariants);
        for (size_t vi = 0; vi < std::size(kVariants); ++vi) {
          if (log_n > 12 && vi != drawn) continue;
          check_against_cpu(*cpu, log_n, log_n > 12 ? 1 : batch, kind, s, kVariants[vi], rng);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

// Random sizes, batches and shapes, the seed printed: whatever corner the fixed cases miss.
TEST(NttSim, RandomCases) {
  auto rng = testing::seeded_rng();
  auto cpu = make_cpu_backend({1});
  for (int iter = 0; iter < 40; ++iter) {
    const uint32_t log_n = 1 + uint32_t(rng() % 14);
    ntt::Shape s;
    s.tile_log = 1 + uint32_t(rng() % 11);
    s.threads = 1 + uint32_t(rng() % 300);
    s.min_columns_log = uint32_t(rng() % 4);
    s.radix4 = rng() % 2 == 0;
    s.last_rows_log = uint32_t(rng() % 4);
    const size_t batch = log_n > 11 ? 1 : 1 + rng() % 6;
    const NttKind kind = kKinds[rng() % 4];
    const Variant& v = kVariants[rng() % std::size(kVariants)];
    check_against_cpu(*cpu, log_n, batch, kind, s, v, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// The snarkjs H-polynomial sequence: inverse, then coset forward with snarkjs's shift, then
// coset inverse back, at a size that needs several passes with the default shape, every variant.
TEST(NttSim, SnarkjsRoundTrip) {
  auto rng = testing::seeded_rng();
  const uint32_t log_n = 13;
  const size_t n = size_t{1} << log_n;
  const Fr g = snarkjs_coset_shift(log_n);
  const std::vector<Fr> evals = random_vector(rng, n);
  auto cpu = make_cpu_backend({1});
  std::vector<Fr> want = evals;
  cpu->ntt(want.data(), n, NttKind::kInverse);
  cpu->ntt(want.data(), n, NttKind::kCosetForward, g);
  for (const Variant& v : kVariants) {
    std::vector<Fr> x = evals;
    simulated_ntt(x, log_n, 1, NttKind::kInverse, g, ntt::Shape{}, v, rng);
    simulated_ntt(x, log_n, 1, NttKind::kCosetForward, g, ntt::Shape{}, v, rng);
    EXPECT_EQ(x, want) << v.name();
    simulated_ntt(x, log_n, 1, NttKind::kCosetInverse, g, ntt::Shape{}, v, rng);
    simulated_ntt(x, log_n, 1, NttKind::kForward, g, ntt::Shape{}, v, rng);
    EXPECT_EQ(x, evals) << v.name();
  }
}

TEST(NttSim, RejectsBadShapes) {
  ntt::Inputs in;
  in.log_n = 4;
  ntt::Shape s;
  s.tile_log = 0;
  EXPECT_THROW(ntt::make_schedule(in, s), std::invalid_argument);
  s.tile_log = ntt::kMaxTileLog + 1;
  EXPECT_THROW(ntt::make_schedule(in, s), std::invalid_argument);
  s = ntt::Shape{};
  s.threads = ntt::kMaxThreads + 1;
  EXPECT_THROW(ntt::make_schedule(in, s), std::invalid_argument);
  in.log_n = 0;
  EXPECT_THROW(ntt::make_schedule(in, ntt::Shape{}), std::invalid_argument);
}

// Groth16's constraint evaluation (rows_steps.h) and quotient step, threads in random order,
// against SparseRows (backend.h) on the host.
TEST(NttSim, ConstraintRowsAndQuotientSteps) {
  auto rng = testing::seeded_rng();
  for (uint64_t n : {1u, 2u, 16u, 1024u}) {
    const size_t vars = 37;
    std::vector<uint32_t> starts{0}, cols;
    std::vector<Fr> values;
    for (uint64_t r = 0; r < 2 * n; ++r) {
      const unsigned terms = unsigned(rng() % 4);  // empty rows too
      for (unsigned t = 0; t < terms; ++t) {
        cols.push_back(uint32_t(rng() % vars));
        values.push_back(field_random<Fr>(rng));
      }
      starts.push_back(uint32_t(cols.size()));
    }
    std::vector<Fr> z(vars);
    for (auto& x : z) x = field_random<Fr>(rng);
    std::vector<Fr> abc(3 * n, Fr::from_u64(12345));  // garbage a missed row would leave
    const gpu::RowEvalStep step{starts.data(), cols.data(), values.data(), z.data(), n, abc.data()};
    std::vector<uint64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (uint64_t r : order) step(r);
    const SparseRows m{starts, cols, values};
    for (uint64_t r = 0; r < n; ++r) {
      const Fr a = m.row_times(r, z.data()), b = m.row_times(n + r, z.data());
      ASSERT_EQ(abc[r], a) << "a, row " << r << " of " << n;
      ASSERT_EQ(abc[n + r], b) << "b, row " << r << " of " << n;
      ASSERT_EQ(abc[2 * n + r], a * b) << "c, row " << r << " of " << n;
      ASSERT_EQ(ntt::quotient_entry(a, b, abc[2 * n + r]), Fr::zero());
    }
  }
}

}  // namespace
}  // namespace zkinfer
