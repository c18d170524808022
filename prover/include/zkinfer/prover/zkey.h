// snarkjs's Groth16 proving key, .zkey (magic "zkey", version 1). Sections, found by type:
//   1  header: protocol u32 (1 = Groth16)
//   2  Groth16 header: n8q u32 | q | n8r u32 | r | n_vars u32 | n_public u32 | domain_size u32 |
//      alpha1 | beta1 | beta2 | gamma2 | delta1 | delta2       (points affine, Montgomery, LE)
//   3  IC: n_public + 1 G1 points
//   4  coefficients: count u32 | count x (matrix u32 (0 = A, 1 = B) | constraint u32 |
//      signal u32 | value 32 bytes, stored as v * R^2 mod r, i.e. Montgomery form of v * R)
//      The C matrix is not stored (the prover takes C = A * B on the domain); snarkjs adds one A
//      row per public signal (constraint n_constraints + i, signal i, value 1).
//   5  A: n_vars G1   6  B1: n_vars G1   7  B2: n_vars G2
//   8  C: n_vars - n_public - 1 G1 (private signals only)
//   9  H: domain_size G1
//   10 contributions: circuit hash (64 bytes) | n u32 | n contributions (phase-2 MPC transcript)
// Sections of any other type are ignored on reading, as snarkjs and rapidsnark ignore them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/prover/binfile.h"

namespace zkinfer::prover {

struct ZkeyHeader {
  uint32_t n_vars = 0;       // witness length, wire 0 included
  uint32_t n_public = 0;     // public signals, wire 0 not included
  uint32_t domain_size = 0;  // power of two, >= constraints + public signals + 1
  G1Affine alpha1, beta1, delta1;
  G2Affine beta2, gamma2, delta2;
};

struct ZkeyCoef {
  uint32_t matrix;      // 0: A, 1: B
  uint32_t constraint;  // < domain_size
  uint32_t signal;      // < n_vars
  Fr value;             // the coefficient, ordinary Montgomery form (decoded from v * R^2)
};

// Section 4's records as they lie in the file (44 bytes each), each decoded on demand. A Zkey
// checks every record when it opens the key (matrix, constraint and signal in range, value below
// r), so decoding cannot fail.
class ZkeyCoefRecords {
 public:
  static constexpr size_t kBytes = 44;  // matrix u32 | constraint u32 | signal u32 | value
  ZkeyCoefRecords() = default;
  ZkeyCoefRecords(const uint8_t* base, size_t count) : base_(base), count_(count) {}
  size_t size() const { return count_; }
  uint32_t matrix(size_t i) const { return word(i, 0); }
  uint32_t constraint(size_t i) const { return word(i, 1); }
  uint32_t signal(size_t i) const { return word(i, 2); }
  ZkeyCoef operator[](size_t i) const;
  // Value i as stored, v * R^2 mod r, read as Montgomery words (the value v * R); times
  // stored_factor(), the Montgomery word 1 (the value R^-1), it is v.
  Fr stored_value(size_t i) const;
  static Fr stored_factor() { return Fr::from_mont(U256{{1, 0, 0, 0}}); }

 private:
  uint32_t word(size_t i, size_t k) const {  // little-endian, as stored
    const uint8_t* p = base_ + kBytes * i + 4 * k;
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  }
  const uint8_t* base_ = nullptr;
  size_t count_ = 0;
};

// The parts of a key, as spans, for writing (write_zkey) or viewing (Zkey).
struct ZkeyParts {
  ZkeyHeader header;
  std::span<const ZkeyCoef> coefs;
  std::span<const G1Affine> ic, a, b1, c, h;
  std::span<const G2Affine> b2;
  // Section 10 verbatim: circuit hash, count, contributions (at least 68 bytes).
  std::span<const uint8_t> contributions;
};

enum class ZkeyCheck {
  kHeader,  // header points fully checked (curve and subgroup); sections by size only
  kPoints,  // also every section point reduced and on the curve (parallel; the default)
};

// A memory-mapped .zkey. Point sections are views into the mapping (see section_view.h for the
// one case that copies); coefficient records are checked on open and decoded where read.
class Zkey {
 public:
  static Zkey open(const std::string& path, ZkeyCheck check = ZkeyCheck::kPoints);
  // The key views `bytes`, which must outlive it.
  static Zkey parse(std::span<const uint8_t> bytes, const std::string& name, ZkeyCheck check = ZkeyCheck::kPoints);

  // Movable (the views stay valid: the mapping and the vectors' buffers do not move); not
  // copyable, as a copy's views would point into the original.
  Zkey(Zkey&&) noexcept;
  Zkey& operator=(Zkey&&) noexcept;
  ~Zkey();
  Zkey(const Zkey&) = delete;
  Zkey& operator=(const Zkey&) = delete;

  const ZkeyHeader& header() const { return parts_.header; }
  // Every part, the coefficients decoded into one array on the first call (thread-safe): for
  // tools and tests. The prover reads point_parts() and coef_records() instead and never pays
  // for that array: for the 1.44M coefficients of a 1.2M-parameter model it is 70 MB, and
  // decoding it on open made the key's open take 52-92 ms instead of 5-9.
  const ZkeyParts& parts() const;
  // Header, points and contributions, with coefs empty.
  const ZkeyParts& point_parts() const { return parts_; }
  const ZkeyCoefRecords& coef_records() const { return records_; }
  const std::string& name() const { return file_.name(); }

  // The kPoints checks, for a key opened with kHeader: throws FormatError naming the section and
  // index of the first point off the curve or with a coordinate >= p.
  void check_section_points() const;

 private:
  explicit Zkey(BinFile file);
  void load(ZkeyCheck check);

  BinFile file_;
  ZkeyParts parts_;  // coefs empty
  ZkeyCoefRecords records_;
  struct Decoded;  // parts() with the coefficients, made on first use
  std::unique_ptr<Decoded> decoded_;
  std::vector<G1Affine> ic_store_, a_store_, b1_store_, c_store_, h_store_;
  std::vector<G2Affine> b2_store_;
};

// Writes a .zkey. Sections go in the order 1, 2, 3, 9, 8, 5, 6, 7, 4, 10. Every section header
// is 12 bytes and every point array a multiple of 64, so consecutive point sections would
// alternate between 8-byte aligned and misaligned; where a point array would start misaligned,
// an empty padding section (type kZkeyPadSection + k, k = 0, 1, ...) goes before it. Every
// point array is then 8-byte aligned in the file, so zkinfer's own keys always map without a
// copy; snarkjs and rapidsnark skip the padding like any section they do not know.
// Checks the lengths and coefficients against the header (std::invalid_argument) before
// creating the file.
inline constexpr uint32_t kZkeyPadSection = 0x7a6b0000;  // "zk" in the high bytes
void write_zkey(const std::string& path, const ZkeyParts& key);

}  // namespace zkinfer::prover
