// circom's .r1cs format (magic "r1cs", version 1):
//   section 1 header: n8 u32 | prime (n8 bytes) | n_wires u32 | n_pub_out u32 | n_pub_in u32 |
//                     n_prv_in u32 | n_labels u64 | n_constraints u32
//   section 2 constraints: per constraint, the linear combinations A, B, C, each as
//                     n_terms u32 | n_terms x (wire u32 | coefficient n8 bytes, standard form LE)
//   section 3 wire -> label map: n_wires x u64
// Wire 0 is the constant 1; wires 1..n_pub_out are public outputs, then public inputs, then
// private inputs, then internal wires. Custom-gate sections (4, 5: PLONK only) are refused.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "zkinfer/ff/fields.h"
#include "zkinfer/prover/binfile.h"

namespace zkinfer::prover {

struct R1csHeader {
  uint32_t n_wires = 0;
  uint32_t n_pub_out = 0;
  uint32_t n_pub_in = 0;
  uint32_t n_prv_in = 0;
  uint64_t n_labels = 0;
  uint32_t n_constraints = 0;

  // Public signals, not counting the constant wire 0.
  uint32_t n_public() const { return n_pub_out + n_pub_in; }
};

// One matrix of the constraint system in compressed-row form: constraint i's terms are
// [row_start[i], row_start[i+1]) of (wire, coeff).
struct SparseMatrix {
  std::vector<uint64_t> row_start{0};
  std::vector<uint32_t> wire;
  std::vector<Fr> coeff;  // Montgomery form

  size_t rows() const { return row_start.size() - 1; }
  // Appends one row (the terms of one constraint).
  void add_row(std::span<const uint32_t> wires, std::span<const Fr> coeffs);
};

struct R1cs {
  R1csHeader header;
  SparseMatrix a, b, c;               // header.n_constraints rows each
  std::vector<uint64_t> wire_to_label;  // empty, or header.n_wires entries
};

// Reads and checks a whole .r1cs file: prime is BN254's r with n8 = 32, every wire index below
// n_wires, every coefficient below r, counts consistent with the section sizes. Throws
// FormatError naming the file and section.
R1cs read_r1cs(const std::string& path);
R1cs parse_r1cs(std::span<const uint8_t> bytes, const std::string& name);

// Writes the circom layout, sections 1, 2, 3; when wire_to_label is empty, section 3 maps wire i
// to label i.
void write_r1cs(const std::string& path, const R1cs& cs);

// Whether `witness` (n_wires values, Montgomery form, witness[0] == 1) satisfies every
// constraint; on failure, `why` (if given) names the first failing constraint.
bool r1cs_satisfied(const R1cs& cs, std::span<const Fr> witness, std::string* why = nullptr);

}  // namespace zkinfer::prover
