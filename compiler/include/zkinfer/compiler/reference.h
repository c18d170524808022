// The float reference: the model evaluated in double precision, op by op as ONNX defines it.
// Calibration takes value ranges from it, the compile report compares the circuit with it, and
// the tests check it against onnxruntime, so the circuit is compared with an independent oracle.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "zkinfer/compiler/graph.h"

namespace zkinfer::compiler {

using TensorMap = std::map<std::string, Tensor>;

// Every tensor the graph defines (inputs, constants, node outputs) for these inputs. Input shapes
// must match the model's; throws ModelError naming the input or node otherwise.
TensorMap evaluate_reference(const Graph& g, const TensorMap& inputs);

// One node on the tensors it reads (looked up by name in `tensors`), under the model's opset:
// its first output, or all of them (Split has several; other ops' extra outputs, such as
// Dropout's mask, are not computed).
Tensor evaluate_node(const Node& n, const TensorMap& tensors, int64_t opset);
std::vector<Tensor> evaluate_outputs(const Node& n, const TensorMap& tensors, int64_t opset);

// Shapes of every tensor, from a reference run on zeros.
std::map<std::string, Shape> infer_shapes(const Graph& g);

// A reference run on zeros through a graph's nodes in order, for the load-time expansions that
// need the shapes (and constant values) of what some nodes read: the recurrent layers'
// unrolling, the Attention op's. Only the tensors those nodes read, and backwards whatever
// computes them, need evaluating; `fixed` holds the tensors that do not depend on the model's
// inputs (initializers and what is computed from them alone), whose values are exact.
class ZeroRun {
 public:
  // `expands`: the nodes an expansion replaces.
  ZeroRun(const Graph& g, const std::function<bool(const Node&)>& expands);
  // Whether a later expansion reads (through other nodes or not) one of n's outputs.
  bool needed(const Node& n) const;
  // n's outputs from its inputs (n from the graph, or from an expansion).
  void evaluate(const Node& n);
  // The constants of g this run has not seen yet (an expansion's) are fixed; with_values, their
  // values are taken too.
  void adopt_constants(const Graph& g, bool with_values);
  const TensorMap& values() const { return values_; }
  const std::set<std::string>& fixed() const { return fixed_; }

 private:
  int64_t opset_;
  std::set<std::string> needed_;
  TensorMap values_;
  std::set<std::string> fixed_;
};

// Every name a graph gives (constants, inputs, nodes and their outputs): an expansion names its
// new nodes and tensors apart from them.
std::set<std::string> defined_names(const Graph& g);

// Names for what the expansion of node `n` adds: "<n>/<stem>", with "#2", "#3", ... where taken
// (in `names`, which records each name given), and constants added to g under such names.
class ExpansionNames {
 public:
  ExpansionNames(Graph& g, const Node& n, std::set<std::string>& names) : g_(g), n_(n), names_(names) {}
  std::string fresh(const std::string& stem);
  std::string constant(const std::string& stem, Tensor t);

 private:
  Graph& g_;
  const Node& n_;
  std::set<std::string>& names_;
};

}  // namespace zkinfer::compiler
