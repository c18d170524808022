// CPU MSM throughput (items = points per second of wall time), random 254-bit scalars unless
// the name says otherwise. The CPU column is the whole process (all threads): on a shared
// machine it shows the work done even when the wall time does not. Inputs are built once,
// outside the timed loops: random points by successive additions of a random step, converted
// to affine in one batch.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "cpu/msm.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

template <class C>
std::vector<Affine<C>> make_points(const Affine<C>& gen, size_t n, std::mt19937_64& rng) {
  Jacobian<C> g = Jacobian<C>::from_affine(gen);
  Jacobian<C> p = scalar_mul(g, field_random<Fr>(rng).to_canonical());
  Affine<C> step = scalar_mul(g, field_random<Fr>(rng).to_canonical()).to_affine();
  std::vector<Jacobian<C>> jac(n);
  for (auto& j : jac) {
    j = p;
    p = p.add_affine(step);
  }
  std::vector<Affine<C>> out(n);
  std::vector<typename C::Field> scratch(n);
  batch_to_affine(jac.data(), out.data(), n, scratch.data());
  return out;
}

// Largest inputs, generated on first use and shared by every size (prefixes).
struct Inputs {
  std::vector<Fr> scalars, skewed;
  std::vector<G1Affine> g1;
  std::vector<G2Affine> g2;

  static const Inputs& get() {
    static const Inputs in;
    return in;
  }

 private:
  Inputs() {
    std::mt19937_64 rng(20250101);
    scalars.resize(size_t{1} << 20);
    for (auto& s : scalars) s = field_random<Fr>(rng);
    // Witness-like: 70% of the values are 0 or 1, the rest random.
    skewed.resize(size_t{1} << 16);
    for (auto& s : skewed) {
      uint64_t u = rng() % 100;
      s = u < 35 ? Fr::zero() : u < 70 ? Fr::one() : field_random<Fr>(rng);
    }
    g1 = make_points(g1_generator(), size_t{1} << 20, rng);
    g2 = make_points(g2_generator(), size_t{1} << 18, rng);
  }
};

void run_g1(benchmark::State& state, const std::vector<Fr>& scalars, const cpu::MsmConfig& cfg) {
  const Inputs& in = Inputs::get();
  size_t n = size_t{1} << state.range(0);
  G1Jacobian out;
  for (auto _ : state) {
    cpu::msm_g1(out, scalars.data(), in.g1.data(), n, cfg);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed((int64_t)(state.iterations() * n));
}

void BM_MsmG1(benchmark::State& state) { run_g1(state, Inputs::get().scalars, {}); }
void BM_MsmG1Skewed(benchmark::State& state) { run_g1(state, Inputs::get().skewed, {}); }
// The same MSM without GLV and without batch-affine buckets, to show what each one buys.
void BM_MsmG1NoGlv(benchmark::State& state) {
  cpu::MsmConfig cfg;
  cfg.glv = false;
  run_g1(state, Inputs::get().scalars, cfg);
}
void BM_MsmG1Xyzz(benchmark::State& state) {
  cpu::MsmConfig cfg;
  cfg.accumulation = cpu::MsmConfig::Accumulation::xyzz;
  run_g1(state, Inputs::get().scalars, cfg);
}

void BM_MsmG2(benchmark::State& state) {
  const Inputs& in = Inputs::get();
  size_t n = size_t{1} << state.range(0);
  G2Jacobian out;
  for (auto _ : state) {
    cpu::msm_g2(out, in.scalars.data(), in.g2.data(), n);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed((int64_t)(state.iterations() * n));
}

// Milliseconds; rates from the wall time, the process CPU time alongside.
void timing(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
}

BENCHMARK(BM_MsmG1)->DenseRange(12, 20, 2)->Apply(timing);
BENCHMARK(BM_MsmG1Skewed)->Arg(16)->Apply(timing);
BENCHMARK(BM_MsmG1NoGlv)->Arg(16)->Apply(timing);
BENCHMARK(BM_MsmG1Xyzz)->Arg(16)->Apply(timing);
BENCHMARK(BM_MsmG2)->DenseRange(12, 18, 2)->Apply(timing);

}  // namespace
}  // namespace zkinfer

BENCHMARK_MAIN();
