// Subcommands of the `zkinfer` command-line tool; each registers itself on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace zkinfer::cli {

// `zkinfer bench`: MSM and NTT on a backend at growing sizes, each result checked.
void add_bench_command(CLI::App& app);

// `zkinfer groth16 setup|prove|verify`: the snarkjs commands of the same names.
void add_groth16_command(CLI::App& app);

// `zkinfer zkey export verificationkey|solidityverifier`.
void add_zkey_command(CLI::App& app);

// `zkinfer powersoftau dev`: a prepared development .ptau.
void add_powersoftau_command(CLI::App& app);

}  // namespace zkinfer::cli
