// A model as the compiler sees it: an ONNX graph reduced to what lowering needs, with static
// shapes, constants as tensors of doubles, and nodes in an order where every input is defined.
// Loading checks the op set and every attribute the compiler relies on, so later stages can
// assume a well-formed graph; errors name the node, the op and the opset.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace zkinfer::compiler {

// Unsupported or malformed models.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<int64_t>;
size_t element_count(const Shape& s);
std::string shape_str(const Shape& s);

// A tensor of doubles: constants (initializers, Constant nodes, integer tensors included) and
// the float reference evaluation.
struct Tensor {
  Shape shape;
  std::vector<double> data;
  bool integer = false;  // an integer tensor (int32, int64, bool, Shape's output): Div truncates
  bool boolean = false;  // read from a bool tensor of the file (an Attention's boolean mask)
};

struct Attribute {
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kTensor, kStrings };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  Tensor tensor;
  std::vector<std::string> strings;  // e.g. the recurrent layers' activations
};

struct Node {
  std::string name;  // the ONNX node name, or "<op>#<index>" when it has none
  std::string op;
  std::vector<std::string> inputs;  // "" for an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attrs;

  bool has(const std::string& a) const { return attrs.count(a) != 0; }
  int64_t get_int(const std::string& a, int64_t dflt) const;
  double get_float(const std::string& a, double dflt) const;
  std::string get_string(const std::string& a, const std::string& dflt) const;
  std::vector<int64_t> get_ints(const std::string& a, std::vector<int64_t> dflt = {}) const;
  std::vector<std::string> get_strings(const std::string& a, std::vector<std::string> dflt = {}) const;
  // "node 'x' (Conv)": how errors name a node.
  std::string where() const;
};

struct ValueInfo {
  std::string name;
  Shape shape;
  bool integer = false;  // an int32/int64 graph input (token ids): integers, held at scale 0
  bool boolean = false;  // a bool graph input
};

struct Graph {
  int64_t opset = 0;       // the default ("" / "ai.onnx") domain's version
  std::string producer;    // e.g. "pytorch 1.13.1"
  std::vector<ValueInfo> inputs;   // real inputs only (initializers excluded), static shapes
  std::vector<ValueInfo> outputs;  // shapes filled by shape inference when the file omits them
  std::map<std::string, Tensor> constants;  // initializers and Constant nodes
  std::vector<Node> nodes;                        // topologically ordered, Constant nodes removed
};

// The ops the compiler lowers: layers, activations and pooling; data movement (Reshape, Slice,
// Pad, ...) and the shape arithmetic exporters write around them (Shape, Cast, ConstantOfShape,
// folded where their inputs are constants); comparisons and logic on computed values; inference
// no-ops Identity and Dropout; and RNN, GRU and LSTM, which loading unrolls into the others
// (recurrent.h), and Gelu, Swish, Attention and RotaryEmbedding, which it writes out
// (attention.h), so no later stage sees them.
std::span<const char* const> supported_ops();
// Opsets 22 to 24 changed the lowered ops only by element types (bfloat16, 4- and 8-bit floats:
// refused by type like every other narrow type) and added RMSNormalization (23, lowered),
// Attention and RotaryEmbedding (23, written out at load: attention.h), Swish (24, written out
// at load) and TensorScatter (refused as an unsupported op); later opsets have not been checked.
inline constexpr int64_t kMinOpset = 9, kMaxOpset = 24;

// Throws ModelError naming `path` when it does not exist or is a directory (a stream opened on a
// directory fails with a message that names no file).
void require_regular_file(const std::string& path);

// Reads an ONNX model file (or bytes): checks the opset range, that every op is supported, that
// every input has a static shape, that every node input is defined, folds Constant nodes, and
// unrolls the recurrent layers.
Graph load_onnx(const std::string& path);
Graph parse_onnx(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace zkinfer::compiler
