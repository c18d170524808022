// The float reference: the model evaluated in double precision, op by op as ONNX defines it.
// Calibration takes value ranges from it, the compile report compares the circuit with it, and
// the tests check it against onnxruntime, so the circuit is compared with an independent oracle.
#pragma once

#include <map>
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

}  // namespace zkinfer::compiler
