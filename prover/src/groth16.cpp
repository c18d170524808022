#include "zkinfer/prover/groth16.h"

#include <algorithm>
#include <atomic>

#include <cstring>
#include <optional>
#include <stdexcept>

#include "cpu/field_batch.h"
#include "cpu/msm.h"
#include "cpu/parallel.h"
#include "cpu/rows.h"
#include "zkinfer/ec/pairing.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/csprng.h"
#include "zkinfer/prover/resident_key.h"

namespace zkinfer::prover {

namespace {

unsigned log2_exact(uint32_t n) {
  unsigned k = 0;
  while ((uint64_t{1} << k) < n) ++k;
  return k;
}

// Branch-free selection between two values of a trivially copyable type (word by word).
template <class T>
void ct_select(T& dst, const T& src, uint64_t take) {
  static_assert(sizeof(T) % 8 == 0);
  uint64_t mask = 0 - take;
  uint64_t d[sizeof(T) / 8], s[sizeof(T) / 8];
  std::memcpy(d, &dst, sizeof(T));
  std::memcpy(s, &src, sizeof(T));
  for (size_t i = 0; i < sizeof(T) / 8; ++i) d[i] ^= (d[i] ^ s[i]) & mask;
  std::memcpy(&dst, d, sizeof(T));
}

// k * P for a secret k (r, s): a fixed 4-bit window over all 256 bits, every table entry read
// for every window, so the sequence of operations and memory accesses does not depend on k.
// (Point additions still branch on exceptional inputs, which a random k reaches with
// negligible probability.)
template <class C>
Jacobian<C> scalar_mul_secret(const Jacobian<C>& p, const Fr& k) {
  Jacobian<C> table[16];
  table[0] = Jacobian<C>::infinity();
  for (int i = 1; i < 16; ++i) table[i] = table[i - 1] + p;
  U256 e = k.to_canonical();
  Jacobian<C> acc = Jacobian<C>::infinity();
  for (int w = 63; w >= 0; --w) {
    for (int d = 0; d < 4; ++d) acc = acc.dbl();
    uint64_t digit = (e.w[w / 16] >> (4 * (w % 16))) & 15;
    Jacobian<C> t = table[0];
    for (uint64_t i = 1; i < 16; ++i) ct_select(t, table[i], (uint64_t)(i == digit));
    acc = acc + t;
  }
  secure_wipe(&e, sizeof(e));
  return acc;
}

}  // namespace

VerificationKey verification_key(const Zkey& key) {
  const auto& h = key.header();
  VerificationKey vk;
  vk.alpha1 = h.alpha1;
  vk.beta2 = h.beta2;
  vk.gamma2 = h.gamma2;
  vk.delta2 = h.delta2;
  vk.ic.assign(key.point_parts().ic.begin(), key.point_parts().ic.end());
  return vk;
}

void check_witness(const Zkey& key, std::span<const Fr> witness) {
  const auto& h = key.header();
  if (witness.size() != h.n_vars)
    throw std::invalid_argument("witness has " + std::to_string(witness.size()) + " values, the proving key " +
                                key.name() + " expects " + std::to_string(h.n_vars) +
                                " (is the witness for this circuit?)");
  if (!witness.empty() && witness[0] != Fr::one())
    throw std::invalid_argument("witness[0] must be 1 (the constant wire), it is " + field_to_decimal(witness[0]));
}

std::vector<Fr> public_signals(const Zkey& key, std::span<const Fr> witness) {
  check_witness(key, witness);
  return {witness.begin() + 1, witness.begin() + 1 + key.header().n_public};
}

ConstraintRows::ConstraintRows(const Zkey& key) {
  const size_t n = key.header().domain_size;
  const ZkeyCoefRecords& recs = key.coef_records();
  terms_ = recs.size();
  signals_ = std::make_unique_for_overwrite<uint32_t[]>(terms_);
  values_ = std::make_unique_for_overwrite<Fr[]>(terms_);
  // A counting sort by row (matrix * n + constraint) straight from the key's records, both
  // passes on all threads: counts, then each record takes the next place of its row. Terms of a
  // row may so land in any order, which its sum (exact field additions) does not notice. A
  // 1.2M-parameter model's 1.44M terms, 2 cores: 32-41 ms, against 42-51 ms for the same sort on
  // one thread; memory bound (63 MB of records read twice, 52 MB of rows written first time).
  row_start_.assign(2 * n + 1, 0);
  auto row_of = [&](size_t i) { return size_t(recs.matrix(i)) * n + recs.constraint(i); };
  cpu::parallel_for(terms_, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) std::atomic_ref<uint32_t>(row_start_[row_of(i) + 1]).fetch_add(1, std::memory_order_relaxed);
  });
  for (size_t i = 1; i < row_start_.size(); ++i) row_start_[i] += row_start_[i - 1];
  std::vector<uint32_t> next(row_start_.begin(), row_start_.end() - 1);
  cpu::parallel_for(terms_, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const uint32_t at = std::atomic_ref<uint32_t>(next[row_of(i)]).fetch_add(1, std::memory_order_relaxed);
      signals_[at] = recs.signal(i);
      values_[at] = recs.stored_value(i);
    }
  });
  // Stored values to Montgomery form, as array products (IFMA lanes where the CPU has them).
  constexpr size_t kChunk = 256;
  cpu::parallel_for(terms_, [&](size_t b, size_t e) {
    Fr factor[kChunk];
    std::fill(factor, factor + kChunk, ZkeyCoefRecords::stored_factor());
    for (size_t i = b; i < e; i += kChunk)
      cpu::mul_batch(&values_[i], &values_[i], factor, std::min(kChunk, e - i));
  });
}

std::vector<Fr> compute_h(const Zkey& key, std::span<const Fr> witness, Backend& backend,
                          const ProgressFn& progress, const ConstraintRows* rows) {
  check_witness(key, witness);
  StepTimer timer(progress);
  const uint32_t n = key.header().domain_size;
  const unsigned log_n = log2_exact(n);
  std::optional<ConstraintRows> own;
  if (!rows) {
    own.emplace(key);
    rows = &*own;
    timer.done("coefficients grouped by constraint");
  }
  const SparseRows m = rows->view();
  if (m.rows() != 2 * size_t(n))
    throw std::invalid_argument("compute_h: the constraint rows were built for another key");

  std::vector<Fr> a(n), b(n), c(n);
  cpu::parallel_for(n, [&](size_t lo, size_t hi) {
    cpu::eval_constraints(m, witness.data(), n, lo, hi, a.data(), b.data(), c.data());
  });
  timer.done("A, B, C evaluations");

  // To coefficients, then to evaluations on the coset shift * <w> snarkjs uses, and a b - c.
  backend.coset_quotient(a.data(), b.data(), c.data(), n, snarkjs_coset_shift(log_n));
  timer.done("H (3 inverse NTTs, 3 coset NTTs, a b - c)");
  return a;
}

namespace {

void check_h(const Zkey& key, size_t h_size) {
  if (h_size != key.header().domain_size)
    throw std::invalid_argument("h has " + std::to_string(h_size) + " values, the domain " +
                                std::to_string(key.header().domain_size));
}

// The five MSMs, in the order of the protocol, with the .zkey's points and the scalars z (the
// witness) and h in host memory.
ProofMsms run_msms(const Zkey& key, const Fr* z, const Fr* h, Backend& backend, StepTimer& timer) {
  const auto& hd = key.header();
  const ZkeyParts& p = key.point_parts();
  ProofMsms m;
  const size_t priv = hd.n_public + 1;
  backend.msm_g1(m.a, z, p.a.data(), hd.n_vars);
  timer.done("MSM A (G1)");
  backend.msm_g1(m.b1, z, p.b1.data(), hd.n_vars);
  timer.done("MSM B1 (G1)");
  backend.msm_g2(m.b2, z, p.b2.data(), hd.n_vars);
  timer.done("MSM B2 (G2)");
  backend.msm_g1(m.c, z + priv, p.c.data(), hd.n_vars - priv);
  timer.done("MSM C (G1)");
  backend.msm_g1(m.h, h, p.h.data(), hd.domain_size);
  timer.done("MSM H (G1)");
  return m;
}

// The same over a ResidentKey's points with z and h resident, as one set of jobs: a GPU backend
// runs B2 beside the four G1 MSMs (Backend::msm_jobs), so they are timed as one step.
ProofMsms run_msms(const ResidentKey& key, const ResidentFr& z, const ResidentFr& h, Backend& backend,
                   StepTimer& timer) {
  ProofMsms m;
  const ProofMsmJobs jobs = proof_msm_jobs(key, z, h, &m);
  backend.msm_jobs(jobs.g1, jobs.g2);
  timer.done("MSMs A, B1, C, H (G1) and B2 (G2)");
  return m;
}

Proof assemble_fresh(const ZkeyHeader& hd, const ProofMsms& m) {
  Fr r = secure_random_fr(), s = secure_random_fr();
  Proof proof = assemble_proof(hd, m, r, s);
  secure_wipe(&r, sizeof(r));
  secure_wipe(&s, sizeof(s));
  return proof;
}

}  // namespace

ProofMsmJobs proof_msm_jobs(const ResidentKey& key, const ResidentFr& z, const ResidentFr& h, ProofMsms* m) {
  const auto& hd = key.key().header();
  const size_t priv = hd.n_public + 1;  // C covers the private signals only
  ProofMsmJobs j;
  j.g1 = {MsmG1Job{&m->a, &z, 0, &key.a(), 0, hd.n_vars}, MsmG1Job{&m->b1, &z, 0, &key.b1(), 0, hd.n_vars},
          MsmG1Job{&m->c, &z, priv, &key.c(), 0, hd.n_vars - priv},
          MsmG1Job{&m->h, &h, 0, &key.h(), 0, hd.domain_size}};
  j.g2 = {MsmG2Job{&m->b2, &z, 0, &key.b2(), 0, hd.n_vars}};
  return j;
}

ProofMsms compute_msms(const Zkey& key, std::span<const Fr> witness, std::span<const Fr> h,
                       Backend& backend, const ProgressFn& progress) {
  check_witness(key, witness);
  check_h(key, h.size());
  StepTimer timer(progress);
  return run_msms(key, witness.data(), h.data(), backend, timer);
}

ProofMsms compute_msms(const ResidentKey& key, std::span<const Fr> witness, std::span<const Fr> h,
                       Backend& backend, const ProgressFn& progress) {
  check_witness(key.key(), witness);
  check_h(key.key(), h.size());
  StepTimer timer(progress);
  const auto z = backend.resident_fr(witness.data(), witness.size());
  const auto hr = backend.resident_fr(h.data(), h.size());
  timer.done("witness and h to the backend");
  return run_msms(key, *z, *hr, backend, timer);
}

Proof assemble_proof(const ZkeyHeader& hd, const ProofMsms& m, const Fr& r, const Fr& s) {
  const G1Jacobian delta1 = G1Jacobian::from_affine(hd.delta1);
  G1Jacobian pi_a = m.a.add_affine(hd.alpha1) + scalar_mul_secret(delta1, r);
  G2Jacobian pi_b = m.b2.add_affine(hd.beta2) + scalar_mul_secret(G2Jacobian::from_affine(hd.delta2), s);
  G1Jacobian pi_b1 = m.b1.add_affine(hd.beta1) + scalar_mul_secret(delta1, s);
  Fr rs = r * s;
  G1Jacobian pi_c = m.c + m.h + scalar_mul_secret(pi_a, s) + scalar_mul_secret(pi_b1, r) +
                    scalar_mul_secret(-delta1, rs);
  secure_wipe(&rs, sizeof(rs));
  return {pi_a.to_affine(), pi_b.to_affine(), pi_c.to_affine()};
}

Proof prove(const Zkey& key, std::span<const Fr> witness, Backend& backend, const ProveOptions& opts) {
  const std::vector<Fr> h = compute_h(key, witness, backend, opts.progress);
  StepTimer timer(opts.progress);
  return assemble_fresh(key.header(), run_msms(key, witness.data(), h.data(), backend, timer));
}

// The witness goes to the backend once; H comes from the resident constraint rows (on a GPU the
// evaluations, NTTs and quotient run on the device, and h stays there for the H MSM).
Proof prove(const ResidentKey& key, std::span<const Fr> witness, Backend& backend, const ProveOptions& opts) {
  const Zkey& zk = key.key();
  check_witness(zk, witness);
  StepTimer timer(opts.progress);
  const uint32_t n = zk.header().domain_size;
  const auto z = backend.resident_fr(witness.data(), witness.size());
  timer.done("witness to the backend");
  // h stays where the backend computed it (on a GPU: in device memory).
  const auto hr = backend.constraint_quotient_resident(key.resident_rows(), *z, n, snarkjs_coset_shift(log2_exact(n)));
  timer.done("H (A z, B z, 3 inverse NTTs, 3 coset NTTs, a b - c)");
  return assemble_fresh(zk.header(), run_msms(key, *z, *hr, backend, timer));
}

bool verify(const VerificationKey& vk, std::span<const Fr> pub, const Proof& proof, std::string* why) {
  if (vk.ic.size() != pub.size() + 1) {
    if (why)
      *why = "the verification key has " + std::to_string(vk.n_public()) + " public signals, " +
             std::to_string(pub.size()) + " were given";
    return false;
  }
  G1Jacobian vk_x;
  cpu::msm_g1(vk_x, pub.data(), vk.ic.data() + 1, pub.size());
  vk_x = vk_x.add_affine(vk.ic[0]);
  const G1Affine p[4] = {-proof.a, vk.alpha1, vk_x.to_affine(), proof.c};
  const G2Affine q[4] = {proof.b, vk.beta2, vk.gamma2, vk.delta2};
  if (!pairing_product_is_one(p, q, 4)) {
    if (why) *why = "the pairing check failed";
    return false;
  }
  return true;
}

}  // namespace zkinfer::prover
