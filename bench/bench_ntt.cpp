// CPU NTT over Fr: forward transforms 2^12 .. 2^22, the other three kinds at 2^16 and 2^20,
// one thread against all threads, and the AVX-512 IFMA kernels against the scalar ones.
// Items are field elements transformed. --benchmark_out=FILE writes JSON.
// Reference on the 2-core dev machine: rapidsnark's FFT takes 9.4 ms (2^16), 183 ms (2^20)
// and 827 ms (2^22).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "cpu/ntt.h"
#include "cpu/parallel.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

enum Kind { kForward, kInverse, kCosetForward, kCosetInverse };

void run_ntt(benchmark::State& state, Kind kind, unsigned threads, bool simd) {
  const unsigned log_n = (unsigned)state.range(0);
  const cpu::NttPlan plan(log_n);
  std::mt19937_64 rng(log_n);
  std::vector<Fr> data(plan.size());
  for (auto& x : data) x = field_random<Fr>(rng);
  cpu::NttConfig cfg;
  cfg.inverse = kind == kInverse || kind == kCosetInverse;
  cfg.coset = kind == kCosetForward || kind == kCosetInverse;
  cfg.threads = threads;
  cfg.simd = simd;
  for (auto _ : state) {
    plan.run(data.data(), cfg);
    benchmark::DoNotOptimize(data.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(plan.size()));
  state.counters["threads"] = threads ? threads : cpu::default_threads();
}

void BM_NttForward(benchmark::State& s) { run_ntt(s, kForward, 0, true); }
void BM_NttInverse(benchmark::State& s) { run_ntt(s, kInverse, 0, true); }
void BM_NttCosetForward(benchmark::State& s) { run_ntt(s, kCosetForward, 0, true); }
void BM_NttCosetInverse(benchmark::State& s) { run_ntt(s, kCosetInverse, 0, true); }
void BM_NttForwardOneThread(benchmark::State& s) { run_ntt(s, kForward, 1, true); }
void BM_NttForwardScalar(benchmark::State& s) { run_ntt(s, kForward, 0, false); }

BENCHMARK(BM_NttForward)->DenseRange(12, 22, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NttInverse)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NttCosetForward)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NttCosetInverse)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NttForwardOneThread)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NttForwardScalar)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace zkinfer

BENCHMARK_MAIN();
