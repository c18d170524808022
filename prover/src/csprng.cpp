#include "zkinfer/prover/csprng.h"

#include <sodium.h>

#include <stdexcept>

namespace zkinfer::prover {

namespace {
void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise: no secure randomness available");
}
}  // namespace

void secure_random_bytes(std::span<uint8_t> out) {
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

Fr secure_random_fr() {
  // r is just below 2^254: a 254-bit draw is accepted with probability r / 2^254 > 0.75.
  for (;;) {
    U256 v{};
    secure_random_bytes({reinterpret_cast<uint8_t*>(v.w), sizeof(v.w)});
    v.w[3] &= ~uint64_t{0} >> 2;
    if (u256::less(v, Fr::MOD)) {
      Fr x = Fr::from_canonical(v);
      secure_wipe(&v, sizeof(v));
      return x;
    }
  }
}

void secure_wipe(void* p, size_t n) { sodium_memzero(p, n); }

}  // namespace zkinfer::prover
