// Lowering of a Graph to constraints (emit) or witness values (eval); see lower.h for the method.
#include "zkinfer/compiler/lower.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "zkinfer/compiler/op_shapes.h"
#include "zkinfer/compiler/poseidon.h"

namespace zkinfer::compiler {

namespace {

using i128 = __int128;
// Accumulators stay below 2^62 in magnitude, so eval mode computes in int64 without overflow
// (and cuBLAS-style FP64 GEMMs would need 2^53: see DESIGN.md 3).
constexpr uint64_t kMaxBound = uint64_t{1} << 62;
constexpr Wire kNoWire = ~Wire{0};

unsigned bitlen(uint64_t v) { return v ? 64u - unsigned(std::countl_zero(v)) : 0u; }
unsigned bitlen(i128 v) { return v >> 64 ? 64 + bitlen(uint64_t(v >> 64)) : bitlen(uint64_t(v)); }

const Fr& pow2(unsigned i) {
  static const std::vector<Fr> table = [] {
    std::vector<Fr> t(256);
    t[0] = Fr::one();
    for (size_t k = 1; k < t.size(); ++k) t[k] = t[k - 1] + t[k - 1];
    return t;
  }();
  return table.at(i);
}

// Field element of a signed 128-bit integer (LayerNormalization's sums of squares).
Fr fr_of_wide(i128 v) {
  const bool neg = v < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)(v) : (unsigned __int128)(v);
  Fr r = Fr::zero();
  for (int shift = 120; shift >= 0; shift -= 40) r = r * pow2(40) + fr_of(int64_t((u >> shift) & ((uint64_t{1} << 40) - 1)));
  return neg ? -r : r;
}

// floor(sqrt(v)) for 0 <= v < 2^126.
i128 isqrt(i128 v) {
  i128 r = i128(std::sqrt(static_cast<long double>(v)));
  while (r > 0 && r * r > v) --r;
  while ((r + 1) * (r + 1) <= v) ++r;
  return r;
}

int64_t round_to_int(double v, const std::string& what) {
  const double r = std::nearbyint(v);
  if (!(std::fabs(r) < 4.0e18)) throw ModelError(what + ": value " + std::to_string(v) + " does not fit 64 bits");
  return int64_t(r);
}

// Scale (fractional bits) at which values up to `max_abs` fit `bits` signed bits.
int scale_for(double max_abs, unsigned bits) {
  if (!(max_abs > 0)) return int(bits) - 2;
  return int(bits) - 2 - int(std::floor(std::log2(max_abs)));
}

// A quantized tensor. Elements are linear combinations (emit mode) or integers (eval mode);
// `wire` lists one wire per element once materialized (both modes), with `sign` the wire of
// (q >= 0) where a decomposition produced it.
struct QT {
  Shape shape;
  int scale = 0;
  uint64_t bound = 0;  // |q| <= bound for every element
  std::vector<Lc> lc;
  std::vector<int64_t> v;
  std::vector<Wire> wire;
  std::vector<Wire> sign;
  // Elements that are -inf (an attention mask added or selected in): held as 0, and only a
  // Softmax, or a reshape or transpose on the way to one, may read such a tensor. Empty: none.
  std::vector<uint8_t> masked;
  // Every element is 0 or 1 at scale 0, proved so: a comparison's or logic op's output (bits,
  // or linear in bits), usable as a Where condition.
  bool boolean = false;
  // Elements an attention mask computed from the inputs drops (a padding mask: as if -inf): per
  // element 1 (dropped) or 0, proved boolean where the mask is made (drop_lc in emit mode,
  // drop_v otherwise). Empty: none. Only an Add, a reshape, transpose or expand, or a Softmax
  // may read such a tensor.
  std::vector<Lc> drop_lc;
  std::vector<int64_t> drop_v;
  size_t size() const { return element_count(shape); }
  bool is_masked(size_t e) const { return !masked.empty() && masked[e]; }
  bool has_drop() const { return !drop_lc.empty() || !drop_v.empty(); }
  void copy_drop(const QT& from, size_t at) {  // element `at` of from's drop bits, appended
    if (!from.drop_lc.empty()) drop_lc.push_back(from.drop_lc[at]);
    if (!from.drop_v.empty()) drop_v.push_back(from.drop_v[at]);
  }
  bool materialized() const { return !wire.empty() || size() == 0; }
  // Element e as a linear combination (emit mode).
  Lc lc_at(size_t e) const { return materialized() ? Lc::of(wire[e]) : lc[e]; }
};

// A constant that can only be an attention mask's: -inf, or a negative number whose exp is 0
// (torch's finfo.min, or -10000 as BERT writes it).
bool is_mask_value(double v) { return v <= -1e4; }
// An activation that holds such a mask added to scores (-10000 plus a score of up to 5000, or
// -inf): calibration leaves it out, as the Softmax does (and the circuit's drop bits).
bool masked_activation(double v) { return v <= -5e3; }

// The error for a mask value (is_mask_value) used otherwise than as a padding mask from the
// inputs: multiplied in beside ordinary factors, or chosen by a computed condition against
// something other than 0 or a computed tensor.
ModelError computed_mask(const Node& n, const std::string& what, double v) {
  char value[32];
  std::snprintf(value, sizeof value, "%g", v);
  return ModelError(n.where() + ": " + what + " " + value +
                    ": not an attention mask this compiler proves (a padding mask from the inputs is C times a 0/1 "
                    "tensor, or a Where choosing C or 0 by a comparison, with C -10000 or less)");
}

// Brings a linear tensor to a higher scale by multiplying by 2^diff (exact, free).
QT rescale_up(const QT& t, int scale, const Node& n) {
  if (scale == t.scale) return t;
  const int diff = scale - t.scale;
  if (diff < 0 || diff > 60) throw ModelError(n.where() + ": cannot align operand scales");
  QT out = t;
  out.scale = scale;
  out.wire.clear();
  out.sign.clear();
  const i128 bound = i128(t.bound) << diff;
  if (bound >= i128(kMaxBound)) throw ModelError(n.where() + ": aligning operand scales overflows 62 bits");
  out.bound = uint64_t(bound);
  if (!t.lc.empty()) {
    if (t.materialized()) for (size_t e = 0; e < t.size(); ++e) out.lc[e] = Lc::of(t.wire[e]);
    for (Lc& l : out.lc) l *= pow2(unsigned(diff));
  }
  for (int64_t& v : out.v) v <<= diff;
  return out;
}

struct Interpolation;  // a piecewise-linear table of a function (Sigmoid, Tanh, Erf)

// A quantized constant tensor.
struct QConst {
  std::vector<int64_t> q;
  int scale = 0;
  uint64_t max_abs = 0;
};

class Lowerer {
 public:
  Lowerer(const Graph& g, Builder& b, ModelSpec& spec, const Ranges* ranges)
      : g_(g), b_(b), spec_(spec), ranges_(ranges), planning_(b.emitting()),
        bits_(spec.options.act_bits) {
    if (bits_ < 4 || bits_ > 40) throw ModelError("act_bits must be between 4 and 40");
    if (spec.options.weight_bits < 2 || spec.options.weight_bits > 24)
      throw ModelError("weight_bits must be between 2 and 24");
    if (spec.options.segment_bits < 1 || spec.options.segment_bits > 10)
      throw ModelError("segment_bits must be between 1 and 10");
  }

  void run(const TensorMap* inputs);

 private:
  bool emit() const { return b_.emitting(); }
  uint64_t limit() const { return uint64_t{1} << (bits_ - 1); }

  // ---- element gadgets ------------------------------------------------------------------------

  // n boolean wires with x + offset = sum b_i 2^i; returns the first. In eval mode `v` is x's
  // value and a value outside [0, 2^n) after the offset is a ProveError naming `what`.
  Wire decompose(const Lc* x, i128 v, int64_t offset, unsigned n, const std::string& what) {
    const Wire first = b_.alloc(n);
    if (emit()) {
      Lc sum = *x;
      sum += Lc::constant(fr_of(offset));
      for (unsigned i = 0; i < n; ++i) {
        const Lc bit = Lc::of(first + i);
        b_.constrain(bit, bit - Lc::constant(Fr::one()), Lc());
        sum.add_term(first + i, -pow2(i));
      }
      b_.constrain_zero(sum);
    } else {
      const i128 u = v + offset;
      if (u < 0 || u >= (i128(1) << n)) throw ProveError(what);
      for (unsigned i = 0; i < n; ++i) b_.set(first + i, int64_t((u >> i) & 1));
    }
    return first;
  }

  // Sign wire of a materialized element with |q| <= bound: top bit of q + 2^(m-1) in m bits.
  Wire sign_of(const Lc* x, int64_t v, uint64_t bound, const std::string& what) {
    const unsigned m = bitlen(bound) + 1;
    return decompose(x, v, int64_t{1} << (m - 1), m, what) + (m - 1);
  }

  // A fresh wire y with y = a * b (a, b linear combinations; eval: values av, bv).
  Wire product(const Lc* a, int64_t av, const Lc* b, int64_t bv) {
    const Wire y = b_.alloc(1);
    if (emit()) b_.constrain(*a, *b, Lc::of(y));
    else b_.set(y, int64_t(i128(av) * bv));
    return y;
  }

  // Clamps one element from below, c = lo + relu(c - lo), or (upper) from above,
  // c = hi - relu(hi - c), by the sign of the difference d (|d| <= bound) and one product wire.
  // The limit is a linear combination (another element, for max) with value limv; c (emit mode)
  // and its value cv (eval mode) are updated.
  void clamp(Lc& c, int64_t& cv, const Lc& lim, int64_t limv, bool upper, uint64_t bound, const std::string& what) {
    const Lc d = emit() ? (upper ? lim - c : c - lim) : Lc();
    const int64_t dv = upper ? limv - cv : cv - limv;
    const Lc s = Lc::of(sign_of(&d, dv, bound, what));
    const Wire t = product(&s, dv >= 0, &d, dv);
    if (emit()) c = upper ? lim - Lc::of(t) : lim + Lc::of(t);
    const int64_t relu = dv >= 0 ? dv : 0;
    cv = upper ? limv - relu : limv + relu;
  }
  void clamp(Lc& c, int64_t& cv, int64_t limit, bool upper, uint64_t bound, const std::string& what) {
    clamp(c, cv, Lc::constant(fr_of(limit)), limit, upper, bound, what);
  }

  std::string range_message(const std::string& tensor, int scale) const {
    return "tensor '" + tensor + "' does not fit its range: " + std::to_string(bits_) +
           " signed bits at scale 2^-" + std::to_string(scale) + " (|value| < " +
           std::to_string(double(limit()) / std::ldexp(1.0, scale)) +
           "); the input is outside what the calibration samples covered: recompile with "
           "samples that cover it, or a larger --act-bits";
  }

  // ---- materialization ------------------------------------------------------------------------

  // The scale `name` is materialized at: chosen from calibration or worst-case bounds when
  // compiling, read from the plan when proving.
  int planned_scale(const std::string& name, const QT& t) {
    if (!planning_) return plan_of(name);
    int s;
    if (ranges_) {
      s = calibrated_scale(name);
    } else {
      // Worst case: the smallest shift after which the rounded bound still fits.
      unsigned k = 0;
      if (t.bound >= limit()) {
        k = 1;
        while (k < 62 && ((t.bound + (uint64_t{1} << (k - 1))) >> k) + 1 >= limit()) ++k;
      }
      s = t.scale - int(k);
    }
    s = std::min({s, t.scale, spec_.options.max_scale});
    spec_.plan[name] = s;
    return s;
  }

  int plan_of(const std::string& name) const {
    auto it = spec_.plan.find(name);
    if (it == spec_.plan.end()) throw ProveError("model.json has no scale for tensor '" + name + "' (stale compile?)");
    return it->second;
  }
  int calibrated_scale(const std::string& name) const {
    auto it = ranges_->find(name);
    if (it == ranges_->end()) throw ModelError("calibration has no range for tensor '" + name + "'");
    return scale_for(it->second * spec_.options.headroom, bits_);
  }
  // The scale a quotient or a square root is computed at (it has no natural scale to keep):
  // from calibration, or where `worst`, the largest |value| its operands' bounds allow, fits.
  int result_scale(const std::string& name, double worst) {
    if (!planning_) return plan_of(name);
    const int s = std::min(ranges_ ? calibrated_scale(name) : scale_for(worst, bits_), spec_.options.max_scale);
    spec_.plan[name] = s;
    return s;
  }

  // Rescales t in place to its planned scale with one wire per element, range checked where its
  // bound does not already guarantee the range; with `want_sign`, each element also gets a sign
  // wire. A tensor that already is so is left as it is.
  void materialize(QT& t, const std::string& name, bool want_sign) {
    const int s = planned_scale(name, t);
    const int k = t.scale - s;
    if (t.materialized() && k == 0 && t.bound < limit() && (!want_sign || !t.sign.empty())) return;
    QT out;
    out.shape = t.shape;
    out.scale = s;
    const size_t n = t.size();
    out.wire.resize(n);
    if (!emit()) out.v.resize(n);
    else out.lc.resize(n);
    const int64_t half = k > 0 ? int64_t{1} << (k - 1) : 0;
    uint64_t derived = k > 0 ? ((t.bound + uint64_t(half)) >> k) + 1 : t.bound;
    const bool check = derived >= limit();
    if (check) derived = limit() - 1;
    out.bound = derived;
    // A rescaled q must be range checked even when its bound fits: the remainder constraint
    // fixes q only modulo r, and for every other remainder value there is a huge field element
    // q that satisfies it. The decomposition also yields the sign for free.
    const bool decompose_q = check || k > 0;
    if (decompose_q || want_sign) out.sign.resize(n);
    const std::string what = range_message(name, s);
    for (size_t e = 0; e < n; ++e) {
      const Lc* acc = emit() ? &t.lc[e] : nullptr;
      const int64_t v = emit() ? 0 : t.v[e];
      Wire q;
      int64_t qv = 0;
      if (k > 0) {
        q = b_.alloc(1);
        Lc rem;
        if (emit()) {
          rem = *acc;
          rem += Lc::constant(fr_of(half));
          rem.add_term(q, -pow2(unsigned(k)));
        } else {
          qv = (v + half) >> k;  // floor, rounding half up
          b_.set(q, qv);
        }
        decompose(&rem, v + half - (qv << k), 0, unsigned(k), what);
      } else if (t.materialized()) {
        q = t.wire[e];
        qv = v;
      } else {
        q = b_.alloc(1);
        qv = v;
        if (emit()) b_.constrain_zero(*acc - Lc::of(q));
        else b_.set(q, qv);
      }
      out.wire[e] = q;
      if (emit()) out.lc[e] = Lc::of(q);
      else out.v[e] = qv;
      const Lc ql = emit() ? Lc::of(q) : Lc();
      if (check) {
        out.sign[e] = decompose(&ql, qv, int64_t(limit()), bits_, what) + (bits_ - 1);
      } else if (decompose_q) {
        out.sign[e] = sign_of(&ql, qv, out.bound, what);
      } else if (want_sign) {
        if (t.materialized() && k == 0 && !t.sign.empty()) out.sign[e] = t.sign[e];
        else out.sign[e] = sign_of(&ql, qv, out.bound, what);
      }
    }
    out.masked = std::move(t.masked);
    out.drop_lc = std::move(t.drop_lc);
    out.drop_v = std::move(t.drop_v);
    out.boolean = t.boolean && k == 0;  // the same 0s and 1s, on wires (a max gadget's input)
    t = std::move(out);
  }

  QT& var(const std::string& name, const Node& n) {
    auto it = vars_.find(name);
    if (it == vars_.end()) throw ModelError(n.where() + ": input '" + name + "' is not a computed tensor");
    return it->second;
  }
  bool is_const(const std::string& name) const { return consts_.count(name) != 0; }
  const Tensor& cst(const std::string& name, const Node& n) const {
    auto it = consts_.find(name);
    if (it == consts_.end()) throw ModelError(n.where() + ": input '" + name + "' must be a constant");
    return it->second;
  }
  // Materializes input `name` in place (later uses reuse it).
  QT& materialized(const std::string& name, const Node& n, bool want_sign = false) {
    QT& t = var(name, n);
    materialize(t, name, want_sign);
    return t;
  }

  QConst quantize_weights(const Node& n, const std::vector<double>& w, double factor = 1.0) {
    for (double x : w)
      if (!std::isfinite(x * factor))
        throw ModelError(n.where() + ": a constant it multiplies by is " + (std::isnan(x) ? "NaN" : "infinite"));
    double mx = 0;
    for (double x : w) mx = std::max(mx, std::fabs(x * factor));
    QConst q;
    q.scale = std::min(scale_for(mx, spec_.options.weight_bits), 40);
    q.q.resize(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      q.q[i] = round_to_int(std::ldexp(w[i] * factor, q.scale), "weight");
      q.max_abs = std::max<uint64_t>(q.max_abs, uint64_t(std::llabs(q.q[i])));
    }
    return q;
  }

  QT new_linear(const Shape& shape, int scale) {
    QT t;
    t.shape = shape;
    t.scale = scale;
    if (emit()) t.lc.resize(t.size());
    else t.v.assign(t.size(), 0);
    return t;
  }
  static void check_bound(const Node& n, i128 bound) {
    if (bound >= i128(kMaxBound))
      throw ModelError(n.where() + ": values could reach 2^" + std::to_string(bitlen(uint64_t(bound >> 1)) + 1) +
                       ", beyond the 62-bit witness arithmetic; lower --weight-bits or --act-bits");
  }
  // out[e] += w * in[i]
  void axpy(QT& out, size_t e, int64_t w, const QT& in, size_t i) {
    if (w == 0) return;
    if (emit()) {
      if (in.materialized()) out.lc[e].add_term(in.wire[i], fr_of(w));
      else out.lc[e] += in.lc[i] * fr_of(w);
    } else {
      out.v[e] += w * in.v[i];
    }
  }
  void add_const(QT& out, size_t e, int64_t c) {
    if (c == 0) return;
    if (emit()) out.lc[e].add_term(kOneWire, fr_of(c));
    else out.v[e] += c;
  }
  // The highest scale among the computed inputs in `names` (INT32_MIN when all are constant):
  // where operands of mixed scales meet.
  int common_scale(const Node& n, const std::vector<std::string>& names) {
    int scale = INT32_MIN;
    for (const std::string& s : names)
      if (!is_const(s)) scale = std::max(scale, var(s, n).scale);
    return scale;
  }
  // Aligning scales multiplies a finer-scaled operand by 2^diff; where the sum of `names` at
  // their common scale would pass the 62-bit witness arithmetic (a fine product beside a coarse
  // tensor, as in GELU's x + 0.044715 x^3), the finest computed operands are first rounded to
  // their planned scales, one at a time.
  void fit_common_scale(const Node& n, const std::vector<std::string>& names) {
    auto aligned_bound = [&] {  // constants count at their magnitude rounded up
      const int sc = common_scale(n, names);
      i128 total = 0;
      for (const std::string& s : names) {
        if (is_const(s)) {
          double mx = 0;
          for (double v : cst(s, n).data) mx = std::max(mx, std::fabs(v));
          const double q = std::ldexp(mx, sc);
          if (!(q < double(kMaxBound))) return i128(kMaxBound);
          total += i128(q) + 1;
        } else {
          const QT& x = var(s, n);
          if (sc - x.scale > 60) return i128(kMaxBound);
          total += i128(x.bound) << (sc - x.scale);
        }
      }
      return total;
    };
    for (size_t round = 0; round < names.size() && aligned_bound() >= i128(kMaxBound); ++round) {
      const std::string* finest = nullptr;
      for (const std::string& s : names)
        if (!is_const(s) && !var(s, n).materialized() && (!finest || var(s, n).scale > var(*finest, n).scale))
          finest = &s;
      if (!finest) break;
      materialized(*finest, n);
    }
  }
  // An attention mask computed from the inputs, (1 - m) * C or Where(c, C, 0) with C a mask value
  // (is_mask_value): a zero tensor of `shape` whose element e is dropped where x[ix[e]] is 1
  // (where it is 0 with `invert`). x, tensor `name`, must hold 0 or 1 (2^s at scale s): proved
  // here, one constraint per element, unless x is a proved boolean; another value fails proving.
  QT drop_mask(const Node& n, const std::string& name, const QT& x, const std::vector<size_t>& ix, const Shape& shape,
               bool invert) {
    if (x.scale < 0 || x.scale > 60)
      throw ModelError(n.where() + ": the attention mask '" + name + "' is at scale 2^-" + std::to_string(x.scale) +
                       ": expected 0s and 1s");
    const Fr unit_inv = pow2(unsigned(x.scale)).inverse();
    const int64_t unit = int64_t{1} << x.scale;
    std::vector<Lc> bits(emit() ? x.size() : 0);
    std::vector<int64_t> bit_v(emit() ? 0 : x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      if (emit()) {
        Lc b = x.lc_at(i);
        b *= unit_inv;
        if (!x.boolean) b_.constrain(b, b - Lc::constant(Fr::one()), Lc());
        bits[i] = b;
      } else {
        if (x.v[i] != 0 && x.v[i] != unit) {
          char value[32];
          std::snprintf(value, sizeof value, "%g", std::ldexp(double(x.v[i]), -x.scale));
          throw ProveError(n.where() + ": the attention mask '" + name + "' holds " + value + ", not 0 or 1");
        }
        bit_v[i] = x.v[i] == unit;
      }
    }
    QT out = new_linear(shape, 0);
    for (size_t e = 0; e < ix.size(); ++e) {
      if (emit()) out.drop_lc.push_back(invert ? Lc::constant(Fr::one()) - bits[ix[e]] : bits[ix[e]]);
      else out.drop_v.push_back(invert ? 1 - bit_v[ix[e]] : bit_v[ix[e]]);
    }
    return out;
  }
  // z = [d == 0] from d inv = 1 - z, d z = 0 and z inv = 0 (inv is fixed either way).
  Wire is_zero(const Lc& d, int64_t dv) {
    const Wire z = b_.alloc(1), inv = b_.alloc(1);
    if (emit()) {
      b_.constrain(d, Lc::of(inv), Lc::constant(Fr::one()) - Lc::of(z));
      b_.constrain(d, Lc::of(z), Lc());
      b_.constrain(Lc::of(z), Lc::of(inv), Lc());
    } else {
      b_.set(z, dv == 0 ? 1 : 0);
      b_.set(inv, dv == 0 ? Fr::zero() : fr_of(dv).inverse());
    }
    return z;
  }
  // Cast of a computed tensor to bool: 1 - [x == 0] per element (an int64 attention_mask's
  // .bool()); a value that rounds to 0 at x's scale counts as false.
  QT nonzero(const QT& x) {
    QT out;
    out.shape = x.shape;
    out.scale = 0;
    out.bound = 1;
    out.boolean = true;
    for (size_t e = 0; e < x.size(); ++e) {
      const Wire z = is_zero(emit() ? x.lc_at(e) : Lc(), emit() ? 0 : x.v[e]);
      if (emit()) out.lc.push_back(Lc::constant(Fr::one()) - Lc::of(z));
      else out.v.push_back(x.v[e] == 0 ? 0 : 1);
    }
    return out;
  }
  // A dropped element's value is never calibrated (in float it is -inf), so it is set to 0:
  // (1 - drop) v, one product per element, keeping every later rounding in range.
  void zero_dropped(QT& t) {
    for (size_t e = 0; e < t.size(); ++e) {
      const Lc keep = emit() ? Lc::constant(Fr::one()) - t.drop_lc[e] : Lc(), v = emit() ? t.lc_at(e) : Lc();
      const int64_t kv = emit() ? 0 : 1 - t.drop_v[e], vv = emit() ? 0 : t.v[e];
      const Wire p = product(&keep, kv, &v, vv);
      if (emit()) t.lc[e] = Lc::of(p);
      else t.v[e] = kv * vv;
    }
  }
  // Drop bits a | b (a + b - a b, one product where both may be 1) for out's element e, from x's
  // element i and y's element j (either may have none).
  void or_drop(QT& out, const QT& x, size_t i, const QT& y, size_t j) {
    if (!x.has_drop()) return out.copy_drop(y, j);
    if (!y.has_drop()) return out.copy_drop(x, i);
    const Lc a = emit() ? x.drop_lc[i] : Lc(), b = emit() ? y.drop_lc[j] : Lc();
    const int64_t av = emit() ? 0 : x.drop_v[i], bv = emit() ? 0 : y.drop_v[j];
    const Wire p = product(&a, av, &b, bv);
    if (emit()) out.drop_lc.push_back(a + b - Lc::of(p));
    else out.drop_v.push_back(av + bv - av * bv);
  }
  // Input `name` at `scale`: a computed one brought up to it (exact, free), a constant rounded
  // there as a constant linear tensor whose bound is its largest magnitude. `what` names a
  // constant that does not fit.
  QT at_scale(const Node& n, const std::string& name, int scale, const char* what) {
    if (!is_const(name)) return rescale_up(var(name, n), scale, n);
    const Tensor& c = cst(name, n);
    QT q = new_linear(c.shape, scale);
    for (size_t e = 0; e < c.data.size(); ++e) {
      const int64_t v = round_to_int(std::ldexp(c.data[e], scale), n.where() + what);
      add_const(q, e, v);
      q.bound = std::max<uint64_t>(q.bound, uint64_t(std::llabs(v)));
    }
    check_bound(n, i128(q.bound));
    return q;
  }
  // Every input of n at `scale` (at_scale), and in `shape` the shape they broadcast to.
  std::vector<QT> all_at_scale(const Node& n, int scale, Shape& shape) {
    std::vector<QT> parts;
    for (const std::string& s : n.inputs) {
      parts.push_back(at_scale(n, s, scale, " constant"));
      shape = parts.size() == 1 ? parts[0].shape : broadcast_shape(n, shape, parts.back().shape);
    }
    return parts;
  }

  // ---- ops ------------------------------------------------------------------------------------
  QT gemm(const Node& n);
  QT matmul(const Node& n);
  QT conv(const Node& n);
  std::vector<int64_t> conv_bias(const Node& n, int64_t channels, int scale);
  QT conv_transpose(const Node& n);
  QT resize(const Node& n);
  QT add_sub(const Node& n, bool sub);
  QT sum_mean(const Node& n);
  QT max_min(const Node& n);
  QT mul_div(const Node& n, bool div);
  QT products(const Node& n, const QT& a, const std::vector<size_t>& ia, const QT& b, const std::vector<size_t>& ib,
              const Shape& shape);
  QT relu(const Node& n);
  QT leaky_relu(const Node& n);
  QT prelu(const Node& n);
  QT leaky(const Node& n, const QT& x, std::vector<double> alphas, const std::vector<size_t>& at);
  QT absolute(const Node& n);
  QT clip(const Node& n);
  QT clip_to(const Node& n, const QT& x, double lo, double hi);
  QT hard_sigmoid(const Node& n, bool swish);
  QT max_pool(const Node& n);
  QT average_pool(const Node& n, bool global);
  QT global_max_pool(const Node& n);
  static std::vector<std::vector<size_t>> global_groups(const GlobalPool& p);
  QT mean_of(const Node& n, const QT& x, const std::vector<std::vector<size_t>>& groups,
             const std::vector<int64_t>& counts, const Shape& shape);
  QT reduce(const Node& n);
  QT moved(const Node& n, size_t output);
  QT neg(const Node& n);
  QT cumsum(const Node& n);
  ConstInput operands(const Node& n) const;
  QT reorder(const QT& x, const Shape& shape, const std::vector<size_t>& from);
  QT concat(const Node& n);
  QT batch_norm(const Node& n);
  QT layer_norm(const Node& n);
  QT instance_norm(const Node& n);
  QT normalized_lines(const Node& n, const QT& x, const AxisLines& lines, double epsilon,
                      const std::vector<double>& gamma, const std::vector<double>& beta, bool centered = true);
  QT quotient(const Node& n);
  QT square_root(const Node& n, const std::string& input);
  QT power(const Node& n);
  QT where(const Node& n);
  QT select(const Node& n);
  QT compare(const Node& n);
  QT logic(const Node& n);
  QT lookup(const Node& n);
  QT tanh_like(const Node& n);
  Interpolation interpolation(const Node& n, double (*f)(double), double x0, unsigned D, int s) const;
  QT softmax(const Node& n);
  Wire interpolate(const Interpolation& t, const Lc& c, int64_t cv, const std::string& what);
  QT argmax(const Node& n);
  QT max_of(const QT& x, const std::vector<std::vector<size_t>>& groups, const Shape& shape, bool min = false);

  const Graph& g_;
  Builder& b_;
  ModelSpec& spec_;
  const Ranges* ranges_;
  bool planning_;
  unsigned bits_;
  std::map<std::string, QT> vars_;
  std::map<std::string, Tensor> consts_;
  std::set<std::string> softmax_outputs_;
};

// ---- linear ops ---------------------------------------------------------------------------------

QT Lowerer::gemm(const Node& n) {
  if (!is_const(n.inputs.at(1)))
    throw ModelError(n.where() + ": Gemm with a computed B is not supported (use MatMul)");
  const Tensor& bw = cst(n.inputs[1], n);
  QT& a = materialized(n.inputs[0], n);
  const GemmDims d = gemm_dims(n, a.shape, bw.shape);
  // W[k][j] = alpha * op(B)[k][j]
  std::vector<double> w(size_t(d.k * d.n));
  for (int64_t k = 0; k < d.k; ++k)
    for (int64_t j = 0; j < d.n; ++j)
      w[size_t(k * d.n + j)] = d.alpha * (d.trans_b ? bw.data[size_t(j * d.k + k)] : bw.data[size_t(k * d.n + j)]);
  const QConst qw = quantize_weights(n, w);
  QT out = new_linear({d.m, d.n}, a.scale + qw.scale);
  std::vector<int64_t> bias(size_t(d.m * d.n), 0);
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Tensor& c = cst(n.inputs[2], n);
    const Shape mn{d.m, d.n};
    if (broadcast_shape(n, c.shape, mn) != mn) throw ModelError(n.where() + ": C does not broadcast to the output");
    const auto ic = broadcast_index(c.shape, mn);
    for (size_t e = 0; e < ic.size(); ++e)
      bias[e] = round_to_int(std::ldexp(d.beta * c.data[ic[e]], out.scale), n.where() + " bias");
  }
  i128 worst = 0;
  for (int64_t j = 0; j < d.n; ++j) {
    i128 col = 0;
    for (int64_t k = 0; k < d.k; ++k) col += i128(std::llabs(qw.q[size_t(k * d.n + j)]));
    for (int64_t i = 0; i < d.m; ++i) worst = std::max(worst, col * a.bound + std::llabs(bias[size_t(i * d.n + j)]));
  }
  check_bound(n, worst);
  out.bound = uint64_t(worst);
  auto a_at = [&](int64_t i, int64_t k) { return size_t(d.trans_a ? k * d.m + i : i * d.k + k); };
  if (emit()) {
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j) {
        const size_t e = size_t(i * d.n + j);
        add_const(out, e, bias[e]);
        for (int64_t k = 0; k < d.k; ++k) axpy(out, e, qw.q[size_t(k * d.n + j)], a, a_at(i, k));
      }
  } else {
    // Integer GEMM, i-k-j order so the inner loop runs over contiguous rows of W and Y.
    for (int64_t i = 0; i < d.m; ++i) {
      int64_t* y = out.v.data() + i * d.n;
      for (int64_t j = 0; j < d.n; ++j) y[j] = bias[size_t(i * d.n + j)];
      for (int64_t k = 0; k < d.k; ++k) {
        const int64_t x = a.v[a_at(i, k)];
        const int64_t* wr = qw.q.data() + k * d.n;
        for (int64_t j = 0; j < d.n; ++j) y[j] += x * wr[j];
      }
    }
  }
  return out;
}

QT Lowerer::matmul(const Node& n) {
  const bool ca = is_const(n.inputs.at(0)), cb = is_const(n.inputs.at(1));
  const Shape sa = ca ? cst(n.inputs[0], n).shape : var(n.inputs[0], n).shape;
  const Shape sb = cb ? cst(n.inputs[1], n).shape : var(n.inputs[1], n).shape;
  const MatMulDims d = matmul_dims(n, sa, sb);
  const int64_t M = d.m, K = d.k, N = d.n;
  if (ca || cb) {
    const Tensor& c = cst(n.inputs[ca ? 0 : 1], n);
    const QConst qw = quantize_weights(n, c.data);
    QT& x = materialized(n.inputs[ca ? 1 : 0], n);
    QT out = new_linear(d.out, x.scale + qw.scale);
    i128 worst = 0;
    for (int64_t bi = 0; bi < d.batch; ++bi) {
      const size_t wa = (ca ? d.a_batch : d.b_batch)[size_t(bi)] * size_t(ca ? M * K : K * N);
      const size_t xa = (ca ? d.b_batch : d.a_batch)[size_t(bi)] * size_t(ca ? K * N : M * K);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          const size_t e = size_t((bi * M + i) * N + j);
          i128 sum = 0;
          for (int64_t k = 0; k < K; ++k) {
            const size_t wi = wa + size_t(ca ? i * K + k : k * N + j);
            const size_t xi = xa + size_t(ca ? k * N + j : i * K + k);
            sum += std::llabs(qw.q[wi]);
            axpy(out, e, qw.q[wi], x, xi);
          }
          worst = std::max(worst, sum * x.bound);
        }
    }
    check_bound(n, worst);
    out.bound = uint64_t(worst);
    return out;
  }
  // Both computed: one product wire per multiply.
  QT& a = materialized(n.inputs[0], n);
  QT& b = materialized(n.inputs[1], n);
  QT out = new_linear(d.out, a.scale + b.scale);
  check_bound(n, i128(a.bound) * b.bound * K);
  out.bound = uint64_t(i128(a.bound) * b.bound * K);
  for (int64_t bi = 0; bi < d.batch; ++bi)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const size_t e = size_t((bi * M + i) * N + j);
        for (int64_t k = 0; k < K; ++k) {
          const size_t ai = d.a_batch[size_t(bi)] * size_t(M * K) + size_t(i * K + k);
          const size_t bj = d.b_batch[size_t(bi)] * size_t(K * N) + size_t(k * N + j);
          const Lc la = emit() ? a.lc[ai] : Lc(), lb = emit() ? b.lc[bj] : Lc();
          const Wire p = product(&la, emit() ? 0 : a.v[ai], &lb, emit() ? 0 : b.v[bj]);
          if (emit()) out.lc[e].add_term(p, Fr::one());
          else out.v[e] += a.v[ai] * b.v[bj];
        }
      }
  return out;
}

// Conv's and ConvTranspose's optional bias (input 2), one value per output channel, rounded at
// the product's scale; zeros without one.
std::vector<int64_t> Lowerer::conv_bias(const Node& n, int64_t channels, int scale) {
  std::vector<int64_t> bias(size_t(channels), 0);
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Tensor& bt = cst(n.inputs[2], n);
    if (bt.data.size() != size_t(channels))
      throw ModelError(n.where() + ": bias must have " + std::to_string(channels) + " values");
    for (int64_t m = 0; m < channels; ++m)
      bias[size_t(m)] = round_to_int(std::ldexp(bt.data[size_t(m)], scale), n.where() + " bias");
  }
  return bias;
}

QT Lowerer::conv(const Node& n) {
  const Tensor& w = cst(n.inputs.at(1), n);
  QT& x = materialized(n.inputs[0], n);
  const Window2d g = conv_geometry(n, x.shape, w.shape);
  const QConst qw = quantize_weights(n, w.data);
  QT out = new_linear(g.out_shape(g.oc), x.scale + qw.scale);
  const std::vector<int64_t> bias = conv_bias(n, g.oc, out.scale);
  const int64_t cpg = g.c / g.group, opg = g.oc / g.group;
  i128 worst = 0;
  for (int64_t m = 0; m < g.oc; ++m) {
    i128 s = 0;
    for (int64_t i = 0; i < cpg * g.kh * g.kw; ++i) s += std::llabs(qw.q[size_t(m * cpg * g.kh * g.kw + i)]);
    worst = std::max(worst, s * x.bound + std::llabs(bias[size_t(m)]));
  }
  check_bound(n, worst);
  out.bound = uint64_t(worst);
  if (!emit()) {
    // Witness: for each output row and kernel tap, one multiply-add over the row's valid
    // columns, a loop the compiler vectorises (contiguous for stride 1).
    for (int64_t ni = 0; ni < g.n; ++ni)
      for (int64_t m = 0; m < g.oc; ++m) {
        const int64_t c0 = (m / opg) * cpg;
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          int64_t* y = out.v.data() + ((ni * g.oc + m) * g.oh + oy) * g.ow;
          std::fill(y, y + g.ow, bias[size_t(m)]);
          for (int64_t c = 0; c < cpg; ++c)
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = g.in_y(oy, ky);
              if (iy < 0 || iy >= g.h) continue;
              const int64_t* xr = x.v.data() + ((ni * g.c + c0 + c) * g.h + iy) * g.w;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t w = qw.q[size_t(((m * cpg + c) * g.kh + ky) * g.kw + kx)];
                // Columns ox with 0 <= ox * sw - pad_left + kx * dw < w.
                const int64_t off = kx * g.dw - g.pad_left;
                const int64_t lo = std::max<int64_t>(0, (-off + g.sw - 1) / g.sw);
                const int64_t hi = std::min<int64_t>(g.ow, (g.w - off + g.sw - 1) / g.sw);
                for (int64_t ox = lo; ox < hi; ++ox) y[ox] += w * xr[ox * g.sw + off];
              }
            }
        }
      }
    return out;
  }
  size_t e = 0;
  for (int64_t ni = 0; ni < g.n; ++ni)
    for (int64_t m = 0; m < g.oc; ++m)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox, ++e) {
          add_const(out, e, bias[size_t(m)]);
          const int64_t c0 = (m / opg) * cpg;
          for (int64_t c = 0; c < cpg; ++c)
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = g.in_y(oy, ky);
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ix = g.in_x(ox, kx);
                if (ix < 0 || ix >= g.w) continue;
                axpy(out, e, qw.q[size_t(((m * cpg + c) * g.kh + ky) * g.kw + kx)], x,
                     size_t(((ni * g.c + c0 + c) * g.h + iy) * g.w + ix));
              }
            }
        }
  return out;
}

// ConvTranspose: like Conv, free linear combinations of the input with the quantized weights;
// each output pixel takes the taps whose scattered kernel reaches it (Window2d::src_y/src_x).
QT Lowerer::conv_transpose(const Node& n) {
  const Tensor& w = cst(n.inputs.at(1), n);
  QT& x = materialized(n.inputs[0], n);
  const Window2d g = conv_transpose_geometry(n, x.shape, w.shape);
  const QConst qw = quantize_weights(n, w.data);
  QT out = new_linear(g.out_shape(g.oc), x.scale + qw.scale);
  const std::vector<int64_t> bias = conv_bias(n, g.oc, out.scale);
  const int64_t cpg = g.c / g.group, opg = g.oc / g.group;
  // The bound per output pixel (how many taps reach a pixel depends on its position), checked
  // before any sum is formed: the evaluating pass's int64 sums must not overflow.
  i128 worst = 0;
  for (int64_t m = 0; m < g.oc; ++m) {
    const int64_t c0 = (m / opg) * cpg;
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        i128 s = 0;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          if (g.src_y(oy, ky) < 0) continue;
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            if (g.src_x(ox, kx) < 0) continue;
            for (int64_t c = c0; c < c0 + cpg; ++c)
              s += std::llabs(qw.q[size_t(((c * opg + m % opg) * g.kh + ky) * g.kw + kx)]);
          }
        }
        worst = std::max(worst, s * x.bound + std::llabs(bias[size_t(m)]));
      }
  }
  check_bound(n, worst);
  out.bound = uint64_t(worst);
  size_t e = 0;
  for (int64_t ni = 0; ni < g.n; ++ni)
    for (int64_t m = 0; m < g.oc; ++m) {
      const int64_t c0 = (m / opg) * cpg;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox, ++e) {
          add_const(out, e, bias[size_t(m)]);
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = g.src_y(oy, ky);
            if (iy < 0) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = g.src_x(ox, kx);
              if (ix < 0) continue;
              for (int64_t c = c0; c < c0 + cpg; ++c)
                axpy(out, e, qw.q[size_t(((c * opg + m % opg) * g.kh + ky) * g.kw + kx)], x,
                     size_t(((ni * g.c + c) * g.h + iy) * g.w + ix));
            }
          }
        }
    }
  return out;
}

// Resize/Upsample: nearest mode is a data movement (elements reordered); linear and cubic modes
// are a free linear combination of the taps with their weights quantized as one weight tensor
// (cubic weights may be negative: the bound sums their absolute values).
QT Lowerer::resize(const Node& n) {
  const ConstInput c = operands(n);
  for (size_t i = 1; i < n.inputs.size(); ++i) c(i);  // computed scales or sizes: a clear error
  const QT& x = var(n.inputs.at(0), n);
  const ResizePlan p = resize_plan(n, x.shape, g_.opset, c);
  if (p.mode == "nearest") {
    const Movement m = resize_nearest(n, p, x.shape);
    return reorder(x, m.shape, std::vector<size_t>(m.from.begin(), m.from.end()));
  }
  const ResizeTerms r = resize_terms(n, p, x.shape);
  std::vector<double> weights;
  for (const auto& t : r.terms)
    for (const auto& [i, w] : t) weights.push_back(w);
  const QConst qw = quantize_weights(n, weights);
  QT out = new_linear(r.shape, x.scale + qw.scale);
  i128 worst = 0;
  size_t k = 0;
  for (size_t e = 0; e < r.terms.size(); ++e) {
    i128 s = 0;
    for (const auto& [i, w] : r.terms[e]) {
      axpy(out, e, qw.q[k], x, i);
      s += std::llabs(qw.q[k++]);
    }
    worst = std::max(worst, s * x.bound);
  }
  check_bound(n, worst);
  out.bound = uint64_t(worst);
  return out;
}

QT Lowerer::add_sub(const Node& n, bool sub) {
  const bool c0 = is_const(n.inputs.at(0)), c1 = is_const(n.inputs.at(1));
  if (c0 && c1) throw ModelError(n.where() + ": both inputs constant (should have been folded)");
  if (c0 || c1) {
    const Tensor& c = cst(n.inputs[c0 ? 0 : 1], n);
    QT x = var(n.inputs[c0 ? 1 : 0], n);
    const Shape shape = broadcast_shape(n, x.shape, c.shape);
    const auto ix = broadcast_index(x.shape, shape), ic = broadcast_index(c.shape, shape);
    // x - c, or c - x = -(x - c)
    const bool negate_x = sub && c0;
    const bool negate_c = sub && c1;
    QT out = new_linear(shape, x.scale);
    uint64_t cmax = 0;
    for (size_t e = 0; e < ix.size(); ++e) {
      const double cv = negate_c ? -c.data[ic[e]] : c.data[ic[e]];
      if (is_mask_value(cv)) {  // an additive attention mask: this element is -inf
        if (out.masked.empty()) out.masked.assign(ix.size(), 0);
        out.masked[e] = 1;
        continue;
      }
      if (!std::isfinite(cv)) throw ModelError(n.where() + ": constant " + std::to_string(cv) + " (only -inf, as a mask)");
      const int64_t cq = round_to_int(std::ldexp(cv, x.scale), n.where() + " constant");
      cmax = std::max<uint64_t>(cmax, uint64_t(std::llabs(cq)));
      axpy(out, e, negate_x ? -1 : 1, x, ix[e]);
      add_const(out, e, cq);
    }
    if (x.has_drop()) {
      if (negate_x) throw ModelError(n.where() + ": subtracts an attention mask computed from the inputs");
      for (size_t e = 0; e < ix.size(); ++e) out.copy_drop(x, ix[e]);
      zero_dropped(out);
    }
    if (!x.masked.empty()) {  // -inf plus a constant stays -inf
      if (negate_x) throw ModelError(n.where() + ": subtracts a tensor holding -inf elements (an attention mask)");
      if (out.masked.empty()) out.masked.assign(ix.size(), 0);
      for (size_t e = 0; e < ix.size(); ++e) out.masked[e] |= x.masked[ix[e]];
    }
    check_bound(n, i128(x.bound) + cmax);
    out.bound = x.bound + cmax;
    return out;
  }
  fit_common_scale(n, {n.inputs[0], n.inputs[1]});
  const QT& a0 = var(n.inputs[0], n);
  const QT& b0 = var(n.inputs[1], n);
  const int scale = std::max(a0.scale, b0.scale);
  const QT a = rescale_up(a0, scale, n), b = rescale_up(b0, scale, n);
  const Shape shape = broadcast_shape(n, a.shape, b.shape);
  const auto ia = broadcast_index(a.shape, shape), ib = broadcast_index(b.shape, shape);
  QT out = new_linear(shape, scale);
  for (size_t e = 0; e < ia.size(); ++e) {
    axpy(out, e, 1, a, ia[e]);
    axpy(out, e, sub ? -1 : 1, b, ib[e]);
  }
  if (sub && b.has_drop()) throw ModelError(n.where() + ": subtracts an attention mask computed from the inputs");
  if (sub && !b.masked.empty())
    throw ModelError(n.where() + ": subtracts a tensor holding -inf elements (an attention mask)");
  if (!a.masked.empty() || !b.masked.empty()) {  // -inf plus anything stays -inf
    out.masked.assign(ia.size(), 0);
    for (size_t e = 0; e < ia.size(); ++e) out.masked[e] = a.is_masked(ia[e]) || b.is_masked(ib[e]);
  }
  if (a.has_drop() || b.has_drop()) {  // scores plus a padding mask: dropped where either drops
    for (size_t e = 0; e < ia.size(); ++e) or_drop(out, a, ia[e], b, ib[e]);
    zero_dropped(out);
  }
  check_bound(n, i128(a.bound) + b.bound);
  out.bound = a.bound + b.bound;
  return out;
}

// Sum and Mean of any number of inputs with broadcasting: a free linear combination at the
// computed inputs' highest scale (constants rounded there), rounding the finest first where the
// scales do not fit together (fit_common_scale), as for Add. Mean divides the sum by the count
// as ReduceMean does (mean_of).
QT Lowerer::sum_mean(const Node& n) {
  if (n.inputs.empty()) throw ModelError(n.where() + ": needs at least one input");
  fit_common_scale(n, n.inputs);
  const int scale = common_scale(n, n.inputs);
  Shape shape;
  const std::vector<QT> parts = all_at_scale(n, scale, shape);
  QT out = new_linear(shape, scale);
  i128 bound = 0;
  for (const QT& p : parts) {
    const auto at = broadcast_index(p.shape, shape);
    for (size_t e = 0; e < at.size(); ++e) axpy(out, e, 1, p, at[e]);
    bound += p.bound;
  }
  check_bound(n, bound);
  out.bound = uint64_t(bound);
  if (n.op == "Sum") return out;
  std::vector<std::vector<size_t>> groups(out.size());
  for (size_t e = 0; e < groups.size(); ++e) groups[e] = {e};
  return mean_of(n, out, groups, std::vector<int64_t>(out.size(), int64_t(n.inputs.size())), shape);
}

// Max and Min of any number of inputs with broadcasting: computed inputs materialized and brought
// to their highest scale (constants rounded there), then per element a chain of
// max(m, b) = b + relu(m - b) (min(m, b) = b - relu(b - m)), ReduceMax's gadget: a sign bit of
// the difference and one product per further input.
QT Lowerer::max_min(const Node& n) {
  if (n.inputs.empty()) throw ModelError(n.where() + ": needs at least one input");
  for (const std::string& s : n.inputs)
    if (is_const(s)) {
      for (double v : cst(s, n).data)
        if (!std::isfinite(v))
          throw ModelError(n.where() + ": constant operand " + std::to_string(v) + " is not finite");
    } else {
      materialized(s, n);
    }
  const int scale = common_scale(n, n.inputs);
  Shape shape;
  const std::vector<QT> parts = all_at_scale(n, scale, shape);
  std::vector<std::vector<size_t>> at;
  uint64_t bound = 0;
  for (const QT& p : parts) {
    at.push_back(broadcast_index(p.shape, shape));
    bound = std::max(bound, p.bound);
  }
  check_bound(n, i128(bound) * 2);
  const bool min = n.op == "Min";
  const std::string what = n.where() + ": internal range error";
  QT out = new_linear(shape, scale);
  out.bound = bound;
  for (size_t e = 0; e < out.size(); ++e) {
    Lc m = emit() ? parts[0].lc_at(at[0][e]) : Lc();
    int64_t mv = emit() ? 0 : parts[0].v[at[0][e]];
    uint64_t mb = parts[0].bound;
    for (size_t j = 1; j < parts.size(); ++j) {
      const QT& p = parts[j];
      clamp(m, mv, emit() ? p.lc_at(at[j][e]) : Lc(), emit() ? 0 : p.v[at[j][e]], min, mb + p.bound, what);
      mb = std::max(mb, p.bound);
    }
    if (emit()) out.lc[e] = m;
    else out.v[e] = mv;
  }
  return out;
}

QT Lowerer::mul_div(const Node& n, bool div) {
  const bool c0 = is_const(n.inputs.at(0)), c1 = is_const(n.inputs.at(1));
  if (div && !c1) return quotient(n);
  if (c0 || c1) {
    const Tensor& c = cst(n.inputs[c0 ? 0 : 1], n);
    if (const auto first = std::find_if(c.data.begin(), c.data.end(), is_mask_value);
        !div && first != c.data.end() && !std::all_of(c.data.begin(), c.data.end(), is_mask_value))
      throw computed_mask(n, "multiplies a computed tensor by constants mixing ordinary values and", *first);
    if (!div && !c.data.empty() && std::all_of(c.data.begin(), c.data.end(), is_mask_value)) {
      const std::string& xn = n.inputs[c0 ? 1 : 0];
      const QT& x = var(xn, n);
      const Shape shape = broadcast_shape(n, x.shape, c.shape);
      return drop_mask(n, xn, x, broadcast_index(x.shape, shape), shape, false);
    }
    std::vector<double> factors = c.data;
    if (div)
      for (double& f : factors) {
        if (f == 0) throw ModelError(n.where() + ": division by zero");
        f = 1.0 / f;
      }
    const QConst qc = quantize_weights(n, factors);
    // A product that would pass the 62-bit witness arithmetic is taken of x rounded first.
    if (i128(var(n.inputs[c0 ? 1 : 0], n).bound) * qc.max_abs >= i128(kMaxBound)) materialized(n.inputs[c0 ? 1 : 0], n);
    const QT& x = var(n.inputs[c0 ? 1 : 0], n);
    const Shape shape = broadcast_shape(n, x.shape, c.shape);
    const auto ix = broadcast_index(x.shape, shape), ic = broadcast_index(c.shape, shape);
    QT out = new_linear(shape, x.scale + qc.scale);
    for (size_t e = 0; e < ix.size(); ++e) axpy(out, e, qc.q[ic[e]], x, ix[e]);
    check_bound(n, i128(x.bound) * qc.max_abs);
    out.bound = uint64_t(i128(x.bound) * qc.max_abs);
    return out;
  }
  QT& a = materialized(n.inputs[0], n);
  QT& b = materialized(n.inputs[1], n);
  const Shape shape = broadcast_shape(n, a.shape, b.shape);
  return products(n, a, broadcast_index(a.shape, shape), b, broadcast_index(b.shape, shape), shape);
}

// a[ia[e]] b[ib[e]] for each element e of `shape`, one product wire each (either operand may be
// a linear combination).
QT Lowerer::products(const Node& n, const QT& a, const std::vector<size_t>& ia, const QT& b,
                     const std::vector<size_t>& ib, const Shape& shape) {
  QT out;
  out.shape = shape;
  out.scale = a.scale + b.scale;
  check_bound(n, i128(a.bound) * b.bound);
  out.bound = uint64_t(i128(a.bound) * b.bound);
  for (size_t e = 0; e < ia.size(); ++e) {
    const Lc la = emit() ? a.lc[ia[e]] : Lc(), lb = emit() ? b.lc[ib[e]] : Lc();
    const int64_t av = emit() ? 0 : a.v[ia[e]], bv = emit() ? 0 : b.v[ib[e]];
    const Wire p = product(&la, av, &lb, bv);
    out.wire.push_back(p);
    if (emit()) out.lc.push_back(Lc::of(p));
    else out.v.push_back(av * bv);
  }
  return out;
}

// Division by a computed tensor (Div, Reciprocal), y = a / b rounded half up at a planned scale
// t: with sigma b's sign bit, |b| = (2 sigma - 1) b and a* = (2 sigma - 1) a (one product each;
// linear for a constant a), and with e = t + s_b - s_a split into e1 = max(e, 0) and
// e2 = max(-e, 0), N = 2 a* 2^e1 + |b| 2^e2 and D = 2 |b| 2^e2: q D + r = N with 0 <= r < D
// (both range checked), so q = floor(N / D); a zero divisor leaves no r. q, the output, is
// range checked to act_bits.
QT Lowerer::quotient(const Node& n) {
  const bool recip = n.op == "Reciprocal";
  const std::string& bn = n.inputs.at(recip ? 0 : 1);
  const bool a_const = !recip && is_const(n.inputs.at(0));
  QT& b = materialized(bn, n, true);
  const QT* a = recip || a_const ? nullptr : &materialized(n.inputs[0], n);
  // A constant numerator (1 for Reciprocal) is rounded as weights.
  const Tensor one{{}, {1.0}};
  const Tensor& ac = recip ? one : a_const ? cst(n.inputs[0], n) : one;
  const QConst qa = a ? QConst{} : quantize_weights(n, ac.data);
  const Shape& a_shape = a ? a->shape : ac.shape;
  const int sa = a ? a->scale : qa.scale;
  const uint64_t ba = a ? a->bound : qa.max_abs;
  const Shape shape = broadcast_shape(n, a_shape, b.shape);
  const auto ia = broadcast_index(a_shape, shape), ib = broadcast_index(b.shape, shape);
  const std::string& name = n.outputs.at(0);
  const int t = result_scale(name, std::ldexp(double(ba), b.scale - sa));
  const int e = t + b.scale - sa, e1 = std::max(e, 0), e2 = std::max(-e, 0);
  const i128 n_max = (i128(ba) << (e1 + 1)) + (i128(b.bound) << e2), d_max = i128(b.bound) << (e2 + 1);
  if (e1 > 80 || e2 > 80 || bitlen(n_max) > 120)
    throw ModelError(n.where() + ": the quotient's scales are too far apart (2^" + std::to_string(e) +
                     "); lower --act-bits or --max-scale");
  const unsigned rbits = bitlen(d_max);
  const std::string what = n.where() + ": internal range error", range = range_message(name, t);
  QT out;
  out.shape = shape;
  out.scale = t;
  out.bound = limit() - 1;
  const Fr two = fr_of(2);
  for (size_t k = 0; k < ia.size(); ++k) {
    const int64_t bv = emit() ? 0 : b.v[ib[k]], av = emit() || !a ? 0 : a->v[ia[k]];
    const int64_t acq = a ? 0 : qa.q[ia[k]];
    const Lc sig = Lc::of(b.sign[ib[k]]), bl = Lc::of(b.wire[ib[k]]);
    const bool pos = bv >= 0;
    const Wire pb = product(&sig, pos, &bl, bv);  // sigma b
    Lc astar;
    if (a) {
      const Lc al = emit() ? Lc::of(a->wire[ia[k]]) : Lc();
      const Wire pa = product(&sig, pos, &al, av);
      if (emit()) astar = Lc::of(pa, two) - al;
    } else if (emit()) {
      astar = Lc::of(b.sign[ib[k]], fr_of(2 * acq)) - Lc::constant(fr_of(acq));
    }
    const Wire q = b_.alloc(1), r = b_.alloc(1);
    i128 qv = 0, rv = 0, dv = 0;
    if (emit()) {
      const Lc absb = Lc::of(pb, two) - bl;
      const Lc num = astar * fr_of_wide(i128(2) << e1) + absb * fr_of_wide(i128(1) << e2);
      b_.constrain(Lc::of(q), absb * fr_of_wide(i128(2) << e2), num - Lc::of(r));
    } else {
      if (bv == 0) throw ProveError(n.where() + ": division by zero");
      const i128 absb = pos ? bv : -i128(bv), as = pos ? (a ? av : acq) : -i128(a ? av : acq);
      const i128 num = (as << (e1 + 1)) + (absb << e2);
      dv = absb << (e2 + 1);
      qv = num / dv;
      if (qv * dv > num) --qv;  // floor for a negative numerator
      rv = num - qv * dv;
      if (qv <= -i128(limit()) || qv >= i128(limit())) throw ProveError(range);
      b_.set(q, int64_t(qv));
      b_.set(r, fr_of_wide(rv));
    }
    const Lc ql = Lc::of(q), rl = Lc::of(r);
    const Lc gap = emit() ? Lc::of(pb, fr_of_wide(i128(4) << e2)) - bl * fr_of_wide(i128(2) << e2) -
                                Lc::constant(Fr::one()) - rl
                          : Lc();
    decompose(&rl, rv, 0, rbits, what);                // r >= 0
    decompose(&gap, dv - 1 - rv, 0, rbits, what);      // r < D
    const Wire qs = decompose(&ql, qv, int64_t(limit()), bits_, range) + (bits_ - 1);
    out.wire.push_back(q);
    out.sign.push_back(qs);
    if (emit()) out.lc.push_back(ql);
    else out.v.push_back(int64_t(qv));
  }
  return out;
}

// Gather of a constant table by computed indices (an embedding lookup of token ids): per index,
// one-hot selector bits s_v with sum s_v = 1 and sum v s_v = the index (so it lies in [0, V)),
// and each output element the linear combination sum_v s_v W[v] of the table rounded as weights:
// V + 2 constraints per index, none per looked-up value. The indices must be integers (scale 0:
// an integer model input, or an ArgMax).
QT Lowerer::lookup(const Node& n) {
  const Tensor& data = cst(n.inputs.at(0), n);
  QT& idx = materialized(n.inputs.at(1), n);
  if (idx.scale != 0)
    throw ModelError(n.where() + ": computed indices must be integers (an int64 model input or an ArgMax), not a "
                     "tensor at scale 2^-" + std::to_string(idx.scale));
  if (data.shape.empty()) throw ModelError(n.where() + ": the data must have at least one axis");
  const int64_t axis = normalized_axis(n, n.get_int("axis", 0), data.shape.size());
  const size_t V = size_t(data.shape[size_t(axis)]);
  size_t outer = 1, inner = 1;
  Shape shape;
  for (int64_t d = 0; d < axis; ++d) outer *= size_t(data.shape[size_t(d)]), shape.push_back(data.shape[size_t(d)]);
  for (int64_t d : idx.shape) shape.push_back(d);
  for (size_t d = size_t(axis) + 1; d < data.shape.size(); ++d) inner *= size_t(data.shape[d]), shape.push_back(data.shape[d]);
  shape = bounded_shape(n, shape);
  const QConst qw = quantize_weights(n, data.data);
  QT out = new_linear(shape, qw.scale);
  out.bound = qw.max_abs;
  const size_t count = idx.size();
  for (size_t i = 0; i < count; ++i) {
    const int64_t iv = emit() ? 0 : idx.v[i];
    if (!emit() && (iv < 0 || iv >= int64_t(V)))
      throw ProveError(n.where() + ": index " + std::to_string(iv) + " is outside [0, " + std::to_string(V) + ")");
    const Wire sel = b_.alloc(uint32_t(V));
    Lc sum, index;
    for (size_t v = 0; v < V; ++v) {
      const Lc s = Lc::of(sel + uint32_t(v));
      if (emit()) {
        b_.constrain(s, s - Lc::constant(Fr::one()), Lc());
        sum += s;
        index.add_term(sel + uint32_t(v), fr_of(int64_t(v)));
      } else {
        b_.set(sel + uint32_t(v), int64_t(int64_t(v) == iv));
      }
    }
    if (emit()) {
      b_.constrain_zero(sum - Lc::constant(Fr::one()));
      b_.constrain_zero(index - Lc::of(idx.wire[i]));
    }
    for (size_t o = 0; o < outer; ++o)
      for (size_t k = 0; k < inner; ++k) {
        const size_t e = (o * count + i) * inner + k;
        if (emit()) {
          for (size_t v = 0; v < V; ++v)
            if (const int64_t w = qw.q[(o * V + v) * inner + k]) out.lc[e].add_term(sel + uint32_t(v), fr_of(w));
        } else {
          out.v[e] = qw.q[(o * V + size_t(iv)) * inner + k];
        }
      }
  }
  return out;
}

// Sqrt of x (materialized; a negative value is a proving error naming the node), and Pow's
// exponent 0.5: u = floor(sqrt(x 2^(2t - s))) at a planned scale t, fixed by
// u^2 2^a <= x 2^b < (u + 1)^2 2^a (a = max(s - 2t, 0), b = max(2t - s, 0)) with u and both gaps
// range checked and one product (u^2).
QT Lowerer::square_root(const Node& n, const std::string& input) {
  const QT& x = materialized(input, n);
  const std::string& name = n.outputs.at(0);
  const int t = result_scale(name, std::sqrt(std::ldexp(double(x.bound), -x.scale)));
  const int ea = std::max(x.scale - 2 * t, 0), eb = std::max(2 * t - x.scale, 0);
  if (ea > 80 || eb > 80) throw ModelError(n.where() + ": the root's scale is too far from its input's; lower --max-scale");
  const unsigned ubits = std::min(bits_ - 1, bitlen(isqrt((i128(x.bound) << eb) >> ea)));
  const unsigned gbits = bitlen(((i128(2) << ubits) + 1) << ea);  // both gaps are below (2u + 1) 2^a
  const std::string what = n.where() + ": internal range error", range = range_message(name, t);
  QT out;
  out.shape = x.shape;
  out.scale = t;
  out.bound = (uint64_t{1} << ubits) - 1;
  const Fr pa = fr_of_wide(i128(1) << ea), pb = fr_of_wide(i128(1) << eb);
  for (size_t k = 0; k < x.size(); ++k) {
    const Wire u = b_.alloc(1), uu = b_.alloc(1);
    i128 uv = 0, xs = 0;
    if (!emit()) {
      if (x.v[k] < 0)
        throw ProveError(n.where() + ": Sqrt of a negative value (" + std::to_string(std::ldexp(double(x.v[k]), -x.scale)) + ")");
      xs = i128(x.v[k]) << eb;
      uv = isqrt(xs >> ea);
      b_.set(u, int64_t(uv));
      b_.set(uu, fr_of_wide(uv * uv));
    }
    const Lc ul = Lc::of(u);
    if (emit()) b_.constrain(ul, ul, Lc::of(uu));
    decompose(&ul, uv, 0, ubits, range);
    Lc g1, g2;
    if (emit()) {
      const Lc xl = Lc::of(x.wire[k], pb);
      g1 = xl - Lc::of(uu, pa);
      g2 = (Lc::of(uu) + Lc::of(u, fr_of(2)) + Lc::constant(Fr::one())) * pa - xl - Lc::constant(Fr::one());
    }
    decompose(&g1, xs - ((uv * uv) << ea), 0, gbits, what);
    decompose(&g2, (((uv + 1) * (uv + 1)) << ea) - xs - 1, 0, gbits, what);
    out.wire.push_back(u);
    if (emit()) out.lc.push_back(ul);
    else out.v.push_back(int64_t(uv));
  }
  return out;
}

// Pow with a constant exponent: a small positive integer k as k - 1 exact products (the
// variance of a LayerNormalization written out, x^3 in tanh's GELU), 0.5 as Sqrt.
QT Lowerer::power(const Node& n) {
  const Tensor& ex = cst(n.inputs.at(1), n);
  if (ex.data.size() != 1) throw ModelError(n.where() + ": the exponent must be a single value");
  const double p = ex.data[0];
  if (p == 0.5) return square_root(n, n.inputs[0]);
  if (!(p >= 1 && p <= 8 && p == std::floor(p)))
    throw ModelError(n.where() + ": exponent " + std::to_string(p) + " is not supported (1 to 8, or 0.5)");
  const QT& x = materialized(n.inputs[0], n);
  const auto same = broadcast_index(x.shape, x.shape);
  QT y = x;
  for (int k = 1; k < int(p); ++k) y = products(n, y, same, x, same, x.shape);
  return y;
}

// Where with a constant condition (masked_fill with a fixed mask, as in causal attention): each
// element is taken from X or Y, a computed operand's element at the common (highest) scale, or a
// constant rounded there; -inf makes the element masked (see QT::masked). Free of constraints.
QT Lowerer::where(const Node& n) {
  const Tensor& cond = cst(n.inputs.at(0), n);
  const std::string& xn = n.inputs.at(1);
  const std::string& yn = n.inputs.at(2);
  const int scale = common_scale(n, {xn, yn});
  std::vector<QT> ops;
  std::vector<const Tensor*> consts;
  for (const std::string* s : {&xn, &yn}) {
    if (is_const(*s)) {
      consts.push_back(&cst(*s, n));
      ops.emplace_back();
    } else {
      consts.push_back(nullptr);
      ops.push_back(rescale_up(var(*s, n), scale, n));
    }
  }
  const Shape& xs = consts[0] ? consts[0]->shape : ops[0].shape;
  const Shape& ys = consts[1] ? consts[1]->shape : ops[1].shape;
  const Shape shape = broadcast_shape(n, broadcast_shape(n, cond.shape, xs), ys);
  const auto ic = broadcast_index(cond.shape, shape), ix = broadcast_index(xs, shape), iy = broadcast_index(ys, shape);
  QT out = new_linear(shape, scale);
  for (size_t e = 0; e < ic.size(); ++e) {
    const bool take_x = cond.data[ic[e]] != 0;
    const size_t side = take_x ? 0 : 1, i = take_x ? ix[e] : iy[e];
    if (consts[side]) {
      const double v = consts[side]->data[i];
      if (is_mask_value(v)) {  // -inf, or the float minimum as GPT-2's causal mask writes it
        if (out.masked.empty()) out.masked.assign(ic.size(), 0);
        out.masked[e] = 1;
        continue;
      }
      if (!std::isfinite(v)) throw ModelError(n.where() + ": constant " + std::to_string(v) + " (only -inf, as a mask)");
      const int64_t q = round_to_int(std::ldexp(v, scale), n.where() + " constant");
      add_const(out, e, q);
      out.bound = std::max<uint64_t>(out.bound, uint64_t(std::llabs(q)));
    } else {
      axpy(out, e, 1, ops[side], i);
      out.bound = std::max(out.bound, ops[side].bound);
    }
  }
  return out;
}

// Greater, Less, GreaterOrEqual, LessOrEqual: the sign bit of d = a - b at the common scale
// (a > b is d - 1 >= 0 on integers); Equal: z = [d == 0] from d inv = 1 - z, d z = 0 and
// z inv = 0 (inv is fixed either way). The output is a boolean tensor.
QT Lowerer::compare(const Node& n) {
  const std::string& an = n.inputs.at(0);
  const std::string& bn = n.inputs.at(1);
  for (const std::string* s : {&an, &bn})
    if (is_const(*s))
      for (double v : cst(*s, n).data)
        if (!std::isfinite(v))
          throw ModelError(n.where() + ": constant operand " + std::to_string(v) + " is not finite");
  const int scale = common_scale(n, {an, bn});
  const QT a = at_scale(n, an, scale, " constant"), b = at_scale(n, bn, scale, " constant");
  const Shape shape = broadcast_shape(n, a.shape, b.shape);
  const auto ia = broadcast_index(a.shape, shape), ib = broadcast_index(b.shape, shape);
  const uint64_t bound = a.bound + b.bound + 1;
  check_bound(n, i128(bound));
  const std::string what = n.where() + ": internal range error";
  const bool gt = n.op == "Greater" || n.op == "GreaterOrEqual", strict = n.op == "Greater" || n.op == "Less";
  QT out;
  out.shape = shape;
  out.scale = 0;
  out.bound = 1;
  out.boolean = true;
  for (size_t e = 0; e < ia.size(); ++e) {
    // d = a - b (Greater*) or b - a (Less*), minus 1 when strict: the result is d >= 0.
    Lc d;
    int64_t dv = 0;
    if (emit()) d = gt ? a.lc_at(ia[e]) - b.lc_at(ib[e]) : b.lc_at(ib[e]) - a.lc_at(ia[e]);
    else dv = gt ? a.v[ia[e]] - b.v[ib[e]] : b.v[ib[e]] - a.v[ia[e]];
    Wire z;
    if (n.op == "Equal") {
      z = is_zero(d, dv);
      if (!emit()) dv = dv == 0;
    } else {
      if (strict) {
        if (emit()) d = d - Lc::constant(Fr::one());
        else dv -= 1;
      }
      z = sign_of(&d, dv, bound, what);
      if (!emit()) dv = dv >= 0;
    }
    out.wire.push_back(z);
    if (emit()) out.lc.push_back(Lc::of(z));
    else out.v.push_back(dv);
  }
  return out;
}

// Not, And, Or, Xor on booleans: 1 - a, a b, a + b - a b, a + b - 2 a b (one product each).
QT Lowerer::logic(const Node& n) {
  auto boolean = [&](const std::string& s) -> const QT& {
    if (is_const(s))
      throw ModelError(n.where() + ": constant operand '" + s + "' with a computed one is not supported");
    const QT& x = var(s, n);
    if (!x.boolean) throw ModelError(n.where() + ": input '" + s + "' is not a boolean computed by a comparison");
    return x;
  };
  const QT& a = boolean(n.inputs.at(0));
  QT out;
  out.scale = 0;
  out.bound = 1;
  out.boolean = true;
  if (n.op == "Not") {
    out.shape = a.shape;
    for (size_t e = 0; e < a.size(); ++e) {
      if (emit()) out.lc.push_back(Lc::constant(Fr::one()) - a.lc_at(e));
      else out.v.push_back(1 - a.v[e]);
    }
    return out;
  }
  const QT& b = boolean(n.inputs.at(1));
  out.shape = broadcast_shape(n, a.shape, b.shape);
  const auto ia = broadcast_index(a.shape, out.shape), ib = broadcast_index(b.shape, out.shape);
  for (size_t e = 0; e < ia.size(); ++e) {
    const Lc la = emit() ? a.lc_at(ia[e]) : Lc(), lb = emit() ? b.lc_at(ib[e]) : Lc();
    const int64_t av = emit() ? 0 : a.v[ia[e]], bv = emit() ? 0 : b.v[ib[e]];
    const Wire p = product(&la, av, &lb, bv);
    if (n.op == "And") {
      if (emit()) out.lc.push_back(Lc::of(p));
      else out.v.push_back(av * bv);
    } else {  // Or: a + b - a b; Xor: a + b - 2 a b
      const int64_t k = n.op == "Or" ? 1 : 2;
      if (emit()) out.lc.push_back(la + lb - Lc::of(p, fr_of(k)));
      else out.v.push_back(av + bv - k * av * bv);
    }
  }
  return out;
}

// Where with a computed (boolean) condition c: y = b + c (a - b), one product per element, the
// branches aligned at their highest scale (constants rounded at it).
QT Lowerer::select(const Node& n) {
  const QT& c = var(n.inputs.at(0), n);
  if (!c.boolean)
    throw ModelError(n.where() + ": the condition '" + n.inputs[0] +
                     "' is computed but not by a comparison (Greater, Less, Equal, ...) or logic op");
  // An attention mask: Where(c, C, 0) or Where(c, 0, C) with C a mask value (and x in place of 0:
  // x where kept), dropping the elements where c picks C.
  for (size_t i : {1, 2}) {
    if (!is_const(n.inputs[i])) continue;
    const std::vector<double>& d = cst(n.inputs[i], n).data;
    const auto first = std::find_if(d.begin(), d.end(), is_mask_value);
    if (first == d.end()) continue;
    const std::string& other = n.inputs[3 - i];
    const bool zeros = is_const(other) && std::all_of(cst(other, n).data.begin(), cst(other, n).data.end(),
                                                      [](double v) { return v == 0; });
    if (!std::all_of(d.begin(), d.end(), is_mask_value) || (is_const(other) && !zeros))
      throw computed_mask(n, "chooses by a computed condition the constant", *first);
    const Shape& os = is_const(other) ? cst(other, n).shape : var(other, n).shape;
    const Shape shape = broadcast_shape(n, broadcast_shape(n, c.shape, cst(n.inputs[i], n).shape), os);
    QT mask = drop_mask(n, n.inputs[0], c, broadcast_index(c.shape, shape), shape, i == 2);
    if (zeros) return mask;
    const QT& x = var(other, n);
    QT out = new_linear(shape, x.scale);
    out.bound = x.bound;
    const auto ix = broadcast_index(x.shape, shape);
    for (size_t e = 0; e < ix.size(); ++e) axpy(out, e, 1, x, ix[e]);
    out.drop_lc = std::move(mask.drop_lc);
    out.drop_v = std::move(mask.drop_v);
    zero_dropped(out);
    return out;
  }
  for (size_t i : {1, 2})
    if (is_const(n.inputs[i]))
      for (double v : cst(n.inputs[i], n).data)
        if (!std::isfinite(v)) throw ModelError(n.where() + ": constant " + std::to_string(v) + " is not finite");
  if (is_const(n.inputs.at(1)) && is_const(n.inputs.at(2)))
    throw ModelError(n.where() + ": both branches are constants: write the selection as arithmetic on the condition");
  const int scale = common_scale(n, {n.inputs[1], n.inputs[2]});
  const QT a = at_scale(n, n.inputs[1], scale, " constant"), b = at_scale(n, n.inputs[2], scale, " constant");
  const uint64_t bound = std::max(a.bound, b.bound);
  check_bound(n, i128(bound) * 2);
  const Shape shape = broadcast_shape(n, broadcast_shape(n, c.shape, a.shape), b.shape);
  const auto ic = broadcast_index(c.shape, shape), ia = broadcast_index(a.shape, shape),
             ib = broadcast_index(b.shape, shape);
  QT out = new_linear(shape, scale);
  out.bound = bound;
  for (size_t e = 0; e < ic.size(); ++e) {
    const Lc cl = emit() ? c.lc_at(ic[e]) : Lc();
    const int64_t cv = emit() ? 0 : c.v[ic[e]];
    const Lc diff = emit() ? a.lc_at(ia[e]) - b.lc_at(ib[e]) : Lc();
    const int64_t dv = emit() ? 0 : a.v[ia[e]] - b.v[ib[e]];
    const Wire p = product(&cl, cv, &diff, dv);
    if (emit()) out.lc[e] = b.lc_at(ib[e]) + Lc::of(p);
    else out.v[e] = b.v[ib[e]] + cv * dv;
  }
  return out;
}

// ---- nonlinear ops ------------------------------------------------------------------------------

QT Lowerer::relu(const Node& n) {
  QT& x = materialized(n.inputs.at(0), n, true);
  QT out;
  out.shape = x.shape;
  out.scale = x.scale;
  out.bound = x.bound;
  for (size_t e = 0; e < x.size(); ++e) {
    const Lc s = Lc::of(x.sign[e]), q = Lc::of(x.wire[e]);
    const int64_t qv = emit() ? 0 : x.v[e];
    const int64_t sv = qv >= 0 ? 1 : 0;
    const Wire y = product(&s, sv, &q, qv);
    out.wire.push_back(y);
    if (emit()) out.lc.push_back(Lc::of(y));
    else out.v.push_back(sv * qv);
  }
  return out;
}

// Abs: |x| = 2 (sigma x) - x with x's sign bit sigma, one product per element.
QT Lowerer::absolute(const Node& n) {
  QT& x = materialized(n.inputs.at(0), n, true);
  QT out = new_linear(x.shape, x.scale);
  out.bound = x.bound;
  for (size_t e = 0; e < x.size(); ++e) {
    const Lc s = Lc::of(x.sign[e]), q = Lc::of(x.wire[e]);
    const int64_t qv = emit() ? 0 : x.v[e];
    const Wire p = product(&s, qv >= 0, &q, qv);
    if (emit()) out.lc[e] = Lc::of(p, fr_of(2)) - q;
    else out.v[e] = qv >= 0 ? qv : -qv;
  }
  return out;
}

QT Lowerer::leaky_relu(const Node& n) {
  QT& x = materialized(n.inputs.at(0), n, true);
  return leaky(n, x, {n.get_float("alpha", 0.01)}, std::vector<size_t>(x.size(), 0));
}

// PRelu: LeakyRelu with a slope per element, a constant (a learned parameter) broadcast to x.
QT Lowerer::prelu(const Node& n) {
  if (!is_const(n.inputs.at(1)))
    throw ModelError(n.where() + ": the slope '" + n.inputs[1] +
                     "' is computed; only a constant slope (a learned parameter) is supported");
  const Tensor& slope = cst(n.inputs[1], n);
  QT& x = materialized(n.inputs.at(0), n, true);
  return leaky(n, x, slope.data, slope_index(n, x.shape, slope.shape));
}

// x (materialized, with sign bits) times 1 where x >= 0 and times alphas[at[e]] below; the slopes
// and 1 are rounded as one weight tensor. One product per element.
QT Lowerer::leaky(const Node& n, const QT& x, std::vector<double> alphas, const std::vector<size_t>& at) {
  alphas.push_back(1.0);
  const QConst qa = quantize_weights(n, alphas);
  const int64_t one = qa.q.back();
  QT out;
  out.shape = x.shape;
  out.scale = x.scale + qa.scale;
  check_bound(n, i128(x.bound) * qa.max_abs);
  out.bound = uint64_t(i128(x.bound) * qa.max_abs);
  for (size_t e = 0; e < x.size(); ++e) {
    // y = q * (a + s * (one - a)): q * one where q >= 0, q * a below.
    const int64_t a = qa.q[at[e]];
    const Lc q = Lc::of(x.wire[e]);
    const Lc f = Lc::constant(fr_of(a)) + Lc::of(x.sign[e], fr_of(one - a));
    const int64_t qv = emit() ? 0 : x.v[e];
    const Wire y = product(&q, qv, &f, qv >= 0 ? one : a);
    out.wire.push_back(y);
    if (emit()) out.lc.push_back(Lc::of(y));
    else out.v.push_back(qv * (qv >= 0 ? one : a));
  }
  return out;
}

// The max of each group of elements: a chain of max(m, b) = b + relu(m - b).
QT Lowerer::max_of(const QT& x, const std::vector<std::vector<size_t>>& groups, const Shape& shape, bool min) {
  QT out;
  out.shape = shape;
  out.scale = x.scale;
  out.bound = x.bound;
  const std::string what = "max: internal range error";
  for (const auto& grp : groups) {
    Lc m = emit() ? x.lc_at(grp[0]) : Lc();
    int64_t mv = emit() ? 0 : x.v[grp[0]];
    for (size_t j = 1; j < grp.size(); ++j)  // max(m, b) = b + relu(m - b), min(m, b) = b - relu(b - m)
      clamp(m, mv, emit() ? x.lc_at(grp[j]) : Lc(), emit() ? 0 : x.v[grp[j]], min, 2 * x.bound, what);
    if (emit()) out.lc.push_back(m);
    else out.v.push_back(mv);
  }
  return out;
}

QT Lowerer::clip(const Node& n) {
  double lo = -INFINITY, hi = INFINITY;
  if (g_.opset < 11) {
    lo = n.get_float("min", lo);
    hi = n.get_float("max", hi);
  } else {
    if (n.inputs.size() > 1 && !n.inputs[1].empty()) lo = cst(n.inputs[1], n).data.at(0);
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) hi = cst(n.inputs[2], n).data.at(0);
  }
  return clip_to(n, materialized(n.inputs.at(0), n), lo, hi);
}

// x (materialized) clamped to [lo, hi], the bounds rounded at x's scale.
QT Lowerer::clip_to(const Node& n, const QT& x, double lo, double hi) {
  QT out;
  out.shape = x.shape;
  out.scale = x.scale;
  const double lim = std::ldexp(double(x.bound), -x.scale);
  const bool use_lo = lo > -lim, use_hi = hi < lim;  // a bound outside the range costs nothing
  const int64_t lq = use_lo ? round_to_int(std::ldexp(lo, x.scale), n.where()) : 0;
  const int64_t hq = use_hi ? round_to_int(std::ldexp(hi, x.scale), n.where()) : 0;
  uint64_t bound = std::max<uint64_t>({x.bound, uint64_t(std::llabs(lq)), uint64_t(std::llabs(hq))});
  if (use_lo && use_hi) bound = std::max<uint64_t>(std::llabs(lq), std::llabs(hq));
  out.bound = bound;
  const std::string what = n.where() + ": internal range error";
  for (size_t e = 0; e < x.size(); ++e) {
    Lc c = emit() ? Lc::of(x.wire[e]) : Lc();
    int64_t cv = emit() ? 0 : x.v[e];
    if (use_lo) clamp(c, cv, lq, false, x.bound + uint64_t(std::llabs(lq)), what);
    if (use_hi) clamp(c, cv, hq, true, x.bound + uint64_t(std::llabs(hq)) + uint64_t(std::llabs(lq)), what);
    if (emit()) out.lc.push_back(c);
    else out.v.push_back(cv);
  }
  return out;
}

// HardSigmoid, max(0, min(1, alpha x + beta)), as alpha clip(x, lo, hi) + beta with [lo, hi] the
// inputs that alpha x + beta maps into [0, 1]: a Clip's cost, then a product by a constant.
// HardSwish, x HardSigmoid(x) with alpha 1/6 and beta 1/2, adds one product per element.
QT Lowerer::hard_sigmoid(const Node& n, bool swish) {
  const double alpha = swish ? 1.0 / 6 : n.get_float("alpha", 0.2);
  const double beta = swish ? 0.5 : n.get_float("beta", 0.5);
  if (alpha == 0 || !std::isfinite(alpha) || !std::isfinite(beta))
    throw ModelError(n.where() + ": alpha must be a finite nonzero number (alpha 0 makes a constant)");
  double lo = -beta / alpha, hi = (1 - beta) / alpha;
  if (lo > hi) std::swap(lo, hi);
  const QT& x = materialized(n.inputs.at(0), n);
  const QT c = clip_to(n, x, lo, hi);
  const QConst qa = quantize_weights(n, {alpha});
  QT h = new_linear(c.shape, c.scale + qa.scale);
  const int64_t bq = round_to_int(std::ldexp(beta, h.scale), n.where() + " beta");
  check_bound(n, i128(c.bound) * qa.max_abs + std::llabs(bq));
  h.bound = uint64_t(i128(c.bound) * qa.max_abs + std::llabs(bq));
  for (size_t e = 0; e < c.size(); ++e) {
    axpy(h, e, qa.q[0], c, e);
    add_const(h, e, bq);
  }
  if (!swish) return h;
  const auto same = broadcast_index(x.shape, x.shape);
  return products(n, x, same, h, same, x.shape);
}

QT Lowerer::max_pool(const Node& n) {
  QT& x = materialized(n.inputs.at(0), n);
  const Window2d g = pool_geometry(n, x.shape);
  std::vector<std::vector<size_t>> groups;
  for (int64_t nc = 0; nc < g.n * g.c; ++nc)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        std::vector<size_t> grp;
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t iy = g.in_y(oy, ky), ix = g.in_x(ox, kx);
            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) grp.push_back(size_t((nc * g.h + iy) * g.w + ix));
          }
        if (grp.empty()) throw ModelError(n.where() + ": a pooling window lies entirely in the padding");
        groups.push_back(std::move(grp));
      }
  return max_of(x, groups, g.out_shape(g.c));
}

// GlobalMaxPool: ReduceMax over the spatial axes of [N, C, ...], kept as 1s.
QT Lowerer::global_max_pool(const Node& n) {
  const QT& x = materialized(n.inputs.at(0), n);
  const GlobalPool p = global_pool_geometry(n, x.shape);
  return max_of(x, global_groups(p), p.shape);
}

// The global pools' groups: each (n, c)'s `area` contiguous elements.
std::vector<std::vector<size_t>> Lowerer::global_groups(const GlobalPool& p) {
  std::vector<std::vector<size_t>> groups(p.groups, std::vector<size_t>(p.area));
  for (size_t i = 0; i < p.groups; ++i) std::iota(groups[i].begin(), groups[i].end(), i * p.area);
  return groups;
}

QT Lowerer::average_pool(const Node& n, bool global) {
  const QT& x = var(n.inputs.at(0), n);
  std::vector<std::vector<size_t>> groups;
  std::vector<int64_t> counts;
  Shape shape;
  if (global) {
    const GlobalPool p = global_pool_geometry(n, x.shape);
    groups = global_groups(p);
    counts.assign(p.groups, int64_t(p.area));
    shape = p.shape;
  } else {
    const Window2d g = pool_geometry(n, x.shape);
    const bool include_pad = n.get_int("count_include_pad", 0) != 0;
    for (int64_t nc = 0; nc < g.n * g.c; ++nc)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          std::vector<size_t> grp;
          int64_t count = 0;
          for (int64_t ky = 0; ky < g.kh; ++ky)
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t iy = g.in_y(oy, ky), ix = g.in_x(ox, kx);
              if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
                grp.push_back(size_t((nc * g.h + iy) * g.w + ix));
                ++count;
              } else if (include_pad && iy < g.h + g.pad_bottom && ix < g.w + g.pad_right) {
                ++count;
              }
            }
          if (count == 0) throw ModelError(n.where() + ": a pooling window lies entirely in the padding");
          groups.push_back(std::move(grp));
          counts.push_back(count);
        }
    shape = g.out_shape(g.c);
  }
  return mean_of(n, x, groups, counts, shape);
}

// Each group's sum divided by its count. Equal power-of-two counts (1 included: a plain sum)
// divide exactly by a scale shift; others multiply by 1/count rounded to weight_bits.
QT Lowerer::mean_of(const Node& n, const QT& x, const std::vector<std::vector<size_t>>& groups,
                    const std::vector<int64_t>& counts, const Shape& shape) {
  const bool pow2_count = std::all_of(counts.begin(), counts.end(), [&](int64_t c) {
    return c == counts[0] && std::has_single_bit(uint64_t(c));
  });
  std::vector<int64_t> mult(counts.size(), 1);
  int extra = 0;
  if (pow2_count) {
    extra = int(std::countr_zero(uint64_t(counts[0])));
  } else {
    extra = int(spec_.options.weight_bits) - 1;
    for (size_t i = 0; i < counts.size(); ++i)
      mult[i] = round_to_int(std::ldexp(1.0 / double(counts[i]), extra), n.where());
  }
  QT out = new_linear(shape, x.scale + extra);
  i128 worst = 0;
  for (size_t o = 0; o < groups.size(); ++o) {
    for (size_t i : groups[o]) axpy(out, o, mult[o], x, i);
    worst = std::max(worst, i128(x.bound) * i128(groups[o].size()) * mult[o]);
  }
  check_bound(n, worst);
  out.bound = uint64_t(worst);
  return out;
}

ConstInput Lowerer::operands(const Node& n) const {
  return [this, &n](size_t i) -> const Tensor* {
    return i < n.inputs.size() && !n.inputs[i].empty() ? &cst(n.inputs[i], n) : nullptr;
  };
}

QT Lowerer::reduce(const Node& n) {
  if (n.op == "ReduceMax" || n.op == "ReduceMin") {  // the max gadget over each group's wires
    const QT& x = materialized(n.inputs.at(0), n);
    const Reduction r = reduction(n, x.shape, operands(n));
    QT out = max_of(x, r.groups, r.shape, n.op == "ReduceMin");
    out.boolean = x.boolean;  // opset 20's boolean inputs: the max (any) and min (all) of 0s and 1s
    return out;
  }
  const QT& x = var(n.inputs.at(0), n);
  const Reduction r = reduction(n, x.shape, operands(n));
  std::vector<int64_t> counts(r.groups.size(), 1);
  if (n.op == "ReduceMean")
    for (size_t o = 0; o < counts.size(); ++o) counts[o] = int64_t(r.groups[o].size());
  return mean_of(n, x, r.groups, counts, r.shape);
}

// Unsqueeze, Squeeze, Slice, Gather, Pad, Expand, Tile, Split, DepthToSpace, SpaceToDepth: elements
// move (materialized ones keep their wires and sign bits); Pad's fill value enters as a constant
// rounded at the tensor's scale.
QT Lowerer::moved(const Node& n, size_t output) {
  const ConstInput c = operands(n);
  for (size_t i = 1; i < n.inputs.size(); ++i) c(i);  // computed axes, indices or pads: a clear error
  const QT& x = var(n.inputs.at(0), n);
  const Movement m = movement(n, x.shape, g_.opset, c, output);
  if (std::none_of(m.from.begin(), m.from.end(), [](int64_t k) { return k < 0; }))
    return reorder(x, m.shape, std::vector<size_t>(m.from.begin(), m.from.end()));
  if (x.has_drop()) throw ModelError(n.where() + ": pads a tensor holding an attention mask computed from the inputs");
  const int64_t fill = round_to_int(std::ldexp(pad_value(n, g_.opset, c), x.scale), n.where() + " pad value");
  const uint64_t bound = std::max<uint64_t>(x.bound, uint64_t(std::llabs(fill)));
  check_bound(n, i128(bound));
  if (!x.materialized()) {
    QT out = new_linear(m.shape, x.scale);
    out.bound = bound;
    for (size_t e = 0; e < m.from.size(); ++e) {
      if (m.from[e] < 0) add_const(out, e, fill);
      else axpy(out, e, 1, x, size_t(m.from[e]));
    }
    return out;
  }
  // A materialized input stays materialized (a pool after the Pad reads wires, and would
  // otherwise range check every element again): one wire, fixed by one constraint, holds the
  // fill value. Sign bits do not carry over.
  const Wire fw = b_.alloc(1);
  if (emit()) b_.constrain_zero(Lc::of(fw) - Lc::constant(fr_of(fill)));
  else b_.set(fw, fill);
  QT out;
  out.shape = m.shape;
  out.scale = x.scale;
  out.bound = bound;
  for (int64_t k : m.from) {
    const Wire w = k < 0 ? fw : x.wire[size_t(k)];
    out.wire.push_back(w);
    if (emit()) out.lc.push_back(Lc::of(w));
    else out.v.push_back(k < 0 ? fill : x.v[size_t(k)]);
  }
  return out;
}

// CumSum along a constant axis: each output element a free linear combination of its line's
// elements up to it (exclusive, reverse as ONNX defines them).
QT Lowerer::cumsum(const Node& n) {
  if (!is_const(n.inputs.at(1)))
    throw ModelError(n.where() + ": the axis '" + n.inputs[1] + "' is computed; it must be a constant");
  const QT& x = var(n.inputs[0], n);
  const CumSum g = cumsum_geometry(n, x.shape, operands(n));
  const AxisLines& l = g.lines;
  check_bound(n, i128(x.bound) * i128(l.len));
  QT out = new_linear(x.shape, x.scale);
  out.bound = uint64_t(i128(x.bound) * i128(l.len));
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t i = 0; i < l.inner; ++i)
      for (size_t k = 0; k < l.len; ++k)
        for (size_t j = g.from(k); j < g.to(k); ++j) axpy(out, l.at(o, i, k), 1, x, l.at(o, i, j));
  return out;
}

QT Lowerer::neg(const Node& n) {
  const QT& x = var(n.inputs.at(0), n);
  QT out = new_linear(x.shape, x.scale);
  out.bound = x.bound;
  for (size_t e = 0; e < x.size(); ++e) axpy(out, e, -1, x, e);
  return out;
}

QT Lowerer::reorder(const QT& x, const Shape& shape, const std::vector<size_t>& from) {
  QT out;
  out.shape = shape;
  out.scale = x.scale;
  out.bound = x.bound;
  out.boolean = x.boolean;
  for (size_t i : from) {
    if (!x.lc.empty()) out.lc.push_back(x.lc[i]);
    if (!x.v.empty()) out.v.push_back(x.v[i]);
    if (!x.wire.empty()) out.wire.push_back(x.wire[i]);
    if (!x.sign.empty()) out.sign.push_back(x.sign[i]);
    if (!x.masked.empty()) out.masked.push_back(x.masked[i]);
    out.copy_drop(x, i);
  }
  return out;
}

QT Lowerer::concat(const Node& n) {
  // Computed inputs meet at the highest of their scales; constant inputs (a learned token, say)
  // are rounded at that scale and enter as constant linear combinations.
  const int scale = common_scale(n, n.inputs);
  std::vector<QT> parts;
  std::vector<Shape> shapes;
  for (const auto& in : n.inputs) {
    parts.push_back(at_scale(n, in, scale, " constant input"));
    shapes.push_back(parts.back().shape);
  }
  Shape shape;
  const int64_t axis = concat_axis(n, shapes, &shape);
  QT out;
  out.shape = shape;
  out.scale = scale;
  bool all_wires = true;
  for (const QT& p : parts) {
    out.bound = std::max(out.bound, p.bound);
    all_wires = all_wires && p.materialized();
  }
  size_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= size_t(shape[size_t(d)]);
  for (size_t o = 0; o < outer; ++o)
    for (const QT& p : parts) {
      const size_t chunk = p.size() / outer;
      for (size_t i = o * chunk; i < (o + 1) * chunk; ++i) {
        if (emit()) out.lc.push_back(p.lc_at(i));
        else out.v.push_back(p.v[i]);
        if (all_wires) out.wire.push_back(p.wire[i]);
      }
    }
  return out;
}

QT Lowerer::batch_norm(const Node& n) {
  if (n.get_int("training_mode", 0) != 0) throw ModelError(n.where() + ": training_mode is not supported");
  const QT& x = var(n.inputs.at(0), n);
  if (x.shape.size() < 2) throw ModelError(n.where() + ": input needs a channel axis");
  const size_t c = size_t(x.shape[1]);
  const Tensor* p[4];
  for (size_t i = 0; i < 4; ++i) {
    p[i] = &cst(n.inputs.at(i + 1), n);
    if (p[i]->data.size() != c) throw ModelError(n.where() + ": scale, B, mean and var need " + std::to_string(c) + " values");
  }
  const double eps = n.get_float("epsilon", 1e-5);
  // y = a x + (B - mean a), a = scale / sqrt(var + eps): a per-channel affine map, so it folds
  // into the linear combination of a preceding Conv or Gemm.
  std::vector<double> a(c), shift(c);
  for (size_t i = 0; i < c; ++i) {
    if (p[3]->data[i] + eps <= 0) throw ModelError(n.where() + ": variance + epsilon is not positive");
    a[i] = p[0]->data[i] / std::sqrt(p[3]->data[i] + eps);
    shift[i] = p[1]->data[i] - p[2]->data[i] * a[i];
  }
  const QConst qa = quantize_weights(n, a);
  QT out = new_linear(x.shape, x.scale + qa.scale);
  size_t inner = 1;
  for (size_t d = 2; d < x.shape.size(); ++d) inner *= size_t(x.shape[d]);
  uint64_t smax = 0;
  std::vector<int64_t> sq(c);
  for (size_t i = 0; i < c; ++i) {
    sq[i] = round_to_int(std::ldexp(shift[i], out.scale), n.where());
    smax = std::max<uint64_t>(smax, uint64_t(std::llabs(sq[i])));
  }
  for (size_t e = 0; e < x.size(); ++e) {
    const size_t ch = (e / inner) % c;
    axpy(out, e, qa.q[ch], x, e);
    add_const(out, e, sq[ch]);
  }
  check_bound(n, i128(x.bound) * qa.max_abs + smax);
  out.bound = uint64_t(i128(x.bound) * qa.max_abs + smax);
  return out;
}

// LayerNormalization on exact integers. For a line of N elements q_i (x materialized at scale s):
// D_i = N q_i - sum_j q_j = N (x_i - mean) 2^s, and W = sum D_i^2 = N^3 var 2^2s (one product per
// element). With V = W + E, E = eps N^3 2^2s rounded (at least 1), r = floor(2^m / sqrt(V)) is
// fixed by r^2 V <= 2^2m < (r + 1)^2 V (r and both gaps range checked, a few hundred
// constraints per line), and P_i = D_i r = 2^m z_i / sqrt(N) with z_i = (x_i - mean) /
// sqrt(var + eps'); |P_i| <= 2^m since D_i^2 <= W (N - 1) / N. Then y_i = g_i P_i + b_i with
// g = Scale sqrt(N) rounded as weights and B rounded at the product's scale m + s_g. m gives r
// act_bits + 2 bits at the largest variance x's bound allows, as far as the 62-bit witness
// arithmetic lets it; V itself is held in 128 bits (it reaches 2^100). The output is rounded to
// its planned scale. RMSNormalization is the same without the mean (normalized_lines).
QT Lowerer::layer_norm(const Node& n) {
  const bool centered = n.op == "LayerNormalization";
  const Tensor& scale = cst(n.inputs.at(1), n);
  const Tensor* bias = centered && n.inputs.size() > 2 && !n.inputs[2].empty() ? &cst(n.inputs[2], n) : nullptr;
  const QT& x = materialized(n.inputs.at(0), n);
  const LayerNorm geo = layer_norm_geometry(n, g_.opset, x.shape, scale.shape, bias ? &bias->shape : nullptr);
  std::vector<double> gamma(geo.lines.len), beta;
  for (size_t k = 0; k < gamma.size(); ++k) gamma[k] = scale.data[geo.scale_at[k]];
  if (bias)
    for (size_t k = 0; k < gamma.size(); ++k) beta.push_back(bias->data[geo.bias_at[k]]);
  return normalized_lines(n, x, geo.lines, geo.epsilon, gamma, beta, centered);
}

// InstanceNormalization: LayerNormalization's method on the spatial lines of each (n, c), line o
// taking channel o % C's scale and B.
QT Lowerer::instance_norm(const Node& n) {
  const Tensor& scale = cst(n.inputs.at(1), n);
  const Tensor& bias = cst(n.inputs.at(2), n);
  const QT& x = materialized(n.inputs.at(0), n);
  const InstanceNorm geo = instance_norm_geometry(n, x.shape, scale.shape, bias.shape);
  std::vector<double> gamma, beta;
  for (size_t o = 0; o < geo.lines.outer; ++o) {
    gamma.insert(gamma.end(), geo.lines.len, scale.data[o % geo.channels]);
    beta.insert(beta.end(), geo.lines.len, bias.data[o % geo.channels]);
  }
  return normalized_lines(n, x, geo.lines, geo.epsilon, gamma, beta);
}

// The lines of x normalized (LayerNormalization's method above), times gamma plus beta (empty:
// none), element k of line o taking gamma[k] and beta[k], or gamma[o N + k] and beta[o N + k]
// where they hold one value per element of every line. Not centred (RMSNormalization), D_i is
// N q_i: W = N^2 sum q_i^2 = N^3 mean(x^2) 2^2s takes the variance's place, and |P_i| <= 2^m
// still holds (D_i^2 <= W), with |z_i| up to sqrt(N).
QT Lowerer::normalized_lines(const Node& n, const QT& x, const AxisLines& lines, double epsilon,
                             const std::vector<double>& gamma_in, const std::vector<double>& beta, bool centered) {
  const size_t N = lines.len;
  if (lines.inner != 1 || (gamma_in.size() != N && gamma_in.size() != lines.outer * N) ||
      (!beta.empty() && beta.size() != gamma_in.size()))
    throw ModelError(n.where() + ": internal error: normalization lines and factors do not match");
  auto at = [&](size_t o, size_t k) { return gamma_in.size() == N ? k : o * N + k; };
  const double root_n = std::sqrt(double(N));
  std::vector<double> gamma(gamma_in.size());
  for (size_t k = 0; k < gamma.size(); ++k) gamma[k] = gamma_in[k] * root_n;
  const QConst qg = quantize_weights(n, gamma);
  const long double n3 = static_cast<long double>(N) * N * N;
  const long double e_real = std::ldexp(n3 * epsilon, 2 * x.scale);
  const long double w_max = n3 * static_cast<long double>(x.bound) * static_cast<long double>(x.bound);
  if (!(w_max + e_real < std::ldexp(1.0L, 100)))
    throw ModelError(n.where() + ": " + std::to_string(N) + " elements per line at this scale exceed the 128-bit sum of "
                     "squares; lower --act-bits");
  const i128 E = std::max<i128>(1, i128(std::nearbyint(e_real)));
  const i128 v_max = i128(n3) * i128(x.bound) * i128(x.bound) + E;
  const unsigned vbits = bitlen(isqrt(v_max) + 1);
  const int m_cap = 61 - int(bitlen(qg.max_abs));
  int m = std::min(int(bits_) + 2 + int(vbits), m_cap);
  // B enters at the product's scale m + s_g: where it is large against gamma (|B| >> |gamma| sqrt N)
  // that scale could carry it past the witness arithmetic, so 1/sqrt(V) gets fewer bits instead.
  long double b_max = 0;
  for (double b : beta) b_max = std::max(b_max, static_cast<long double>(std::fabs(b)));
  auto b_fits = [&](int mm) {  // round_to_int's range for B, and the sum's bound
    const long double bq = std::ldexp(b_max, mm + qg.scale);
    return bq < 4.0e18L && bq + std::ldexp(static_cast<long double>(qg.max_abs), mm) + 1 < kMaxBound;
  };
  while (m > 0 && !b_fits(m)) --m;
  if (m - int(vbits) < 8)
    throw ModelError(n.where() + ": " + std::to_string(N) + " elements per line leave too few bits for the normalization "
                     "in the 62-bit witness arithmetic; lower --act-bits or --weight-bits");
  const i128 C = i128(1) << (2 * m);
  const unsigned rbits = bitlen(isqrt(C / E));
  const unsigned gbits = bitlen((i128(2) << m) * (isqrt(v_max) + 1) + v_max);  // both gaps are below (2r + 1) V
  QT out = new_linear(x.shape, m + qg.scale);
  std::vector<int64_t> bq(gamma.size(), 0);
  uint64_t bmax = 0;
  for (size_t k = 0; k < beta.size(); ++k) {
    bq[k] = round_to_int(std::ldexp(beta[k], out.scale), n.where() + " B");
    bmax = std::max<uint64_t>(bmax, uint64_t(std::llabs(bq[k])));
  }
  check_bound(n, (i128(qg.max_abs) << m) + bmax);
  out.bound = uint64_t((i128(qg.max_abs) << m) + bmax);
  if (planning_) {
    // |y' - LayerNorm(x')| at the circuit's own input x': r's floor (relative 1 / r <= sqrt(V) /
    // 2^m on |z| <= sqrt(N - 1)), eps rounded to eps', Scale and B rounded.
    const double eps2 = std::ldexp(double(E), -2 * x.scale) / double(n3);
    const double zmax = std::sqrt(double(centered ? N - 1 : N));
    const double ez = zmax * (std::ldexp(std::sqrt(double(v_max)), -m) +
                               std::fabs(eps2 - epsilon) / (2 * std::min(eps2, epsilon)));
    double err = 0;
    for (size_t k = 0; k < gamma.size(); ++k) {
      const double gk = std::ldexp(double(qg.q[k]), -qg.scale) / root_n;
      const double bk = beta.empty() ? 0.0 : std::fabs(std::ldexp(double(bq[k]), -out.scale) - beta[k]);
      err = std::max(err, std::fabs(gk) * ez + std::fabs(gk - gamma_in[k]) * zmax + bk);
    }
    spec_.approximations.push_back({n.name, centered ? "LayerNormalization" : "RMSNormalization", err});
  }
  const std::string what = n.where() + ": internal range error";
  const Fr c_fr = fr_of_wide(C);
  for (size_t o = 0; o < lines.outer; ++o) {
    const size_t base = o * N;
    Lc sum;
    int64_t sumv = 0;
    for (size_t k = 0; centered && k < N; ++k) {
      if (emit()) sum.add_term(x.wire[base + k], Fr::one());
      else sumv += x.v[base + k];
    }
    std::vector<Lc> d(emit() ? N : 0);
    std::vector<int64_t> dv(N, 0);
    Lc V = Lc::constant(fr_of_wide(E));
    i128 vv = E;
    for (size_t k = 0; k < N; ++k) {  // D_k and D_k^2
      const Wire sq = b_.alloc(1);
      if (emit()) {
        d[k] = Lc::of(x.wire[base + k], fr_of(int64_t(N))) - sum;
        b_.constrain(d[k], d[k], Lc::of(sq));
        V.add_term(sq, Fr::one());
      } else {
        dv[k] = int64_t(N) * x.v[base + k] - sumv;
        b_.set(sq, fr_of_wide(i128(dv[k]) * dv[k]));
        vv += i128(dv[k]) * dv[k];
      }
    }
    // r with r^2 V <= C < (r + 1)^2 V, that is r = isqrt(floor(C / V)).
    const Wire r = b_.alloc(1);
    const i128 rv = emit() ? 0 : isqrt(C / vv);
    if (!emit()) b_.set(r, int64_t(rv));
    const Lc rl = Lc::of(r);
    decompose(&rl, rv, 0, rbits, what);
    const Wire rr = b_.alloc(1);  // r^2 reaches 2^2m: held in 128 bits
    if (emit()) b_.constrain(rl, rl, Lc::of(rr));
    else b_.set(rr, fr_of_wide(rv * rv));
    const Wire g1 = b_.alloc(1), g2 = b_.alloc(1);
    const i128 g1v = emit() ? 0 : C - rv * rv * vv, g2v = emit() ? 0 : (rv + 1) * (rv + 1) * vv - C - 1;
    if (emit()) {
      b_.constrain(Lc::of(rr), V, Lc::constant(c_fr) - Lc::of(g1));
      b_.constrain(Lc::of(rr) + Lc::of(r, fr_of(2)) + Lc::constant(Fr::one()), V,
                   Lc::constant(c_fr + Fr::one()) + Lc::of(g2));
    } else {
      b_.set(g1, fr_of_wide(g1v));
      b_.set(g2, fr_of_wide(g2v));
    }
    const Lc g1l = Lc::of(g1), g2l = Lc::of(g2);
    decompose(&g1l, g1v, 0, gbits, what);
    decompose(&g2l, g2v, 0, gbits, what);
    for (size_t k = 0; k < N; ++k) {  // y = g P + b
      const size_t e = base + k;
      const Wire p = product(emit() ? &d[k] : nullptr, dv[k], &rl, int64_t(rv));
      const size_t f = at(o, k);
      if (emit()) out.lc[e] = Lc::of(p, fr_of(qg.q[f])) + Lc::constant(fr_of(bq[f]));
      else out.v[e] = qg.q[f] * int64_t(dv[k] * rv) + bq[f];
    }
  }
  // At scale m + s_g the values fill most of the 62 bits: rounded to the output's planned scale
  // here, so that a product by a constant or an Add after it (a written-out LayerNorm's Scale
  // and B) stays within the witness arithmetic.
  materialize(out, n.outputs.at(0), false);
  return out;
}

// Piecewise-linear interpolation of f over [x0, x0 + 2^D) for inputs c / 2^s (x0 a multiple of
// 2^-s): the segment is read
// from the top bits of z = c - x0 2^s (decomposed into L = s + D bits), its value and slope are
// multilinear polynomials in those bits (2^segment_bits - segment_bits - 1 product wires), and
// y = value + slope * (z's low bits) at scale S = s + weight_bits - 2 (slopes near 1 or below).
// The error against f over every input integer is computed exhaustively at compile time.
struct Interpolation {
  int s = 0, S = 0;
  int64_t lo = 0;  // the c of the domain's first point, x0 2^s
  unsigned L = 0, gbits = 0, obits = 0;
  std::vector<int64_t> aq, bq;  // value (scale S) and slope (scale S - s) per segment
  std::vector<int64_t> ca, cb;  // their multilinear coefficients over the segment bits
  uint64_t ybound = 0;          // |y| <= ybound
  // y's integer for a c in the domain.
  int64_t at(int64_t c) const {
    const uint64_t z = uint64_t(c - lo);
    const size_t j = size_t(z >> obits);
    return aq[j] + bq[j] * int64_t(z & ((uint64_t{1} << obits) - 1));
  }
};

Interpolation Lowerer::interpolation(const Node& n, double (*f)(double), double x0, unsigned D, int s) const {
  if (s < 0) throw ModelError(n.where() + ": input scale too coarse for the approximation (raise --act-bits)");
  Interpolation t;
  t.s = s;
  t.L = unsigned(s) + D;
  if (t.L > 60) throw ModelError(n.where() + ": input scale too fine for the approximation");
  t.lo = round_to_int(std::ldexp(x0, s), n.where());
  t.gbits = std::min(spec_.options.segment_bits, t.L);
  t.obits = t.L - t.gbits;
  const size_t segs = size_t{1} << t.gbits;
  const double width = std::ldexp(1.0, int(D) - int(t.gbits));
  const int sb = int(spec_.options.weight_bits) - 2;
  t.S = s + sb;
  t.aq.resize(segs);
  t.bq.resize(segs);
  uint64_t amax = 0, bmax = 0;
  for (size_t j = 0; j < segs; ++j) {
    const double a = std::ldexp(double(t.lo), -s) + double(j) * width, y0 = f(a), y1 = f(a + width);
    t.aq[j] = round_to_int(std::ldexp(y0, t.S), n.where());
    t.bq[j] = round_to_int(std::ldexp((y1 - y0) / width, sb), n.where());
    amax = std::max<uint64_t>(amax, uint64_t(std::llabs(t.aq[j])));
    bmax = std::max<uint64_t>(bmax, uint64_t(std::llabs(t.bq[j])));
  }
  t.ybound = amax + bmax * (uint64_t{1} << t.obits);
  // Multilinear coefficients (Moebius transform of the tables over the index bits).
  t.ca = t.aq;
  t.cb = t.bq;
  for (unsigned b = 0; b < t.gbits; ++b)
    for (size_t m = 0; m < segs; ++m)
      if (m >> b & 1) t.ca[m] -= t.ca[m ^ (size_t{1} << b)], t.cb[m] -= t.cb[m ^ (size_t{1} << b)];
  return t;
}

// The largest |A(c) / 2^S - f(x)| over every x in the domain (each x maps to the integer below
// it), and beyond it where the input is clamped: below the domain f tends to `below` (A there
// is the first point's), above it to `above` (A the last point's).
double interpolation_error(const Interpolation& t, double (*f)(double), double below, double above) {
  double err = 0;
  const int64_t end = t.lo + (int64_t{1} << t.L);
  for (int64_t c = t.lo; c < end; ++c) {
    const double a = std::ldexp(double(t.at(c)), -t.S), xr = std::ldexp(double(c), -t.s);
    err = std::max({err, std::fabs(a - f(xr)), std::fabs(a - f(xr + std::ldexp(1.0, -t.s)))});
  }
  return std::max({err, std::fabs(below - std::ldexp(double(t.at(t.lo)), -t.S)),
                   std::fabs(above - std::ldexp(double(t.at(end - 1)), -t.S))});
}

// One interpolated element: y = A(c) for c (emit: linear combination; eval: value cv) already
// within the domain. Returns y's wire; its value is t.at(cv).
Wire Lowerer::interpolate(const Interpolation& t, const Lc& c, int64_t cv, const std::string& what) {
  const Lc z = emit() ? c - Lc::constant(fr_of(t.lo)) : Lc();
  const int64_t zv = cv - t.lo;
  const Wire zb = decompose(&z, zv, 0, t.L, what);
  Lc off;
  for (unsigned i = 0; i < t.obits && emit(); ++i) off.add_term(zb + i, pow2(i));
  const size_t segs = size_t{1} << t.gbits;
  const size_t seg = size_t(zv >> t.obits);
  // Monomials over the index bits: mono[m] = prod of bits in m (mono[0] = 1).
  std::vector<Lc> mono(emit() ? segs : 0);
  if (emit()) {
    mono[0] = Lc::constant(Fr::one());
    for (unsigned b = 0; b < t.gbits; ++b) mono[size_t{1} << b] = Lc::of(zb + t.obits + b);
  }
  for (size_t m = 1; m < segs; ++m) {
    if (std::has_single_bit(m)) continue;
    const size_t top = std::bit_floor(m), rest = m ^ top;
    const Lc bit = emit() ? mono[top] : Lc(), rl = emit() ? mono[rest] : Lc();
    const Wire w = product(&rl, (seg & rest) == rest, &bit, (seg & top) != 0);
    if (emit()) mono[m] = Lc::of(w);
  }
  Lc A, B;
  if (emit())
    for (size_t m = 0; m < segs; ++m) {
      A += mono[m] * fr_of(t.ca[m]);
      B += mono[m] * fr_of(t.cb[m]);
    }
  // y = A + B * off
  const Wire y = b_.alloc(1);
  if (emit()) b_.constrain(B, off, Lc::of(y) - A);
  else b_.set(y, t.at(cv));
  return y;
}

// Tanh, Erf (GELU's part) and Sigmoid(x) = (1 + tanh(x / 2)) / 2 interpolated over [-4, 4),
// saturating outside (both functions are odd and within 2e-8 of +-1 beyond 4 for erf, 7e-4 for
// tanh: the bound covers it).
QT Lowerer::tanh_like(const Node& n) {
  const bool sigmoid = n.op == "Sigmoid";
  using Fn = double (*)(double);
  const Fn f = n.op == "Erf" ? static_cast<Fn>(std::erf) : static_cast<Fn>(std::tanh);
  QT& x = materialized(n.inputs.at(0), n);
  // f's argument: x itself, or x / 2 for the sigmoid (the same integers at one more bit of scale).
  const Interpolation t = interpolation(n, f, -4, 3, x.scale + (sigmoid ? 1 : 0));
  if (planning_) {
    const double err = interpolation_error(t, f, -1.0, 1.0);
    spec_.approximations.push_back({n.name, n.op, sigmoid ? err / 2 : err});
  }
  const int64_t T = -t.lo;
  QT out;
  out.shape = x.shape;
  out.scale = sigmoid ? t.S + 1 : t.S;
  out.bound = sigmoid ? t.ybound + (uint64_t{1} << t.S) : t.ybound;
  check_bound(n, i128(out.bound));
  const std::string what = n.where() + ": internal range error";
  const uint64_t cbound = x.bound + uint64_t(T);
  for (size_t e = 0; e < x.size(); ++e) {
    Lc c = emit() ? Lc::of(x.wire[e]) : Lc();
    int64_t cv = emit() ? 0 : x.v[e];
    clamp(c, cv, -T, false, cbound, what);        // c >= -T
    clamp(c, cv, T - 1, true, 2 * cbound, what);  // c <= T - 1
    const Wire y = interpolate(t, c, cv, what);
    const int64_t yv = emit() ? 0 : t.at(cv);
    if (sigmoid) {  // (y + 2^S) / 2: one more bit of scale
      if (emit()) out.lc.push_back(Lc::of(y) + Lc::constant(fr_of(int64_t{1} << t.S)));
      else out.v.push_back(yv + (int64_t{1} << t.S));
    } else {
      out.wire.push_back(y);
      if (emit()) out.lc.push_back(Lc::of(y));
      else out.v.push_back(yv);
    }
  }
  return out;
}

// Softmax inside the graph (attention): per group along the axis, m = max (the max gadget),
// e_i = exp(x_i - m) interpolated over (-8, 0] (below it e^-8 or less, which the stated bound
// covers), and y_i = floor(e_i 2^k / sum_j e_j) by a division gadget: q sum + r = e_i 2^k with
// 0 <= r < sum (two range checks) and q in [0, 2^k], at scale k = act_bits - 2. A Softmax that
// only feeds model outputs is cheaper: proved as its logits (see run()).
QT Lowerer::softmax(const Node& n) {
  QT& x = materialized(n.inputs.at(0), n);
  const AxisLines l = softmax_lines(n, x.shape, g_.opset);
  std::vector<std::vector<size_t>> groups;  // the unmasked elements of each line
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t i = 0; i < l.inner; ++i) {
      std::vector<size_t> grp;
      for (size_t k = 0; k < l.len; ++k)
        if (!x.is_masked(l.at(o, i, k))) grp.push_back(l.at(o, i, k));
      if (grp.empty()) throw ModelError(n.where() + ": every element of a line is masked (-inf): its softmax is undefined");
      groups.push_back(std::move(grp));
    }
  size_t len = 0;
  for (const auto& grp : groups) len = std::max(len, grp.size());
  // With an attention mask computed from the inputs (drop bits), the maximum is taken of
  // x - drop D, D above twice x's bound, so that it is the largest kept element's; each dropped
  // element's exp is then multiplied by 0. A line must keep at least one element.
  const bool dropping = x.has_drop();
  QT xd = new_linear(x.shape, x.scale);
  if (dropping) {
    const uint64_t D = 2 * x.bound + 1;
    check_bound(n, 2 * (i128(x.bound) + D));
    xd.bound = x.bound + D;
    for (size_t e = 0; e < x.size(); ++e) {
      if (emit()) xd.lc[e] = Lc::of(x.wire[e]) - x.drop_lc[e] * fr_of(int64_t(D));
      else xd.v[e] = x.v[e] - x.drop_v[e] * int64_t(D);
    }
  }
  const QT& xm = dropping ? xd : x;
  const QT m = max_of(xm, groups, {int64_t(groups.size())});
  using Fn = double (*)(double);
  const Fn f = static_cast<Fn>(std::exp);
  // The domain (-8, 0]: its last integer is 0, the shift of the group's maximum.
  const Interpolation t = interpolation(n, f, std::ldexp(1.0, -x.scale) - 8.0, 3, x.scale);
  if (planning_) spec_.approximations.push_back({n.name, n.op, interpolation_error(t, f, 0.0, 1.0)});
  const unsigned k = bits_ - 2;
  const uint64_t sum_bound = t.ybound * len;
  check_bound(n, i128(t.ybound) << k);
  check_bound(n, i128(sum_bound));
  const unsigned nb = bitlen(sum_bound);
  const std::string what = n.where() + ": internal range error";
  QT out;
  out.shape = x.shape;
  out.scale = int(k);
  out.bound = uint64_t{1} << k;
  out.wire.resize(x.size());
  if (emit()) out.lc.resize(x.size());
  else out.v.resize(x.size());
  if (!x.masked.empty()) {  // masked elements are exactly 0: one wire fixed to 0
    const Wire zero = b_.alloc(1);
    if (emit()) b_.constrain_zero(Lc::of(zero));
    for (size_t e = 0; e < x.size(); ++e)
      if (x.masked[e]) {
        out.wire[e] = zero;
        if (emit()) out.lc[e] = Lc::of(zero);
      }
  }
  const uint64_t dbound = 2 * xm.bound;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto& grp = groups[gi];
    std::vector<Wire> ew(grp.size());
    std::vector<int64_t> ev(grp.size());
    Lc sum;
    int64_t sumv = 0;
    if (dropping) {  // not every element dropped: the product of the drop bits is 0
      if (!emit() && std::all_of(grp.begin(), grp.end(), [&](size_t e) { return x.drop_v[e] == 1; }))
        throw ProveError(n.where() + ": the attention mask computed from the inputs drops every element of line " +
                         std::to_string(gi) + ": its softmax is undefined");
      Lc all = emit() ? x.drop_lc[grp[0]] : Lc();
      int64_t allv = emit() ? 0 : x.drop_v[grp[0]];
      for (size_t j = 1; j < grp.size(); ++j) {
        const Lc b = emit() ? x.drop_lc[grp[j]] : Lc();
        const Wire p = product(&all, allv, &b, emit() ? 0 : x.drop_v[grp[j]]);
        allv = emit() ? 0 : allv * x.drop_v[grp[j]];
        all = emit() ? Lc::of(p) : Lc();
      }
      if (emit()) b_.constrain_zero(all);
    }
    for (size_t j = 0; j < grp.size(); ++j) {
      // d = x - m <= 0, clamped from below to the domain's first point.
      Lc d = emit() ? xm.lc_at(grp[j]) - m.lc[gi] : Lc();
      int64_t dv = emit() ? 0 : xm.v[grp[j]] - m.v[gi];
      clamp(d, dv, t.lo, false, dbound + uint64_t(-t.lo), what);
      ew[j] = interpolate(t, d, dv, what);
      ev[j] = emit() ? 0 : t.at(dv);
      if (dropping) {  // kept: e; dropped: 0
        const Lc keep = emit() ? Lc::constant(Fr::one()) - x.drop_lc[grp[j]] : Lc(), e = emit() ? Lc::of(ew[j]) : Lc();
        const int64_t kv = emit() ? 0 : 1 - x.drop_v[grp[j]];
        ew[j] = product(&keep, kv, &e, ev[j]);
        ev[j] *= kv;
      }
      if (emit()) sum.add_term(ew[j], Fr::one());
      sumv += ev[j];
    }
    for (size_t j = 0; j < grp.size(); ++j) {
      const Wire q = b_.alloc(1), r = b_.alloc(1);
      int64_t qv = 0, rv = 0;
      if (emit()) {
        b_.constrain(Lc::of(q), sum, Lc::of(ew[j], pow2(k)) - Lc::of(r));
      } else {
        const int64_t num = ev[j] << k;
        qv = num / sumv;
        rv = num - qv * sumv;
        b_.set(q, qv);
        b_.set(r, rv);
      }
      const Lc rl = emit() ? Lc::of(r) : Lc(), gap = emit() ? sum - Lc::constant(Fr::one()) - Lc::of(r) : Lc();
      decompose(&rl, rv, 0, nb, what);                 // r >= 0
      decompose(&gap, sumv - 1 - rv, 0, nb, what);     // r < sum
      const Lc ql = emit() ? Lc::of(q) : Lc();
      decompose(&ql, qv, 0, k + 1, what);              // q in [0, 2^(k+1))
      out.wire[grp[j]] = q;
      if (emit()) out.lc[grp[j]] = Lc::of(q);
      else out.v[grp[j]] = qv;
    }
  }
  return out;
}

// ArgMax: one-hot selector bits s_i with sum 1, m = sum s_i x_i, and for every j
// m - x_j - [j before the chosen index] >= 0 (first index wins ties; last with
// select_last_index). The index sum i s_i is the output.
QT Lowerer::argmax(const Node& n) {
  QT& x = materialized(n.inputs.at(0), n);
  const int64_t axis = normalized_axis(n, n.get_int("axis", 0), x.shape.size());
  const bool keep = n.get_int("keepdims", 1) != 0, last = n.get_int("select_last_index", 0) != 0;
  const AxisLines l = axis_lines(x.shape, axis);
  const size_t len = l.len;
  QT out;
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (int64_t(d) != axis) out.shape.push_back(x.shape[d]);
    else if (keep) out.shape.push_back(1);
  out.scale = 0;
  out.bound = len - 1;
  const std::string what = n.where() + ": internal range error";
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t i = 0; i < l.inner; ++i) {
      auto at = [&](size_t k) { return l.at(o, i, k); };
      size_t best = 0;
      if (!emit())
        for (size_t k = 1; k < len; ++k)
          if (x.v[at(k)] > x.v[at(best)] || (last && x.v[at(k)] == x.v[at(best)])) best = k;
      const Wire sel = b_.alloc(uint32_t(len));
      Lc sum, index, m;
      int64_t mv = emit() ? 0 : x.v[at(best)];
      for (size_t k = 0; k < len; ++k) {
        const Lc s = Lc::of(sel + uint32_t(k));
        if (emit()) {
          b_.constrain(s, s - Lc::constant(Fr::one()), Lc());
          sum += s;
          index.add_term(sel + uint32_t(k), fr_of(int64_t(k)));
        } else {
          b_.set(sel + uint32_t(k), int64_t(k == best));
        }
        const Lc xl = emit() ? Lc::of(x.wire[at(k)]) : Lc();
        const Wire p = product(&s, k == best, &xl, emit() ? 0 : x.v[at(k)]);
        if (emit()) m.add_term(p, Fr::one());
      }
      if (emit()) b_.constrain_zero(sum - Lc::constant(Fr::one()));
      const unsigned bits = bitlen(2 * x.bound + 1) + 1;
      for (size_t j = 0; j < len; ++j) {
        // [j before the chosen index] = sum of selectors after j (before j with select_last_index)
        Lc d;
        int64_t before = 0;
        if (emit()) {
          d = m - Lc::of(x.wire[at(j)]);
          for (size_t k = 0; k < len; ++k)
            if (last ? k < j : k > j) d.add_term(sel + uint32_t(k), -Fr::one());
        } else {
          before = last ? (best < j) : (best > j);
        }
        decompose(&d, emit() ? 0 : mv - x.v[at(j)] - before, 0, bits, what);
      }
      if (emit()) out.lc.push_back(index);
      else out.v.push_back(int64_t(best));
    }
  return out;
}

// ---- driver -------------------------------------------------------------------------------------

void Lowerer::run(const TensorMap* inputs) {
  consts_ = g_.constants;
  // Which tensors are graph outputs, and Softmax nodes that only feed outputs.
  std::set<std::string> graph_outputs;
  for (const auto& o : g_.outputs) graph_outputs.insert(o.name);
  std::map<std::string, int> uses;
  for (const Node& n : g_.nodes)
    for (const auto& in : n.inputs) ++uses[in];
  std::map<std::string, std::string> softmax_input;  // softmax output -> its input
  for (const Node& n : g_.nodes) {  // a Softmax that only feeds outputs; others get the gadget
    if (n.op == "Softmax" && graph_outputs.count(n.outputs.at(0)) && uses[n.outputs[0]] == 0)
      softmax_input[n.outputs[0]] = n.inputs.at(0);
  }

  // Inputs: quantized, range checked, public or private.
  uint32_t next_in = 0;
  std::vector<Lc> input_lcs;
  for (const ValueInfo& in : g_.inputs) {
    QT t;
    t.shape = in.shape;
    if (planning_) {
      double r = spec_.options.input_range;
      if (ranges_) {
        auto it = ranges_->find(in.name);
        if (it == ranges_->end()) throw ModelError("calibration has no range for input '" + in.name + "'");
        r = it->second;
      }
      t.scale = in.integer || in.boolean
                    ? 0
                    : std::min(scale_for(r * spec_.options.headroom, bits_), spec_.options.max_scale);
      spec_.plan[in.name] = t.scale;
      spec_.inputs.push_back({in.name, in.shape, t.scale, 0});
    } else {
      t.scale = spec_.plan.at(in.name);
    }
    t.bound = in.boolean ? 1 : limit() - 1;
    const Tensor* x = nullptr;
    if (!emit()) {
      auto it = inputs->find(in.name);
      if (it == inputs->end()) throw ProveError("input '" + in.name + "' is missing");
      if (it->second.shape != in.shape)
        throw ProveError("input '" + in.name + "' has shape " + shape_str(it->second.shape) + ", the model expects " +
                         shape_str(in.shape));
      x = &it->second;
    }
    const std::string what = "input '" + in.name + "' holds a value outside the range the model was compiled for (|x| < " +
                             std::to_string(std::ldexp(double(limit()), -t.scale)) + ")";
    for (size_t e = 0; e < element_count(in.shape); ++e, ++next_in) {
      const Wire w = spec_.options.private_inputs ? b_.private_input_wire(next_in) : b_.public_input_wire(next_in);
      t.wire.push_back(w);
      int64_t q = 0;
      if (!emit()) {
        const double xv = x->data[e];
        if (!std::isfinite(xv) || std::fabs(std::ldexp(xv, t.scale)) >= double(limit())) throw ProveError(what);
        if (in.integer && xv != std::nearbyint(xv))
          throw ProveError("input '" + in.name + "' is an integer input of the model: " + std::to_string(xv) +
                           " is not an integer");
        if (in.boolean && xv != 0 && xv != 1)
          throw ProveError("input '" + in.name + "' is a bool input of the model: " + std::to_string(xv) +
                           " is not 0 or 1");
        q = round_to_int(std::ldexp(xv, t.scale), what);
        b_.set(w, q);
        t.v.push_back(q);
      } else {
        t.lc.push_back(Lc::of(w));
      }
      const Lc wl = Lc::of(w);
      if (in.boolean) {  // 0 or 1, proved: a Where condition or an Attention mask
        if (emit()) b_.constrain(wl, wl - Lc::constant(Fr::one()), Lc());
      } else {
        t.sign.push_back(decompose(&wl, q, int64_t(limit()), bits_, what) + (bits_ - 1));
      }
      input_lcs.push_back(wl);
    }
    t.boolean = in.boolean;
    vars_[in.name] = std::move(t);
  }

  // Written-out LayerNormalizations and RMSNormalizations: decided at their first node, where x's
  // shape is known.
  std::map<const Node*, WrittenLayerNorm> written_at;  // first node -> pattern
  for (const WrittenLayerNorm& p : written_layer_norms(g_)) written_at[p.inner.front()] = p;
  std::set<const Node*> fused_away;                                        // its other nodes
  std::map<const Node*, std::pair<WrittenLayerNorm, AxisLines>> fused_at;  // the node giving z

  if (planning_) spec_.layers.push_back({"(inputs)", "", {}, 0, b_.constraint_count()});
  for (const Node& n : g_.nodes) {
    if (fused_away.count(&n)) continue;
    if (auto w = written_at.find(&n);  // (a masked x is left to the op-by-op lowering, which refuses it)
        w != written_at.end() && vars_.count(w->second.x) && vars_.at(w->second.x).masked.empty() &&
        !vars_.at(w->second.x).has_drop()) {
      if (const auto lines = written_layer_norm_lines(w->second, vars_.at(w->second.x).shape, g_)) {
        const WrittenLayerNorm& p = w->second;
        fused_away.insert(p.inner.begin(), p.inner.end());
        fused_at[p.out] = {p, *lines};
        continue;
      }
    }
    // Shapes are static: Shape's output is a constant even where its input is computed.
    if (n.op == "Shape") {
      const std::string& in = n.inputs.at(0);
      const Tensor shape_only{is_const(in) ? cst(in, n).shape : var(in, n).shape, {}};  // Shape reads no values
      consts_[n.outputs.at(0)] = evaluate_node(n, {{in, shape_only}}, g_.opset);
      continue;
    }
    // Constant folding: a node whose inputs are all constants is evaluated in float.
    const bool all_const = std::all_of(n.inputs.begin(), n.inputs.end(),
                                       [&](const std::string& s) { return s.empty() || is_const(s); });
    if (all_const) {
      std::vector<Tensor> outs = evaluate_outputs(n, consts_, g_.opset);
      for (size_t i = 0; i < outs.size(); ++i)
        if (!n.outputs[i].empty()) consts_[n.outputs[i]] = std::move(outs[i]);
      continue;
    }
    const std::string& op = n.op;
    static const std::set<std::string> kMaskReaders = {"Softmax",   "Reshape",   "Flatten", "Identity", "Dropout",
                                                       "Transpose", "Unsqueeze", "Squeeze", "Add",      "Sub"};
    if (!kMaskReaders.count(op))
      for (const auto& in : n.inputs)
        if (auto it = vars_.find(in); it != vars_.end() && !it->second.masked.empty())
          throw ModelError(n.where() + ": input '" + in +
                           "' holds -inf elements (an attention mask): only a Softmax, or an Add, reshape or "
                           "transpose on the way to one, may read it");
    static const std::set<std::string> kDropReaders = {"Softmax", "Reshape",   "Flatten",   "Identity",
                                                       "Dropout", "Transpose", "Unsqueeze", "Squeeze",
                                                       "Expand",  "Cast",      "Add",       "Sub"};
    if (!kDropReaders.count(op))
      for (const auto& in : n.inputs)
        if (auto it = vars_.find(in); it != vars_.end() && it->second.has_drop())
          throw ModelError(n.where() + ": input '" + in +
                           "' holds an attention mask computed from the inputs: only an Add, a reshape, transpose "
                           "or expand on the way to a Softmax, or the Softmax, may read it");
    const uint32_t before = b_.constraint_count();
    QT out;
    if (op == "Gemm") out = gemm(n);
    else if (op == "MatMul") out = matmul(n);
    else if (op == "Conv") out = conv(n);
    else if (op == "ConvTranspose") out = conv_transpose(n);
    else if (op == "Resize" || op == "Upsample") out = resize(n);
    else if (op == "Add" || op == "Sub") out = add_sub(n, op == "Sub");
    else if (op == "Sum" || op == "Mean") out = sum_mean(n);
    else if (op == "Max" || op == "Min") out = max_min(n);
    else if (auto f = fused_at.find(&n); f != fused_at.end()) {
      const auto& [p, lines] = f->second;
      out = normalized_lines(n, materialized(p.x, n), lines, p.epsilon, std::vector<double>(lines.len, 1.0), {},
                             p.centered);
    } else if (op == "Mul" || op == "Div") out = mul_div(n, op == "Div");
    else if (op == "Relu") out = relu(n);
    else if (op == "LeakyRelu") out = leaky_relu(n);
    else if (op == "PRelu") out = prelu(n);
    else if (op == "Clip") out = clip(n);
    else if (op == "MaxPool") out = max_pool(n);
    else if (op == "AveragePool") out = average_pool(n, false);
    else if (op == "GlobalAveragePool") out = average_pool(n, true);
    else if (op == "GlobalMaxPool") out = global_max_pool(n);
    else if (op == "Flatten" || op == "Reshape" || op == "Identity" || op == "Dropout") {
      const QT& x = var(n.inputs.at(0), n);
      Shape shape = x.shape;
      if (op == "Flatten") shape = flatten_shape(n, x.shape);
      if (op == "Reshape") shape = reshape_shape(n, x.shape, cst(n.inputs.at(1), n).data);
      out = x;
      out.shape = shape;
    } else if (op == "Transpose") {
      const QT& x = var(n.inputs.at(0), n);
      const auto perm = transpose_perm(n, x.shape);
      const Shape shape = transpose_shape(x.shape, perm);
      const auto st = strides_of(x.shape);
      std::vector<size_t> from(x.size());
      std::vector<int64_t> pos(shape.size(), 0);
      for (size_t e = 0; e < from.size(); ++e) {
        size_t k = 0;
        for (size_t d = 0; d < perm.size(); ++d) k += size_t(pos[d]) * st[size_t(perm[d])];
        from[e] = k;
        for (size_t d = pos.size(); d-- > 0;) {
          if (++pos[d] < shape[d]) break;
          pos[d] = 0;
        }
      }
      out = reorder(x, shape, from);
    } else if (op == "Concat") out = concat(n);
    else if (op == "BatchNormalization") out = batch_norm(n);
    else if (op == "LayerNormalization" || op == "RMSNormalization") out = layer_norm(n);
    else if (op == "InstanceNormalization") out = instance_norm(n);
    else if (op == "Sqrt") out = square_root(n, n.inputs.at(0));
    else if (op == "Abs") out = absolute(n);
    else if (op == "Pow") out = power(n);
    else if (op == "Reciprocal") out = quotient(n);
    else if (op == "Sigmoid" || op == "Tanh" || op == "Erf") out = tanh_like(n);
    else if (op == "HardSigmoid" || op == "HardSwish") out = hard_sigmoid(n, op == "HardSwish");
    else if (op == "ArgMax") out = argmax(n);
    else if (op == "Softmax") {
      if (softmax_input.count(n.outputs.at(0))) {  // an output's: proved as its input (see above) ...
        if (var(n.inputs.at(0), n).masked.empty() && !var(n.inputs[0], n).has_drop()) continue;
        softmax_input.erase(n.outputs[0]);  // ... unless masked: -inf is no public value
      }
      out = softmax(n);
    } else if (op == "Where") out = is_const(n.inputs.at(0)) ? where(n) : select(n);
    else if (op == "Greater" || op == "Less" || op == "GreaterOrEqual" || op == "LessOrEqual" || op == "Equal")
      out = compare(n);
    else if (op == "Not" || op == "And" || op == "Or" || op == "Xor") out = logic(n);
    else if (op == "Gather" && is_const(n.inputs.at(0))) out = lookup(n);
    else if (op == "Unsqueeze" || op == "Squeeze" || op == "Slice" || op == "Gather" || op == "Pad" || op == "Expand" ||
             op == "Tile" || op == "DepthToSpace" || op == "SpaceToDepth")
      out = moved(n, 0);
    else if (op == "Split") {
      for (size_t i = 1; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty()) vars_[n.outputs[i]] = moved(n, i);
      out = moved(n, 0);
    } else if (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin")
      out = reduce(n);
    else if (op == "Neg") out = neg(n);
    else if (op == "CumSum") out = cumsum(n);
    else if (op == "Cast") {
      const int64_t to = n.get_int("to", 0);
      const QT& x = var(n.inputs.at(0), n);
      // FLOAT, DOUBLE: the fixed-point values stay as they are; a boolean (0 or 1) is any type;
      // BOOL of another tensor: whether each element is nonzero.
      if (to == 9 && !x.boolean) {
        if (x.has_drop()) throw ModelError(n.where() + ": casts an attention mask computed from the inputs to bool");
        out = nonzero(x);
      } else if (to != 1 && to != 11 && !x.boolean)
        throw ModelError(n.where() + ": a cast of a computed tensor to element type " + std::to_string(to) +
                         " is not supported (only to float, double or bool, and booleans to any type)");
      else out = x;
    } else if (op == "ConstantOfShape")
      throw ModelError(n.where() + ": its shape input must be a constant");
    else throw ModelError(n.where() + ": op is not supported");
    if (planning_) {  // a written-out normalization's constraints are its last node's, under the op it proves
      const auto f = fused_at.find(&n);
      spec_.layers.push_back({n.name, f != fused_at.end() ? f->second.first.op() : n.op, out.shape, out.scale,
                              b_.constraint_count() - before});
    }
    vars_[n.outputs.at(0)] = std::move(out);
  }

  // Outputs: materialized at their planned scale and copied to the public output wires.
  uint32_t next_out = 0;
  std::vector<OutputSpec> outs;
  const uint32_t before_outputs = b_.constraint_count();
  for (const auto& o : g_.outputs) {
    const bool sm = softmax_input.count(o.name) != 0;
    const std::string src = sm ? softmax_input[o.name] : o.name;
    if (is_const(src)) throw ModelError("output '" + o.name + "' is a constant: nothing to prove");
    QT& t = vars_.at(src);
    if (!t.masked.empty()) throw ModelError("output '" + o.name + "' holds -inf elements (an attention mask): nothing to prove");
    if (t.has_drop())
      throw ModelError("output '" + o.name +
                       "' holds an attention mask computed from the inputs: only a Softmax may read it");
    materialize(t, src, false);
    OutputSpec os{o.name, t.shape, t.scale, sm, next_out};
    for (size_t e = 0; e < t.size(); ++e, ++next_out) {
      const Wire w = b_.output_wire(next_out);
      if (emit()) b_.constrain_zero(Lc::of(w) - Lc::of(t.wire[e]));
      else b_.set(w, t.v[e]);
    }
    outs.push_back(os);
  }
  if (spec_.options.private_inputs) {
    const Wire w = b_.output_wire(next_out);
    const Lc c = poseidon_commit_gadget(b_, input_lcs);
    if (emit()) b_.constrain_zero(Lc::of(w) - c);
    else b_.set(w, b_.value(c));
  }
  if (planning_) {
    spec_.layers.push_back({"(outputs" + std::string(spec_.options.private_inputs ? ", input commitment)" : ")"), "", {}, 0,
                            b_.constraint_count() - before_outputs});
    spec_.outputs = outs;
    uint32_t next_pub_in = next_out + (spec_.options.private_inputs ? 1 : 0);
    for (auto& in : spec_.inputs) {
      in.first_signal = spec_.options.private_inputs ? 0 : next_pub_in;
      next_pub_in += uint32_t(element_count(in.shape));
    }
  }
}

uint32_t input_count(const Graph& g) {
  uint64_t n = 0;
  for (const auto& in : g.inputs) n += element_count(in.shape);
  return uint32_t(n);
}

}  // namespace

std::vector<WrittenLayerNorm> written_layer_norms(const Graph& g) {
  std::map<std::string, const Node*> producer;
  std::map<std::string, int> uses;
  for (const Node& n : g.nodes) {
    for (const auto& o : n.outputs) producer[o] = &n;
    for (const auto& in : n.inputs) ++uses[in];
  }
  for (const auto& o : g.outputs) uses[o.name] += 1000;  // a graph output is never an intermediate
  auto made_by = [&](const std::string& t, const char* op, int n_uses) -> const Node* {
    auto it = producer.find(t);
    if (it == producer.end() || it->second->op != op || uses[t] != n_uses) return nullptr;
    return it->second;
  };
  auto scalar = [&](const std::string& t) -> std::optional<double> {
    auto it = g.constants.find(t);
    if (it == g.constants.end() || it->second.data.size() != 1) return std::nullopt;
    return it->second.data[0];
  };
  std::map<const Node*, size_t> index;  // position in graph order
  for (size_t i = 0; i < g.nodes.size(); ++i) index[&g.nodes[i]] = i;
  std::vector<WrittenLayerNorm> out;
  for (const Node& z : g.nodes) {
    if ((z.op != "Div" && z.op != "Mul") || z.inputs.size() != 2) continue;
    WrittenLayerNorm p;
    p.out = &z;
    std::string c;  // the numerator
    const Node* sqrt = nullptr;
    if (z.op == "Div") {
      c = z.inputs[0];
      sqrt = made_by(z.inputs[1], "Sqrt", 1);
    } else {
      for (size_t i : {1, 0}) {  // c times 1 / s, either way round
        const Node* r = made_by(z.inputs[i], "Reciprocal", 1);
        if (!r) {
          r = made_by(z.inputs[i], "Div", 1);
          if (r && (r->inputs.size() != 2 || scalar(r->inputs[0]) != 1.0)) r = nullptr;
        }
        if (!r || !(sqrt = made_by(r->inputs.back(), "Sqrt", 1))) continue;
        p.inner.push_back(r);
        c = z.inputs[1 - i];
        break;
      }
    }
    if (!sqrt) continue;
    const Node* add = made_by(sqrt->inputs.at(0), "Add", 1);
    if (!add || add->inputs.size() != 2) continue;
    const bool eps_first = scalar(add->inputs[0]).has_value();
    const std::optional<double> eps = scalar(add->inputs[eps_first ? 0 : 1]);
    if (!eps || !(*eps > 0)) continue;
    p.epsilon = *eps;
    if (!(p.var = made_by(add->inputs[eps_first ? 1 : 0], "ReduceMean", 1))) continue;
    const Node* sq = made_by(p.var->inputs.at(0), "Pow", 1);
    if (sq && (sq->inputs.size() != 2 || scalar(sq->inputs[1]) != 2.0 || sq->inputs[0] != c)) continue;
    if (!sq && (!(sq = made_by(p.var->inputs.at(0), "Mul", 1)) || sq->inputs != std::vector<std::string>{c, c}))
      continue;
    // c is x - mean where a Sub of x and ReduceMean(x) gives it for these nodes alone; otherwise
    // c is x itself (RMSNorm), which the rest of the graph may read too.
    const Node* sub = made_by(c, "Sub", sq->op == "Mul" ? 3 : 2);
    const Node* mean = sub && sub->inputs.size() == 2 ? made_by(sub->inputs[1], "ReduceMean", 1) : nullptr;
    p.centered = mean && mean->inputs.at(0) == sub->inputs[0];
    if (p.centered) {
      p.mean = mean;
      p.x = sub->inputs[0];
      if (p.mean->get_int("keepdims", 1) == 0) continue;
      for (const Node* m : {mean, sub}) p.inner.push_back(m);
    } else {
      p.x = c;
    }
    if (p.var->get_int("keepdims", 1) == 0) continue;
    for (const Node* m : {sq, p.var, add, sqrt}) p.inner.push_back(m);
    std::sort(p.inner.begin(), p.inner.end(), [&](const Node* u, const Node* v) { return index[u] < index[v]; });
    out.push_back(p);
  }
  return out;
}

std::optional<AxisLines> written_layer_norm_lines(const WrittenLayerNorm& p, const Shape& x, const Graph& g) {
  auto groups = [&](const Node& n) -> std::optional<std::vector<std::vector<size_t>>> {
    const ConstInput c = [&](size_t i) -> const Tensor* {
      if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
      auto it = g.constants.find(n.inputs[i]);
      if (it == g.constants.end()) throw ModelError(n.where() + ": computed axes");
      return &it->second;
    };
    try {
      return reduction(n, x, c).groups;
    } catch (const ModelError&) {
      return std::nullopt;
    }
  };
  const auto a = groups(*p.var);
  if (!a || a->empty() || (p.mean && groups(*p.mean) != a)) return std::nullopt;
  AxisLines l;
  l.len = (*a)[0].size();
  l.outer = a->size();
  for (size_t o = 0; o < l.outer; ++o)  // line o is elements o len .. o len + len - 1
    for (size_t k = 0; k < l.len; ++k)
      if ((*a)[o].size() != l.len || (*a)[o][k] != o * l.len + k) return std::nullopt;
  return l;
}

Ranges calibrate(const Graph& g, const std::vector<TensorMap>& samples) {
  if (samples.empty()) throw ModelError("calibration needs at least one sample");
  Ranges r;
  for (const auto& s : samples)
    for (const auto& [name, t] : evaluate_reference(g, s)) {
      if (g.constants.count(name)) continue;
      double& m = r[name];
      for (double v : t.data)
        if (std::isfinite(v) && !masked_activation(v)) m = std::max(m, std::fabs(v));
    }
  return r;
}

Compiled compile_model(const Graph& g, const QuantOptions& options, const Ranges* ranges) {
  // Public outputs: every graph output (a Softmax output counts its input, of the same shape),
  // then the input commitment.
  const auto shapes = infer_shapes(g);
  uint32_t n_out = options.private_inputs ? 1 : 0;
  for (const auto& o : g.outputs) n_out += uint32_t(element_count(shapes.at(o.name)));
  const uint32_t n_in = input_count(g);
  Builder b(Builder::Mode::kEmit, n_out, options.private_inputs ? 0 : n_in, options.private_inputs ? n_in : 0);
  Compiled c;
  c.spec.options = options;
  c.spec.input_commitment = options.private_inputs;
  Lowerer(g, b, c.spec, ranges).run(nullptr);
  c.spec.n_wires = b.wire_count();
  c.spec.n_constraints = b.constraint_count();
  c.spec.n_public = n_out + (options.private_inputs ? 0 : n_in);
  c.r1cs = b.take_r1cs();
  return c;
}

Evaluation evaluate_model(const Graph& g, const ModelSpec& spec, const TensorMap& inputs) {
  // The public outputs model.json lists, then the input commitment (as compile_model counts them).
  bool same_outputs = spec.outputs.size() == g.outputs.size();
  for (size_t i = 0; same_outputs && i < g.outputs.size(); ++i) same_outputs = spec.outputs[i].name == g.outputs[i].name;
  if (!same_outputs) throw ProveError("model.json does not list this model's outputs: model.onnx or model.json changed since compile");
  uint32_t n_out = spec.options.private_inputs ? 1 : 0;
  for (const auto& o : spec.outputs) n_out += uint32_t(element_count(o.shape));
  const uint32_t n_in = input_count(g);
  Builder b(Builder::Mode::kEval, n_out, spec.options.private_inputs ? 0 : n_in, spec.options.private_inputs ? n_in : 0);
  ModelSpec s = spec;
  Lowerer(g, b, s, nullptr).run(&inputs);
  if (b.wire_count() != spec.n_wires)
    throw ProveError("the model does not lower to the compiled circuit (" + std::to_string(b.wire_count()) +
                     " wires, model.json says " + std::to_string(spec.n_wires) +
                     "): model.onnx or model.json changed since compile");
  Evaluation ev;
  ev.witness = b.take_witness();
  ev.public_signals.assign(ev.witness.begin() + 1, ev.witness.begin() + 1 + spec.n_public);
  for (const OutputSpec& o : spec.outputs) {
    Tensor t{o.shape, {}};
    std::vector<int64_t> raw;
    for (size_t e = 0; e < element_count(o.shape); ++e) {
      raw.push_back(int_of(ev.witness[1 + o.first_signal + e]));
      t.data.push_back(std::ldexp(double(raw.back()), -o.scale));
    }
    if (o.softmax) {
      Node sm;
      for (const Node& n : g.nodes)
        if (n.op == "Softmax" && n.outputs.at(0) == o.name) sm = n;
      sm.inputs = {"logits"};
      t = evaluate_node(sm, {{"logits", t}}, g.opset);
    }
    ev.outputs[o.name] = t;
    ev.raw_outputs[o.name] = raw;
  }
  return ev;
}

}  // namespace zkinfer::compiler
