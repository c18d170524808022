// Latency of single field and curve operations: one operation per iteration, each feeding the
// next, so "Time" is the cost of one operation and items_per_second its rate on one core.
// Point additions cycle through 1024 random affine points, so no special case (doubling,
// infinity) is ever taken.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ec/subgroup.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

constexpr size_t kPoints = 1024;

template <class C>
std::vector<Affine<C>> random_points(const Affine<C>& gen, std::mt19937_64& rng) {
  std::vector<Affine<C>> out;
  for (size_t i = 0; i < kPoints; ++i)
    out.push_back(scalar_mul(Jacobian<C>::from_affine(gen), field_random<Fr>(rng).to_canonical())
                      .to_affine());
  return out;
}

template <class C>
const std::vector<Affine<C>>& points();
template <>
const std::vector<G1Affine>& points<G1Curve>() {
  static const auto v = [] {
    std::mt19937_64 rng(1);
    return random_points(g1_generator(), rng);
  }();
  return v;
}
template <>
const std::vector<G2Affine>& points<G2Curve>() {
  static const auto v = [] {
    std::mt19937_64 rng(2);
    return random_points(g2_generator(), rng);
  }();
  return v;
}

template <class F>
void BM_FieldMul(benchmark::State& state) {
  std::mt19937_64 rng(3);
  F a = field_random<F>(rng);
  const F b = field_random<F>(rng);
  for (auto _ : state) {
    a = a * b;
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FieldMul<Fr>)->Name("Fr/mul");
BENCHMARK(BM_FieldMul<Fq>)->Name("Fq/mul");

void BM_FqSqr(benchmark::State& state) {
  std::mt19937_64 rng(4);
  Fq a = field_random<Fq>(rng);
  for (auto _ : state) {
    a = a.sqr();
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FqSqr)->Name("Fq/sqr");

void BM_FqInverse(benchmark::State& state) {
  std::mt19937_64 rng(5);
  Fq a = field_random<Fq>(rng);
  for (auto _ : state) {
    a = a.inverse() + Fq::one();  // + 1 so the chain never cycles between a and 1/a
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FqInverse)->Name("Fq/inverse");

template <class C, class Acc>
void BM_MixedAdd(benchmark::State& state) {
  const auto& pts = points<C>();
  Acc acc = Acc::from_affine(pts[0]).dbl();
  size_t i = 1;
  for (auto _ : state) {
    acc = acc.add_affine(pts[i]);
    i = (i + 1) % kPoints;
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MixedAdd<G1Curve, G1Jacobian>)->Name("G1/add_affine/jacobian");
BENCHMARK(BM_MixedAdd<G1Curve, G1Xyzz>)->Name("G1/add_affine/xyzz");
BENCHMARK(BM_MixedAdd<G2Curve, G2Jacobian>)->Name("G2/add_affine/jacobian");
BENCHMARK(BM_MixedAdd<G2Curve, G2Xyzz>)->Name("G2/add_affine/xyzz");

template <class C, class Acc>
void BM_Double(benchmark::State& state) {
  Acc acc = Acc::from_affine(points<C>()[0]);
  for (auto _ : state) {
    acc = acc.dbl();
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Double<G1Curve, G1Jacobian>)->Name("G1/dbl/jacobian");
BENCHMARK(BM_Double<G1Curve, G1Xyzz>)->Name("G1/dbl/xyzz");

// What a reader pays per G2 point with PointCheck::kFull (fast) and what [r]Q would cost.
template <bool kFast>
void BM_G2Subgroup(benchmark::State& state) {
  const auto& pts = points<G2Curve>();
  size_t i = 0;
  for (auto _ : state) {
    bool in = kFast ? g2_in_subgroup(pts[i]) : g2_in_subgroup_slow(pts[i]);
    benchmark::DoNotOptimize(in);
    i = (i + 1) % kPoints;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_G2Subgroup<true>)->Name("G2/in_subgroup/psi");
BENCHMARK(BM_G2Subgroup<false>)->Name("G2/in_subgroup/times_r");

}  // namespace
}  // namespace zkinfer

BENCHMARK_MAIN();
