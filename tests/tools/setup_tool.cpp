// setup_tool: drives zkinfer's setup code from scripts (tests/interop/setup_vs_snarkjs.sh) and
// measures it. Progress lines go to stderr, results to stdout.
//   setup_tool dev-ptau OUT.ptau POWER          development .ptau (NOT FOR PRODUCTION)
//   setup_tool setup CIRCUIT.r1cs IN.ptau OUT.zkey  `snarkjs groth16 setup`
//   setup_tool setup-dev CIRCUIT.r1cs OUT.zkey      development key (NOT FOR PRODUCTION)
//   setup_tool known-ptau OUT.ptau POWER TAU ALPHA BETA  a .ptau from the given (decimal) secrets,
//                                                   reproducible, for tests only
//   setup_tool chain-r1cs OUT.r1cs N                 the test chain circuit of N constraints
//                                                   (chain_circuit, tests/support/chain_circuit.h)
//   setup_tool chain-wtns OUT.wtns N X0              a witness of it from x_0 = X0 (chain_witness.h)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/ptau.h"
#include "zkinfer/prover/r1cs.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/wtns.h"
#include "../support/chain_circuit.h"
#include "../support/chain_witness.h"

namespace {

using namespace zkinfer::prover;
using zkinfer::testing::chain_circuit;
using zkinfer::testing::chain_witness;

void progress(std::string_view step, double seconds) {
  std::fprintf(stderr, "  %-28.*s %9.3f s\n", (int)step.size(), step.data(), seconds);
}

std::string hex(const std::array<uint8_t, 64>& h) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

int usage() {
  std::fprintf(stderr,
               "usage: setup_tool dev-ptau OUT.ptau POWER\n"
               "       setup_tool setup CIRCUIT.r1cs IN.ptau OUT.zkey\n"
               "       setup_tool setup-dev CIRCUIT.r1cs OUT.zkey\n"
               "       setup_tool known-ptau OUT.ptau POWER TAU ALPHA BETA\n"
               "       setup_tool chain-r1cs OUT.r1cs N\n"
               "       setup_tool chain-wtns OUT.wtns N X0\n");
  return 2;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  try {
    auto t0 = std::chrono::steady_clock::now();
    if (cmd == "dev-ptau" && argc == 4) {
      std::fprintf(stderr, "%s\n", kDevPtauWarning);
      write_dev_ptau(argv[2], (unsigned)std::stoul(argv[3]), progress);
      std::printf("dev-ptau power %s: %.3f s\n", argv[3], since(t0));
    } else if (cmd == "setup" && argc == 5) {
      R1cs cs = read_r1cs(argv[2]);
      Ptau ptau = Ptau::open(argv[3]);
      SetupResult r = groth16_setup(cs, ptau, argv[4], progress);
      std::fprintf(stderr, "%s\n", r.warning.c_str());
      std::printf("setup domain %u: %.3f s\ncircuit hash %s\n", r.domain_size, since(t0),
                  hex(r.circuit_hash).c_str());
    } else if (cmd == "setup-dev" && argc == 4) {
      R1cs cs = read_r1cs(argv[2]);
      SetupResult r = groth16_setup_dev(cs, argv[3], progress);
      std::fprintf(stderr, "%s\n", r.warning.c_str());
      std::printf("setup-dev domain %u: %.3f s\ncircuit hash %s\n", r.domain_size, since(t0),
                  hex(r.circuit_hash).c_str());
    } else if (cmd == "known-ptau" && argc == 7) {
      using zkinfer::Fr;
      write_ptau_with_known_secrets(argv[2], (unsigned)std::stoul(argv[3]), zkinfer::field_from_decimal<Fr>(argv[4]),
                                    zkinfer::field_from_decimal<Fr>(argv[5]),
                                    zkinfer::field_from_decimal<Fr>(argv[6]), progress);
      std::printf("known-ptau power %s: %.3f s\n", argv[3], since(t0));
    } else if (cmd == "chain-r1cs" && argc == 4) {
      write_r1cs(argv[2], chain_circuit((uint32_t)std::stoul(argv[3])));
    } else if (cmd == "chain-wtns" && argc == 5) {
      write_wtns(argv[2], chain_witness((uint32_t)std::stoul(argv[3]), zkinfer::field_from_decimal<zkinfer::Fr>(argv[4])));
    } else {
      return usage();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "setup_tool: %s\n", e.what());
    return 1;
  }
  return 0;
}
