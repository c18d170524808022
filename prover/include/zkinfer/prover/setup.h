// Groth16 setup: a .zkey from a circuit (.r1cs) and a prepared powers of tau (.ptau), exactly as
// `snarkjs groth16 setup` (snarkjs 0.7, src/zkey_new.js) makes it, plus a self-contained
// development setup.
//
// What snarkjs's newZKey computes, for a circuit of n_c constraints, n_pub public signals and
// n_vars signals (wire 0 the constant 1), on the domain of N = 2^k points, k the smallest k >= 1
// with 2^k > n_c + n_pub (so N >= n_c + n_pub + 1, and k <= power of the .ptau). The A matrix
// gets one extra row per public signal and wire 0: row n_c + s has the single term 1 * w_s.
// With L_c the Lagrange points of the .ptau (sections 12 to 15, block k):
//   A[s]  = sum over A terms (c, s, v) of v * L_c(tau) G1        (section 5)
//   B1[s] = sum over B terms of v * L_c(tau) G1                  (section 6)
//   B2[s] = sum over B terms of v * L_c(tau) G2                  (section 7)
//   K[s]  = sum over A terms of v * beta L_c(tau) G1 + B terms of v * alpha L_c(tau) G1 +
//           C terms of v * L_c(tau) G1: IC = K[0..n_pub] (section 3), C = K[n_pub+1..] (section 8)
//   H[i]  = the .ptau's tauG1 Lagrange point 2i + 1 of the 2N domain (section 9), i < N
//   header: alpha1 = alphaTauG1[0], beta1 = betaTauG1[0], beta2 = betaG2, gamma2 = delta2 = G2,
//           delta1 = G1 (section 2)
//   coefficients: every A then B term of every constraint in .r1cs order, then the extra rows
//   section 10: the circuit hash, then 0 contributions.
// The circuit hash is BLAKE2b-512 over, in order: alpha1, beta1, beta2, gamma2, delta1, delta2;
// then for each of IC, H, C, A, B1, B2 a big-endian u32 count followed by the points, where the
// "H" points hashed are not section 9's but tauG1[i + N] - tauG1[i] (from section 2) for
// i < N - 1, with the count N - 1. Every point is hashed in ffjavascript's uncompressed form:
// x then y, each coordinate in standard form, big-endian over the whole coordinate (for Fq2 the
// byte reversal of c0 || c1, so c1 first); the point at infinity as all zero bytes (no flag).
// snarkjs quirk reproduced: it hashes the H points in chunks of 2^14 but always reads whole
// chunks, so for N >= 2^15 it hashes N points, not N - 1 (the count still says N - 1): the extra
// one is tauG1[2N - 1] - tauG1[N - 1]. When N = 2^power, index 2N - 1 lies past section 2 and
// snarkjs reads the 64 file bytes that follow (in its own files: section 3's header and the
// start of its first point) as if they were a point, and subtracts with its field code's
// arithmetic on unreduced values; setup.cpp emulates that arithmetic, so the hash still matches.
//
// The key has delta = gamma = the generator, like snarkjs's "zkey 0000": it is only as safe as
// the .ptau it came from, and it needs a phase-2 contribution (`snarkjs zkey contribute`, or a
// ceremony) before production use: until then its delta is public and proofs can be forged by
// anyone who knows that (everyone).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "zkinfer/prover/ptau.h"
#include "zkinfer/prover/r1cs.h"

namespace zkinfer {
class Backend;
}

namespace zkinfer::prover {

struct SetupResult {
  std::array<uint8_t, 64> circuit_hash{};  // section 10's hash (what snarkjs prints)
  uint32_t domain_size = 0;
  uint32_t n_public = 0;
  // What the caller must tell the user about this key (never empty: see the functions below).
  std::string warning;
};

// The smallest N = 2^k, k >= 1, with N > n_constraints + n_public (snarkjs's rule); throws
// std::invalid_argument beyond 2^28.
uint32_t groth16_domain_size(const R1csHeader& h);

// `snarkjs groth16 setup r1cs ptau zkey`: writes the .zkey (with write_zkey's section order; every
// section's content is byte for byte snarkjs's). The circuit must fit: N <= 2^power, and the
// .ptau must be prepared. Each signal's sum takes one addition per +-1 coefficient; the other
// terms go through Straus's method (under 16 of them), a one-thread CPU MSM run side by side with
// other signals (under 4096), or `backend`'s MSM (nullptr: the CPU backend) one signal at a time.
// Throws std::invalid_argument when the circuit does not fit the .ptau, FormatError for a bad
// .ptau, std::runtime_error for I/O. The result's warning says that phase 2 is still needed.
SetupResult groth16_setup(const R1cs& cs, const Ptau& ptau, const std::string& zkey_path,
                          const SetupProgress& progress = {}, Backend* backend = nullptr);

// NOT FOR PRODUCTION. A development setup with no .ptau: tau, alpha, beta, gamma and delta are
// drawn from the operating system's CSPRNG (libsodium), used and wiped, but whoever ran it could
// have kept them and could then forge proofs for this circuit. The key proves and verifies like
// any other (snarkjs can prove with it, and its verification key checks those proofs); its
// circuit hash is the one snarkjs would compute from a .ptau with the same tau, alpha and beta
// and a higher power. "Wiped" as for write_dev_ptau (ptau.h). The result's warning says all this;
// print it.
SetupResult groth16_setup_dev(const R1cs& cs, const std::string& zkey_path,
                              const SetupProgress& progress = {});

// FOR TESTS ONLY: groth16_setup_dev from secrets the caller chose.
struct Groth16Secrets {
  Fr tau, alpha, beta, gamma, delta;
};
SetupResult groth16_setup_with_known_secrets(const R1cs& cs, const std::string& zkey_path,
                                             const Groth16Secrets& secrets,
                                             const SetupProgress& progress = {});

extern const char* const kDevSetupWarning;
extern const char* const kPhase2Warning;

}  // namespace zkinfer::prover
