// The Backend interface as the prover sees it, on the CPU backend: MSMs against points with
// known discrete logs, every NTT kind against direct polynomial evaluation, bad arguments; and
// the CPU's batched constraint evaluation against SparseRows's one product at a time.
#include <gtest/gtest.h>

#include <vector>

#include "../support/seed.h"
#include "backend.h"
#include "cpu/rows.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

// P_i = k_i G for random k_i; sum s_i P_i must be (sum s_i k_i) G.
template <class C, class Msm>
void check_msm(const Affine<C>& gen, size_t n, std::mt19937_64& rng, Msm&& msm) {
  Jacobian<C> g = Jacobian<C>::from_affine(gen);
  std::vector<Affine<C>> points(n);
  std::vector<Fr> scalars(n);
  Fr expected_log = Fr::zero();
  for (size_t i = 0; i < n; ++i) {
    Fr k = (i % 5 == 0) ? Fr::zero() : field_random<Fr>(rng);  // some points at infinity
    points[i] = scalar_mul(g, k.to_canonical()).to_affine();
    scalars[i] = (i % 3 == 0) ? Fr::from_u64(i % 2) : field_random<Fr>(rng);
    expected_log += scalars[i] * k;
  }
  Jacobian<C> out;
  msm(out, scalars.data(), points.data(), n);
  EXPECT_EQ(out, scalar_mul(g, expected_log.to_canonical())) << "n = " << n;
}

// Rows of 0 to 700 terms (so one row fills several 256-term chunks and chunks hold many rows),
// evaluated over ranges that start and end inside the matrix.
TEST(CpuRows, BatchedEvaluationMatchesTheReference) {
  auto rng = testing::seeded_rng();
  const size_t n = 97, vars = 50;
  std::vector<uint32_t> row_start{0}, cols;
  std::vector<Fr> values;
  for (size_t r = 0; r < 2 * n; ++r) {
    const size_t len = r % 31 == 5 ? 300 + rng() % 400 : rng() % 6;
    for (size_t t = 0; t < len; ++t) {
      cols.push_back((uint32_t)(rng() % vars));
      values.push_back(field_random<Fr>(rng));
    }
    row_start.push_back((uint32_t)cols.size());
  }
  std::vector<Fr> z(vars);
  for (auto& v : z) v = field_random<Fr>(rng);
  const SparseRows m{row_start, cols, values};
  std::vector<Fr> a(n), b(n), c(n), wa(n), wb(n), wc(n);
  for (auto [lo, hi] : {std::pair<size_t, size_t>{0, n}, {3, 60}, {60, 61}, {40, 40}}) {
    m.eval_constraints(z.data(), n, lo, hi, wa.data(), wb.data(), wc.data());
    cpu::eval_constraints(m, z.data(), n, lo, hi, a.data(), b.data(), c.data());
    for (size_t r = lo; r < hi; ++r) {
      ASSERT_EQ(a[r], wa[r]) << "row " << r;
      ASSERT_EQ(b[r], wb[r]) << "row " << r;
      ASSERT_EQ(c[r], wc[r]) << "row " << r;
    }
  }
}

TEST(CpuBackend, MsmMatchesKnownDiscreteLogs) {
  auto rng = testing::seeded_rng();
  auto be = make_cpu_backend();
  EXPECT_EQ(be->name(), "cpu");
  for (size_t n : {0, 1, 2, 7, 33, 257}) {
    check_msm(g1_generator(), n, rng,
              [&](G1Jacobian& o, const Fr* s, const G1Affine* p, size_t m) { be->msm_g1(o, s, p, m); });
    check_msm(g2_generator(), n, rng,
              [&](G2Jacobian& o, const Fr* s, const G2Affine* p, size_t m) { be->msm_g2(o, s, p, m); });
  }
}

Fr evaluate(const std::vector<Fr>& coeffs, const Fr& x) {
  Fr acc = Fr::zero();
  for (size_t i = coeffs.size(); i-- > 0;) acc = acc * x + coeffs[i];
  return acc;
}

TEST(CpuBackend, EveryNttKindMatchesDirectEvaluation) {
  auto rng = testing::seeded_rng();
  auto be = make_cpu_backend({1});
  const Fr shift = Fr::from_u64(7);
  for (unsigned log_n : {0u, 1u, 3u, 6u}) {
    size_t n = size_t{1} << log_n;
    std::vector<Fr> coeffs(n);
    for (auto& c : coeffs) c = field_random<Fr>(rng);
    Fr w = fr_root_of_unity(log_n);

    std::vector<Fr> evals = coeffs, coset_evals = coeffs;
    be->ntt(evals.data(), n, NttKind::kForward);
    be->ntt(coset_evals.data(), n, NttKind::kCosetForward, shift);
    for (size_t j = 0; j < n; ++j) {
      ASSERT_EQ(evals[j], evaluate(coeffs, w.pow(j))) << "n=" << n << " j=" << j;
      ASSERT_EQ(coset_evals[j], evaluate(coeffs, shift * w.pow(j))) << "n=" << n << " j=" << j;
    }
    be->ntt(evals.data(), n, NttKind::kInverse);
    be->ntt(coset_evals.data(), n, NttKind::kCosetInverse, shift);
    EXPECT_EQ(evals, coeffs);
    EXPECT_EQ(coset_evals, coeffs);
  }
}

TEST(CpuBackend, NttRefusesBadArguments) {
  auto be = make_cpu_backend();
  std::vector<Fr> v(6, Fr::one());
  EXPECT_THROW(be->ntt(v.data(), 6, NttKind::kForward), std::invalid_argument);
  EXPECT_THROW(be->ntt(v.data(), 4, NttKind::kCosetForward, Fr::zero()), std::invalid_argument);
}

}  // namespace
}  // namespace zkinfer
