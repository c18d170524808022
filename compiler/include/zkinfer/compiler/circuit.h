// The circuit builder every lowering writes through: linear combinations of wires, wire
// allocation and R1CS constraints. One Builder runs in one of two modes with the same calls:
//   kEmit: records constraints, producing the .r1cs;
//   kEval: records wire values, producing the witness.
// Because both modes allocate wires through the same code path, the witness computed at prove
// time fits the circuit written at compile time; the tests check it with r1cs_satisfied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "zkinfer/ff/fields.h"
#include "zkinfer/prover/r1cs.h"

namespace zkinfer::compiler {

using Wire = uint32_t;
inline constexpr Wire kOneWire = 0;  // the constant 1 (circom's wire 0)

// Field element of a signed integer (negative values as r - |v|).
Fr fr_of(int64_t v);
// The signed integer a field element stands for, when it lies in (-2^63, 2^63); throws otherwise.
int64_t int_of(const Fr& v);

struct Term {
  Wire wire;
  Fr coeff;  // Montgomery form
};

// sum coeff_i * wire_i. Terms are kept sorted by wire with no duplicates or zero coefficients, so
// equal combinations compare equal and sizes mean what they say.
class Lc {
 public:
  Lc() = default;
  static Lc constant(const Fr& c);
  static Lc constant(int64_t c) { return constant(fr_of(c)); }
  static Lc of(Wire w, const Fr& c = Fr::one());

  const std::vector<Term>& terms() const { return terms_; }
  size_t size() const { return terms_.size(); }
  bool empty() const { return terms_.empty(); }
  // The coefficient of wire 0, i.e. the constant part.
  Fr constant_part() const;

  Lc& operator+=(const Lc& o);
  Lc& operator-=(const Lc& o);
  Lc& operator*=(const Fr& c);
  friend Lc operator+(Lc a, const Lc& b) { return a += b; }
  friend Lc operator-(Lc a, const Lc& b) { return a -= b; }
  friend Lc operator*(Lc a, const Fr& c) { return a *= c; }
  Lc& add_term(Wire w, const Fr& c);  // += c * w
  bool operator==(const Lc& o) const;

 private:
  std::vector<Term> terms_;
};

class Builder {
 public:
  enum class Mode { kEmit, kEval };
  // Public outputs, public inputs and private inputs are wires 1.. in that order (circom's
  // layout); every other wire is allocated after them by alloc().
  Builder(Mode mode, uint32_t n_pub_out, uint32_t n_pub_in, uint32_t n_prv_in);

  Mode mode() const { return mode_; }
  bool emitting() const { return mode_ == Mode::kEmit; }
  bool evaluating() const { return mode_ == Mode::kEval; }

  Wire output_wire(uint32_t i) const;
  Wire public_input_wire(uint32_t i) const;
  Wire private_input_wire(uint32_t i) const;
  // `count` fresh internal wires, contiguous; returns the first.
  Wire alloc(uint32_t count = 1);
  uint32_t wire_count() const { return next_wire_; }
  uint32_t constraint_count() const { return n_constraints_; }

  // a * b = c. Counted in both modes, recorded only when emitting.
  void constrain(const Lc& a, const Lc& b, const Lc& c);
  // lc = 0, as the constraint lc * 1 = 0.
  void constrain_zero(const Lc& lc);

  // Evaluation mode: wire values (unset wires read as zero until set).
  void set(Wire w, const Fr& v);
  void set(Wire w, int64_t v) { set(w, fr_of(v)); }
  Fr value(Wire w) const;
  Fr value(const Lc& lc) const;

  // The finished system (emit mode): header counts from the constructor and alloc().
  prover::R1cs take_r1cs();
  // The finished witness (eval mode): wire_count() values, witness[0] = 1.
  std::vector<Fr> take_witness();

 private:
  void require(Mode m, const char* what) const;

  Mode mode_;
  uint32_t n_pub_out_, n_pub_in_, n_prv_in_;
  uint32_t next_wire_;
  uint32_t n_constraints_ = 0;
  prover::R1cs r1cs_;
  std::vector<Fr> values_;
};

}  // namespace zkinfer::compiler
