// Poseidon hash and commitment, native and as circuit gadgets (see poseidon.h).
//
// One template, permute_opt, walks circomlib's optimized Poseidon (poseidon.circom's PoseidonEx
// with one output) over an element type and its operations: plain field elements for the native
// hash, and signals for the gadget (where every linear step folds into linear combinations and
// only the S-boxes cost constraints). The gadget therefore has the native hash's structure step
// for step.
#include <stdexcept>
#include <string>
#include <vector>

#include "zkinfer/compiler/poseidon.h"

namespace zkinfer::compiler {

namespace {

// circomlib's PoseidonEx(t - 1, 1) with initialState 0 on `state` = [0, inputs...]; returns out[0].
template <class Ops>
typename Ops::Elem permute_opt(Ops& ops, std::vector<typename Ops::Elem> state,
                               const PoseidonParams& p) {
  using Elem = typename Ops::Elem;
  const unsigned t = p.t, half = p.rounds_f / 2, rp = p.rounds_p;
  const Fr* c = p.opt_c.data();

  auto ark = [&](size_t offset) {
    for (unsigned i = 0; i < t; ++i) ops.add_const(state[i], c[offset + i]);
  };
  auto sbox_all = [&] {
    for (unsigned i = 0; i < t; ++i) state[i] = ops.sbox(state[i]);
  };
  // circomlib's Mix: new[i] = sum_j mat[j][i] * old[j].
  auto mix = [&](const std::vector<Fr>& mat) {
    std::vector<Elem> next;
    next.reserve(t);
    for (unsigned i = 0; i < t; ++i) next.push_back(ops.dot(&mat[i], t, state));
    state = std::move(next);
  };

  ark(0);
  for (unsigned r = 0; r + 1 < half; ++r) {
    sbox_all();
    ark(size_t(r + 1) * t);
    mix(p.opt_m);
  }
  sbox_all();
  ark(size_t(half) * t);
  mix(p.opt_p);

  for (unsigned r = 0; r < rp; ++r) {
    state[0] = ops.sbox(state[0]);
    ops.add_const(state[0], c[size_t(half + 1) * t + r]);
    // circomlib's MixS: new[0] = sum_i s[i] * old[i]; new[i] = old[i] + old[0] * s[t + i - 1].
    const Fr* s = &p.opt_s[size_t(2 * t - 1) * r];
    Elem first = ops.dot(s, 1, state);
    for (unsigned i = 1; i < t; ++i) ops.axpy(state[i], s[t + i - 1], state[0]);
    state[0] = std::move(first);
  }

  for (unsigned r = 0; r + 1 < half; ++r) {
    sbox_all();
    ark(size_t(half + 1) * t + rp + size_t(r) * t);
    mix(p.opt_m);
  }
  sbox_all();
  ops.last_layer();
  return ops.dot(&p.opt_m[0], t, state);  // circomlib's MixLast(t, M, 0)
}

struct NativeOps {
  using Elem = Fr;
  static Fr sbox(const Fr& x) {
    const Fr x2 = x.sqr();
    return x2.sqr() * x;
  }
  static void add_const(Fr& e, const Fr& c) { e += c; }
  static void axpy(Fr& out, const Fr& c, const Fr& in) { out += c * in; }
  // sum_j coeff[j * stride] * v[j]
  static Fr dot(const Fr* coeff, size_t stride, const std::vector<Fr>& v) {
    Fr s = Fr::zero();
    for (size_t j = 0; j < v.size(); ++j) s += coeff[j * stride] * v[j];
    return s;
  }
  static void last_layer() {}
};

// out += c * in, term by term through Lc::add_term, which merges equal wires. (Lc's operator+=
// as of this writing keeps both copies when a wire is in both operands and the right one's copy
// comes first, e.g. wire 0, the constant: sums stay right but the linear combinations swelled
// 10x, to 188k non-zeros per Poseidon(16).)
void add_scaled(Lc& out, const Lc& in, const Fr& c) {
  for (const Term& term : in.terms()) out.add_term(term.wire, term.coeff * c);
}

// A signal of the gadget: a constant known while building the circuit (the same in both modes,
// as it only depends on which inputs are constant linear combinations), or else its linear
// combination (emit mode) and its value (eval mode).
struct Sig {
  bool known = true;
  Fr k = Fr::zero();  // the constant, when known
  Lc lc;              // when !known and linear combinations are being built
  Fr v = Fr::zero();  // when !known in eval mode
};

class GadgetOps {
 public:
  using Elem = Sig;
  explicit GadgetOps(Builder& b) : b_(b), eval_(b.evaluating()), build_lc_(b.emitting()) {}

  Sig input(const Lc& lc) const {
    Sig s;
    if (lc.empty() || (lc.size() == 1 && lc.terms().front().wire == kOneWire)) {
      s.k = lc.constant_part();
      return s;
    }
    s.known = false;
    s.lc = lc;
    if (eval_) s.v = b_.value(lc);
    return s;
  }

  // x^5 as x2 = x*x, x4 = x2*x2, x5 = x4*x: three wires and three constraints; none for a
  // known constant.
  Sig sbox(const Sig& x) {
    if (x.known) return Sig{true, NativeOps::sbox(x.k), {}, {}};
    const Wire w = b_.alloc(3);
    const Lc x2 = Lc::of(w), x4 = Lc::of(w + 1), x5 = Lc::of(w + 2);
    // In eval mode the builder only counts constraints, so x.lc (not built there) is not needed.
    b_.constrain(x.lc, x.lc, x2);
    b_.constrain(x2, x2, x4);
    b_.constrain(x4, x.lc, x5);
    Sig out{false, Fr::zero(), x5, Fr::zero()};  // the wire's lc is kept in both modes
    if (eval_) {
      const Fr v2 = x.v.sqr(), v4 = v2.sqr();
      out.v = v4 * x.v;
      b_.set(w, v2);
      b_.set(w + 1, v4);
      b_.set(w + 2, out.v);
    }
    return out;
  }

  void add_const(Sig& e, const Fr& c) const {
    if (c.is_zero()) return;
    if (e.known) {
      e.k += c;
      return;
    }
    if (build_lc_) {
      e.lc.add_term(kOneWire, c);
    } else {
      e.lc = Lc();  // an S-box output's wire alone would no longer be the whole signal
    }
    if (eval_) e.v += c;
  }

  // out += c * in
  void axpy(Sig& out, const Fr& c, const Sig& in) const {
    if (in.known) {
      add_const(out, c * in.k);
      return;
    }
    if (out.known) {
      out.known = false;
      out.lc = build_lc_ ? Lc::constant(out.k) : Lc();
      out.v = out.k;
    }
    if (build_lc_) add_scaled(out.lc, in.lc, c);
    if (eval_) out.v += c * in.v;
  }

  Sig dot(const Fr* coeff, size_t stride, const std::vector<Sig>& v) const {
    Sig s;
    for (size_t j = 0; j < v.size(); ++j) axpy(s, coeff[j * stride], v[j]);
    return s;
  }

  // The output's linear combination is needed in both modes (the caller constrains it or reads
  // its value); its inputs are S-box wires, whose lc exists in both modes.
  void last_layer() { build_lc_ = true; }

  Lc output(const Sig& s) const { return s.known ? Lc::constant(s.k) : s.lc; }

 private:
  Builder& b_;
  bool eval_;
  bool build_lc_;
};

void check_arity(size_t n) {
  if (n < 1 || n > kPoseidonMaxInputs)
    throw std::invalid_argument("poseidon: " + std::to_string(n) +
                                " inputs (circomlib's Poseidon takes 1..16)");
}

}  // namespace

Fr poseidon_hash(std::span<const Fr> inputs) {
  check_arity(inputs.size());
  const PoseidonParams& p = poseidon_params(unsigned(inputs.size()) + 1);
  std::vector<Fr> state{Fr::zero()};
  state.insert(state.end(), inputs.begin(), inputs.end());
  NativeOps ops;
  return permute_opt(ops, std::move(state), p);
}

Fr poseidon_hash_reference(std::span<const Fr> inputs) {
  check_arity(inputs.size());
  const PoseidonParams& p = poseidon_params(unsigned(inputs.size()) + 1);
  const unsigned t = p.t, half = p.rounds_f / 2;
  std::vector<Fr> state{Fr::zero()}, next(t);
  state.insert(state.end(), inputs.begin(), inputs.end());
  for (unsigned r = 0; r < p.rounds_f + p.rounds_p; ++r) {
    for (unsigned i = 0; i < t; ++i) state[i] += p.round_constants[size_t(r) * t + i];
    const bool full = r < half || r >= half + p.rounds_p;
    for (unsigned i = 0; i < (full ? t : 1u); ++i) state[i] = NativeOps::sbox(state[i]);
    for (unsigned i = 0; i < t; ++i) {
      next[i] = Fr::zero();
      for (unsigned j = 0; j < t; ++j) next[i] += p.mds[size_t(i) * t + j] * state[j];
    }
    state.swap(next);
  }
  return state[0];
}

Lc poseidon_hash_gadget(Builder& b, std::span<const Lc> inputs) {
  check_arity(inputs.size());
  const PoseidonParams& p = poseidon_params(unsigned(inputs.size()) + 1);
  GadgetOps ops(b);
  std::vector<Sig> state{Sig{}};
  for (const Lc& in : inputs) state.push_back(ops.input(in));
  return ops.output(permute_opt(ops, std::move(state), p));
}

Fr poseidon_commit(std::span<const Fr> values) {
  const size_t n = values.size();
  const size_t blocks = n == 0 ? 1 : (n + kPoseidonCommitRate - 1) / kPoseidonCommitRate;
  Fr h = Fr::from_u64(uint64_t(n));
  std::vector<Fr> in(kPoseidonCommitRate + 1);
  for (size_t j = 0; j < blocks; ++j) {
    in[0] = h;
    for (size_t i = 0; i < kPoseidonCommitRate; ++i) {
      const size_t idx = j * kPoseidonCommitRate + i;
      in[1 + i] = idx < n ? values[idx] : Fr::zero();
    }
    h = poseidon_hash(in);
  }
  return h;
}

Lc poseidon_commit_gadget(Builder& b, std::span<const Lc> values) {
  const size_t n = values.size();
  const size_t blocks = n == 0 ? 1 : (n + kPoseidonCommitRate - 1) / kPoseidonCommitRate;
  Lc h = Lc::constant(Fr::from_u64(uint64_t(n)));
  std::vector<Lc> in(kPoseidonCommitRate + 1);
  for (size_t j = 0; j < blocks; ++j) {
    in[0] = std::move(h);
    for (size_t i = 0; i < kPoseidonCommitRate; ++i) {
      const size_t idx = j * kPoseidonCommitRate + i;
      in[1 + i] = idx < n ? values[idx] : Lc();
    }
    h = poseidon_hash_gadget(b, in);
  }
  return h;
}

}  // namespace zkinfer::compiler
