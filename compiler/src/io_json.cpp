#include "zkinfer/compiler/io_json.h"

#include <cmath>
#include <fstream>

#include "zkinfer/compiler/lower.h"

namespace zkinfer::compiler {

namespace {
void flatten(const nlohmann::json& j, size_t depth, Shape& shape, std::vector<double>& out, const std::string& what,
             bool booleans) {
  if (j.is_array()) {
    if (depth == shape.size()) {
      if (!out.empty()) throw ModelError(what + ": ragged nested array (mixes numbers and arrays)");
      shape.push_back(int64_t(j.size()));
    } else if (shape[depth] != int64_t(j.size())) {
      throw ModelError(what + ": ragged nested array (rows of different lengths)");
    }
    if (j.empty()) throw ModelError(what + ": empty array");
    for (const auto& e : j) flatten(e, depth + 1, shape, out, what, booleans);
    return;
  }
  if (!j.is_number() && !(booleans && j.is_boolean()))  // (a bool input's true and false, as numpy writes them)
    throw ModelError(what + ": holds " + std::string(j.type_name()) + ", expected a number");
  if (depth != shape.size()) throw ModelError(what + ": ragged nested array (number where an array was expected)");
  const double v = j.is_boolean() ? double(j.get<bool>()) : j.get<double>();
  if (!std::isfinite(v)) throw ModelError(what + ": holds a non-finite number");
  out.push_back(v);
}

Shape strip_leading_ones(Shape s) {
  while (!s.empty() && s.front() == 1) s.erase(s.begin());
  return s;
}
}  // namespace

Tensor tensor_from_json(const nlohmann::json& j, const Shape& expected, const std::string& what, bool booleans) {
  Tensor t;
  flatten(j, 0, t.shape, t.data, what, booleans);
  if (t.shape != expected && strip_leading_ones(t.shape) != strip_leading_ones(expected))
    throw ModelError(what + ": shape " + shape_str(t.shape) + " does not match the model's " + shape_str(expected));
  t.shape = expected;
  return t;
}

nlohmann::json tensor_to_json(const Tensor& t) {
  // Builds nested arrays from the innermost dimension out.
  std::vector<nlohmann::json> level;
  for (double v : t.data) level.emplace_back(v);
  for (size_t d = t.shape.size(); d-- > 0;) {
    const size_t len = size_t(t.shape[d]);
    std::vector<nlohmann::json> up;
    for (size_t i = 0; i < level.size(); i += len)
      up.emplace_back(nlohmann::json(std::vector<nlohmann::json>(level.begin() + long(i), level.begin() + long(i + len))));
    level = std::move(up);
  }
  return level.at(0);
}

TensorMap inputs_from_json(const nlohmann::json& j, const Graph& g, const std::string& what) {
  TensorMap m;
  if (j.is_object()) {
    for (const auto& in : g.inputs) {
      if (!j.contains(in.name)) throw ModelError(what + ": has no value for input '" + in.name + "'");
      m[in.name] = tensor_from_json(j.at(in.name), in.shape, what + ": input '" + in.name + "'", in.boolean);
    }
    for (const auto& [k, v] : j.items()) {
      (void)v;
      if (!m.count(k)) throw ModelError(what + ": the model has no input named '" + k + "'");
    }
    return m;
  }
  if (g.inputs.size() != 1)
    throw ModelError(what + ": the model has " + std::to_string(g.inputs.size()) +
                     " inputs; give an object mapping input names to arrays");
  m[g.inputs[0].name] =
      tensor_from_json(j, g.inputs[0].shape, what + ": input '" + g.inputs[0].name + "'", g.inputs[0].boolean);
  return m;
}

std::vector<TensorMap> samples_from_json(const nlohmann::json& j, const Graph& g, const std::string& what) {
  if (!j.is_array() || j.empty()) throw ModelError(what + ": expected a non-empty array of inputs");
  std::vector<TensorMap> out;
  for (size_t i = 0; i < j.size(); ++i) out.push_back(inputs_from_json(j[i], g, what + " sample " + std::to_string(i)));
  return out;
}

nlohmann::json read_json_file(const std::string& path) {
  require_regular_file(path);
  std::ifstream f(path);
  if (!f) throw ModelError(path + ": cannot open");
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    throw ModelError(path + ": not valid JSON: " + e.what());
  }
}

}  // namespace zkinfer::compiler
