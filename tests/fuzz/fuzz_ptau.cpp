// libFuzzer target: Ptau::parse over arbitrary bytes, then every accessor a setup reads.
#include <cstdint>
#include <stdexcept>

#include "fuzz_util.h"
#include "zkinfer/prover/ptau.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return zkinfer::fuzz::run_parser([&] {
    auto p = zkinfer::prover::Ptau::parse({data, size}, "fuzz.ptau");
    (void)p.tau_g1();
    (void)p.tau_g2();
    (void)p.alpha_tau_g1();
    (void)p.beta_tau_g1();
    (void)p.beta_g2();
    if (!p.prepared()) return;
    for (unsigned k = 0; k <= p.power(); ++k) {
      (void)p.lagrange_tau_g1(k);
      (void)p.lagrange_tau_g2(k);
      (void)p.lagrange_alpha_tau_g1(k);
      (void)p.lagrange_beta_tau_g1(k);
    }
  });
}
