// libFuzzer target: parse_wtns over arbitrary bytes.
#include <cstdint>

#include "fuzz_util.h"
#include "zkinfer/prover/wtns.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return zkinfer::fuzz::run_parser([&] { zkinfer::prover::parse_wtns({data, size}, "fuzz.wtns"); });
}
