// Attention and RotaryEmbedding (opset 23) written out (attention.h). Attention, with Q
// [B, Hq, Sq, D], K [B, Hkv, Skv, D], V [B, Hkv, Skv, Dv] (3-D inputs reshaped to these first,
// a KV cache's past keys and values joined before K and V):
//   Y = Softmax(cap(Q K^T * scale) + mask bias + causal bias, keys) V
// where each group of Hq / Hkv query heads reads one key/value head. RotaryEmbedding: see
// RotaryExpander::run. The shapes come from a run on zeros up to each node written out (as the
// recurrent layers' unrolling does).
#include "zkinfer/compiler/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "zkinfer/compiler/reference.h"

namespace zkinfer::compiler {
namespace {

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

// Whether tensor `t` holds booleans: a bool constant or input of the file, the output of a
// comparison, of logic, of a Cast to bool or of a ConstantOfShape of a bool value, or one of
// those moved (reshaped, expanded, sliced, chosen by a Where) or reduced by ReduceMax or
// ReduceMin. An Attention adds a float mask but masks by a boolean one.
bool holds_booleans(const Graph& g, const std::map<std::string, const Node*>& producer, std::string t) {
  static const std::set<std::string> kLogic = {
      "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal", "Not", "And", "Or", "Xor"};
  static const std::set<std::string> kMoves = {"Reshape",   "Unsqueeze", "Squeeze", "Expand",    "Tile",
                                               "Transpose", "Identity",  "Flatten", "Slice",     "Gather",
                                               "Concat",    "Dropout",   "Pad",     "ReduceMax", "ReduceMin"};
  for (;;) {
    if (auto c = g.constants.find(t); c != g.constants.end()) return c->second.boolean;
    auto p = producer.find(t);
    if (p == producer.end()) {
      auto in = std::find_if(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& v) { return v.name == t; });
      return in != g.inputs.end() && in->boolean;
    }
    const Node& n = *p->second;
    if (kLogic.count(n.op)) return true;
    if (n.op == "Cast") return n.get_int("to", 0) == 9;  // BOOL
    if (n.op == "ConstantOfShape") {
      auto v = n.attrs.find("value");
      return v != n.attrs.end() && v->second.kind == Attribute::Kind::kTensor && v->second.tensor.boolean;
    }
    if (n.op == "Where") t = n.inputs.at(1);
    else if (kMoves.count(n.op) && !n.inputs.empty()) t = n.inputs[0];
    else return false;
  }
}

// The writing out of one node: new nodes and constants named "<node>/<stem>", errors naming the
// node. `values`: every tensor so far from a run on zeros, exact for the `fixed` ones (those that
// do not depend on the model's inputs).
class Expander {
 public:
  Expander(Graph& g, const Node& n, const TensorMap& values, const std::set<std::string>& fixed,
           std::set<std::string>& names, const std::string& file)
      : g_(g), n_(n), values_(values), fixed_(fixed), names_(g, n, names), file_(file) {}

 protected:
  [[noreturn]] void fail(const std::string& what) const { throw ModelError(file_ + ": " + n_.where() + ": " + what); }
  const Shape& shape(const std::string& t) const { return values_.at(t).shape; }
  std::string constant(const std::string& stem, Tensor t) { return names_.constant(stem, std::move(t)); }
  std::string ints(const std::string& stem, const std::vector<int64_t>& v) {
    return constant(stem, Tensor{{int64_t(v.size())}, std::vector<double>(v.begin(), v.end()), true});
  }
  // A node named `stem` writing `out` (a fresh tensor of the same name when empty).
  std::string add(const std::string& op, const std::string& stem, std::vector<std::string> inputs,
                  std::map<std::string, Attribute> attrs = {}, const std::string& out = "") {
    Node m;
    m.op = op;
    m.name = names_.fresh(stem);
    m.inputs = std::move(inputs);
    m.outputs = {out.empty() ? m.name : out};
    m.attrs = std::move(attrs);
    nodes_.push_back(std::move(m));
    return nodes_.back().outputs[0];
  }
  std::string transpose(const std::string& x, std::vector<int64_t> perm, const std::string& stem,
                        const std::string& out = "") {
    return add("Transpose", stem, {x}, {{"perm", ints_attr(std::move(perm))}}, out);
  }
  std::string reshape(const std::string& x, const std::vector<int64_t>& to, const std::string& stem,
                      const std::string& out = "") {
    return add("Reshape", stem, {x, ints(stem + "_shape", to)}, {}, out);
  }

  Graph& g_;
  const Node& n_;
  const TensorMap& values_;
  const std::set<std::string>& fixed_;
  ExpansionNames names_;
  const std::string& file_;
  std::vector<Node> nodes_;
};

class AttentionExpander : Expander {
 public:
  AttentionExpander(Graph& g, const Node& n, const TensorMap& values, const std::set<std::string>& fixed,
                    const std::map<std::string, const Node*>& producer, std::set<std::string>& names,
                    const std::string& file)
      : Expander(g, n, values, fixed, names, file), producer_(producer) {}

  std::vector<Node> run();

 private:
  const std::map<std::string, const Node*>& producer_;
};

std::vector<Node> AttentionExpander::run() {
  if (g_.opset < 23)
    fail("Attention is an op of opset 23 and later (the model imports opset " + std::to_string(g_.opset) + ")");
  const auto& in = n_.inputs;
  if (in.size() < 3 || in[0].empty() || in[1].empty() || in[2].empty()) fail("needs the inputs Q, K and V");
  auto given = [](const std::vector<std::string>& v, size_t i) { return i < v.size() && !v[i].empty(); };
  const bool past = given(in, 4) || given(in, 5);
  if (past && !(given(in, 4) && given(in, 5))) fail("past_key and past_value must be given together");
  if (given(in, 6)) fail("nonpad_kv_seqlen is not supported (a KV cache as past_key and past_value is)");
  if (given(n_.outputs, 3)) fail("the output qk_matmul_output is not supported");
  const double softcap = n_.get_float("softcap", 0.0);
  if (!std::isfinite(softcap) || softcap < 0) fail("softcap must be a finite number >= 0 (0: none)");

  const Shape &qs = shape(in[0]), &ks = shape(in[1]), &vs = shape(in[2]);
  const size_t rank = qs.size();
  if ((rank != 3 && rank != 4) || ks.size() != rank || vs.size() != rank)
    fail("Q, K and V must all be 3-D or all 4-D, got " + shape_str(qs) + ", " + shape_str(ks) + " and " +
         shape_str(vs));
  int64_t batch = qs[0], hq = 0, hkv = 0, sq = 0, skv = 0, d = 0, dv = 0;
  if (rank == 4) {
    hq = qs[1], sq = qs[2], d = qs[3], hkv = ks[1], skv = ks[2], dv = vs[3];
  } else {
    hq = n_.get_int("q_num_heads", 0), hkv = n_.get_int("kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0) fail("3-D Q, K and V need the attributes q_num_heads and kv_num_heads");
    if (qs[2] % hq || ks[2] % hkv || vs[2] % hkv)
      fail("the hidden sizes " + shape_str(qs) + ", " + shape_str(ks) + ", " + shape_str(vs) +
           " do not divide into q_num_heads " + std::to_string(hq) + " and kv_num_heads " + std::to_string(hkv));
    sq = qs[1], d = qs[2] / hq, skv = ks[1], dv = vs[2] / hkv;
  }
  const Shape k_want = rank == 4 ? Shape{batch, hkv, skv, d} : Shape{batch, skv, hkv * d};
  if (ks != k_want || vs[0] != batch || vs[rank - 2] != skv || (rank == 4 && vs[1] != hkv))
    fail("K " + shape_str(ks) + " and V " + shape_str(vs) + " do not match Q " + shape_str(qs) +
         " (batch, key/value heads, head size and key sequence must agree)");
  if (hq % hkv)
    fail(std::to_string(hq) + " query heads are not a multiple of " + std::to_string(hkv) + " key/value heads");
  // A KV cache: past_key [B, Hkv, P, D] and past_value [B, Hkv, P, Dv] come before this step's
  // keys and values (present_key and present_value are the joined ones, as 4-D); query i then
  // sees key j where j <= P + i with is_causal.
  int64_t past_len = 0;
  if (past) {
    const Shape &pk = shape(in[4]), &pv = shape(in[5]);
    past_len = pk.size() == 4 ? pk[2] : -1;
    if (pk != Shape{batch, hkv, past_len, d} || pv != Shape{batch, hkv, past_len, dv})
      fail("past_key " + shape_str(pk) + " and past_value " + shape_str(pv) + " must be [batch, kv_num_heads, " +
           "past_sequence, head_size] = [" + std::to_string(batch) + "," + std::to_string(hkv) + ",P," +
           std::to_string(d) + "] and [" + std::to_string(batch) + "," + std::to_string(hkv) + ",P," +
           std::to_string(dv) + "]");
  }
  const int64_t total = past_len + skv;  // keys seen

  // [B, heads, S, head_size] from [B, S, heads * head_size].
  auto heads = [&](const std::string& x, int64_t h, const std::string& stem) {
    return rank == 4 ? x : transpose(reshape(x, {0, 0, h, -1}, stem + "_split"), {0, 2, 1, 3}, stem + "_heads");
  };
  const std::string q = heads(in[0], hq, "q");
  std::string k = heads(in[1], hkv, "k"), v = heads(in[2], hkv, "v");
  auto join = [&](std::string& x, size_t past_input, size_t present_output, const std::string& stem) {
    const std::string out = given(n_.outputs, present_output) ? n_.outputs[present_output] : "";
    if (past) x = add("Concat", stem, {in[past_input], x}, {{"axis", int_attr(2)}}, out);
    else if (!out.empty()) x = add("Identity", stem, {x}, {}, out);
  };
  join(k, 4, 1, "present_key");
  join(v, 5, 2, "present_value");
  if (hq > hkv) {  // key/value head j serves query heads j g .. j g + g - 1
    const int64_t group = hq / hkv;
    auto repeat = [&](const std::string& x, int64_t size, const std::string& stem) {
      const std::string one = reshape(x, {batch, hkv, 1, total, size}, stem + "_group");
      const std::string tiled = add("Tile", stem + "_tile", {one, ints(stem + "_repeats", {1, 1, group, 1, 1})});
      return reshape(tiled, {batch, hq, total, size}, stem + "_repeated");
    };
    k = repeat(k, d, "k"), v = repeat(v, dv, "v");
  }
  const double scale = n_.has("scale") ? n_.get_float("scale", 1.0) : 1.0 / std::sqrt(double(d));
  if (!std::isfinite(scale)) fail("scale must be a finite number");
  std::string scores = add("MatMul", "qk", {q, transpose(k, {0, 1, 3, 2}, "k_t")});
  scores = add("Mul", "scaled", {scores, constant("scale", Tensor{{}, {scale}, false})});
  if (softcap > 0) {  // softcap tanh(scores / softcap), before the masks (so -inf stays -inf)
    const std::string inv = constant("inv_softcap", Tensor{{}, {1.0 / softcap}, false});
    const std::string capped = add("Tanh", "softcap_tanh", {add("Mul", "softcap_in", {scores, inv})});
    scores = add("Mul", "softcapped", {capped, constant("softcap", Tensor{{}, {softcap}, false})});
  }

  // The biases: the mask's (a boolean one as 0 or -inf) and, with is_causal, -inf where key j
  // follows query i. A bias holding -inf must be the Softmax's last addend (only the Softmax may
  // read masked elements), so a mask computed from the inputs is added first.
  const double inf = std::numeric_limits<double>::infinity();
  std::string fixed_bias, computed_bias;
  if (in.size() > 3 && !in[3].empty()) {
    const std::string& mask = in[3];
    const Shape& ms = shape(mask);
    if (!ms.empty() && ms.back() != total && ms.back() != 1)
      fail("attn_mask " + shape_str(ms) + " must cover the " + std::to_string(total) + " keys" +
           (past ? " (past and present)" : "") + " on its last axis");
    if (holds_booleans(g_, producer_, mask)) {  // (one computed from the inputs drops keys in the circuit)
      const std::string bias =
          add("Where", "mask_bias",
              {mask, constant("zero", Tensor{{}, {0.0}, false}), constant("minus_inf", Tensor{{}, {-inf}, false})});
      (fixed_.count(mask) ? fixed_bias : computed_bias) = bias;
    } else if (fixed_.count(mask)) {
      fixed_bias = mask;
    } else {
      computed_bias = mask;
    }
  }
  if (n_.get_int("is_causal", 0) != 0) {
    Tensor causal{{sq, total}, std::vector<double>(size_t(sq * total), 0.0), false};
    for (int64_t i = 0; i < sq; ++i)
      for (int64_t j = past_len + i + 1; j < total; ++j) causal.data[size_t(i * total + j)] = -inf;
    const std::string c = constant("causal", std::move(causal));
    fixed_bias = fixed_bias.empty() ? c : add("Add", "bias", {fixed_bias, c});
  }
  if (!computed_bias.empty()) scores = add("Add", "masked", {scores, computed_bias});
  if (!fixed_bias.empty()) scores = add("Add", "biased", {scores, fixed_bias});
  const std::string probs = add("Softmax", "softmax", {scores}, {{"axis", int_attr(-1)}});
  if (rank == 4) {
    add("MatMul", "pv", {probs, v}, {}, n_.outputs[0]);
  } else {
    const std::string y = transpose(add("MatMul", "pv", {probs, v}), {0, 2, 1, 3}, "y_heads");
    reshape(y, {0, 0, -1}, "y", n_.outputs[0]);
  }
  return nodes_;
}

class RotaryExpander : Expander {
 public:
  using Expander::Expander;
  std::vector<Node> run();
};

// With x [B, H, S, D] (or [B, S, H * D], read as [B, S, H, D]), r = rotary_embedding_dim (D
// when 0), cos and sin [B, S, r / 2] (the caches gathered by position_ids, or as given): the
// first r elements of each head, as halves x1, x2 (or even and odd elements, interleaved), become
// x1 cos - x2 sin and x1 sin + x2 cos; the rest pass unchanged.
std::vector<Node> RotaryExpander::run() {
  if (g_.opset < 23)
    fail("RotaryEmbedding is an op of opset 23 and later (the model imports opset " + std::to_string(g_.opset) + ")");
  const auto& in = n_.inputs;
  if (in.size() < 3 || in[0].empty() || in[1].empty() || in[2].empty())
    fail("needs the inputs X, cos_cache and sin_cache");
  const bool gathered = in.size() > 3 && !in[3].empty();
  const Shape &xs = shape(in[0]), &cs = shape(in[1]);
  if (shape(in[2]) != cs)
    fail("cos_cache " + shape_str(cs) + " and sin_cache " + shape_str(shape(in[2])) + " differ in shape");
  const size_t rank = xs.size();
  if (rank != 3 && rank != 4)
    fail("X must be 3-D [batch, seq, hidden] or 4-D [batch, heads, seq, head_size], got " + shape_str(xs));
  const int64_t batch = xs[0], seq = xs[rank == 4 ? 2 : 1];
  int64_t heads = n_.get_int("num_heads", 0), d = 0;
  if (rank == 4) {
    if (heads != 0 && heads != xs[1])
      fail("num_heads " + std::to_string(heads) + " does not match X " + shape_str(xs) + " (axis 1 holds the heads)");
    heads = xs[1], d = xs[3];
  } else {
    if (heads <= 0) fail("a 3-D X needs the attribute num_heads");
    if (xs[2] % heads)
      fail("the hidden size of X " + shape_str(xs) + " does not divide into num_heads " + std::to_string(heads));
    d = xs[2] / heads;
  }
  const int64_t r = n_.get_int("rotary_embedding_dim", 0) == 0 ? d : n_.get_int("rotary_embedding_dim", 0);
  if (r <= 0 || r > d || r % 2)
    fail("rotary_embedding_dim " + std::to_string(r) + " must be even and at most the head size " + std::to_string(d));
  const Shape want = gathered ? Shape{cs.empty() ? 0 : cs[0], r / 2} : Shape{batch, seq, r / 2};
  if (cs != want && !(!gathered && cs == Shape{1, seq, r / 2}))
    fail("cos_cache and sin_cache are " + shape_str(cs) + ", expected " +
         (gathered ? "[max_position, " + std::to_string(r / 2) + "] with position_ids"
                   : shape_str(want) + " without position_ids"));
  if (gathered && shape(in[3]) != Shape{batch, seq})
    fail("position_ids " + shape_str(shape(in[3])) + " must be [batch, seq] = " + shape_str(Shape{batch, seq}));

  // Heads and sequence as x4's axes 1 and 2 (4-D) or 2 and 1 (3-D); cos and sin get a unit axis
  // in the heads' place.
  const std::string x4 = rank == 4 ? in[0] : reshape(in[0], {batch, seq, heads, d}, "x_heads");
  auto table = [&](size_t i, const std::string& stem) {
    const std::string t = gathered ? add("Gather", stem, {in[i], in[3]}, {{"axis", int_attr(0)}}) : in[i];
    return add("Unsqueeze", stem + "_heads", {t, ints(stem + "_axes", {rank == 4 ? 1 : 2})});
  };
  const std::string cos_t = table(1, "cos"), sin_t = table(2, "sin");
  auto slice = [&](int64_t from, int64_t to, int64_t step, const std::string& stem) {
    return add("Slice", stem,
               {x4, ints(stem + "_starts", {from}), ints(stem + "_ends", {to}), ints(stem + "_axes", {3}),
                ints(stem + "_steps", {step})});
  };
  const bool interleaved = n_.get_int("interleaved", 0) != 0;
  const std::string x1 = interleaved ? slice(0, r, 2, "x1") : slice(0, r / 2, 1, "x1");
  const std::string x2 = interleaved ? slice(1, r, 2, "x2") : slice(r / 2, r, 1, "x2");
  const std::string real = add("Sub", "real", {add("Mul", "x1_cos", {x1, cos_t}), add("Mul", "x2_sin", {x2, sin_t})});
  const std::string imag = add("Add", "imag", {add("Mul", "x1_sin", {x1, sin_t}), add("Mul", "x2_cos", {x2, cos_t})});
  const Shape x4s = rank == 4 ? xs : Shape{batch, seq, heads, d};
  std::string rotated;
  if (interleaved) {  // (real, imag) pairs back in place: [.., r / 2, 2] read as [.., r]
    const std::string axis = ints("pair_axis", {4});
    const std::string pairs = add(
        "Concat", "pairs", {add("Unsqueeze", "real_pair", {real, axis}), add("Unsqueeze", "imag_pair", {imag, axis})},
        {{"axis", int_attr(4)}});
    rotated = reshape(pairs, {x4s[0], x4s[1], x4s[2], r}, "rotated");
  } else {
    rotated = add("Concat", "rotated", {real, imag}, {{"axis", int_attr(3)}});
  }
  const bool partial = r < d;
  const std::string y4 =
      partial ? add("Concat", "y_heads", {rotated, slice(r, d, 1, "x_pass")}, {{"axis", int_attr(3)}}) : rotated;
  if (rank == 3) reshape(y4, xs, "y", n_.outputs.at(0));
  else add("Identity", "y", {y4}, {}, n_.outputs.at(0));
  return nodes_;
}

}  // namespace

void expand_attention(Graph& g, const std::string& file) {
  auto expands = [](const Node& n) { return n.op == "Attention" || n.op == "RotaryEmbedding"; };
  if (std::none_of(g.nodes.begin(), g.nodes.end(), expands)) return;

  std::set<std::string> names = defined_names(g);
  ZeroRun run(g, expands);
  std::vector<Node> old = std::move(g.nodes), nodes;
  // holds_booleans traces masks back through `old`, which outlives the expansions (masks from an
  // earlier Attention's output are not traced: they are that Attention's float output).
  std::map<std::string, const Node*> producer;
  for (const Node& n : old)
    for (const auto& o : n.outputs) producer[o] = &n;
  for (const Node& n : old) {
    if (!expands(n)) {
      if (run.needed(n)) run.evaluate(n);
      nodes.push_back(n);
      continue;
    }
    std::vector<Node> expanded = n.op == "Attention"
                                     ? AttentionExpander(g, n, run.values(), run.fixed(), producer, names, file).run()
                                     : RotaryExpander(g, n, run.values(), run.fixed(), names, file).run();
    const bool evaluate_expanded = run.needed(n);
    run.adopt_constants(g, evaluate_expanded);
    for (Node& m : expanded) {
      if (evaluate_expanded) run.evaluate(m);
      nodes.push_back(std::move(m));
    }
  }
  g.nodes = std::move(nodes);
}

}  // namespace zkinfer::compiler
