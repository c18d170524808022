// BN254 pairing on the CPU: one pairing, its two halves, the 4-pairing product check a Groth16
// verifier runs (with and without prepared G2 lines), and the Fq12 operations they are made of.
#include <benchmark/benchmark.h>

#include <random>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ec/pairing.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

std::mt19937_64& rng() {
  static std::mt19937_64 r(20240611);
  return r;
}

G1Affine random_g1() {
  return scalar_mul(G1Jacobian::from_affine(g1_generator()), field_random<Fr>(rng()).to_canonical()).to_affine();
}
G2Affine random_g2() {
  return scalar_mul(G2Jacobian::from_affine(g2_generator()), field_random<Fr>(rng()).to_canonical()).to_affine();
}
Fq12 random_fq12() {
  auto fq2 = [] { return Fq2{field_random<Fq>(rng()), field_random<Fq>(rng())}; };
  return {{fq2(), fq2(), fq2()}, {fq2(), fq2(), fq2()}};
}

void BM_Pairing(benchmark::State& state) {
  G1Affine p = random_g1();
  G2Affine q = random_g2();
  for (auto _ : state) benchmark::DoNotOptimize(pairing(p, q));
}
BENCHMARK(BM_Pairing)->Unit(benchmark::kMicrosecond);

void BM_MillerLoop(benchmark::State& state) {
  G1Affine p = random_g1();
  G2Affine q = random_g2();
  for (auto _ : state) benchmark::DoNotOptimize(miller_loop(p, q));
}
BENCHMARK(BM_MillerLoop)->Unit(benchmark::kMicrosecond);

void BM_FinalExponentiation(benchmark::State& state) {
  Fq12 f = random_fq12();
  for (auto _ : state) benchmark::DoNotOptimize(final_exponentiation(f));
}
BENCHMARK(BM_FinalExponentiation)->Unit(benchmark::kMicrosecond);

// e(A, B) e(-alpha, beta) e(-L, gamma) e(-C, delta) == 1: random points, so the answer is
// false, which costs the same as true.
void BM_ProductCheck4(benchmark::State& state) {
  G1Affine ps[4] = {random_g1(), random_g1(), random_g1(), random_g1()};
  G2Affine qs[4] = {random_g2(), random_g2(), random_g2(), random_g2()};
  for (auto _ : state) benchmark::DoNotOptimize(pairing_product_is_one(ps, qs, 4));
}
BENCHMARK(BM_ProductCheck4)->Unit(benchmark::kMicrosecond);

// The same with the verifying key's G2 points (beta, gamma, delta) prepared once; B, from the
// proof, is prepared inside the timed loop as a verifier must.
void BM_ProductCheck4Prepared(benchmark::State& state) {
  G1Affine ps[4] = {random_g1(), random_g1(), random_g1(), random_g1()};
  G2Affine b = random_g2();
  G2Prepared key[3] = {g2_prepare(random_g2()), g2_prepare(random_g2()), g2_prepare(random_g2())};
  G2Prepared pb;
  const G2Prepared* qs[4] = {&pb, &key[0], &key[1], &key[2]};
  for (auto _ : state) {
    pb = g2_prepare(b);
    benchmark::DoNotOptimize(pairing_product_is_one(ps, qs, 4));
  }
}
BENCHMARK(BM_ProductCheck4Prepared)->Unit(benchmark::kMicrosecond);

void BM_G2Prepare(benchmark::State& state) {
  G2Affine q = random_g2();
  G2Prepared out;
  for (auto _ : state) {
    out = g2_prepare(q);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_G2Prepare)->Unit(benchmark::kMicrosecond);

void BM_Fq12Mul(benchmark::State& state) {
  Fq12 a = random_fq12(), b = random_fq12();
  for (auto _ : state) {
    a = a * b;
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Fq12Mul);

void BM_Fq12Sqr(benchmark::State& state) {
  Fq12 a = random_fq12();
  for (auto _ : state) {
    a = a.sqr();
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Fq12Sqr);

void BM_Fq12CyclotomicSqr(benchmark::State& state) {
  Fq12 f = random_fq12();
  Fq12 a = f.conjugate() * f.inverse();
  a = a.frobenius_map<2>() * a;
  for (auto _ : state) {
    a = a.cyclotomic_sqr();
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Fq12CyclotomicSqr);

void BM_Fq12MulBy034(benchmark::State& state) {
  Fq12 a = random_fq12(), b = random_fq12();
  for (auto _ : state) {
    a = a.mul_by_034(b.c0.c0, b.c1.c0, b.c1.c1);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Fq12MulBy034);

void BM_Fq12Inverse(benchmark::State& state) {
  Fq12 a = random_fq12();
  for (auto _ : state) {
    a = a.inverse();
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Fq12Inverse)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace zkinfer

BENCHMARK_MAIN();
