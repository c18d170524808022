// model.json: the ModelSpec (lower.h) as JSON, with a format version so a stale file is refused.
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/lower.h"

namespace zkinfer::compiler {

namespace {
constexpr int kSpecVersion = 1;

nlohmann::json shape_json(const Shape& s) { return nlohmann::json(s); }

// Integers of model.json, refusing fractions, strings and values out of range (nlohmann's
// get<>() would convert them silently).
int64_t get_int(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_integer()) throw ModelError(std::string("model.json: malformed: '") + key + "' must be an integer");
  const int64_t x = v.get<int64_t>();
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
    throw ModelError(std::string("model.json: malformed: '") + key + "' is out of range");
  if (x < lo || x > hi) throw ModelError(std::string("model.json: malformed: '") + key + "' is out of range");
  return x;
}
int scale_of(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number_integer() || v.get<int64_t>() < -256 || v.get<int64_t>() > 256)
    throw ModelError("model.json: malformed: the scale of " + what + " must be an integer in [-256, 256]");
  return int(v.get<int64_t>());
}
Shape shape_of(const nlohmann::json& v, const std::string& what) {
  if (!v.is_array()) throw ModelError("model.json: malformed: the shape of " + what + " must be an array");
  Shape s;
  for (const auto& d : v) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t{1} << 32))
      throw ModelError("model.json: malformed: the shape of " + what + " must hold positive integers");
    s.push_back(d.get<int64_t>());
  }
  return s;
}
}  // namespace

nlohmann::ordered_json spec_to_json(const ModelSpec& s) {
  nlohmann::ordered_json j;
  j["format"] = "zkinfer-model";
  j["version"] = kSpecVersion;
  j["onnx_sha256"] = s.onnx_sha256;
  j["circuit"] = {{"wires", s.n_wires}, {"constraints", s.n_constraints}, {"public_signals", s.n_public}};
  j["quantization"] = {{"act_bits", s.options.act_bits},     {"weight_bits", s.options.weight_bits},
                       {"segment_bits", s.options.segment_bits},
                       {"max_scale", s.options.max_scale},   {"headroom", s.options.headroom},
                       {"input_range", s.options.input_range}, {"input_visibility", s.options.private_inputs ? "private" : "public"}};
  j["inputs"] = nlohmann::ordered_json::array();
  for (const auto& in : s.inputs)
    j["inputs"].push_back({{"name", in.name}, {"shape", shape_json(in.shape)}, {"scale", in.scale}, {"first_signal", in.first_signal}});
  j["outputs"] = nlohmann::ordered_json::array();
  for (const auto& o : s.outputs)
    j["outputs"].push_back({{"name", o.name}, {"shape", shape_json(o.shape)}, {"scale", o.scale},
                            {"softmax", o.softmax}, {"first_signal", o.first_signal}});
  j["input_commitment"] = s.input_commitment
      ? nlohmann::ordered_json{{"scheme", "poseidon-chain-16 (compiler/include/zkinfer/compiler/poseidon.h)"},
                               {"signal", s.n_public - 1}}
      : nlohmann::ordered_json(nullptr);
  j["approximations"] = nlohmann::ordered_json::array();
  for (const auto& a : s.approximations)
    j["approximations"].push_back({{"node", a.node}, {"op", a.op}, {"max_abs_error", a.max_abs_error}});
  j["plan"] = nlohmann::ordered_json::object();
  for (const auto& [name, scale] : s.plan) j["plan"][name] = scale;
  return j;
}

ModelSpec spec_from_json(const nlohmann::json& j) {
  try {
    if (j.value("format", "") != "zkinfer-model") throw ModelError("model.json: not a zkinfer model description");
    if (j.at("version").get<int>() != kSpecVersion)
      throw ModelError("model.json: format version " + std::to_string(j.at("version").get<int>()) + ", this zkinfer reads " +
                       std::to_string(kSpecVersion) + ": compile the model again");
    ModelSpec s;
    s.onnx_sha256 = j.at("onnx_sha256").get<std::string>();
    const auto& c = j.at("circuit");
    s.n_wires = uint32_t(get_int(c, "wires", 1, UINT32_MAX));
    s.n_constraints = uint32_t(get_int(c, "constraints", 0, UINT32_MAX));
    s.n_public = uint32_t(get_int(c, "public_signals", 0, UINT32_MAX));
    const auto& q = j.at("quantization");
    s.options.act_bits = unsigned(get_int(q, "act_bits", 4, 40));
    s.options.weight_bits = unsigned(get_int(q, "weight_bits", 2, 24));
    s.options.segment_bits = unsigned(get_int(q, "segment_bits", 1, 10));
    s.options.max_scale = int(get_int(q, "max_scale", -256, 256));
    s.options.headroom = q.at("headroom").get<double>();
    s.options.input_range = q.at("input_range").get<double>();
    const std::string vis = q.at("input_visibility").get<std::string>();
    if (vis != "public" && vis != "private") throw ModelError("model.json: input_visibility must be public or private");
    s.options.private_inputs = vis == "private";
    s.input_commitment = s.options.private_inputs;
    for (const auto& in : j.at("inputs")) {
      const std::string name = in.at("name").get<std::string>();
      s.inputs.push_back({name, shape_of(in.at("shape"), "input '" + name + "'"), scale_of(in.at("scale"), "input '" + name + "'"),
                          uint32_t(get_int(in, "first_signal", 0, UINT32_MAX))});
    }
    for (const auto& o : j.at("outputs")) {
      const std::string name = o.at("name").get<std::string>();
      s.outputs.push_back({name, shape_of(o.at("shape"), "output '" + name + "'"), scale_of(o.at("scale"), "output '" + name + "'"),
                           o.at("softmax").get<bool>(), uint32_t(get_int(o, "first_signal", 0, UINT32_MAX))});
    }
    for (const auto& a : j.at("approximations"))
      s.approximations.push_back({a.at("node").get<std::string>(), a.at("op").get<std::string>(),
                                  a.at("max_abs_error").get<double>()});
    for (const auto& [name, scale] : j.at("plan").items()) s.plan[name] = scale_of(scale, "tensor '" + name + "'");
    for (const auto& o : s.outputs)
      if (uint64_t(o.first_signal) + element_count(o.shape) > s.n_public)
        throw ModelError("model.json: output '" + o.name + "' lies outside the public signals");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(std::string("model.json: malformed: ") + e.what());
  }
}

}  // namespace zkinfer::compiler
