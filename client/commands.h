// Subcommands of the `zkinfer` command-line tool; each registers itself on the CLI11 app.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "backend_select.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::cli {

// `zkinfer bench`: MSM and NTT on a backend at growing sizes, each result checked.
void add_bench_command(CLI::App& app);

// `zkinfer groth16 setup|prove|verify`: the snarkjs commands of the same names.
void add_groth16_command(CLI::App& app);

// `zkinfer zkey export verificationkey|solidityverifier`.
void add_zkey_command(CLI::App& app);

// `zkinfer powersoftau dev`: a prepared development .ptau.
void add_powersoftau_command(CLI::App& app);

// `zkinfer compile|setup|prove|verify`: models (ONNX) to circuits, keys and proofs.
void add_model_commands(CLI::App& app);

// `zkinfer model add|submit|status|wait|result|cancel|jobs|models`: a coordinator's client;
// `zkinfer cluster up|down`: a local coordinator and workers; `zkinfer keygen`: a CURVE keypair.
void add_cluster_commands(CLI::App& app);

// Proves with a proving key and an in-memory witness on a backend, checks the proof
// against the key's verification key, and writes PROOF.json and PUBLIC.json (snarkjs layout).
void prove_and_write(const std::string& zkey_path, const std::vector<Fr>& witness, const std::string& witness_name,
                     const std::string& proof_path, const std::string& public_path, Backend& backend);

// Checks a proof from its snarkjs JSON files; throws (naming the reason) when it is invalid.
void verify_files(const std::string& vk_path, const std::string& public_path, const std::string& proof_path);

}  // namespace zkinfer::cli
