// Randomness for secrets (proof randomisers r and s, setup toxic waste): always the operating
// system's CSPRNG (through libsodium), never a seeded generator.
#pragma once

#include <cstdint>
#include <span>

#include "zkinfer/ff/fields.h"

namespace zkinfer::prover {

void secure_random_bytes(std::span<uint8_t> out);

// A uniform element of Fr (rejection sampling on 254-bit draws), in Montgomery form.
Fr secure_random_fr();

// Overwrites memory that held a secret, in a way the compiler may not elide.
void secure_wipe(void* p, size_t n);

}  // namespace zkinfer::prover
