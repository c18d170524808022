// NTT throughput on the device (cuda/ntt.h), inputs resident: every kind at 2^16 .. 2^24, and
// batches of smaller vectors. Each measurement first checks one run's full output against the
// CPU backend, then times repeated in-place runs (the data's values do not change the time).
// Tables are built during the warm-up runs, so the medians are steady-state figures. Without
// --quick, 2^20 and 2^24 forward again under other shapes (tile, threads, columns per row, the
// reordering pass instead of the scratch vector, twiddles computed instead of read from tables,
// Montgomery stage twiddles instead of Shoup's, two stages per phase, several rows per last-pass
// tile, pass twiddle tables in Shoup form), one input per size for all of them; the shapes left
// once ZKINFER_GPU_BENCH_BUDGET_S (default 220 s) is spent are skipped.
//
//   bench_gpu_ntt [--out results.json] [--reps 21] [--warmup 3] [--quick] [--profile]
// --profile: only forward 2^24 (also with two stages per phase) and the prover's inverse of three 2^20
// vectors, each once inside cudaProfilerStart/Stop and checked, nothing timed
// (bench/gpu/profile.sh runs it under ncu).
// Exit status: 0 all checks passed, 1 a check failed or a CUDA call failed, 2 no usable GPU.
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend.h"
#include "bench_util.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/ntt.h"
#include "zkinfer/ff/domain.h"

namespace zkinfer::bench {
namespace {

using gpu::DeviceBuffer;

constexpr const char* kUsage =
    "usage: bench_gpu_ntt [--out results.json] [--reps N] [--warmup N] [--quick] [--profile]\n";

// Uniform elements drawn directly as Montgomery words below p (no conversion multiply: the
// inputs have up to 2^24 elements).
Fr random_fr(std::mt19937_64& rng) {
  constexpr U256 p = Fr::MOD;
  for (;;) {
    U256 w{{rng(), rng(), rng(), rng() & ((uint64_t{1} << (Fr::BITS - 192)) - 1)}};
    if (u256::less(w, p)) return Fr::from_mont(w);
  }
}

std::vector<Fr> random_vector(std::mt19937_64& rng, size_t count) {
  std::vector<Fr> x(count);
  for (Fr& e : x) e = random_fr(rng);
  return x;
}

// ntt_<kind>_2^<log_n>, with _x<batch> for several vectors.
std::string result_name(NttKind kind, unsigned log_n, size_t batch) {
  std::string name = std::string("ntt_") + ntt_kind_name(kind) + "_2^" + std::to_string(log_n);
  if (batch > 1) name += "_x" + std::to_string(batch);
  return name;
}

// One transform's input and the CPU backend's output for it.
struct Case {
  unsigned log_n;
  size_t batch;
  NttKind kind;
  Fr g;
  std::vector<Fr> input, want;
};

Case make_case(Backend& cpu, unsigned log_n, size_t batch, NttKind kind, std::mt19937_64& rng) {
  const size_t n = size_t{1} << log_n;
  Case c{log_n, batch, kind, snarkjs_coset_shift(log_n), random_vector(rng, n * batch), {}};
  c.want = c.input;
  for (size_t v = 0; v < batch; ++v) cpu.ntt(c.want.data() + v * n, n, kind, c.g);
  return c;
}

// --profile: one transform inside profiled(), checked against the CPU backend; `tag` goes before
// the name (a driver configured otherwise than the default).
bool profile_one(gpu::NttDriver& ntt, Backend& cpu, unsigned log_n, size_t batch, NttKind kind,
                 std::mt19937_64& rng, const std::string& tag = "") {
  const Case c = make_case(cpu, log_n, batch, kind, rng);
  DeviceBuffer<Fr> d(c.input);
  // profiled() runs the transform twice (a warm-up first): the second starts again from the
  // input, so the result checked is one transform's.
  const std::string name = tag + result_name(kind, log_n, batch);
  bool first = true;
  profiled(name.c_str(), [&] {
    if (!first) ZK_CUDA_CHECK(cudaMemcpy(d.data(), c.input.data(), c.input.size() * sizeof(Fr), cudaMemcpyHostToDevice));
    first = false;
    ntt.run(d.data(), log_n, kind, c.g, batch, nullptr);
  });
  const bool ok = d.download() == c.want;
  if (!ok) std::printf("%s: CHECK FAILED\n", name.c_str());
  return ok;
}

// Checks one run's whole output against the case's, then times repeated in-place runs.
Result measure(gpu::NttDriver& ntt, const Case& c, const Options& o) {
  const size_t n = size_t{1} << c.log_n;
  DeviceBuffer<Fr> d(c.input);
  ntt.run(d.data(), c.log_n, c.kind, c.g, c.batch, nullptr);
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const bool ok = d.download() == c.want;

  auto launch = [&] { ntt.run(d.data(), c.log_n, c.kind, c.g, c.batch, nullptr); };
  // bytes: one read and one write of the data, the least any NTT moves.
  Result r;
  r.name = result_name(c.kind, c.log_n, c.batch);
  r.unit = "butterfly";
  r.elements = double(n * c.batch);
  r.ops = double(c.batch) * double(n / 2) * c.log_n;
  r.bytes = 2.0 * double(n * c.batch) * sizeof(Fr);
  r.check_ok = ok;
  r.t = time_runs(launch, o.warmup, o.reps);
  return r;
}

int run(int argc, char** argv) {
  const Options o = parse_options(argc, argv, kUsage, /*can_profile=*/true);
  const gpu::GpuInfo g = gpu::probe_gpu();
  if (!g.usable) {
    std::fprintf(stderr, "bench_gpu_ntt: %s\n", g.reason.c_str());
    return 2;
  }
  std::printf("device: %s\n", gpu::describe(g).c_str());
  std::mt19937_64 rng(20240602);  // fixed: the same inputs every run, so runs compare
  gpu::NttDriver ntt;
  std::printf("tile: 2^%u elements\n", ntt.tile_log());
  auto cpu = make_cpu_backend();
  if (o.profile) {
    bool ok = profile_one(ntt, *cpu, 24, 1, NttKind::kForward, rng);
    ok = profile_one(ntt, *cpu, 20, 3, NttKind::kInverse, rng) && ok;
    // Two stages per phase (NttDriverConfig::radix4): barriers, shared memory and issue stalls.
    gpu::NttDriverConfig radix4_cfg;
    radix4_cfg.radix4 = true;
    gpu::NttDriver radix4(radix4_cfg);
    ok = profile_one(radix4, *cpu, 24, 1, NttKind::kForward, rng, "radix4_") && ok;
    return ok ? 0 : 1;
  }

  const unsigned top = o.quick ? 20 : 24;
  const Clock::time_point t0 = Clock::now();
  const double budget_s = budget_seconds();
  std::vector<Result> rs;
  for (unsigned log_n = 16; log_n <= top; ++log_n)
    for (NttKind kind :
         {NttKind::kForward, NttKind::kInverse, NttKind::kCosetForward, NttKind::kCosetInverse})
      rs.push_back(measure(ntt, make_case(*cpu, log_n, 1, kind, rng), o));
  // Batches: the prover transforms A, B and C together; many small vectors stress the
  // single-pass kernel.
  rs.push_back(measure(ntt, make_case(*cpu, o.quick ? 16 : 20, 3, NttKind::kInverse, rng), o));
  rs.push_back(measure(ntt, make_case(*cpu, o.quick ? 16 : 20, 3, NttKind::kCosetForward, rng), o));
  rs.push_back(measure(ntt, make_case(*cpu, 10, 1024, NttKind::kForward, rng), o));
  // The shape (NttDriverConfig) at 2^20 and 2^24, forward: only the defaults were measured
  // before. Each result is named ntt_sweep_<shape>_forward_2^k. One input per size for all
  // shapes (a 2^24 CPU reference takes about a second); shapes left when the budget is spent are
  // skipped, so the results so far are still written.
  if (!o.quick) {
    const Case sweep_cases[] = {make_case(*cpu, 20, 1, NttKind::kForward, rng),
                                make_case(*cpu, 24, 1, NttKind::kForward, rng)};
    struct Sweep {
      unsigned tile_log, threads;
      int min_columns_log;
      bool reorder_pass = false;
      bool computed_twiddles = false;
      bool montgomery = false;  // stage twiddles as Montgomery products, not Shoup's (the default)
      bool radix4 = false;
      unsigned last_rows_log = 0;
      bool shoup_pass = false;  // pass twiddle tables in Shoup form
    };
    // min_columns_log 0 with 2^12 tiles: 2^24 in two passes (12 + 12) instead of three.
    // "_reorder": in place with the reordering pass, against the default's scratch vector;
    // "_computed": the non-last passes' twiddles computed, against the default's tables;
    // "_montgomery": stage twiddles as Montgomery products, against the default Shoup form
    // (NttDriverConfig::shoup_twiddles; the default since 2026-11-28);
    // "_radix4": two stages per phase (NttDriverConfig::radix4);
    // "_rows2" / "_rows4" / "_rows8": 2, 4 or 8 rows per tile in the last pass
    // (NttDriverConfig::last_rows_log), so its natural-order stores come in runs of as many
    // adjacent elements (2^24 with 2^11 tiles and 8 rows: 8 + 8 + 8 stages);
    // "_shouppass": the non-last passes' twiddle tables in Shoup form
    // (NttDriverConfig::shoup_pass_twiddles).
    for (const Sweep sw : {Sweep{.tile_log = 10, .threads = 256, .min_columns_log = 2, .last_rows_log = 2},
                           Sweep{.tile_log = 10, .threads = 256, .min_columns_log = 2, .shoup_pass = true},
                           Sweep{.tile_log = 10, .threads = 256, .min_columns_log = 2, .last_rows_log = 2,
                                 .shoup_pass = true},
                           Sweep{.tile_log = 10, .threads = 256, .min_columns_log = 2, .last_rows_log = 1},
                           Sweep{.tile_log = 10, .threads = 128, .min_columns_log = 2, .last_rows_log = 2},
                           Sweep{.tile_log = 11, .threads = 256, .min_columns_log = 2, .last_rows_log = 2},
                           Sweep{.tile_log = 11, .threads = 256, .min_columns_log = 2, .last_rows_log = 3},
                           Sweep{11, 256, 2}, Sweep{9, 256, 2}, Sweep{10, 128, 2}, Sweep{10, 512, 2},
                           Sweep{10, 256, 1}, Sweep{10, 256, 3},
                           Sweep{.tile_log = 10, .threads = 256, .min_columns_log = 2, .radix4 = true},
                           Sweep{.tile_log = 9, .threads = 256, .min_columns_log = 2, .radix4 = true},
                           Sweep{12, 256, 2}, Sweep{12, 512, 2}, Sweep{11, 128, 2},
                           Sweep{11, 512, 2}, Sweep{11, 256, 1}, Sweep{11, 256, 3}, Sweep{11, 256, 0},
                           Sweep{12, 256, 0}, Sweep{12, 512, 0}, Sweep{11, 256, 2, true},
                           Sweep{12, 256, 0, true}, Sweep{11, 256, 2, false, true},
                           Sweep{12, 256, 0, false, true}, Sweep{11, 256, 2, true, true},
                           Sweep{11, 256, 2, false, false, true}, Sweep{12, 256, 0, false, false, true},
                           Sweep{.tile_log = 11, .threads = 256, .min_columns_log = 2, .radix4 = true},
                           Sweep{.tile_log = 12, .threads = 256, .min_columns_log = 0, .radix4 = true}}) {
      gpu::NttDriverConfig cfg;
      cfg.tile_log = sw.tile_log;
      cfg.threads = sw.threads;
      cfg.min_columns_log = sw.min_columns_log;
      cfg.reorder_pass = sw.reorder_pass;
      cfg.pass_twiddle_tables = !sw.computed_twiddles;
      cfg.shoup_twiddles = !sw.montgomery;
      cfg.radix4 = sw.radix4;
      cfg.last_rows_log = sw.last_rows_log;
      cfg.shoup_pass_twiddles = sw.shoup_pass;
      const std::string flags = std::string(sw.reorder_pass ? "_reorder" : "") +
                                (sw.computed_twiddles ? "_computed" : "") + (sw.montgomery ? "_montgomery" : "") +
                                (sw.radix4 ? "_radix4" : "") +
                                (sw.last_rows_log ? "_rows" + std::to_string(1u << sw.last_rows_log) : "") +
                                (sw.shoup_pass ? "_shouppass" : "");
      if (seconds_since(t0) > budget_s) {
        std::printf("ntt_sweep_t%u_th%u_mc%d%s skipped: past the %.0f s budget\n", sw.tile_log, sw.threads,
                    sw.min_columns_log, flags.c_str(), budget_s);
        continue;
      }
      gpu::NttDriver shaped(cfg);
      const std::string tag = "ntt_sweep_t" + std::to_string(shaped.tile_log()) + "_th" + std::to_string(sw.threads) +
                              "_mc" + std::to_string(sw.min_columns_log) + flags;
      for (const Case& c : sweep_cases) {
        Result r = measure(shaped, c, o);
        r.name = tag + r.name.substr(3);  // "ntt_forward_2^k" -> tag + "_forward_2^k"
        rs.push_back(r);
      }
    }
  }

  return report("bench_gpu_ntt", g, o, rs, "a device result differed from the CPU backend");
}

}  // namespace
}  // namespace zkinfer::bench

int main(int argc, char** argv) {
  return zkinfer::bench::bench_main("bench_gpu_ntt", zkinfer::bench::run, argc, argv);
}
