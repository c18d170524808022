// Host field arithmetic per implementation (fp_x86.h): mul, sqr, add, sub on Fr and Fq, as
// latency (each result feeds the next operation) and throughput (8 independent chains), and
// cpu::mul_batch over 1024 independent products (AVX-512 IFMA at adx where the CPU has it), and
// inverse() (Fermat) against inverse_vartime() (safegcd) over 256 different values.
// The counter ns_per_op is the figure to compare; variants the CPU cannot run are left out.
//
//   build/bin/bench_field --benchmark_out=bench_field.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cpu/field_batch.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer {
namespace {

constexpr int kOpsPerIteration = 1000;  // per benchmark iteration, per chain
constexpr int kChains = 8;              // independent chains in the throughput runs

template <class F>
F sample(uint64_t i) {
  return F::from_u64(0x9e3779b97f4a7c15ull * (i + 3)).pow(u256::from_u64(7));
}

struct Mul {
  template <class F>
  static F apply(const F& a, const F& b) {
    return a * b;
  }
};
struct Sqr {
  template <class F>
  static F apply(const F& a, const F&) {
    return a.sqr();
  }
};
struct Add {
  template <class F>
  static F apply(const F& a, const F& b) {
    return a + b;
  }
};
struct Sub {
  template <class F>
  static F apply(const F& a, const F& b) {
    return a - b;
  }
};

#if ZKINFER_X86_64_HOST
// Selects the implementation for one benchmark run and restores the start-up choice after it.
struct IsaScope {
  HostIsa saved = x86::host_isa;
  explicit IsaScope(HostIsa isa) { x86::host_isa = isa; }
  ~IsaScope() { x86::host_isa = saved; }
};
#else
struct IsaScope {
  explicit IsaScope(int) {}
};
#endif

template <class F, class Op, class Isa>
void latency(benchmark::State& state, Isa isa) {
  IsaScope scope(isa);
  F x = sample<F>(0);
  const F y = sample<F>(1);
  for (auto _ : state) {
    // A local the compiler can keep in registers: DoNotOptimize(x) makes x live in memory, and
    // a store/load per operation would be part of the measured chain.
    F t = x;
    for (int i = 0; i < kOpsPerIteration; ++i) t = Op::apply(t, y);
    x = t;
    benchmark::DoNotOptimize(x);
  }
  state.counters["ns_per_op"] =
      benchmark::Counter(double(state.iterations()) * kOpsPerIteration,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class F, class Op, class Isa>
void throughput(benchmark::State& state, Isa isa) {
  IsaScope scope(isa);
  F x[kChains];
  for (int c = 0; c < kChains; ++c) x[c] = sample<F>(c);
  const F y = sample<F>(kChains);
  for (auto _ : state) {
    for (int i = 0; i < kOpsPerIteration; ++i) {
      for (int c = 0; c < kChains; ++c) x[c] = Op::apply(x[c], y);
    }
    benchmark::DoNotOptimize(x);
  }
  state.counters["ns_per_op"] =
      benchmark::Counter(double(state.iterations()) * kOpsPerIteration * kChains,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class F, class Isa>
void mul_batch(benchmark::State& state, Isa isa) {
  IsaScope scope(isa);
  constexpr size_t n = 1024;
  std::vector<F> a(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = sample<F>(i);
    b[i] = sample<F>(n + i);
  }
  for (auto _ : state) {
    cpu::mul_batch(a.data(), a.data(), b.data(), n);
    benchmark::DoNotOptimize(a.data());
  }
  state.counters["ns_per_op"] = benchmark::Counter(
      double(state.iterations()) * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One inversion per value of a fixed set: inverse_vartime's time depends on the value, so a
// chain x -> 1/x (two values) would not be representative.
template <class F, bool Vartime, class Isa>
void inverse(benchmark::State& state, Isa isa) {
  IsaScope scope(isa);
  constexpr size_t n = 256;
  std::vector<F> xs(n);
  for (size_t i = 0; i < n; ++i) xs[i] = sample<F>(i);
  for (auto _ : state) {
    for (const F& x : xs) {
      F r = Vartime ? x.inverse_vartime() : x.inverse();
      benchmark::DoNotOptimize(r);
    }
  }
  state.counters["ns_per_op"] = benchmark::Counter(
      double(state.iterations()) * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class F, class Op, class Isa>
void register_op(const std::string& field, const std::string& op, const std::string& isa_name,
                 Isa isa) {
  std::string base = field + "/" + op + "/" + isa_name;
  benchmark::RegisterBenchmark((base + "/latency").c_str(), latency<F, Op, Isa>, isa);
  benchmark::RegisterBenchmark((base + "/throughput").c_str(), throughput<F, Op, Isa>, isa);
}

template <class F, class Isa>
void register_field(const std::string& field, const std::string& isa_name, Isa isa) {
  register_op<F, Mul>(field, "mul", isa_name, isa);
  register_op<F, Sqr>(field, "sqr", isa_name, isa);
  register_op<F, Add>(field, "add", isa_name, isa);
  register_op<F, Sub>(field, "sub", isa_name, isa);
  benchmark::RegisterBenchmark((field + "/mul_batch/" + isa_name).c_str(), mul_batch<F, Isa>, isa);
  benchmark::RegisterBenchmark((field + "/inverse/" + isa_name).c_str(), inverse<F, false, Isa>,
                               isa);
  benchmark::RegisterBenchmark((field + "/inverse_vartime/" + isa_name).c_str(),
                               inverse<F, true, Isa>, isa);
}

}  // namespace
}  // namespace zkinfer

int main(int argc, char** argv) {
  using namespace zkinfer;
#if ZKINFER_X86_64_HOST
  benchmark::AddCustomContext("host_isa_best", x86::host_isa_name(x86::best_host_isa()));
  benchmark::AddCustomContext("avx512ifma", x86::cpu_has_avx512ifma() ? "yes" : "no");
  for (HostIsa isa : {HostIsa::portable, HostIsa::x86_64, HostIsa::adx}) {
    if (isa > x86::best_host_isa()) continue;
    register_field<Fr>("Fr", x86::host_isa_name(isa), isa);
    register_field<Fq>("Fq", x86::host_isa_name(isa), isa);
  }
#else
  register_field<Fr>("Fr", "portable", 0);
  register_field<Fq>("Fq", "portable", 0);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
