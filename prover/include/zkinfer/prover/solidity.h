// A Solidity Groth16 verifier for a verification key, for BN254's EVM precompiles (ecAdd 0x06,
// ecMul 0x07, ecPairing 0x08). The contract comes from zkinfer's own template,
// prover/templates/groth16_verifier.sol, embedded at build time; its entry point has snarkjs's
// call layout:
//   function verifyProof(uint[2] calldata pA, uint[2][2] calldata pB, uint[2] calldata pC,
//                        uint[N] calldata pubSignals) public view returns (bool)
// with G2 coordinates imaginary part first, and returns false (never reverts) on an invalid
// proof, a public signal >= r or a coordinate >= q.
#pragma once

#include <string>
#include <string_view>

#include "zkinfer/prover/groth16.h"

namespace zkinfer::prover {

// The contract's source text. Throws std::invalid_argument when the key has no public signal
// (Solidity has no zero-length calldata array, so the snarkjs call layout cannot express it) or
// holds a point at infinity (the key of no real setup).
std::string solidity_verifier(const VerificationKey& vk);

// The template itself, with its {{NAME}} placeholders (for tests and tooling).
std::string_view solidity_verifier_template();

}  // namespace zkinfer::prover
