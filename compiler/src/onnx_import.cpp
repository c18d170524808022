// ONNX protobuf -> Graph (graph.h). The protobuf classes stay inside this file.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <set>
#include <sstream>

#include "zkinfer/compiler/attention.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/recurrent.h"
#include "zkinfer/compiler/reference.h"

namespace zkinfer::compiler {

size_t element_count(const Shape& s) {
  size_t n = 1;
  for (int64_t d : s) n *= size_t(d);
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t Node::get_int(const std::string& a, int64_t dflt) const {
  auto it = attrs.find(a);
  if (it == attrs.end()) return dflt;
  if (it->second.kind != Attribute::Kind::kInt)
    throw ModelError(where() + ": attribute '" + a + "' is not an integer");
  return it->second.i;
}
double Node::get_float(const std::string& a, double dflt) const {
  auto it = attrs.find(a);
  if (it == attrs.end()) return dflt;
  if (it->second.kind != Attribute::Kind::kFloat)
    throw ModelError(where() + ": attribute '" + a + "' is not a float");
  return it->second.f;
}
std::string Node::get_string(const std::string& a, const std::string& dflt) const {
  auto it = attrs.find(a);
  if (it == attrs.end()) return dflt;
  if (it->second.kind != Attribute::Kind::kString)
    throw ModelError(where() + ": attribute '" + a + "' is not a string");
  return it->second.s;
}
std::vector<int64_t> Node::get_ints(const std::string& a, std::vector<int64_t> dflt) const {
  auto it = attrs.find(a);
  if (it == attrs.end()) return dflt;
  if (it->second.kind != Attribute::Kind::kInts)
    throw ModelError(where() + ": attribute '" + a + "' is not a list of integers");
  return it->second.ints;
}
std::vector<std::string> Node::get_strings(const std::string& a, std::vector<std::string> dflt) const {
  auto it = attrs.find(a);
  if (it == attrs.end()) return dflt;
  if (it->second.kind != Attribute::Kind::kStrings)
    throw ModelError(where() + ": attribute '" + a + "' is not a list of strings");
  return it->second.strings;
}
std::string Node::where() const { return "node '" + name + "' (" + op + ")"; }

namespace {

// Element count of a shape read from a file, refusing counts no tensor here could have (the
// product would otherwise wrap around size_t).
constexpr uint64_t kMaxElements = uint64_t{1} << 32;
size_t checked_count(const Shape& s, const std::string& what) {
  uint64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw ModelError(what + ": negative dimension");
    if (d != 0 && n > kMaxElements / uint64_t(d))
      throw ModelError(what + ": shape " + shape_str(s) + " has more than 2^32 elements");
    n *= uint64_t(d);
  }
  return size_t(n);
}

constexpr const char* kOps[] = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Clip", "Conv", "ConvTranspose", "Resize",
    "Upsample", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Transpose", "Concat",
    "BatchNormalization", "LayerNormalization", "InstanceNormalization", "Sigmoid", "Tanh", "Erf", "HardSigmoid",
    "HardSwish", "Softmax", "ArgMax", "Identity", "Dropout", "Unsqueeze", "Squeeze", "Slice", "Gather", "Pad",
    "Split", "Expand", "Tile", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "Neg", "Shape", "ConstantOfShape",
    "Cast", "Sqrt", "Pow", "Reciprocal", "Abs", "Where", "RNN", "GRU", "LSTM", "Greater", "Less", "GreaterOrEqual",
    "LessOrEqual", "Equal", "Not", "And", "Or", "Xor", "DepthToSpace", "SpaceToDepth",
    "PRelu", "GlobalMaxPool", "Sum", "Mean", "Max", "Min", "CumSum", "Gelu", "RMSNormalization", "Swish", "Attention",
    "RotaryEmbedding"};

bool is_supported(const std::string& op) {
  return std::find_if(std::begin(kOps), std::end(kOps), [&](const char* o) { return op == o; }) !=
         std::end(kOps);
}

// Raw little-endian data, or the typed repeated field, as doubles.
Tensor read_tensor(const onnx::TensorProto& t, const std::string& what) {
  Tensor out;
  out.shape.assign(t.dims().begin(), t.dims().end());
  const size_t n = checked_count(out.shape, what);
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw ModelError(what + ": external tensor data is not supported (save the model with the data inside)");
  const std::string& raw = t.raw_data();
  auto from_raw = [&](auto tag) {
    using T = decltype(tag);
    if (raw.size() != n * sizeof(T))
      throw ModelError(what + ": raw data holds " + std::to_string(raw.size()) + " bytes, expected " +
                       std::to_string(n * sizeof(T)) + " for shape " + shape_str(out.shape));
    out.data.resize(n);
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
      out.data[i] = double(v);
    }
  };
  auto check_count = [&](size_t have) {
    if (have != n)
      throw ModelError(what + ": holds " + std::to_string(have) + " values, expected " +
                       std::to_string(n) + " for shape " + shape_str(out.shape));
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (!raw.empty()) {
        from_raw(float{});
      } else {
        check_count(size_t(t.float_data_size()));
        out.data.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty()) {
        from_raw(double{});
      } else {
        check_count(size_t(t.double_data_size()));
        out.data.assign(t.double_data().begin(), t.double_data().end());
      }
      break;
    case onnx::TensorProto::INT64:
      if (!raw.empty()) {
        from_raw(int64_t{});
      } else {
        check_count(size_t(t.int64_data_size()));
        out.data.assign(t.int64_data().begin(), t.int64_data().end());
      }
      break;
    case onnx::TensorProto::INT32:
      if (!raw.empty()) {
        from_raw(int32_t{});
      } else {
        check_count(size_t(t.int32_data_size()));
        out.data.assign(t.int32_data().begin(), t.int32_data().end());
      }
      break;
    case onnx::TensorProto::BOOL:  // a mask: one byte per element raw, else in int32_data
      if (!raw.empty()) {
        from_raw(uint8_t{});
      } else {
        check_count(size_t(t.int32_data_size()));
        out.data.assign(t.int32_data().begin(), t.int32_data().end());
      }
      for (double& v : out.data) v = v != 0 ? 1.0 : 0.0;
      break;
    default:
      throw ModelError(what + ": element type " + std::to_string(t.data_type()) +
                       " is not supported (float, double, int32, int64 and bool are)");
  }
  // Infinities are allowed (an attention mask holds -inf; where a weight is infinite the compiler
  // says so); NaN is never a value.
  for (double v : out.data)
    if (std::isnan(v)) throw ModelError(what + ": holds NaN");
  out.integer = t.data_type() == onnx::TensorProto::INT64 || t.data_type() == onnx::TensorProto::INT32;
  out.boolean = t.data_type() == onnx::TensorProto::BOOL;
  return out;
}

Attribute read_attribute(const onnx::AttributeProto& a, const std::string& what) {
  Attribute out;
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      out.kind = Attribute::Kind::kInt;
      out.i = a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      out.kind = Attribute::Kind::kFloat;
      out.f = a.f();
      break;
    case onnx::AttributeProto::STRING:
      out.kind = Attribute::Kind::kString;
      out.s = a.s();
      break;
    case onnx::AttributeProto::INTS:
      out.kind = Attribute::Kind::kInts;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      out.kind = Attribute::Kind::kFloats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::STRINGS:
      out.kind = Attribute::Kind::kStrings;
      out.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case onnx::AttributeProto::TENSOR:
      out.kind = Attribute::Kind::kTensor;
      out.tensor = read_tensor(a.t(), what + " attribute '" + a.name() + "'");
      break;
    default:
      throw ModelError(what + ": attribute '" + a.name() + "' has an unsupported type");
  }
  return out;
}

Shape read_shape(const onnx::ValueInfoProto& v, const std::string& what) {
  if (!v.type().has_tensor_type())
    throw ModelError(what + " '" + v.name() + "' is not a tensor");
  const auto& tt = v.type().tensor_type();
  if (!tt.has_shape()) throw ModelError(what + " '" + v.name() + "' has no shape");
  Shape s;
  for (const auto& d : tt.shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() <= 0)
      throw ModelError(what + " '" + v.name() + "' has a dynamic dimension" +
                       (d.has_dim_param() ? " '" + d.dim_param() + "'" : std::string()) +
                       ": export the model with fixed shapes (e.g. batch size 1)");
    s.push_back(d.dim_value());
  }
  checked_count(s, what + " '" + v.name() + "'");
  return s;
}

// A Constant node's value: a tensor, or (opset 12+) value_float(s) / value_int(s).
Tensor constant_value(const Node& n, const std::string& file) {
  const auto& [attr, a] = *n.attrs.begin();
  Tensor t;
  if (attr == "value" && a.kind == Attribute::Kind::kTensor) return a.tensor;
  if (attr == "value_float" && a.kind == Attribute::Kind::kFloat) t = {{}, {a.f}, false};
  else if (attr == "value_floats" && a.kind == Attribute::Kind::kFloats)
    t = {{int64_t(a.floats.size())}, a.floats, false};
  else if (attr == "value_int" && a.kind == Attribute::Kind::kInt) t = {{}, {double(a.i)}, true};
  else if (attr == "value_ints" && a.kind == Attribute::Kind::kInts)
    t = {{int64_t(a.ints.size())}, std::vector<double>(a.ints.begin(), a.ints.end()), true};
  else
    throw ModelError(file + ": " + n.where() + ": Constant attribute '" + attr +
                     "' is not supported (value, value_float(s) and value_int(s) are)");
  for (double v : t.data)
    if (std::isnan(v)) throw ModelError(file + ": " + n.where() + ": holds NaN");
  return t;
}

// Gelu (opset 20) and Swish (opset 24) written out as exporters wrote them before those opsets,
// so that they are lowered (and their error bounded) exactly as their spelling is: Gelu's
// approximate "none" as torch's x * (1 + erf(x / sqrt(2))) * 0.5 (Div, Erf, Add, Mul, Mul), "tanh"
// as x * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) * 0.5 (Pow, Mul, Add, Mul, Tanh, Add, Mul,
// Mul); Swish as x * sigmoid(alpha x) (Sigmoid and Mul, as torch writes SiLU; a Mul by alpha
// before the Sigmoid where alpha is not 1). The new nodes, their outputs and constants are named
// "<node>/<part>"; the last node writes the op's output.
void expand_function_ops(Graph& g, const std::string& file) {
  auto expanded = [](const Node& n) { return n.op == "Gelu" || n.op == "Swish"; };
  if (std::none_of(g.nodes.begin(), g.nodes.end(), expanded)) return;
  std::set<std::string> names = defined_names(g);
  std::vector<Node> nodes;
  for (Node& n : g.nodes) {
    if (!expanded(n)) {
      nodes.push_back(std::move(n));
      continue;
    }
    auto fail = [&](const std::string& what) { throw ModelError(file + ": " + n.where() + ": " + what); };
    const int64_t since = n.op == "Gelu" ? 20 : 24;
    if (g.opset < since)
      fail(n.op + " is an op of opset " + std::to_string(since) + " and later (the model imports opset " +
           std::to_string(g.opset) + ")");
    if (n.inputs.size() != 1 || n.inputs[0].empty() || n.outputs.size() != 1) fail("needs one input and one output");
    ExpansionNames made(g, n, names);
    auto constant = [&](const std::string& stem, double v) { return made.constant(stem, Tensor{{}, {v}, false}); };
    // A node named `stem` writing `out` (a fresh tensor of the same name when empty).
    auto add = [&](const std::string& op, const std::string& stem, std::vector<std::string> inputs,
                   const std::string& out = "") {
      Node m;
      m.op = op;
      m.name = made.fresh(stem);
      m.inputs = std::move(inputs);
      m.outputs = {out.empty() ? m.name : out};
      nodes.push_back(std::move(m));
      return nodes.back().outputs[0];
    };
    const std::string& x = n.inputs[0];
    if (n.op == "Swish") {
      const double alpha = n.get_float("alpha", 1.0);
      if (!std::isfinite(alpha)) fail("alpha must be a finite number");
      const std::string scaled = alpha == 1.0 ? x : add("Mul", "mul_alpha", {x, constant("alpha", alpha)});
      add("Mul", "mul_x", {x, add("Sigmoid", "sigmoid", {scaled})}, n.outputs[0]);
      continue;
    }
    const std::string approximate = n.get_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      fail("approximate '" + approximate + "' is not supported (none and tanh are)");
    std::string inner;  // erf(x / sqrt(2)) or tanh(sqrt(2 / pi) (x + 0.044715 x^3))
    if (approximate == "none") {
      inner = add("Erf", "erf", {add("Div", "div", {x, constant("sqrt2", std::sqrt(2.0))})});
    } else {
      const std::string cube = add("Pow", "pow", {x, constant("three", 3.0)});
      const std::string sum = add("Add", "add", {x, add("Mul", "mul_cube", {cube, constant("kappa", 0.044715)})});
      inner = add("Tanh", "tanh", {add("Mul", "mul_beta", {sum, constant("beta", std::sqrt(2.0 / std::numbers::pi))})});
    }
    const std::string one = add("Add", "add_one", {inner, constant("one", 1.0)});
    const std::string prod = add("Mul", "mul_x", {x, one});
    add("Mul", "mul_half", {prod, constant("half", 0.5)}, n.outputs[0]);
  }
  g.nodes = std::move(nodes);
}

}  // namespace

std::span<const char* const> supported_ops() { return kOps; }

void require_regular_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) throw ModelError(path + ": cannot open: no such file");
  if (std::filesystem::is_directory(st)) throw ModelError(path + ": cannot open: it is a directory, not a file");
}

Graph parse_onnx(std::span<const uint8_t> bytes, const std::string& name) {
  onnx::ModelProto model;
  if (bytes.size() > size_t(INT32_MAX))
    throw ModelError(name + ": larger than 2 GiB (protobuf's limit); external data is not supported");
  if (!model.ParseFromArray(bytes.data(), int(bytes.size())))
    throw ModelError(name + ": not a valid ONNX model (protobuf parse failed)");
  if (!model.has_graph()) throw ModelError(name + ": the model has no graph");

  Graph g;
  g.producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
  bool have_opset = false;
  for (const auto& os : model.opset_import()) {
    if (os.domain().empty() || os.domain() == "ai.onnx") {
      g.opset = os.version();
      have_opset = true;
    }
  }
  if (!have_opset) throw ModelError(name + ": the model imports no opset of the default ONNX domain");
  if (g.opset < kMinOpset || g.opset > kMaxOpset)
    throw ModelError(name + ": opset " + std::to_string(g.opset) + " is not supported (" +
                     std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + " are)");

  const auto& graph = model.graph();
  std::set<std::string> defined;
  for (const auto& init : graph.initializer()) {
    if (init.name().empty()) throw ModelError(name + ": an initializer has no name");
    g.constants[init.name()] = read_tensor(init, name + ": initializer '" + init.name() + "'");
    defined.insert(init.name());
  }
  for (const auto& in : graph.input()) {
    if (g.constants.count(in.name())) continue;  // older exporters list initializers as inputs
    const int32_t type = in.type().tensor_type().elem_type();
    g.inputs.push_back({in.name(), read_shape(in, name + ": input"),
                        type == onnx::TensorProto::INT64 || type == onnx::TensorProto::INT32,
                        type == onnx::TensorProto::BOOL});
    defined.insert(in.name());
  }
  if (g.inputs.empty()) throw ModelError(name + ": the model has no inputs");

  // Nodes in the file should be topologically sorted (the ONNX spec requires it); check it.
  int index = 0;
  for (const auto& np : graph.node()) {
    Node n;
    n.op = np.op_type();
    n.name = np.name().empty() ? n.op + "#" + std::to_string(index) : np.name();
    ++index;
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      throw ModelError(name + ": " + n.where() + " is from domain '" + np.domain() +
                       "', only the default ONNX domain is supported");
    for (const auto& a : np.attribute())
      n.attrs[a.name()] = read_attribute(a, name + ": " + n.where());
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    if (n.op == "Constant") {
      if (n.outputs.size() != 1 || n.attrs.size() != 1)
        throw ModelError(name + ": " + n.where() + ": a Constant needs one output and one value attribute");
      if (defined.count(n.outputs[0]))
        throw ModelError(name + ": " + n.where() + ": output '" + n.outputs[0] +
                         "' is already defined (a graph assigns every tensor once)");
      g.constants[n.outputs[0]] = constant_value(n, name);
      defined.insert(n.outputs[0]);
      continue;
    }
    if (!is_supported(n.op))
      throw ModelError(name + ": " + n.where() + ": op '" + n.op + "' (opset " + std::to_string(g.opset) +
                       ") is not supported by the zkinfer compiler");
    // AveragePool has dilations from opset 19 on; before it runtimes ignore the attribute.
    if (n.op == "AveragePool" && g.opset < 19) {
      const auto d = n.get_ints("dilations");
      if (std::any_of(d.begin(), d.end(), [](int64_t v) { return v != 1; }))
        throw ModelError(name + ": " + n.where() + ": dilations are defined for AveragePool from opset 19 on (the " +
                         "model imports opset " + std::to_string(g.opset) + ")");
    }
    for (const auto& in : n.inputs)
      if (!in.empty() && !defined.count(in))
        throw ModelError(name + ": " + n.where() + ": input '" + in +
                         "' is not defined before it (missing initializer, or nodes out of order)");
    for (const auto& out : n.outputs)
      if (!out.empty() && !defined.insert(out).second)
        throw ModelError(name + ": " + n.where() + ": output '" + out +
                         "' is already defined (a graph assigns every tensor once)");
    g.nodes.push_back(std::move(n));
  }
  for (const auto& out : graph.output()) {
    if (!defined.count(out.name()))
      throw ModelError(name + ": graph output '" + out.name() + "' is not produced by any node");
    ValueInfo vi{out.name(), {}};
    g.outputs.push_back(vi);
  }
  if (g.outputs.empty()) throw ModelError(name + ": the model has no outputs");
  expand_function_ops(g, name);
  unroll_recurrent(g, name);
  expand_attention(g, name);
  return g;
}

Graph load_onnx(const std::string& path) {
  require_regular_file(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw ModelError(path + ": read error");
  return parse_onnx(bytes, path);
}

}  // namespace zkinfer::compiler
