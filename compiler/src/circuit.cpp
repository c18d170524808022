#include "zkinfer/compiler/circuit.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace zkinfer::compiler {

Fr fr_of(int64_t v) {
  if (v >= 0) return Fr::from_u64(uint64_t(v));
  return -Fr::from_u64(uint64_t(0) - uint64_t(v));
}

int64_t int_of(const Fr& v) {
  const U256 c = v.to_canonical();
  if ((c.w[1] | c.w[2] | c.w[3]) == 0 && c.w[0] < (uint64_t{1} << 63)) return int64_t(c.w[0]);
  const U256 n = (-v).to_canonical();
  if ((n.w[1] | n.w[2] | n.w[3]) == 0 && n.w[0] < (uint64_t{1} << 63)) return -int64_t(n.w[0]);
  throw std::out_of_range("field element is not a 64-bit signed integer");
}

Lc Lc::constant(const Fr& c) { return of(kOneWire, c); }

Lc Lc::of(Wire w, const Fr& c) {
  Lc lc;
  if (c != Fr::zero()) lc.terms_.push_back({w, c});
  return lc;
}

Fr Lc::constant_part() const {
  return (!terms_.empty() && terms_.front().wire == kOneWire) ? terms_.front().coeff : Fr::zero();
}

Lc& Lc::add_term(Wire w, const Fr& c) {
  if (c == Fr::zero()) return *this;
  // Appending in wire order is the common case (lowerings walk wires upwards).
  if (terms_.empty() || terms_.back().wire < w) {
    terms_.push_back({w, c});
    return *this;
  }
  auto it = std::lower_bound(terms_.begin(), terms_.end(), w,
                             [](const Term& t, Wire x) { return t.wire < x; });
  if (it != terms_.end() && it->wire == w) {
    it->coeff += c;
    if (it->coeff == Fr::zero()) terms_.erase(it);
  } else {
    terms_.insert(it, {w, c});
  }
  return *this;
}

namespace {
// Merges two sorted term lists (b negated when `negate_b`), adding the coefficients of a wire
// present in both and dropping sums that cancel.
std::vector<Term> merge(const std::vector<Term>& a, const std::vector<Term>& b, bool negate_b) {
  std::vector<Term> out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    Term t;
    if (j == b.size() || (i < a.size() && a[i].wire <= b[j].wire)) {
      t = a[i++];
    } else {
      t = b[j++];
      if (negate_b) t.coeff = -t.coeff;
    }
    if (!out.empty() && out.back().wire == t.wire) {
      out.back().coeff += t.coeff;
      if (out.back().coeff == Fr::zero()) out.pop_back();
    } else {
      out.push_back(t);
    }
  }
  return out;
}
}  // namespace

Lc& Lc::operator+=(const Lc& o) {
  if (o.terms_.empty()) return *this;
  terms_ = merge(terms_, o.terms_, false);
  return *this;
}

Lc& Lc::operator-=(const Lc& o) {
  if (o.terms_.empty()) return *this;
  terms_ = merge(terms_, o.terms_, true);
  return *this;
}

Lc& Lc::operator*=(const Fr& c) {
  if (c == Fr::zero()) {
    terms_.clear();
  } else {
    for (Term& t : terms_) t.coeff *= c;
  }
  return *this;
}

bool Lc::operator==(const Lc& o) const {
  if (terms_.size() != o.terms_.size()) return false;
  for (size_t i = 0; i < terms_.size(); ++i)
    if (terms_[i].wire != o.terms_[i].wire || terms_[i].coeff != o.terms_[i].coeff) return false;
  return true;
}

Builder::Builder(Mode mode, uint32_t n_pub_out, uint32_t n_pub_in, uint32_t n_prv_in)
    : mode_(mode), n_pub_out_(n_pub_out), n_pub_in_(n_pub_in), n_prv_in_(n_prv_in) {
  const uint64_t io = 1ull + n_pub_out + n_pub_in + n_prv_in;
  if (io > UINT32_MAX) throw std::length_error("circuit: too many input and output wires");
  next_wire_ = uint32_t(io);
  if (mode_ == Mode::kEval) {
    values_.assign(next_wire_, Fr::zero());
    values_[kOneWire] = Fr::one();
  }
}

Wire Builder::output_wire(uint32_t i) const {
  if (i >= n_pub_out_) throw std::out_of_range("circuit: output wire index out of range");
  return 1 + i;
}
Wire Builder::public_input_wire(uint32_t i) const {
  if (i >= n_pub_in_) throw std::out_of_range("circuit: public input index out of range");
  return 1 + n_pub_out_ + i;
}
Wire Builder::private_input_wire(uint32_t i) const {
  if (i >= n_prv_in_) throw std::out_of_range("circuit: private input index out of range");
  return 1 + n_pub_out_ + n_pub_in_ + i;
}

Wire Builder::alloc(uint32_t count) {
  if (uint64_t(next_wire_) + count > UINT32_MAX)
    throw std::length_error("circuit: more than 2^32 wires (the .r1cs limit)");
  const Wire first = next_wire_;
  next_wire_ += count;
  if (mode_ == Mode::kEval) values_.resize(next_wire_, Fr::zero());
  return first;
}

void Builder::constrain(const Lc& a, const Lc& b, const Lc& c) {
  if (n_constraints_ == UINT32_MAX) throw std::length_error("circuit: more than 2^32 constraints");
  ++n_constraints_;
  if (mode_ != Mode::kEmit) return;
  auto add = [](prover::SparseMatrix& m, const Lc& lc) {
    // circom's readers keep one coefficient per wire (snarkjs lets a repeated wire overwrite
    // the earlier one), so a row must name each wire once: Lc keeps its terms that way.
    for (size_t i = 1; i < lc.terms().size(); ++i)
      if (lc.terms()[i - 1].wire >= lc.terms()[i].wire)
        throw std::logic_error("circuit: a linear combination is not sorted by wire");
    for (const Term& t : lc.terms()) {
      m.wire.push_back(t.wire);
      m.coeff.push_back(t.coeff);
    }
    m.row_start.push_back(m.wire.size());
  };
  add(r1cs_.a, a);
  add(r1cs_.b, b);
  add(r1cs_.c, c);
}

void Builder::constrain_zero(const Lc& lc) { constrain(lc, Lc::constant(Fr::one()), Lc()); }

void Builder::require(Mode m, const char* what) const {
  if (mode_ != m)
    throw std::logic_error(std::string("circuit: ") + what + " in the wrong builder mode");
}

void Builder::set(Wire w, const Fr& v) {
  require(Mode::kEval, "set()");
  if (w == kOneWire || w >= next_wire_) throw std::out_of_range("circuit: set() of an invalid wire");
  values_[w] = v;
}

Fr Builder::value(Wire w) const {
  require(Mode::kEval, "value()");
  if (w >= next_wire_) throw std::out_of_range("circuit: value() of an invalid wire");
  return values_[w];
}

Fr Builder::value(const Lc& lc) const {
  require(Mode::kEval, "value()");
  Fr s = Fr::zero();
  for (const Term& t : lc.terms()) s += t.coeff * values_.at(t.wire);
  return s;
}

prover::R1cs Builder::take_r1cs() {
  require(Mode::kEmit, "take_r1cs()");
  r1cs_.header.n_wires = next_wire_;
  r1cs_.header.n_pub_out = n_pub_out_;
  r1cs_.header.n_pub_in = n_pub_in_;
  r1cs_.header.n_prv_in = n_prv_in_;
  r1cs_.header.n_labels = next_wire_;
  r1cs_.header.n_constraints = n_constraints_;
  return std::move(r1cs_);
}

std::vector<Fr> Builder::take_witness() {
  require(Mode::kEval, "take_witness()");
  return std::move(values_);
}

}  // namespace zkinfer::compiler
