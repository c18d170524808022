// RNN, GRU and LSTM unrolled into Gather, Gemm, activations, Mul, Add, Sub, Concat and Reshape
// (recurrent.h). The equations are ONNX's (operator docs, opset 14), written with X_t the step's
// input [batch, input], H the hidden state [batch, hidden], C the LSTM cell:
//   RNN:  H = f(X_t W^T + H R^T + Wb + Rb)
//   GRU:  z = f(X_t Wz^T + H Rz^T + Wbz + Rbz), r likewise,
//         h = g(X_t Wh^T + (r . H) Rh^T + Rbh + Wbh)           (linear_before_reset 0)
//         h = g(X_t Wh^T + r . (H Rh^T + Rbh) + Wbh)           (linear_before_reset 1)
//         H' = (1 - z) . h + z . H, computed as h + z . (H - h)
//   LSTM: i = f(X_t Wi^T + H Ri^T + Pi . C + Wbi + Rbi), f likewise with Pf, c = g(... Wc, Rc),
//         C' = f . C + i . c, o = f(X_t Wo^T + H Ro^T + Po . C' + Wbo + Rbo), H' = o . h(C')
// X_t W^T + H R^T is one Gemm of [X_t, H] (a Concat) by [W^T; R^T], so the two weight blocks share
// one quantization and the biases land in its C at the product's scale. At the first step a
// zero state drops its terms instead of multiplying zeros.
#include "zkinfer/compiler/recurrent.h"

#include <algorithm>
#include <set>

#include "zkinfer/compiler/reference.h"

namespace zkinfer::compiler {
namespace {

constexpr int64_t kMaxUnrolledSteps = 4096;

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

bool all_zero(const Tensor& t) {
  for (double v : t.data)
    if (v != 0) return false;
  return true;
}

// The gates of each kind, in the order ONNX stacks them in W, R and B, and its activations.
struct Kind {
  int64_t gates = 1;  // RNN 1, GRU 3 (z, r, h), LSTM 4 (i, o, f, c)
  std::vector<std::string> default_activations;
};
Kind kind_of(const std::string& op) {
  if (op == "LSTM") return {4, {"Sigmoid", "Tanh", "Tanh"}};
  if (op == "GRU") return {3, {"Sigmoid", "Tanh"}};
  return {1, {"Tanh"}};
}

class Unroller {
 public:
  // `values`: every tensor so far from a run on zeros, exact for the `fixed` ones (those that do
  // not depend on the model's inputs: initializers and what is computed from them alone).
  Unroller(Graph& g, const Node& n, const TensorMap& values, const std::set<std::string>& fixed,
           std::set<std::string>& names, const std::string& file)
      : n_(n), values_(values), fixed_(fixed), names_(g, n, names), file_(file), kind_(kind_of(n.op)) {}

  std::vector<Node> run(const std::set<std::string>& used);

 private:
  [[noreturn]] void fail(const std::string& what) const { throw ModelError(file_ + ": " + n_.where() + ": " + what); }
  bool given(size_t i) const { return n_.inputs.size() > i && !n_.inputs[i].empty(); }
  const Tensor& value(size_t i) const { return values_.at(n_.inputs[i]); }
  bool is_fixed(size_t i) const { return fixed_.count(n_.inputs[i]) != 0; }
  const Tensor& constant(size_t i, const std::string& what) const {
    if (!is_fixed(i)) fail(what + " ('" + n_.inputs[i] + "') must be a constant (it depends on the model's inputs)");
    return value(i);
  }
  void expect_shape(const Tensor& t, const Shape& s, const std::string& what) const {
    if (t.shape != s) fail(what + " has shape " + shape_str(t.shape) + ", expected " + shape_str(s));
  }

  std::string fresh(const std::string& stem) { return names_.fresh(stem); }
  std::string add_constant(const std::string& stem, Tensor t) { return names_.constant(stem, std::move(t)); }
  // A node of `op`; its output is named `out` when given (a layer output), else after `stem`.
  std::string emit(const std::string& op, std::vector<std::string> inputs, const std::string& stem,
                   std::map<std::string, Attribute> attrs = {}, const std::string& out = "") {
    Node m;
    m.op = op;
    m.inputs = std::move(inputs);
    m.attrs = std::move(attrs);
    m.outputs = {out.empty() ? fresh(stem) : out};
    m.name = out.empty() ? m.outputs[0] : fresh(stem);
    nodes_.push_back(std::move(m));
    return nodes_.back().outputs[0];
  }
  std::string reshape(const std::string& x, const Shape& s, const std::string& stem, const std::string& out = "") {
    const std::string shape = shared_constant("shape" + shape_str(s), [&] {
      return Tensor{{int64_t(s.size())}, std::vector<double>(s.begin(), s.end()), true};
    });
    return emit("Reshape", {x, shape}, stem, {}, out);
  }
  // Concat of parts along `axis`; a single part passes as it is (an Identity names it `out`).
  std::string concat(const std::vector<std::string>& parts, int64_t axis, const std::string& stem,
                     const std::string& out = "") {
    if (parts.size() == 1) return out.empty() ? parts[0] : emit("Identity", {parts[0]}, stem, {}, out);
    return emit("Concat", parts, stem, {{"axis", int_attr(axis)}}, out);
  }

  // A constant built once per layer (weights are shared by every step): `make` runs on the
  // first request for `key`, which also names it.
  template <class Make>
  std::string shared_constant(const std::string& key, Make&& make) {
    auto it = shared_.find(key);
    if (it != shared_.end()) return it->second;
    return shared_[key] = add_constant(key, make());
  }
  std::string gate_key(int64_t d, int64_t gate, const char* what) const {
    static const char* const kLstm[] = {"i", "o", "f", "c"};
    static const char* const kGru[] = {"z", "r", "h"};
    const char* g = n_.op == "LSTM" ? kLstm[gate] : n_.op == "GRU" ? kGru[gate] : "h";
    return "d" + std::to_string(d) + "/" + g + "/" + what;
  }

  // Gate `gate` of direction d: [W_g^T; R_g^T] (just W_g^T without a state).
  std::string gate_weights(int64_t d, int64_t gate, bool with_r) {
    return shared_constant(gate_key(d, gate, with_r ? "WR" : "W"), [&] {
      const int64_t in = with_r ? input_ + hidden_ : input_;
      Tensor w{{in, hidden_}, std::vector<double>(size_t(in * hidden_)), false};
      for (int64_t j = 0; j < hidden_; ++j) {
        const int64_t row = gate * hidden_ + j;
        for (int64_t k = 0; k < input_; ++k)
          w.data[size_t(k * hidden_ + j)] = W_->data[size_t((d * gates_h_ + row) * input_ + k)];
        if (with_r)
          for (int64_t k = 0; k < hidden_; ++k)
            w.data[size_t((input_ + k) * hidden_ + j)] = R_->data[size_t((d * gates_h_ + row) * hidden_ + k)];
      }
      return w;
    });
  }
  // R_g^T alone (GRU's linear_before_reset product H Rh^T).
  std::string recurrent_weights(int64_t d, int64_t gate) {
    return shared_constant(gate_key(d, gate, "R"), [&] {
      Tensor w{{hidden_, hidden_}, std::vector<double>(size_t(hidden_ * hidden_)), false};
      for (int64_t j = 0; j < hidden_; ++j)
        for (int64_t k = 0; k < hidden_; ++k)
          w.data[size_t(k * hidden_ + j)] = R_->data[size_t((d * gates_h_ + gate * hidden_ + j) * hidden_ + k)];
      return w;
    });
  }
  // Wb_g (with_w) + Rb_g (with_r), [hidden]; zeros without B.
  std::string bias(int64_t d, int64_t gate, bool with_w, bool with_r) {
    const char* what = with_w && with_r ? "B" : with_w ? "Wb" : "Rb";
    return shared_constant(gate_key(d, gate, what), [&] {
      Tensor b{{hidden_}, std::vector<double>(size_t(hidden_), 0.0), false};
      if (!B_) return b;
      for (int64_t j = 0; j < hidden_; ++j) {
        const size_t at = size_t(d * 2 * gates_h_ + gate * hidden_ + j);
        b.data[size_t(j)] = (with_w ? B_->data[at] : 0.0) + (with_r ? B_->data[at + size_t(gates_h_)] : 0.0);
      }
      return b;
    });
  }
  // P's block for gate i (which 0), o (1) or f (2).
  std::string peephole(int64_t d, int64_t which) {
    static const char* const kName[] = {"i/P", "o/P", "f/P"};
    return shared_constant("d" + std::to_string(d) + "/" + kName[which], [&] {
      Tensor p{{hidden_}, std::vector<double>(size_t(hidden_)), false};
      for (int64_t j = 0; j < hidden_; ++j) p.data[size_t(j)] = P_->data[size_t(d * 3 * hidden_ + which * hidden_ + j)];
      return p;
    });
  }
  // X_t W_g^T + H R_g^T + biases: a Gemm of [x, h] (or x alone when h is zero).
  std::string gate_input(int64_t d, int64_t gate, const std::string& x, const std::string& xh, bool with_r,
                         const std::string& stem) {
    return emit("Gemm", {with_r ? xh : x, gate_weights(d, gate, with_r), bias(d, gate, true, true)}, stem);
  }
  std::string act(const std::string& f, const std::string& x, const std::string& stem) { return emit(f, {x}, stem); }

  // One step of direction d: the new hidden state (and cell, for LSTM) from x (the step's input)
  // and the previous h, c ("" = zero).
  void step(int64_t d, int64_t t, const std::string& x, std::string& h, std::string& c);

  std::string activation(int64_t d, size_t slot) const {
    return activations_[size_t(d) * kind_.default_activations.size() + slot];
  }

  const Node& n_;
  const TensorMap& values_;
  const std::set<std::string>& fixed_;
  ExpansionNames names_;
  const std::string& file_;
  Kind kind_;
  std::vector<Node> nodes_;
  std::map<std::string, std::string> shared_;  // shared_constant's key -> the constant's name
  const Tensor *W_ = nullptr, *R_ = nullptr, *B_ = nullptr, *P_ = nullptr;
  int64_t steps_ = 0, batch_ = 0, input_ = 0, hidden_ = 0, dirs_ = 1, gates_h_ = 0, layout_ = 0;
  bool linear_before_reset_ = false;
  std::vector<std::string> activations_;
};

void Unroller::step(int64_t d, int64_t t, const std::string& x, std::string& h, std::string& c) {
  const std::string s = "d" + std::to_string(d) + "/t" + std::to_string(t) + "/";
  std::string xh;
  if (!h.empty()) xh = emit("Concat", {x, h}, s + "xh", {{"axis", int_attr(1)}});
  const bool r = !h.empty();
  if (n_.op == "RNN") {
    h = act(activation(d, 0), gate_input(d, 0, x, xh, r, s + "pre"), s + "h");
    return;
  }
  if (n_.op == "GRU") {
    const std::string z = act(activation(d, 0), gate_input(d, 0, x, xh, r, s + "z_pre"), s + "z");
    const std::string rg = act(activation(d, 0), gate_input(d, 1, x, xh, r, s + "r_pre"), s + "r");
    std::string pre;
    if (!linear_before_reset_) {
      if (r) {
        const std::string rh = emit("Mul", {rg, h}, s + "rh");
        const std::string xrh = emit("Concat", {x, rh}, s + "xrh", {{"axis", int_attr(1)}});
        pre = gate_input(d, 2, x, xrh, true, s + "h_pre");
      } else {
        pre = gate_input(d, 2, x, "", false, s + "h_pre");
      }
    } else {
      const std::string wx = emit("Gemm", {x, gate_weights(d, 2, false), bias(d, 2, true, false)}, s + "h_x");
      const std::string rb = bias(d, 2, false, true);
      const std::string hr = r ? emit("Gemm", {h, recurrent_weights(d, 2), rb}, s + "h_h") : rb;
      pre = emit("Add", {wx, emit("Mul", {rg, hr}, s + "h_reset")}, s + "h_pre");
    }
    const std::string cand = act(activation(d, 1), pre, s + "h_cand");
    if (r) {
      const std::string diff = emit("Sub", {h, cand}, s + "h_diff");
      h = emit("Add", {cand, emit("Mul", {z, diff}, s + "h_keep")}, s + "h");
    } else {
      h = emit("Sub", {cand, emit("Mul", {z, cand}, s + "h_keep")}, s + "h");
    }
    return;
  }
  // LSTM: gates i, o, f, c in W; peepholes i, o, f in P.
  auto peep = [&](const std::string& pre, int64_t which, const std::string& cell, const std::string& stem) {
    if (!P_ || cell.empty()) return pre;
    return emit("Add", {pre, emit("Mul", {cell, peephole(d, which)}, stem + "/peep")}, stem + "/with_peep");
  };
  const std::string i =
      act(activation(d, 0), peep(gate_input(d, 0, x, xh, r, s + "i_pre"), 0, c, s + "i_pre"), s + "i");
  const std::string cand = act(activation(d, 1), gate_input(d, 3, x, xh, r, s + "c_pre"), s + "c_cand");
  const std::string ic = emit("Mul", {i, cand}, s + "c_in");
  if (c.empty()) {
    c = ic;
  } else {
    const std::string f =
        act(activation(d, 0), peep(gate_input(d, 2, x, xh, r, s + "f_pre"), 2, c, s + "f_pre"), s + "f");
    c = emit("Add", {emit("Mul", {f, c}, s + "c_keep"), ic}, s + "c");
  }
  const std::string o =
      act(activation(d, 0), peep(gate_input(d, 1, x, xh, r, s + "o_pre"), 1, c, s + "o_pre"), s + "o");
  h = emit("Mul", {o, act(activation(d, 2), c, s + "c_act")}, s + "h");
}

std::vector<Node> Unroller::run(const std::set<std::string>& used) {
  for (const char* a : {"clip", "activation_alpha", "activation_beta"})
    if (n_.has(a)) fail(std::string("attribute '") + a + "' is not supported");
  if (n_.get_int("input_forget", 0) != 0) fail("input_forget = 1 (coupled input and forget gates) is not supported");
  linear_before_reset_ = n_.get_int("linear_before_reset", 0) != 0;
  layout_ = n_.get_int("layout", 0);
  if (layout_ != 0 && layout_ != 1) fail("layout " + std::to_string(layout_) + " is not 0 or 1");
  const std::string dir = n_.get_string("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    fail("direction '" + dir + "' is not forward, reverse or bidirectional");
  dirs_ = dir == "bidirectional" ? 2 : 1;

  const size_t n_act = kind_.default_activations.size();
  std::vector<std::string> list = n_.get_strings("activations");
  if (list.empty())
    for (int64_t d = 0; d < dirs_; ++d)
      list.insert(list.end(), kind_.default_activations.begin(), kind_.default_activations.end());
  if (list.size() != n_act * size_t(dirs_))
    fail("attribute 'activations' lists " + std::to_string(list.size()) + " functions, expected " +
         std::to_string(n_act * size_t(dirs_)) + " (" + std::to_string(n_act) + " per direction)");
  for (const std::string& f : list)
    if (f != "Sigmoid" && f != "Tanh" && f != "Relu")
      fail("activation '" + f + "' is not supported (Sigmoid, Tanh and Relu are)");
  activations_ = list;

  if (n_.inputs.size() < 3 || !given(0) || !given(1) || !given(2)) fail("needs inputs X, W and R");
  const Tensor& X = value(0);
  if (X.shape.size() != 3) fail("X has shape " + shape_str(X.shape) + ", expected rank 3");
  steps_ = X.shape[layout_ ? 1 : 0];
  // Each step is its own gates in the circuit: past a few thousand the circuit is past any
  // proving key (2^28 constraints), and a file could otherwise ask for billions of nodes.
  if (steps_ * dirs_ > kMaxUnrolledSteps)
    fail(std::to_string(steps_) + " steps x " + std::to_string(dirs_) + " direction(s) are more than the " +
         std::to_string(kMaxUnrolledSteps) + " the compiler unrolls");
  batch_ = X.shape[layout_ ? 0 : 1];
  input_ = X.shape[2];
  if (steps_ == 0 || batch_ == 0 || input_ == 0)
    fail("X has shape " + shape_str(X.shape) + ", with an empty dimension");
  W_ = &constant(1, "W");
  R_ = &constant(2, "R");
  if (W_->shape.size() != 3 || W_->shape[0] != dirs_ || W_->shape[1] % kind_.gates != 0 || W_->shape[1] == 0)
    fail("W has shape " + shape_str(W_->shape) + ", expected [" + std::to_string(dirs_) + ", " +
         std::to_string(kind_.gates) + " * hidden_size, " + std::to_string(input_) + "]");
  gates_h_ = W_->shape[1];
  hidden_ = gates_h_ / kind_.gates;
  if (n_.has("hidden_size") && n_.get_int("hidden_size", 0) != hidden_)
    fail("hidden_size " + std::to_string(n_.get_int("hidden_size", 0)) + " does not match W's " +
         std::to_string(hidden_));
  expect_shape(*W_, {dirs_, gates_h_, input_}, "W");
  expect_shape(*R_, {dirs_, gates_h_, hidden_}, "R");
  if (given(3)) {
    B_ = &constant(3, "B");
    expect_shape(*B_, {dirs_, 2 * gates_h_}, "B");
  }
  if (given(4)) {
    const Tensor& lens = constant(4, "sequence_lens");
    expect_shape(lens, {batch_}, "sequence_lens");
    for (double v : lens.data)
      if (v != double(steps_))
        fail("sequence_lens holds " + std::to_string(int64_t(v)) + ": sequences shorter than the input's " +
             std::to_string(steps_) + " steps are not supported");
  }
  const Shape state_shape = layout_ ? Shape{batch_, dirs_, hidden_} : Shape{dirs_, batch_, hidden_};
  // The initial state of direction d: "" for zero, else a [batch, hidden] slice of the input.
  auto initial = [&](size_t i, const std::string& what) -> std::vector<std::string> {
    std::vector<std::string> per(static_cast<size_t>(dirs_));
    if (!given(i)) return per;
    expect_shape(value(i), state_shape, what);
    if (is_fixed(i)) {  // torch writes a zero state as an Expand of a zero constant
      if (!all_zero(value(i)))
        fail(what + " is a nonzero constant: pass a nonzero initial state as a model input instead");
      return per;
    }
    for (int64_t d = 0; d < dirs_; ++d) {
      const std::string at = add_constant(what + "/d" + std::to_string(d) + "/index", {{}, {double(d)}, true});
      per[size_t(d)] =
          emit("Gather", {n_.inputs[i], at}, what + "/d" + std::to_string(d), {{"axis", int_attr(layout_)}});
    }
    return per;
  };
  std::vector<std::string> h0 = initial(5, "initial_h"), c0;
  if (n_.op == "LSTM") {
    c0 = initial(6, "initial_c");
    if (given(7)) {
      P_ = &constant(7, "P");
      expect_shape(*P_, {dirs_, 3 * hidden_}, "P");
      if (all_zero(*P_)) P_ = nullptr;
    }
    if (n_.inputs.size() > 8) fail("has " + std::to_string(n_.inputs.size()) + " inputs, LSTM takes at most 8");
  } else if (n_.inputs.size() > 6) {
    fail("has " + std::to_string(n_.inputs.size()) + " inputs, " + n_.op + " takes at most 6");
  }

  auto wanted = [&](size_t o) { return n_.outputs.size() > o && !n_.outputs[o].empty() && used.count(n_.outputs[o]); };
  const bool want_y = wanted(0);
  std::vector<std::string> steps_in(static_cast<size_t>(steps_));
  for (int64_t t = 0; t < steps_; ++t) {
    const std::string at = add_constant("t" + std::to_string(t) + "/index", {{}, {double(t)}, true});
    steps_in[size_t(t)] =
        emit("Gather", {n_.inputs[0], at}, "t" + std::to_string(t) + "/x", {{"axis", int_attr(layout_)}});
  }
  // hs[d][t]: direction d's hidden state after the input of time t.
  std::vector<std::vector<std::string>> hs(static_cast<size_t>(dirs_),
                                           std::vector<std::string>(static_cast<size_t>(steps_)));
  std::vector<std::string> h_last(static_cast<size_t>(dirs_)), c_last(static_cast<size_t>(dirs_));
  for (int64_t d = 0; d < dirs_; ++d) {
    const bool reverse = dir == "reverse" || d == 1;
    std::string h = h0[size_t(d)], c = c0.empty() ? "" : c0[size_t(d)];
    for (int64_t s = 0; s < steps_; ++s) {
      const int64_t t = reverse ? steps_ - 1 - s : s;
      step(d, t, steps_in[size_t(t)], h, c);
      hs[size_t(d)][size_t(t)] = h;
    }
    h_last[size_t(d)] = h;
    c_last[size_t(d)] = c;
  }
  if (want_y) {  // Y: [steps, dirs, batch, hidden], or [batch, steps, dirs, hidden] with layout 1
    std::vector<std::string> times;
    for (int64_t t = 0; t < steps_; ++t) {
      std::vector<std::string> dirs;
      for (int64_t d = 0; d < dirs_; ++d)
        dirs.push_back(reshape(hs[size_t(d)][size_t(t)],
                               layout_ ? Shape{batch_, 1, 1, hidden_} : Shape{1, 1, batch_, hidden_},
                               "Y/d" + std::to_string(d) + "/t" + std::to_string(t)));
      times.push_back(concat(dirs, layout_ ? 2 : 1, "Y/t" + std::to_string(t)));
    }
    concat(times, layout_ ? 1 : 0, "Y", n_.outputs[0]);
  }
  // Y_h, Y_c: [dirs, batch, hidden], or [batch, dirs, hidden] with layout 1.
  auto final_state = [&](size_t o, const std::vector<std::string>& last, const std::string& stem) {
    if (!wanted(o)) return;
    std::vector<std::string> parts;
    for (int64_t d = 0; d < dirs_; ++d)
      parts.push_back(reshape(last[size_t(d)], layout_ ? Shape{batch_, 1, hidden_} : Shape{1, batch_, hidden_},
                              stem + "/d" + std::to_string(d)));
    concat(parts, layout_ ? 1 : 0, stem, n_.outputs[o]);
  };
  final_state(1, h_last, "Y_h");
  if (n_.op == "LSTM") final_state(2, c_last, "Y_c");
  else if (wanted(2)) fail("has a third output; only LSTM has one (Y_c)");
  return nodes_;
}

}  // namespace

void unroll_recurrent(Graph& g, const std::string& file) {
  auto recurrent = [](const Node& n) { return n.op == "RNN" || n.op == "GRU" || n.op == "LSTM"; };
  if (std::none_of(g.nodes.begin(), g.nodes.end(), recurrent)) return;

  std::set<std::string> names = defined_names(g), used;
  for (const Node& n : g.nodes) used.insert(n.inputs.begin(), n.inputs.end());
  for (const auto& o : g.outputs) used.insert(o.name);

  // Shapes come from a float run on zeros, node by node, so a layer's X is known when the layer
  // is reached, stacked layers included (an earlier layer's outputs are evaluated where a later
  // one reads them).
  ZeroRun run(g, recurrent);
  std::vector<Node> nodes;
  for (Node& n : g.nodes) {
    if (!recurrent(n)) {
      if (run.needed(n)) run.evaluate(n);
      nodes.push_back(std::move(n));
      continue;
    }
    const bool evaluate_unrolled = run.needed(n);
    std::vector<Node> unrolled = Unroller(g, n, run.values(), run.fixed(), names, file).run(used);
    run.adopt_constants(g, evaluate_unrolled);  // the layer's own weights, read by its nodes alone
    for (Node& m : unrolled) {
      if (evaluate_unrolled) run.evaluate(m);
      nodes.push_back(std::move(m));
    }
  }
  g.nodes = std::move(nodes);
}

}  // namespace zkinfer::compiler
