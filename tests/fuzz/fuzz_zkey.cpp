// libFuzzer target: Zkey::parse over arbitrary bytes with every point checked; an accepted key
// must have the lengths its header implies.
#include <cstdint>
#include <cstdlib>

#include "fuzz_util.h"
#include "zkinfer/prover/zkey.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return zkinfer::fuzz::run_parser([&] {
    using namespace zkinfer::prover;
    Zkey z = Zkey::parse({data, size}, "fuzz.zkey", ZkeyCheck::kPoints);
    const ZkeyParts& p = z.parts();
    const ZkeyHeader& h = p.header;
    if (p.ic.size() != h.n_public + size_t{1} || p.a.size() != h.n_vars || p.b1.size() != h.n_vars ||
        p.b2.size() != h.n_vars || p.c.size() != h.n_vars - h.n_public - size_t{1} || p.h.size() != h.domain_size)
      std::abort();
    for (const ZkeyCoef& c : p.coefs)
      if (c.matrix > 1 || c.constraint >= h.domain_size || c.signal >= h.n_vars) std::abort();
  });
}
