// Lowering: a Graph to a quantized circuit (emit mode) or to its witness (eval mode), with the
// same code, so the witness computed at prove time fits the circuit written at compile time.
//
// Numbers are fixed point with power-of-two scales: a tensor at scale s holds integers q standing
// for q / 2^s. Linear ops (Gemm, MatMul and Conv with constant weights, Add, Sub, Mul and Div by
// constants, BatchNormalization, pooling sums, reshapes) only build linear combinations: they cost
// no constraints. A tensor is materialized (one wire per element, rescaled to its planned scale
// and range checked by bit decomposition) where a nonlinear op or a wide linear op needs it, and
// ReLU, max and comparisons reuse the sign bit of that decomposition.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zkinfer/compiler/circuit.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/op_shapes.h"
#include "zkinfer/compiler/reference.h"
#include "zkinfer/prover/r1cs.h"

namespace zkinfer::compiler {

struct QuantOptions {
  // Materialized activations are range checked to |q| < 2^(act_bits - 1).
  unsigned act_bits = 16;
  // Constant weights are rounded to weight_bits signed bits at a per-tensor power-of-two scale.
  unsigned weight_bits = 12;
  // Sigmoid, Tanh and Erf are piecewise linear over 2^segment_bits segments of [-4, 4) (a
  // Softmax's exp over (-8, 0]): each step up roughly quarters the approximation error and
  // doubles the 2^b - b - 1 product constraints per element (5: about 6e-3 for Tanh, 26 products).
  unsigned segment_bits = 5;
  // No activation is kept at more than this many fractional bits.
  int max_scale = 16;
  // A calibrated range is widened by this factor before scales are chosen (inputs beyond the
  // calibration samples get this much room before a prove fails with "out of range").
  double headroom = 2.0;
  // Without calibration, inputs are assumed to lie in [-input_range, input_range] and every
  // other scale comes from worst-case bounds (never out of range, less precise).
  double input_range = 1.0;
  bool private_inputs = false;
};

// Value ranges (max |v| over the calibration samples) per tensor name.
using Ranges = std::map<std::string, double>;
Ranges calibrate(const Graph& g, const std::vector<TensorMap>& samples);

// How an output of the model appears in the public signals.
struct OutputSpec {
  std::string name;
  Shape shape;
  int scale = 0;       // public value q stands for q / 2^scale
  bool softmax = false;  // a Softmax only feeding outputs: the public values are its input (the logits),
                         // and output.json reports softmax(logits); softmax is monotone and a
                         // public function of public values, so it needs no constraints
  uint32_t first_signal = 0;  // index of its first value among the public signals
};
struct InputSpec {
  std::string name;
  Shape shape;
  int scale = 0;
  uint32_t first_signal = 0;  // public inputs: index among the public signals
};
// An approximated op (Sigmoid, Tanh, Erf) and its stated error bound in output units; for a
// Softmax inside the graph, the bound of its interpolated exp (values in (0, 1]); for a
// LayerNormalization or RMSNormalization (op named so; node the last node of a written-out one),
// the bound on its output at the circuit's own rounded input (the 1/sqrt's floor, epsilon, Scale
// and B rounded).
struct Approximation {
  std::string node, op;
  double max_abs_error = 0;
};

// Where a circuit's constraints come from, per node (compile report; not in model.json).
struct LayerStat {
  std::string node, op;
  Shape shape;
  int scale = 0;
  uint32_t constraints = 0;  // added by this node, including materializing its inputs
};

// Everything prove time needs besides the ONNX model: written as DIR/model.json.
struct ModelSpec {
  QuantOptions options;
  std::map<std::string, int> plan;  // tensor -> materialization scale
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;
  bool input_commitment = false;  // private inputs: last public signal is their Poseidon commitment
  uint32_t n_wires = 0, n_constraints = 0, n_public = 0;
  std::vector<Approximation> approximations;
  std::string onnx_sha256;
  std::vector<LayerStat> layers;  // compile only
};
nlohmann::ordered_json spec_to_json(const ModelSpec& spec);
ModelSpec spec_from_json(const nlohmann::json& j);

struct Compiled {
  prover::R1cs r1cs;
  ModelSpec spec;
};
// `ranges` may be null (no calibration: worst-case bounds from options.input_range).
Compiled compile_model(const Graph& g, const QuantOptions& options, const Ranges* ranges);

// LayerNormalization and RMSNormalization as exporters write them before opsets 17 and 23:
// c = Sub(x, ReduceMean(x)) for LayerNorm, c = x for RMSNorm (torch's LlamaRMSNorm, T5's),
// var = ReduceMean(Pow(c, 2) or Mul(c, c)), s = Sqrt(Add(var, eps)), then z = Div(c, s) or
// Mul(c, 1 / s) with 1 / s a Reciprocal or a Div of the constant 1 (torch's rsqrt), eps a
// positive constant and the intermediates used nowhere else. Where the ReduceMeans reduce the
// same trailing axes of x (written_layer_norm_lines), the compiler proves z as one
// LayerNormalization or RMSNormalization (Scale 1, no B): exact where the written-out form would
// round a small mean square to zero and divide by it. Its Approximation entry then names the
// node that gives z (`out`) with op "LayerNormalization" or "RMSNormalization".
struct WrittenLayerNorm {
  bool centered = true;            // LayerNorm (c = x - mean) or RMSNorm (c = x)
  const Node* mean = nullptr;      // ReduceMean(x), LayerNorm only
  const Node* var = nullptr;       // ReduceMean(c^2)
  const Node* out = nullptr;       // the Div or Mul whose output is z
  std::vector<const Node*> inner;  // every other node of the chain, first in graph order first
  std::string x;
  double epsilon = 0;
  const char* op() const { return centered ? "LayerNormalization" : "RMSNormalization"; }
};
std::vector<WrittenLayerNorm> written_layer_norms(const Graph& g);
// Its lines for an x of shape `x`, or nullopt where the reduced axes are not the same trailing ones.
std::optional<AxisLines> written_layer_norm_lines(const WrittenLayerNorm& p, const Shape& x, const Graph& g);

// A witness failed: an input or activation does not fit its planned range, etc.
class ProveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Evaluation {
  std::vector<Fr> witness;
  std::vector<Fr> public_signals;
  TensorMap outputs;  // dequantized, by output name (softmax applied where the spec says)
  std::map<std::string, std::vector<int64_t>> raw_outputs;  // the public integers
};
Evaluation evaluate_model(const Graph& g, const ModelSpec& spec, const TensorMap& inputs);

}  // namespace zkinfer::compiler
