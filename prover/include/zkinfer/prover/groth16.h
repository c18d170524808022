// Groth16 over BN254, as snarkjs 0.7 does it, so its .zkey files prove unchanged and its
// verifier accepts our proofs. The prover reads like the protocol:
//   witness -> A, B evaluations on the domain (C = A * B there) -> H on the odd coset ->
//   five MSMs (A, B1, B2, C, H) -> assemble with fresh r, s.
// The steps are separate functions so that a cluster can run them on different machines.
// compute_msms and prove also take a ResidentKey (resident_key.h): the key's points made
// resident on the backend once, so that repeated proofs move only witness data.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/prover/progress.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {

class ResidentKey;

struct Proof {
  G1Affine a;
  G2Affine b;
  G1Affine c;
  bool operator==(const Proof&) const = default;
};

struct VerificationKey {
  G1Affine alpha1;
  G2Affine beta2, gamma2, delta2;
  std::vector<G1Affine> ic;  // n_public + 1 points
  size_t n_public() const { return ic.empty() ? 0 : ic.size() - 1; }
};

VerificationKey verification_key(const Zkey& key);

// The five multi-scalar multiplications of one proof (before r and s are applied).
struct ProofMsms {
  G1Jacobian a, b1, c, h;
  G2Jacobian b2;
};

struct ProveOptions {
  ProgressFn progress;  // may be empty
};

// Checks the witness against the key: length n_vars and witness[0] == 1. Throws
// std::invalid_argument with a message a user can act on.
void check_witness(const Zkey& key, std::span<const Fr> witness);

// The public signals of a witness: witness[1 .. n_public].
std::vector<Fr> public_signals(const Zkey& key, std::span<const Fr> witness);

// The key's A and B coefficients grouped by row (matrix, constraint) and copied out in that
// order, so that threads evaluate disjoint rows reading memory front to back (a backend may also
// keep them on its device: Backend::resident_rows): built from the .zkey once per key
// (ResidentKey keeps one; compute_h builds one per call where none is given). The file order is
// snarkjs's, but nothing in the format promises it, so this does not rely on it. 36 bytes per
// coefficient.
class ConstraintRows {
 public:
  explicit ConstraintRows(const Zkey& key);
  ConstraintRows(const ConstraintRows&) = delete;  // view() points into the members
  ConstraintRows& operator=(const ConstraintRows&) = delete;
  // Rows 0 .. n-1 are A's constraints, n .. 2n-1 B's (n = domain_size); columns are signals.
  SparseRows view() const { return {row_start_, {signals_.get(), terms_}, {values_.get(), terms_}}; }

 private:
  std::vector<uint32_t> row_start_;
  size_t terms_ = 0;
  std::unique_ptr<uint32_t[]> signals_;  // filled whole by the constructor, never cleared first
  std::unique_ptr<Fr[]> values_;
};

// h: evaluations of (A*B - C) on snarkjs's odd coset of the domain (domain_size values).
// `rows` must have been built from `key` (null: built here).
std::vector<Fr> compute_h(const Zkey& key, std::span<const Fr> witness, Backend& backend,
                          const ProgressFn& progress = {}, const ConstraintRows* rows = nullptr);

// The five MSMs; `h` as returned by compute_h.
ProofMsms compute_msms(const Zkey& key, std::span<const Fr> witness, std::span<const Fr> h,
                       Backend& backend, const ProgressFn& progress = {});
// The same MSMs over the resident points of key.key(); equal results.
ProofMsms compute_msms(const ResidentKey& key, std::span<const Fr> witness, std::span<const Fr> h,
                       Backend& backend, const ProgressFn& progress = {});

// The five MSMs over a ResidentKey with the witness z and h resident, as the jobs prove() hands
// Backend::msm_jobs (A, B1, C, H in G1; B2 in G2), writing into *m: for benchmarks that time the
// same jobs run another way.
struct ProofMsmJobs {
  std::array<MsmG1Job, 4> g1;
  std::array<MsmG2Job, 1> g2;
};
ProofMsmJobs proof_msm_jobs(const ResidentKey& key, const ResidentFr& z, const ResidentFr& h, ProofMsms* m);

// pi_a = alpha1 + A + r delta1; pi_b = beta2 + B2 + s delta2;
// pi_c = C + H + s pi_a + r (beta1 + B1 + s delta1) - r s delta1.
Proof assemble_proof(const ZkeyHeader& header, const ProofMsms& m, const Fr& r, const Fr& s);

// All of the above with r and s from the OS CSPRNG.
Proof prove(const Zkey& key, std::span<const Fr> witness, Backend& backend, const ProveOptions& opts = {});
// The same with the key's points resident (key.key() is the .zkey).
Proof prove(const ResidentKey& key, std::span<const Fr> witness, Backend& backend, const ProveOptions& opts = {});

// The pairing check e(-A, B) e(alpha1, beta2) e(vk_x, gamma2) e(C, delta2) == 1 with
// vk_x = IC_0 + sum public_i IC_i. Points are assumed checked when parsed (json.h does that);
// returns false with `why` set when the number of public signals does not match or the
// equation fails.
bool verify(const VerificationKey& vk, std::span<const Fr> public_signals, const Proof& proof,
            std::string* why = nullptr);

}  // namespace zkinfer::prover
