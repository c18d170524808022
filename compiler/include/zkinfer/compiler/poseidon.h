// Poseidon over BN254's scalar field, identical to circomlib's `Poseidon(nInputs)` template
// (circomlib 2.0.5, circuits/poseidon.circom) and circomlibjs's `poseidon`, natively and as a
// circuit gadget; and a commitment to a vector of any length built from it.
//
// Parameters (those circomlib uses): width t = nInputs + 1 for 1..16 inputs, S-box x^5, 8 full
// rounds (4 before and 4 after the partial rounds), partial rounds per t = 2..17
//   56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
// the state starts as [0, inputs...] and the hash is element 0 of the permuted state.
//
// The round constants and the MDS matrix are not pasted tables: poseidon_constants.cpp generates
// them once per t, on first use, with the method of the Poseidon paper's reference parameter
// script (the Grain LFSR in self-shrinking mode; the MDS matrix a Cauchy matrix of LFSR-drawn
// points), and derives from them the "optimized" constants circomlib's circuit uses (constants
// moved through the linear layers, the partial-round matrices factored into sparse ones). The
// test tests/compiler/test_poseidon.cpp compares every number with circomlib's
// poseidon_constants.circom.
//
// Commitment to a vector (poseidon_commit), recomputable with circomlib's Poseidon(16):
//   v = (v_0, ..., v_{n-1}), k = max(1, ceil(n / 15)) blocks of 15 values, zero-padded;
//   h_0 = n (the length, as a field element);
//   h_{j+1} = Poseidon(h_j, v_{15j}, v_{15j+1}, ..., v_{15j+14})   (16 inputs; v_i = 0 for i >= n)
//   commit(v) = h_k.
// So n = 0 gives Poseidon(0, 0, ..., 0) and n = 15 one call Poseidon(15, v_0..v_14). Binding
// (collision resistance) follows from Poseidon's: the length in h_0 separates vectors of
// different lengths, and so zero-padding is unambiguous. It is NOT hiding by itself: a vector of
// low-entropy values (pixels) can be found from its commitment by trying candidates. To hide
// such a vector, append a uniformly random field element (kept private) as its last value.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "zkinfer/compiler/circuit.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::compiler {

inline constexpr unsigned kPoseidonMaxInputs = 16;
inline constexpr unsigned kPoseidonFullRounds = 8;
// Values per Poseidon(16) call of poseidon_commit (the 16th input is the chain value).
inline constexpr unsigned kPoseidonCommitRate = 15;

// The partial rounds circomlib uses for width t (2..17); throws std::invalid_argument otherwise.
unsigned poseidon_partial_rounds(unsigned t);

// Everything about one width t. Matrices are t x t, row-major ([i * t + j]).
struct PoseidonParams {
  unsigned t = 0;
  unsigned rounds_f = kPoseidonFullRounds;
  unsigned rounds_p = 0;

  // The reference form: for round r = 0 .. rounds_f + rounds_p - 1:
  //   state[i] += round_constants[r * t + i];
  //   S-box (x^5) on every element in the first and last rounds_f / 2 rounds, on element 0 in
  //   the others;
  //   state = mds * state, i.e. new[i] = sum_j mds[i * t + j] * old[j].
  std::vector<Fr> round_constants;  // (rounds_f + rounds_p) * t
  std::vector<Fr> mds;              // t * t

  // circomlib's optimized form, with the layout and orientation of POSEIDON_C, POSEIDON_S,
  // POSEIDON_M and POSEIDON_P in poseidon_constants.circom (see poseidon.circom for their use):
  std::vector<Fr> opt_c;  // rounds_f * t + rounds_p
  std::vector<Fr> opt_s;  // rounds_p * (2t - 1)
  std::vector<Fr> opt_m;  // t * t: circomlib's Mix computes new[i] = sum_j opt_m[j * t + i] * old[j]
  std::vector<Fr> opt_p;  // t * t, used like opt_m (the mix before the partial rounds)
};

// The parameters of width t (2..17), generated on first use and cached (thread-safe).
const PoseidonParams& poseidon_params(unsigned t);

// circomlib's Poseidon(inputs.size()) for 1..16 inputs; throws std::invalid_argument otherwise.
Fr poseidon_hash(std::span<const Fr> inputs);

// The same hash computed straight from the reference form (round by round with the full MDS
// matrix); slower, kept as a cross-check of the optimized form.
Fr poseidon_hash_reference(std::span<const Fr> inputs);

// The vector commitment defined above (any length, including 0).
Fr poseidon_commit(std::span<const Fr> values);

// Circuit gadget of poseidon_hash: returns the linear combination equal to the hash of the
// inputs. Costs 3 constraints (x2 = x*x, x4 = x2*x2, x5 = x4*x) and 3 wires per S-box whose
// input is not a constant: 3 * (8t + rounds_p) - 3 for t = n + 1 when no input is a constant
// (element 0 starts as the constant 0, so its first S-box is free), 3 fewer per constant input.
// For 16 inputs that is 609, what circom --O2 makes of circomlib's Poseidon(16) (--O1 leaves
// 612 non-linear and 1480 linear ones). Every linear layer is folded into linear combinations.
// In eval mode the inputs' values must be set already; the gadget sets the wires it allocates.
Lc poseidon_hash_gadget(Builder& b, std::span<const Lc> inputs);

// Circuit gadget of poseidon_commit (the same chain of Poseidon(16) gadgets).
Lc poseidon_commit_gadget(Builder& b, std::span<const Lc> values);

}  // namespace zkinfer::compiler
