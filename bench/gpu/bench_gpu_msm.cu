// MSM throughput on the device (cuda/msm.h), inputs resident: G1 and G2 at 2^16 .. 2^24 with
// uniform scalars, G1 with witness-like skewed scalars (mostly 0 and 1), and G1 with the scalars
// copied from host memory each run (the Groth16 case: key resident, witness not). One driver per
// curve, kept across sizes as a prover would.
//
// Points are P_i = P + i Q, made on the device (a chain of additions per thread from starts the
// host computes, then one inversion per point), so 2^24 points take well under a second. Every
// result is checked in closed form: sum s_i P_i = (a sum s_i + b sum i s_i) G for P = aG, Q = bG.
// Timing is host wall-clock around each (synchronous) call, median of the timed runs; each line
// also shows the driver's device time per phase (sort, accumulate, reduce) of the last run.
// Beside the plain 2^20 rows: g2_msm_capped_regs runs G2's accumulation kernels with their
// registers capped for one more block per SM, g1_msm_uncapped_regs G1's without the cap
// (msm::Tuning::cap_g1/g2_accumulate_registers; G1's capped by default); the *_join1 and
// *_join4 rows (2^16, 2^20) join carries only across at most 1 or 4 segment edges
// (msm::Tuning::join_segments, 32 by default). g1_msm_square_2^20 and g1_msm_square_tables_2^20
// run G1 with the device's dedicated Fq square (MsmDriver::msm_g1_square, an experiment). The
// *_split_reduce rows (2^16, 2^20, and over point tables at 2^20) run the reduction's later
// levels as msm::ReducePairStep (msm::Tuning::reduce_split_pairs, an experiment), the
// *_split_reduce_first2 rows every level, the first from the buckets;
// g1_msm_tables_split_reduce_square adds the dedicated square, and the _c20 and _c22 rows run
// them over wider tables than planned.
// The *_tables series and the tables sweep run over point tables (MsmTables) made from the
// points first, as the CUDA backend does for a resident key; their making is printed apart. Sizes
// are skipped once the time estimate would pass a budget that keeps bench/gpu_check.sh within
// its 10 minutes (they are listed as skipped). Then a sweep at 2^20 over window widths and the
// segment and reduction tuning (msm::Tuning), the data for the plan's constants, and the
// host-to-device copy rate from pageable and from page-locked memory.
//
//   bench_gpu_msm [--out results.json] [--reps 21] [--warmup 3] [--quick] [--profile]
// --profile: only G1 (uniform and skewed scalars, over point tables, and msm_g1_square)
// and G2 at 2^20 with device inputs, each once inside cudaProfilerStart/Stop and checked,
// nothing timed
// (bench/gpu/profile.sh runs it under ncu).
// Exit status: 0 all checks passed, 1 a check failed or a CUDA call failed, 2 no usable GPU.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_util.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/msm.h"

namespace zkinfer::bench {
namespace {

using gpu::DeviceBuffer;

constexpr const char* kUsage =
    "usage: bench_gpu_msm [--out results.json] [--reps N] [--warmup N] [--quick] [--profile]\n";

// Points per generating thread.
constexpr size_t kChain = 256;

template <class C>
__global__ void make_points_kernel(Affine<C>* out, const Affine<C>* starts, const Affine<C> step, size_t n) {
  const size_t t = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t * kChain >= n) return;
  Jacobian<C> p = Jacobian<C>::from_affine(starts[t]);
  const size_t end = (t + 1) * kChain < n ? (t + 1) * kChain : n;
  for (size_t i = t * kChain; i < end; ++i) {
    out[i] = p.to_affine();
    p = p.add_affine(step);
  }
}

template <class C>
Affine<C> generator() {
  if constexpr (std::is_same_v<C, G1Curve>)
    return g1_generator();
  else
    return g2_generator();
}

Fr random_fr(std::mt19937_64& rng) {
  for (;;) {
    const U256 w{{rng(), rng(), rng(), rng() & ((uint64_t{1} << (Fr::BITS - 192)) - 1)}};
    if (u256::less(w, Fr::MOD)) return Fr::from_mont(w);
  }
}

// n points P + iQ on the device; P = aG, Q = bG.
template <class C>
DeviceBuffer<Affine<C>> make_points(size_t n, const Fr& a, const Fr& b) {
  const Jacobian<C> g = Jacobian<C>::from_affine(generator<C>());
  const Jacobian<C> q = scalar_mul(g, b.to_canonical());
  const Jacobian<C> stride = scalar_mul(g, (b * Fr::from_u64(kChain)).to_canonical());
  const size_t threads = (n + kChain - 1) / kChain;
  std::vector<Jacobian<C>> starts(threads);
  Jacobian<C> at = scalar_mul(g, a.to_canonical());
  for (size_t t = 0; t < threads; ++t, at += stride) starts[t] = at;
  std::vector<Affine<C>> starts_affine(threads);
  std::vector<typename C::Field> scratch(threads);
  batch_to_affine(starts.data(), starts_affine.data(), threads, scratch.data());
  DeviceBuffer<Affine<C>> d_starts(starts_affine), out(n);
  make_points_kernel<C><<<unsigned((threads + 127) / 128), 128>>>(out.data(), d_starts.data(), q.to_affine(), n);
  ZK_CUDA_CHECK_LAUNCH();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  return out;
}

std::vector<Fr> uniform_scalars(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> s(n);
  for (Fr& x : s) x = random_fr(rng);
  return s;
}
// Witness-like: 45% zero, 35% one, 15% below 256, 5% full width.
std::vector<Fr> skewed_scalars(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> s(n);
  const Fr small[4] = {Fr::from_u64(2), Fr::from_u64(3), Fr::from_u64(100), Fr::from_u64(255)};
  for (Fr& x : s) {
    const unsigned k = unsigned(rng() % 100);
    x = k < 45 ? Fr::zero() : k < 80 ? Fr::one() : k < 95 ? small[k % 4] : random_fr(rng);
  }
  return s;
}

// n points P + iQ and n scalars, both on the device, with the MSM's value in closed form.
template <class C>
struct Case {
  DeviceBuffer<Affine<C>> points;
  std::vector<Fr> scalars;
  DeviceBuffer<Fr> d_scalars;
  Jacobian<C> want;
};
template <class C>
Case<C> make_case(size_t n, bool skewed, std::mt19937_64& rng) {
  const Fr a = random_fr(rng), b = random_fr(rng);
  std::vector<Fr> scalars = skewed ? skewed_scalars(rng, n) : uniform_scalars(rng, n);
  Fr sum = Fr::zero(), weighted = Fr::zero();
  for (size_t i = 0; i < n; ++i) {
    sum += scalars[i];
    weighted += scalars[i] * Fr::from_u64(i);
  }
  Case<C> c{make_points<C>(n, a, b), std::move(scalars), {}, {}};
  c.d_scalars = DeviceBuffer<Fr>(c.scalars);
  c.want = scalar_mul(Jacobian<C>::from_affine(generator<C>()), (a * sum + b * weighted).to_canonical());
  return c;
}

template <class Fn>
Timing time_host_runs(Fn&& fn, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(seconds_since(t0) * 1e3);
  }
  return summarise(std::move(ms));
}

template <class C>
Jacobian<C> run_msm(gpu::MsmDriver& d, const Fr* s, const Affine<C>* p, size_t n) {
  Jacobian<C> r;
  d.msm(r, s, p, n);
  return r;
}
// The same over point tables made by make_tables.
template <class C>
Jacobian<C> run_msm(gpu::MsmDriver& d, const Fr* s, const Affine<C>* table, size_t n, const gpu::MsmTables& t) {
  Jacobian<C> r;
  d.msm(r, s, table, n, t);
  return r;
}

// Point tables t made on the device from points[0, n) (device memory), in a buffer of their own.
template <class C>
DeviceBuffer<Affine<C>> make_tables(gpu::MsmDriver& d, const gpu::MsmTables& t, const Affine<C>* points, size_t n) {
  DeviceBuffer<Affine<C>> table(t.points());
  ZK_CUDA_CHECK(cudaMemcpy(table.data(), points, n * sizeof(Affine<C>), cudaMemcpyDeviceToDevice));
  ZK_CUDA_CHECK(cudaDeviceSynchronize());  // the driver's streams do not wait for the default one
  d.precompute(table.data(), n, t);
  return table;
}

// The G1 entry points: msm_g1, and the experiment msm_g1_square.
enum class G1Path { plain, square };
G1Jacobian run_g1(gpu::MsmDriver& d, G1Path path, const Fr* s, const G1Affine* p, size_t n) {
  G1Jacobian r;
  if (path == G1Path::square)
    d.msm_g1_square(r, s, p, n);
  else
    d.msm_g1(r, s, p, n);
  return r;
}
// An MSM over C's points; for G1 through `path`.
template <class C>
Jacobian<C> run_path(gpu::MsmDriver& d, G1Path path, const Fr* s, const Affine<C>* p, size_t n) {
  if constexpr (std::is_same_v<C, G1Curve>)
    return run_g1(d, path, s, p, n);
  else
    return run_msm<C>(d, s, p, n);
}

struct Series {
  const char* name;
  bool skewed;
  bool scalars_on_host;
  unsigned max_log;
};

class Bench {
 public:
  Bench(const Options& o, const gpu::GpuInfo& g) : o_(o), g_(g), t0_(Clock::now()), budget_s_(budget_seconds()) {}

  // One configuration of the driver at n points, device inputs: window widths and tunings.
  template <class C>
  void sweep(const char* prefix, unsigned lg, std::mt19937_64& rng) {
    const size_t n = size_t{1} << lg;
    const Case<C> cs = make_case<C>(n, false, rng);
    std::vector<std::pair<std::string, gpu::MsmConfig>> configs;
    for (unsigned c = 12; c <= 18; ++c) {
      gpu::MsmConfig cfg;
      cfg.window_bits = c;
      configs.push_back({"c" + std::to_string(c), cfg});
    }
    for (uint32_t seg : {128u, 256u, 4096u}) {
      gpu::MsmConfig cfg;
      cfg.tuning.segments_per_sm = seg;
      configs.push_back({"seg" + std::to_string(seg), cfg});
    }
    for (const size_t hb : {size_t{0}, n / 4}) {  // host scalars: one batch, four overlapped
      gpu::MsmConfig cfg;
      cfg.host_batch_points = hb;
      configs.push_back({hb ? "host_4batches" : "host_1batch", cfg});
    }
    for (uint32_t red : {32u, 64u, 512u, 2048u}) {  // the default is 128
      gpu::MsmConfig cfg;
      cfg.tuning.reduce_threads_per_sm = red;
      configs.push_back({"red" + std::to_string(red), cfg});
    }
    // Later reduction levels' chunks (the default is 2, 8 until 2026-11-28): a level's chain is
    // about L + log2 L dependent operations (2 L + log2 L for G2), so short chunks give less depth.
    for (uint32_t chunk : {4u, 8u}) {
      gpu::MsmConfig cfg;
      cfg.tuning.reduce_chunk = chunk;
      configs.push_back({"chunk" + std::to_string(chunk), cfg});
    }
    {  // four batches with device inputs: is the batch loop itself slow?
      gpu::MsmConfig cfg;
      cfg.max_batch_points = n / 4;
      configs.push_back({"4batches", cfg});
    }
    for (const auto& [tag, cfg] : configs)
      measure_config<C>(std::string(prefix) + "_2^" + std::to_string(lg) + "_" + tag, cfg, cs,
                        tag.starts_with("host"));
  }

  // The accumulation kernels with their registers capped for one more block per SM or not, the
  // other way from the default (Tuning::cap_g1/g2_accumulate_registers), at 2^lg, device inputs;
  // run early, so the budget leaves it in: g1_msm_uncapped_regs_2^20 and g2_msm_capped_regs_2^20
  // against g1/g2_msm_2^20 (bench/gpu_check.sh's side-by-side table).
  template <class C>
  void flip_capped(const char* prefix, unsigned lg, std::mt19937_64& rng) {
    gpu::MsmConfig cfg;
    bool& cap = std::is_same_v<C, G1Curve> ? cfg.tuning.cap_g1_accumulate_registers
                                           : cfg.tuning.cap_g2_accumulate_registers;
    cap = !cap;
    measure_config<C>(std::string(prefix) + "_2^" + std::to_string(lg), cfg, make_case<C>(size_t{1} << lg, false, rng),
                      false);
  }

  // Step 3a joining only runs that cross at most `segments` segment edges
  // (Tuning::join_segments; 1 as before the join) at 2^lg, device inputs; run early like
  // flip_capped(): g1/g2_msm_join1_2^lg and _join4_2^lg against g1/g2_msm_2^lg (32). At 2^16
  // (about 20 segments per run) join1 was the faster on an H200, at 2^20 (1 to 3) the default.
  template <class C>
  void join(const char* prefix, uint32_t segments, unsigned lg, std::mt19937_64& rng) {
    gpu::MsmConfig cfg;
    cfg.tuning.join_segments = segments;
    measure_config<C>(std::string(prefix) + "_2^" + std::to_string(lg), cfg, make_case<C>(size_t{1} << lg, false, rng),
                      false);
  }

  // The reduction's later levels as ReducePairStep (Tuning::reduce_split_pairs: X' and Y' of a
  // pair in separate warps, half the dependent operations per level) at 2^lg, device inputs;
  // run early like flip_capped(): g1/g2_msm_split_reduce_2^lg against g1/g2_msm_2^lg.
  struct SplitRow {
    const char* prefix;
    bool tables = false;  // over point tables (one bucket window of 2^18 buckets at 2^20 as
                          // planned: 15 such levels): against g1/g2_msm_tables_2^lg, 4 ms for G1
    bool first2 = false;  // the first level in chunks of 2 as well (a pair level from the buckets)
    bool square = false;  // G1 with the dedicated Fq square too (every G1 experiment in one row)
    unsigned width = 0;   // with tables: a forced width (one bucket window) instead of the plan's.
                          // Wider windows mean fewer additions (13 digit windows at 20, 12 at 22,
                          // against 14 at the planned 19) and more buckets, whose reduction the
                          // split levels make cheaper, so the plan's width may move
                          // (msm::plan_tables's cost model was fitted without them)
  };
  template <class C>
  void split_reduce(const SplitRow& row, unsigned lg, std::mt19937_64& rng) {
    const size_t n = size_t{1} << lg;
    gpu::MsmConfig cfg;
    cfg.tuning.reduce_split_pairs = true;
    if (row.first2) cfg.tuning.reduce_max_first_chunk = 2;
    cfg.g1_dedicated_square = row.square;
    const Case<C> cs = make_case<C>(n, false, rng);
    const std::string name = std::string(row.prefix) + "_2^" + std::to_string(lg);
    if (!row.tables) {
      measure_config<C>(name, cfg, cs, false);
      return;
    }
    if (seconds_since(t0_) > budget_s_) {
      skipped_.push_back(name);
      return;
    }
    gpu::MsmDriver driver(0, cfg);
    const unsigned c = row.width;
    const gpu::MsmTables t =
        c ? gpu::MsmTables{c, gpu::msm::make_layout(c, gpu::msm::make_layout(c).digit_windows).tables, n}
          : driver.plan_tables(n, sizeof(Affine<C>), size_t{16} << 30);
    measure_tables<C>(name, driver, t, cs.points.data(), cs.d_scalars.data(), n, cs.want, 5);
  }

  // G1 with the dedicated square at 2^lg, device inputs; run early like flip_capped():
  // g1_msm_square_2^lg (MsmDriver::msm_g1_square) against g1_msm_2^lg, and over the point tables
  // the driver plans with every msm_g1 sent there (MsmConfig::g1_dedicated_square, a proof's
  // resident-key G1 MSM with CudaBackendConfig::g1_dedicated_square): g1_msm_square_tables_2^lg
  // against g1_msm_tables_2^lg and the 4 ms target.
  void square(unsigned lg, std::mt19937_64& rng) {
    const size_t n = size_t{1} << lg;
    const Case<G1Curve> cs = make_case<G1Curve>(n, false, rng);
    measure_config<G1Curve>("g1_msm_square_2^" + std::to_string(lg), {}, cs, false, G1Path::square);
    const std::string name = "g1_msm_square_tables_2^" + std::to_string(lg);
    if (seconds_since(t0_) > budget_s_) {
      skipped_.push_back(name);
      return;
    }
    gpu::MsmConfig cfg;
    cfg.g1_dedicated_square = true;
    gpu::MsmDriver driver(0, cfg);
    const gpu::MsmTables t = driver.plan_tables(n, sizeof(G1Affine), size_t{16} << 30);
    measure_tables<G1Curve>(name, driver, t, cs.points.data(), cs.d_scalars.data(), n, cs.want, 5);
  }

  // One driver configuration over a case: checked, then timed (median of 5). path: which G1
  // entry point (G1 only).
  template <class C>
  void measure_config(const std::string& name, const gpu::MsmConfig& cfg, const Case<C>& cs, bool host_scalars,
                      G1Path path = G1Path::plain) {
    if (seconds_since(t0_) > budget_s_) {
      skipped_.push_back(name);
      return;
    }
    const size_t n = cs.scalars.size();
    gpu::MsmDriver driver(0, cfg);
    Result r{name, std::is_same_v<C, G1Curve> ? "G1 point" : "G2 point", double(n), double(n), 0, {}, false};
    const Fr* sp = host_scalars ? cs.scalars.data() : cs.d_scalars.data();
    auto call = [&] { return run_path<C>(driver, path, sp, cs.points.data(), n); };
    r.check_ok = call() == cs.want;
    r.t = time_host_runs(call, 1, 5);
    print_line(name, r, driver.last_run());
    results_.push_back(r);
  }

  // Host-to-device copy rate of `mib` MiB: cudaMemcpyAsync from pageable memory, and from
  // page-locked memory.
  void copy_rates(size_t mib) {
    const size_t bytes = mib << 20;
    std::vector<char> pageable(bytes, 1);
    char* pinned = nullptr;
    ZK_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&pinned), bytes));
    std::memset(pinned, 1, bytes);
    DeviceBuffer<char> dst(bytes);
    for (const bool locked : {false, true}) {
      const char* src = locked ? pinned : pageable.data();
      Result r{std::string("h2d_copy_") + (locked ? "pinned_" : "pageable_") + std::to_string(mib) + "MiB", "byte",
               double(bytes), double(bytes), double(bytes), {}, true};
      r.t = time_host_runs([&] {
        ZK_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src, bytes, cudaMemcpyHostToDevice, nullptr));
        ZK_CUDA_CHECK(cudaStreamSynchronize(nullptr));
      }, 1, 5);
      std::printf("%-28s %10.3f ms  %.1f GB/s\n", r.name.c_str(), r.t.median_ms, r.gbytes_per_s());
      results_.push_back(r);
    }
    ZK_CUDA_CHECK(cudaFreeHost(pinned));
  }

  template <class C>
  void series(const Series& s, unsigned min_log, std::mt19937_64& rng) {
    const size_t max_n = size_t{1} << s.max_log;
    const Fr a = random_fr(rng), b = random_fr(rng);
    const std::vector<Fr> scalars = s.skewed ? skewed_scalars(rng, max_n) : uniform_scalars(rng, max_n);
    DeviceBuffer<Affine<C>> points = make_points<C>(max_n, a, b);
    DeviceBuffer<Fr> d_scalars(s.scalars_on_host ? std::vector<Fr>{} : scalars);
    gpu::MsmDriver driver;
    // Prefix sums for the closed-form check: sum s_i and sum i s_i over i < n.
    Fr sum = Fr::zero(), weighted = Fr::zero();
    size_t summed = 0;
    double prev_ms = 0;
    size_t prev_n = 0;
    for (unsigned lg = min_log; lg <= s.max_log; ++lg) {
      const size_t n = size_t{1} << lg;
      const std::string name = std::string(s.name) + "_2^" + std::to_string(lg);
      const int reps = n >= (size_t{1} << 22) ? std::min(o_.reps, 5) : o_.reps;
      const int warmup = std::min(o_.warmup, n >= (size_t{1} << 22) ? 1 : o_.warmup);
      const double estimate = prev_n ? prev_ms * 1e-3 * double(n) / double(prev_n) * (reps + warmup + 1) : 0;
      if (seconds_since(t0_) + estimate > budget_s_) {
        std::printf("%-28s skipped: about %.0f s would pass the %.0f s budget\n", name.c_str(), estimate, budget_s_);
        skipped_.push_back(name);
        continue;
      }
      for (; summed < n; ++summed) {
        sum += scalars[summed];
        weighted += scalars[summed] * Fr::from_u64(summed);
      }
      const Fr* sp = s.scalars_on_host ? scalars.data() : d_scalars.data();
      Result r{name, std::is_same_v<C, G1Curve> ? "G1 point" : "G2 point", double(n), double(n), 0, {}, false};
      const Jacobian<C> got = run_msm<C>(driver, sp, points.data(), n);
      const Jacobian<C> want = scalar_mul(Jacobian<C>::from_affine(generator<C>()), (a * sum + b * weighted).to_canonical());
      r.check_ok = got == want;
      r.t = time_host_runs([&] { run_msm<C>(driver, sp, points.data(), n); }, warmup, reps);
      print_line(name, r, driver.last_run());
      prev_ms = r.t.median_ms;
      prev_n = n;
      results_.push_back(r);
    }
  }

  // MSMs over point tables (MsmTables): for each size the tables the driver plans within
  // max_table_bytes are made from the points (that time is printed apart, it is paid once per
  // key), then the MSM is timed as in series(). The resident-key case of the CUDA backend.
  template <class C>
  void series_tables(const char* prefix, const std::vector<unsigned>& logs, std::mt19937_64& rng) {
    const unsigned max_log = logs.back();
    const size_t max_n = size_t{1} << max_log;
    const Fr a = random_fr(rng), b = random_fr(rng);
    const std::vector<Fr> scalars = uniform_scalars(rng, max_n);
    const DeviceBuffer<Affine<C>> points = make_points<C>(max_n, a, b);
    const DeviceBuffer<Fr> d_scalars(scalars);
    gpu::MsmDriver driver;
    Fr sum = Fr::zero(), weighted = Fr::zero();  // sum s_i and sum i s_i over i < summed
    size_t summed = 0;
    for (unsigned lg : logs) {  // ascending
      const size_t n = size_t{1} << lg;
      const std::string name = std::string(prefix) + "_2^" + std::to_string(lg);
      if (seconds_since(t0_) > budget_s_) {
        std::printf("%-28s skipped: past the %.0f s budget\n", name.c_str(), budget_s_);
        skipped_.push_back(name);
        continue;
      }
      size_t free = 0, total = 0;
      ZK_CUDA_CHECK(cudaMemGetInfo(&free, &total));
      const gpu::MsmTables t = driver.plan_tables(n, sizeof(Affine<C>), std::min(free / 2, size_t{32} << 30));
      for (; summed < n; ++summed) {
        sum += scalars[summed];
        weighted += scalars[summed] * Fr::from_u64(summed);
      }
      measure_tables<C>(name, driver, t, points.data(), d_scalars.data(), n,
                        scalar_mul(Jacobian<C>::from_affine(generator<C>()), (a * sum + b * weighted).to_canonical()),
                        n >= (size_t{1} << 22) ? std::min(o_.reps, 5) : o_.reps);
    }
  }

  // Point tables at 2^lg with forced window widths and table counts: the data for
  // msm::plan_tables's choice (every digit window its own table: one bucket window; or two);
  // then the reduction's tuning at the planned tables.
  template <class C>
  void sweep_tables(const char* prefix, unsigned lg, std::mt19937_64& rng) {
    const size_t n = size_t{1} << lg;
    const Case<C> cs = make_case<C>(n, false, rng);
    gpu::MsmDriver driver;
    for (unsigned c : {12u, 14u, 16u, 18u, 19u, 20u, 22u}) {
      for (unsigned windows : {1u, 2u}) {
        const gpu::msm::Layout l = gpu::msm::make_layout(c, (gpu::msm::make_layout(c).digit_windows + windows - 1) / windows);
        const gpu::MsmTables t{c, l.tables, n};
        const std::string name = std::string(prefix) + "_2^" + std::to_string(lg) + "_c" + std::to_string(c) + "_g" +
                                 std::to_string(l.windows);
        if (seconds_since(t0_) > budget_s_) {
          skipped_.push_back(name);
          continue;
        }
        measure_tables<C>(name, driver, t, cs.points.data(), cs.d_scalars.data(), n, cs.want, 5);
      }
    }
    // With one bucket window the reduction's later levels are a few threads' chains of
    // dependent additions: its tuning at the width plan_tables picks (msm::Tuning's defaults
    // were swept with 13 to 16 windows).
    const gpu::MsmTables planned = driver.plan_tables(n, sizeof(Affine<C>), size_t{16} << 30);
    std::vector<std::pair<std::string, gpu::msm::Tuning>> tunings = {{"planned", {}}};
    for (uint32_t chunk : {4u, 8u, 16u}) {
      gpu::msm::Tuning t;
      t.reduce_chunk = chunk;
      tunings.push_back({"planned_chunk" + std::to_string(chunk), t});
    }
    for (uint32_t threads : {32u, 512u}) {
      gpu::msm::Tuning t;
      t.reduce_threads_per_sm = threads;
      tunings.push_back({"planned_red" + std::to_string(threads), t});
    }
    for (const auto& [tag, tuning] : tunings) {
      const std::string name = std::string(prefix) + "_2^" + std::to_string(lg) + "_" + tag;
      if (seconds_since(t0_) > budget_s_) {
        skipped_.push_back(name);
        continue;
      }
      gpu::MsmConfig cfg;
      cfg.tuning = tuning;
      gpu::MsmDriver tuned(0, cfg);
      measure_tables<C>(name, tuned, planned, cs.points.data(), cs.d_scalars.data(), n, cs.want, 5);
    }
  }

  // --profile: one MSM at 2^lg inside profiled(), with the closed-form check; G1 through `path`.
  template <class C>
  bool profile_one(const char* name, unsigned lg, bool skewed, std::mt19937_64& rng, G1Path path = G1Path::plain) {
    const size_t n = size_t{1} << lg;
    const Case<C> cs = make_case<C>(n, skewed, rng);
    gpu::MsmDriver driver(0);
    Jacobian<C> got;
    profiled(name, [&] { got = run_path<C>(driver, path, cs.d_scalars.data(), cs.points.data(), n); });
    const bool ok = got == cs.want;
    if (!ok) std::printf("%s: CHECK FAILED\n", name);
    return ok;
  }

  // Tables t made from points[0, n) (make_tables, timed apart), then the MSM timed over them.
  template <class C>
  void measure_tables(const std::string& name, gpu::MsmDriver& driver, const gpu::MsmTables& t,
                      const Affine<C>* points, const Fr* d_scalars, size_t n, const Jacobian<C>& want, int reps) {
    const auto t0 = Clock::now();
    const DeviceBuffer<Affine<C>> table = make_tables<C>(driver, t, points, n);
    const double pre_ms = seconds_since(t0) * 1e3;
    auto msm = [&] { return run_msm<C>(driver, d_scalars, table.data(), n, t); };
    Result r{name, std::is_same_v<C, G1Curve> ? "G1 point" : "G2 point", double(n), double(n), 0, {}, false};
    r.check_ok = msm() == want;
    r.t = time_host_runs(msm, std::min(o_.warmup, 1), reps);
    print_line(name, r, driver.last_run());
    std::printf("%-28s   %u tables of window %u bits (%zu MiB), made in %.1f ms\n", "", t.tables, t.window_bits,
                (t.points() * sizeof(Affine<C>)) >> 20, pre_ms);
    results_.push_back(r);
  }

  // --profile: one MSM at 2^lg over the point tables the driver plans (made outside the
  // profiled range), with the closed-form check.
  template <class C>
  bool profile_tables(const char* name, unsigned lg, std::mt19937_64& rng) {
    const size_t n = size_t{1} << lg;
    const Case<C> cs = make_case<C>(n, false, rng);
    gpu::MsmDriver driver(0);
    const gpu::MsmTables t = driver.plan_tables(n, sizeof(Affine<C>), size_t{16} << 30);
    const DeviceBuffer<Affine<C>> table = make_tables<C>(driver, t, cs.points.data(), n);
    Jacobian<C> got;
    profiled(name, [&] { got = run_msm<C>(driver, cs.d_scalars.data(), table.data(), n, t); });
    const bool ok = got == cs.want;
    if (!ok) std::printf("%s: CHECK FAILED\n", name);
    return ok;
  }

  int finish() {
    const int status = report("bench_gpu_msm", g_, o_, results_, "a device result differed from the closed form");
    if (!skipped_.empty()) std::printf("skipped for time: %zu sizes\n", skipped_.size());
    std::printf("total %.1f s\n", seconds_since(t0_));
    return status;
  }

 private:
  static void print_line(const std::string& name, const Result& r, const gpu::MsmDriver::RunInfo& info) {
    std::printf("%-28s %10.3f ms  window %2u bits, %zu batch(es); device %.3f ms: sort %.3f, accumulate %.3f "
                "(carry levels %.3f), reduce %.3f%s\n",
                name.c_str(), r.t.median_ms, info.window_bits, info.batches, info.device_ms, info.sort_ms,
                info.accumulate_ms, info.carry_levels_ms, info.reduce_ms, r.check_ok ? "" : "  CHECK FAILED");
    std::fflush(stdout);
  }

  const Options& o_;
  const gpu::GpuInfo& g_;
  Clock::time_point t0_;
  double budget_s_;
  std::vector<Result> results_;
  std::vector<std::string> skipped_;
};

int run(int argc, char** argv) {
  const Options o = parse_options(argc, argv, kUsage, /*can_profile=*/true);
  const gpu::GpuInfo g = gpu::probe_gpu();
  if (!g.usable) {
    std::fprintf(stderr, "bench_gpu_msm: %s\n", g.reason.c_str());
    return 2;
  }
  std::printf("device: %s\n", gpu::describe(g).c_str());
  std::printf("targets (H100, DESIGN.md 5): G1 2^20 <= 4 ms, 2^24 <= 50 ms, G2 <= 3x G1\n");
  std::mt19937_64 rng(20240607);  // fixed: the same inputs every run, so runs compare
  const unsigned top = o.quick ? 20 : 24;
  Bench b(o, g);
  if (o.profile) {
    bool ok = b.profile_one<G1Curve>("g1_msm_2^20", 20, false, rng);
    ok = b.profile_one<G1Curve>("g1_msm_skewed_2^20", 20, true, rng) && ok;
    ok = b.profile_one<G2Curve>("g2_msm_2^20", 20, false, rng) && ok;
    ok = b.profile_one<G1Curve>("g1_msm_square_2^20", 20, false, rng, G1Path::square) && ok;
    ok = b.profile_tables<G1Curve>("g1_msm_tables_2^20", 20, rng) && ok;
    return ok ? 0 : 1;
  }
  b.series<G1Curve>({"g1_msm", false, false, top}, 16, rng);
  b.series<G2Curve>({"g2_msm", false, false, top}, 16, rng);
  b.flip_capped<G1Curve>("g1_msm_uncapped_regs", o.quick ? 16 : 20, rng);
  b.flip_capped<G2Curve>("g2_msm_capped_regs", o.quick ? 16 : 20, rng);
  for (unsigned lg : {16u, 20u}) {
    if (o.quick && lg > 16) continue;
    b.join<G1Curve>("g1_msm_join1", 1, lg, rng);
    b.join<G2Curve>("g2_msm_join1", 1, lg, rng);
    b.join<G1Curve>("g1_msm_join4", 4, lg, rng);
    b.join<G2Curve>("g2_msm_join4", 4, lg, rng);
  }
  b.square(o.quick ? 16 : 20, rng);
  for (unsigned lg : {16u, 20u}) {
    if (o.quick && lg > 16) continue;
    b.split_reduce<G1Curve>({"g1_msm_split_reduce"}, lg, rng);
    b.split_reduce<G2Curve>({"g2_msm_split_reduce"}, lg, rng);
  }
  {
    const unsigned lg = o.quick ? 16 : 20;
    b.split_reduce<G1Curve>({"g1_msm_tables_split_reduce", true}, lg, rng);
    b.split_reduce<G2Curve>({"g2_msm_tables_split_reduce", true}, lg, rng);
    b.split_reduce<G1Curve>({"g1_msm_split_reduce_first2", false, true}, lg, rng);
    b.split_reduce<G2Curve>({"g2_msm_split_reduce_first2", false, true}, lg, rng);
    b.split_reduce<G1Curve>({"g1_msm_tables_split_reduce_first2", true, true}, lg, rng);
    b.split_reduce<G1Curve>({"g1_msm_tables_split_reduce_square", true, false, true}, lg, rng);
    b.split_reduce<G1Curve>({"g1_msm_tables_split_reduce_c20", true, false, false, 20}, lg, rng);
    b.split_reduce<G1Curve>({"g1_msm_tables_split_reduce_c22", true, false, false, 22}, lg, rng);
  }
  auto up_to_top = [&](std::vector<unsigned> logs) {
    std::erase_if(logs, [&](unsigned lg) { return lg > top; });
    return logs;
  };
  b.series_tables<G1Curve>("g1_msm_tables", up_to_top({16, 18, 20, 22, 24}), rng);
  b.series_tables<G2Curve>("g2_msm_tables", up_to_top({16, 20, 24}), rng);
  b.series<G1Curve>({"g1_msm_skewed", true, false, top}, 20, rng);
  b.series<G1Curve>({"g1_msm_host_scalars", false, true, top}, 20, rng);
  b.sweep<G1Curve>("g1_sweep", o.quick ? 16 : 20, rng);
  b.sweep<G2Curve>("g2_sweep", o.quick ? 16 : 20, rng);
  b.sweep_tables<G1Curve>("g1_tables_sweep", o.quick ? 16 : 20, rng);
  b.copy_rates(64);
  return b.finish();
}

}  // namespace
}  // namespace zkinfer::bench

int main(int argc, char** argv) {
  return zkinfer::bench::bench_main("bench_gpu_msm", zkinfer::bench::run, argc, argv);
}
