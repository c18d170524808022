// Subcommands of the `zkinfer` command-line tool; each registers itself on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace zkinfer::cli {

// `zkinfer bench`: MSM and NTT on a backend at growing sizes, each result checked.
void add_bench_command(CLI::App& app);

}  // namespace zkinfer::cli
