// snarkjs's powers-of-tau file, .ptau (magic "ptau", version 1). Sections, found by type:
//   1  header: n8 u32 (32) | q (n8 bytes, BN254's base field prime, little-endian) |
//      power u32 | ceremony_power u32
//   2  tauG1:      2^(power+1) - 1 G1 points  tau^i G1
//   3  tauG2:      2^power G2 points          tau^i G2
//   4  alphaTauG1: 2^power G1 points          alpha tau^i G1
//   5  betaTauG1:  2^power G1 points          beta tau^i G1
//   6  betaG2:     1 G2 point                 beta G2
//   7  contributions: count u32 | the phase-1 transcript (kept verbatim here)
// and, after `snarkjs powersoftau prepare phase2`, the Lagrange forms of 2 to 5: for every domain
// size 2^k the points L_i(tau) P for i < 2^k, L_i the Lagrange basis of the 2^k-th roots of unity
// (snarkjs's root, ff/domain.h) and P the section's base, i.e. the inverse FFT of the first 2^k
// points of the source section. The blocks for k = 0, 1, 2, ... lie back to back, so the block
// for 2^k starts at point 2^k - 1:
//   12 tauG1:      k = 0 .. power + 1  (2^(power+2) - 1 points). The block k = power + 1 is the
//                  inverse FFT of tauG1 with the missing last power tau^(2^(power+1) - 1) taken
//                  as the point at infinity (snarkjs pads it so); it still interpolates every
//                  polynomial of degree < 2^(power+1) - 1, which is all Groth16 uses it for.
//   13 tauG2:      k = 0 .. power      (2^(power+1) - 1 points)
//   14 alphaTauG1: k = 0 .. power      (2^(power+1) - 1 points)
//   15 betaTauG1:  k = 0 .. power      (2^(power+1) - 1 points)
// Points are affine, Montgomery form, little-endian, infinity as all zero bytes (as in .zkey).
// snarkjs writes the sections in the order 1..7, 12..15; they are found by type here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/prover/binfile.h"
#include "zkinfer/prover/progress.h"

namespace zkinfer::prover {

using SetupProgress = ProgressFn;  // progress.h

// The largest power a .ptau may declare: Fr has 2^28 roots of unity. (For power 28 snarkjs builds
// the 2^29 block of section 12 by a coset trick; this reader only slices, so it need not know.)
inline constexpr uint32_t kPtauMaxPower = 28;

// A memory-mapped .ptau. Opening reads and checks the header (n8 = 32, q = BN254's base field
// prime, power <= 28; ceremony_power is kept as it is, snarkjs does not check it either), that
// sections 1 to 7 exist with exactly the sizes the power implies, that sections 12 to 15
// exist all or none with exactly the sizes above, that section 7's count is readable, and that
// betaG2 and the first two points of tauG1 and tauG2 are valid (on the curve, G2 in the
// subgroup). Point arrays are checked (coordinates reduced, on the curve) the first time a
// slice of them is handed out, so a setup pays only for what it reads. Every error is a
// FormatError naming the file and the section.
//
// Slices are views into the mapping when the section is 8-byte aligned in the file; otherwise
// (every other section of a snarkjs file) the slice is copied once and kept, so spans stay valid
// for the lifetime of the Ptau. Thread-safe for concurrent readers.
class Ptau {
 public:
  static Ptau open(const std::string& path);
  // The Ptau views `bytes`, which must outlive it.
  static Ptau parse(std::span<const uint8_t> bytes, const std::string& name);

  Ptau(Ptau&&) noexcept;
  Ptau& operator=(Ptau&&) noexcept;
  Ptau(const Ptau&) = delete;
  Ptau& operator=(const Ptau&) = delete;
  ~Ptau();

  const std::string& name() const { return file_.name(); }
  uint32_t power() const { return power_; }
  uint32_t ceremony_power() const { return ceremony_power_; }
  // Whether sections 12 to 15 (`snarkjs powersoftau prepare phase2`) are present.
  bool prepared() const { return prepared_; }

  std::span<const G1Affine> tau_g1() const;        // 2^(power+1) - 1
  std::span<const G2Affine> tau_g2() const;        // 2^power
  std::span<const G1Affine> alpha_tau_g1() const;  // 2^power
  std::span<const G1Affine> beta_tau_g1() const;   // 2^power
  G2Affine beta_g2() const;
  // Section 7 verbatim, and the count it starts with.
  std::span<const uint8_t> contributions() const;
  uint32_t n_contributions() const { return n_contributions_; }

  // The Lagrange blocks for the domain of 2^log_n points (2^log_n points each). tauG1 has
  // log_n <= power + 1, the others log_n <= power. Throw FormatError if the file is not
  // prepared, std::out_of_range for a log_n beyond the file.
  std::span<const G1Affine> lagrange_tau_g1(unsigned log_n) const;
  std::span<const G2Affine> lagrange_tau_g2(unsigned log_n) const;
  std::span<const G1Affine> lagrange_alpha_tau_g1(unsigned log_n) const;
  std::span<const G1Affine> lagrange_beta_tau_g1(unsigned log_n) const;

  // The file's bytes from tauG1's point `first` on, n_points * 64 of them, WITHOUT stopping at
  // the end of section 2 (FormatError past the end of the file). snarkjs's circuit hash reads
  // one point past tauG1 for domains of 2^power >= 2^15 points (see setup.h); this reproduces it.
  std::span<const uint8_t> tau_g1_file_bytes(size_t first, size_t n_points) const;

 private:
  Ptau() = default;
  void load();
  template <class T>
  std::span<const T> slice(uint32_t section, const char* what, size_t first, size_t count) const;

  BinFile file_;
  uint32_t power_ = 0, ceremony_power_ = 0, n_contributions_ = 0;
  bool prepared_ = false;
  // Checked (and, where misaligned, copied) slices by (section, first point, count).
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

// ---- development .ptau -----------------------------------------------------------------------

// NOT FOR PRODUCTION. Writes a complete, prepared .ptau of the given power (1 to 27) from ONE
// party's secrets: tau, alpha and beta are drawn from the operating system's CSPRNG (libsodium),
// used, and wiped, but whoever ran this program could have kept them, and with them forge proofs
// for every circuit set up from this file. A production .ptau comes from a multi-party ceremony
// (for example the Hermez/Polygon powers of tau) where forging needs every participant to
// collude. The file has zero contributions in section 7, ceremony_power = power, and the
// sections 1..7, 12..15 in snarkjs's order and layout, so `snarkjs groth16 setup` accepts it.
//
// "Wiped": the secrets and every array of values derived from them are overwritten
// (sodium_memzero) before the function returns, also on errors; the fixed-base multiplications
// are not constant time (table lookups by secret digits), acceptable only because the file is
// for development anyway.
// Cost: about 12 * 2^power fixed-base G1 and 3 * 2^power G2 scalar multiplications, spread over
// every core (cpu::default_threads()). Prints nothing; `progress` gets one call per section.
// Throws std::invalid_argument for a power outside 1..27, std::runtime_error for I/O errors (the
// partial file is removed).
void write_dev_ptau(const std::string& path, unsigned power, const SetupProgress& progress = {});

// FOR TESTS ONLY: the same file from secrets the caller chose (so the caller knows them, and
// the file proves nothing). tau must not be 0 nor a 2^(power+1)-th root of unity; alpha and
// beta must not be 0 (std::invalid_argument).
void write_ptau_with_known_secrets(const std::string& path, unsigned power, const Fr& tau,
                                   const Fr& alpha, const Fr& beta,
                                   const SetupProgress& progress = {});

// The text the CLI prints next to a development .ptau or key.
extern const char* const kDevPtauWarning;

}  // namespace zkinfer::prover
