// snarkjs's JSON files: proof.json, public.json and verification_key.json. Readers check
// everything that comes from outside: structure, decimal numbers, field ranges (public signals
// must be < r), points on the curve and in their subgroups; errors name the file and field.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zkinfer/prover/groth16.h"

namespace zkinfer::prover {

nlohmann::ordered_json proof_to_json(const Proof& p);
Proof proof_from_json(const nlohmann::ordered_json& j, const std::string& name = "proof");

nlohmann::ordered_json public_to_json(std::span<const Fr> signals);
std::vector<Fr> public_from_json(const nlohmann::ordered_json& j, const std::string& name = "public signals");

// With snarkjs's precomputed vk_alphabeta_12 = e(alpha1, beta2), as ffjavascript's pairing
// computes it (see json.cpp); ignored when read.
nlohmann::ordered_json vk_to_json(const VerificationKey& vk);
VerificationKey vk_from_json(const nlohmann::ordered_json& j, const std::string& name = "verification key");

// Whole files; errors name the path. Written with snarkjs's indentation (1 space).
nlohmann::ordered_json read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::ordered_json& j);

}  // namespace zkinfer::prover
