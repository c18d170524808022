// zkinfer: the command-line tool.
#include <cstdio>
#include <exception>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"zkinfer: Groth16 proofs of ML inference over BN254, on CPU and GPU"};
  app.require_subcommand(1);
  zkinfer::cli::add_bench_command(app);
  zkinfer::cli::add_groth16_command(app);
  zkinfer::cli::add_zkey_command(app);
  zkinfer::cli::add_powersoftau_command(app);
  zkinfer::cli::add_model_commands(app);
  zkinfer::cli::add_cluster_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zkinfer: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
