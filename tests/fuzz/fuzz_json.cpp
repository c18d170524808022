// libFuzzer target: snarkjs JSON (proof, public signals, verification key) over arbitrary text.
// Text that is not JSON is the caller's concern (read_json_file reports it); every JSON value
// goes through all three readers, which must either accept it or throw std::invalid_argument.
#include <cstdint>
#include <stdexcept>

#include "fuzz_util.h"
#include "zkinfer/prover/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using json = nlohmann::ordered_json;
  json j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  zkinfer::fuzz::run_parser<std::invalid_argument>([&] { zkinfer::prover::proof_from_json(j); });
  zkinfer::fuzz::run_parser<std::invalid_argument>([&] { zkinfer::prover::public_from_json(j); });
  zkinfer::fuzz::run_parser<std::invalid_argument>([&] { zkinfer::prover::vk_from_json(j); });
  return 0;
}
