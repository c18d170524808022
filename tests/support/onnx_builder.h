// Building small ONNX models in memory for tests and benchmarks, with the ONNX protobuf classes
// (Debian libonnx-dev). Header only; a target that includes it links `onnx_proto` and
// `protobuf::libprotobuf` (find_package(Protobuf) before find_package(ONNX)), or the interface
// target zkinfer::test_onnx_builder from tests/CMakeLists.txt, which brings both.
//
//   zkinfer::testing::OnnxBuilder b(13);             // default-domain opset
//   b.input("x", {2, 5});                           // float input with a static shape
//   b.initializer("w", {3, 5}, weights);            // float constant
//   b.node("Gemm", {"x", "w", ""}, {"y"}, {attr_int("transB", 1), attr_float("alpha", 0.5f)});
//   b.output("y");                                  // shape optional (left to shape inference)
//   std::vector<uint8_t> bytes = b.bytes();        // or b.save(path), b.model() for the proto
//
// make_mlp(sizes, seed) builds the Gemm/Relu multilayer perceptron used by benchmarks.
#pragma once

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace zkinfer::testing {

// Attributes: distinct names instead of overloads, so `attr_int("axis", 1)` is never ambiguous.
inline onnx::AttributeProto attr_int(const std::string& name, int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}
inline onnx::AttributeProto attr_float(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}
inline onnx::AttributeProto attr_string(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}
inline onnx::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}
inline onnx::AttributeProto attr_strings(const std::string& name, const std::vector<std::string>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRINGS);
  for (const auto& x : v) a.add_strings(x);
  return a;
}
inline onnx::AttributeProto attr_floats(const std::string& name, const std::vector<float>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOATS);
  for (float x : v) a.add_floats(x);
  return a;
}

// A tensor proto (float data in float_data, int64 in int64_data); the element count must match
// the shape.
inline onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                      const std::vector<float>& data) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  if (n != data.size())
    throw std::invalid_argument("float_tensor '" + name + "': " + std::to_string(data.size()) +
                                " values for " + std::to_string(n) + " elements");
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t.add_dims(d);
  for (float x : data) t.add_float_data(x);
  return t;
}
inline onnx::TensorProto int64_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                      const std::vector<int64_t>& data) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  if (n != data.size())
    throw std::invalid_argument("int64_tensor '" + name + "': " + std::to_string(data.size()) +
                                " values for " + std::to_string(n) + " elements");
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : shape) t.add_dims(d);
  for (int64_t x : data) t.add_int64_data(x);
  return t;
}
// An attribute holding a tensor (Constant's `value`).
inline onnx::AttributeProto attr_tensor(const std::string& name, const onnx::TensorProto& t) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::TENSOR);
  *a.mutable_t() = t;
  return a;
}

// `count` floats uniform in [lo, hi).
inline std::vector<float> random_floats(std::mt19937_64& rng, size_t count, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = float(u(rng));
  return v;
}

class OnnxBuilder {
 public:
  // `opset`: the default ("") domain's version; ir_version 8 (ONNX 1.10+, read by libonnx 1.12
  // and onnxruntime alike).
  explicit OnnxBuilder(int64_t opset = 13, int64_t ir_version = 8) {
    model_.set_ir_version(ir_version);
    model_.set_producer_name("zkinfer-tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test_graph");
  }

  // A graph input of `elem_type` (onnx::TensorProto::FLOAT etc.). Each dimension is static; a
  // negative value writes a symbolic dimension named `dim_param` instead (for models with
  // dynamic shapes).
  OnnxBuilder& input(const std::string& name, const std::vector<int64_t>& shape,
                     int32_t elem_type = onnx::TensorProto::FLOAT,
                     const std::string& dim_param = "N") {
    set_value_info(graph()->add_input(), name, &shape, elem_type, dim_param);
    return *this;
  }
  // A graph output; with no shape only the element type is written (onnxruntime and the
  // compiler's shape inference accept that; onnx.checker wants a shape).
  OnnxBuilder& output(const std::string& name, const std::vector<int64_t>* shape = nullptr,
                      int32_t elem_type = onnx::TensorProto::FLOAT) {
    set_value_info(graph()->add_output(), name, shape, elem_type, "N");
    return *this;
  }
  OnnxBuilder& output(const std::string& name, const std::vector<int64_t>& shape,
                      int32_t elem_type = onnx::TensorProto::FLOAT) {
    return output(name, &shape, elem_type);
  }

  OnnxBuilder& initializer(const std::string& name, const std::vector<int64_t>& shape,
                           const std::vector<float>& data) {
    *graph()->add_initializer() = float_tensor(name, shape, data);
    return *this;
  }
  OnnxBuilder& initializer_int64(const std::string& name, const std::vector<int64_t>& shape,
                                 const std::vector<int64_t>& data) {
    *graph()->add_initializer() = int64_tensor(name, shape, data);
    return *this;
  }
  // A BOOL initializer (raw data, one byte per element), nonzero as true.
  OnnxBuilder& initializer_bool(const std::string& name, const std::vector<int64_t>& shape,
                                const std::vector<float>& data) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::BOOL);
    for (int64_t d : shape) t.add_dims(d);
    std::string raw;
    for (float v : data) raw.push_back(v != 0 ? 1 : 0);
    t.set_raw_data(raw);
    *graph()->add_initializer() = t;
    return *this;
  }
  // A float initializer of uniform random values in [lo, hi).
  OnnxBuilder& random_initializer(const std::string& name, const std::vector<int64_t>& shape,
                                  std::mt19937_64& rng, double lo, double hi) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    return initializer(name, shape, random_floats(rng, n, lo, hi));
  }

  // A node; an empty string in `inputs` is an omitted optional input. Without a name it gets
  // "<op>_<index>".
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs,
                        const std::vector<onnx::AttributeProto>& attrs = {},
                        const std::string& name = "") {
    auto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(graph()->node_size() - 1) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    for (const auto& a : attrs) *n->add_attribute() = a;
    return *n;
  }

  onnx::ModelProto& model() { return model_; }
  const onnx::ModelProto& model() const { return model_; }
  onnx::GraphProto* graph() { return model_.mutable_graph(); }

  std::string serialized() const {
    std::string s;
    if (!model_.SerializeToString(&s)) throw std::runtime_error("OnnxBuilder: serialize failed");
    return s;
  }
  std::vector<uint8_t> bytes() const {
    std::string s = serialized();
    return std::vector<uint8_t>(s.begin(), s.end());
  }
  void save(const std::string& path) const {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    std::string s = serialized();
    f.write(s.data(), std::streamsize(s.size()));
    if (!f) throw std::runtime_error("OnnxBuilder: cannot write " + path);
  }

 private:
  static void set_value_info(onnx::ValueInfoProto* vi, const std::string& name,
                             const std::vector<int64_t>* shape, int32_t elem_type,
                             const std::string& dim_param) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    if (!shape) return;
    auto* sh = tt->mutable_shape();
    for (int64_t d : *shape) {
      auto* dim = sh->add_dim();
      if (d >= 0)
        dim->set_dim_value(d);
      else
        dim->set_dim_param(dim_param);
    }
  }

  onnx::ModelProto model_;
};

// A multilayer perceptron: input "input" of shape [batch, sizes[0]], one Gemm (transB = 1,
// weights [out, in] and bias [out], uniform in +-1/sqrt(in) like PyTorch's nn.Linear default)
// per pair of consecutive sizes, Relu between layers (none after the last), output "output" of
// shape [batch, sizes.back()]. Parameters: sum over layers of out * (in + 1).
inline OnnxBuilder make_mlp(const std::vector<int64_t>& sizes, uint64_t seed, int64_t batch = 1,
                            int64_t opset = 13) {
  if (sizes.size() < 2) throw std::invalid_argument("make_mlp: needs at least two sizes");
  std::mt19937_64 rng(seed);
  OnnxBuilder b(opset);
  b.input("input", {batch, sizes[0]});
  std::string x = "input";
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    int64_t in = sizes[l], out = sizes[l + 1];
    double bound = 1.0 / std::sqrt(double(in));
    std::string w = "fc" + std::to_string(l) + ".weight", bias = "fc" + std::to_string(l) + ".bias";
    b.random_initializer(w, {out, in}, rng, -bound, bound);
    b.random_initializer(bias, {out}, rng, -bound, bound);
    bool last = l + 2 == sizes.size();
    std::string y = last ? "output" : "fc" + std::to_string(l);
    b.node("Gemm", {x, w, bias}, {y}, {attr_int("transB", 1)}, "fc" + std::to_string(l));
    x = y;
    if (!last) {
      std::string r = "relu" + std::to_string(l);
      b.node("Relu", {x}, {r}, {}, r);
      x = r;
    }
  }
  b.output("output", std::vector<int64_t>{batch, sizes.back()});
  return b;
}

// LayerNorm as exporters write it before opset 17 (torch 1.13 at opset 14), over `axes` of x:
// mean = ReduceMean(x), c = x - mean, sq = Pow(c, 2), var = ReduceMean(sq), ve = var + eps (eps
// the first operand with eps_first), sd = Sqrt(ve), z = c / sd. Tensors and nodes are named
// mean, c/sub, two, sq/pow, var, eps, ve/add_eps, sd/sqrt, and the Div node "div".
inline void written_layer_norm(OnnxBuilder& b, const std::string& x, const std::string& z,
                               const std::vector<int64_t>& axes, bool eps_first = false) {
  b.node("ReduceMean", {x}, {"mean"}, {attr_ints("axes", axes)}, "mean");
  b.node("Sub", {x, "mean"}, {"c"}, {}, "sub");
  b.initializer("two", {}, {2.0f});
  b.node("Pow", {"c", "two"}, {"sq"}, {}, "pow");
  b.node("ReduceMean", {"sq"}, {"var"}, {attr_ints("axes", axes)}, "var");
  b.initializer("eps", {}, {1e-5f});
  b.node("Add", eps_first ? std::vector<std::string>{"eps", "var"} : std::vector<std::string>{"var", "eps"}, {"ve"}, {},
         "add_eps");
  b.node("Sqrt", {"ve"}, {"sd"}, {}, "sqrt");
  b.node("Div", {"c", "sd"}, {z}, {}, "div");
}

// How a written-out RMSNormalization divides x by its root mean square s.
enum class RmsDivide { kDiv, kReciprocalMul, kOneOverMul };  // x / s; x * Reciprocal(s); x * (1 / s)

// RMSNormalization as exporters write it before opset 23 (torch's LlamaRMSNorm, T5LayerNorm),
// over `axis` of x: sq = Pow(x, 2) (Mul(x, x) with square_by_mul), ms = ReduceMean(sq) (axes
// an attribute before opset 18, an input from 18), s = Sqrt(ms + eps), then z = x / s as
// `divide` says. Tensors and nodes are named "<z>/<stem>"; the node giving z is named "<z>/out".
inline void written_rms_norm(OnnxBuilder& b, const std::string& x, const std::string& z, int64_t axis, RmsDivide divide,
                             bool square_by_mul = false, float eps = 1e-6f) {
  const std::string p = z + "/";
  if (square_by_mul) {
    b.node("Mul", {x, x}, {p + "sq"}, {}, p + "square");
  } else {
    b.initializer(p + "two", {}, {2.0f});
    b.node("Pow", {x, p + "two"}, {p + "sq"}, {}, p + "square");
  }
  if (b.model().opset_import(0).version() >= 18) {
    b.initializer_int64(p + "axes", {1}, {axis});
    b.node("ReduceMean", {p + "sq", p + "axes"}, {p + "ms"}, {}, p + "mean_square");
  } else {
    b.node("ReduceMean", {p + "sq"}, {p + "ms"}, {attr_ints("axes", {axis})}, p + "mean_square");
  }
  b.initializer(p + "eps", {}, {eps});
  b.node("Add", {p + "ms", p + "eps"}, {p + "mse"}, {}, p + "add_eps");
  b.node("Sqrt", {p + "mse"}, {p + "rms"}, {}, p + "sqrt");
  if (divide == RmsDivide::kDiv) {
    b.node("Div", {x, p + "rms"}, {z}, {}, p + "out");
    return;
  }
  if (divide == RmsDivide::kReciprocalMul) {
    b.node("Reciprocal", {p + "rms"}, {p + "inv"}, {}, p + "reciprocal");
  } else {
    b.initializer(p + "one", {}, {1.0f});
    b.node("Div", {p + "one", p + "rms"}, {p + "inv"}, {}, p + "reciprocal");
  }
  b.node("Mul", {p + "inv", x}, {z}, {}, p + "out");
}

// Parameters make_mlp(sizes, ...) has.
inline int64_t mlp_parameter_count(const std::vector<int64_t>& sizes) {
  int64_t n = 0;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) n += sizes[l + 1] * (sizes[l] + 1);
  return n;
}

}  // namespace zkinfer::testing
