// JSON forms of model inputs, outputs and calibration samples, and of model.json.
//   INPUT.json: {"<input name>": nested array, ...}, or a bare nested array for a one-input model.
//     A nested array may omit leading dimensions of size 1 ([64] for a [1,64] input).
//   SAMPLES.json (calibration): an array of INPUT.json values.
//   output.json: {"<output name>": nested array of dequantized values, ...}.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/reference.h"

namespace zkinfer::compiler {

// Throws ModelError naming `what` and the problem (not a number, ragged array, wrong shape).
// With `booleans` (a bool input), true and false are read as 1 and 0 too.
Tensor tensor_from_json(const nlohmann::json& j, const Shape& expected, const std::string& what, bool booleans = false);
nlohmann::json tensor_to_json(const Tensor& t);

TensorMap inputs_from_json(const nlohmann::json& j, const Graph& g, const std::string& what);
std::vector<TensorMap> samples_from_json(const nlohmann::json& j, const Graph& g, const std::string& what);

// Reads and parses a JSON file; errors name the file.
nlohmann::json read_json_file(const std::string& path);

}  // namespace zkinfer::compiler
