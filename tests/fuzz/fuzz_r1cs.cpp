// libFuzzer target: parse_r1cs over arbitrary bytes; an accepted system must be well formed.
#include <cstdint>
#include <cstdlib>

#include "fuzz_util.h"
#include "zkinfer/prover/r1cs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return zkinfer::fuzz::run_parser([&] {
    using namespace zkinfer::prover;
    R1cs cs = parse_r1cs({data, size}, "fuzz.r1cs");
    for (const SparseMatrix* m : {&cs.a, &cs.b, &cs.c}) {
      if (m->rows() != cs.header.n_constraints || m->row_start.back() != m->wire.size() ||
          m->wire.size() != m->coeff.size())
        std::abort();
      for (uint32_t w : m->wire)
        if (w >= cs.header.n_wires) std::abort();
    }
  });
}
