// snarkjs's .wtns format (magic "wtns", version 2):
//   section 1 header: n8 u32 | prime (n8 bytes) | n_witness u32
//   section 2 values: n_witness x n8 bytes, standard (not Montgomery) form, little-endian
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "zkinfer/ff/fields.h"

namespace zkinfer::prover {

// Returns the witness in Montgomery form. Checks prime == r, n8 == 32, the section sizes, and
// every value < r; throws FormatError naming the file and section.
std::vector<Fr> read_wtns(const std::string& path);
std::vector<Fr> parse_wtns(std::span<const uint8_t> bytes, const std::string& name);

void write_wtns(const std::string& path, std::span<const Fr> witness);

}  // namespace zkinfer::prover
