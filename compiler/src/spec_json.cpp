// model.json: the ModelSpec (lower.h) as JSON, with a format version so a stale file is refused.
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/lower.h"

namespace zkinfer::compiler {

namespace {
constexpr int kSpecVersion = 1;

nlohmann::json shape_json(const Shape& s) { return nlohmann::json(s); }
}  // namespace

nlohmann::ordered_json spec_to_json(const ModelSpec& s) {
  nlohmann::ordered_json j;
  j["format"] = "zkinfer-model";
  j["version"] = kSpecVersion;
  j["onnx_sha256"] = s.onnx_sha256;
  j["circuit"] = {{"wires", s.n_wires}, {"constraints", s.n_constraints}, {"public_signals", s.n_public}};
  j["quantization"] = {{"act_bits", s.options.act_bits},     {"weight_bits", s.options.weight_bits},
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
    s.n_wires = c.at("wires").get<uint32_t>();
    s.n_constraints = c.at("constraints").get<uint32_t>();
    s.n_public = c.at("public_signals").get<uint32_t>();
    const auto& q = j.at("quantization");
    s.options.act_bits = q.at("act_bits").get<unsigned>();
    s.options.weight_bits = q.at("weight_bits").get<unsigned>();
    s.options.max_scale = q.at("max_scale").get<int>();
    s.options.headroom = q.at("headroom").get<double>();
    s.options.input_range = q.at("input_range").get<double>();
    const std::string vis = q.at("input_visibility").get<std::string>();
    if (vis != "public" && vis != "private") throw ModelError("model.json: input_visibility must be public or private");
    s.options.private_inputs = vis == "private";
    s.input_commitment = s.options.private_inputs;
    for (const auto& in : j.at("inputs"))
      s.inputs.push_back({in.at("name").get<std::string>(), in.at("shape").get<Shape>(), in.at("scale").get<int>(),
                          in.at("first_signal").get<uint32_t>()});
    for (const auto& o : j.at("outputs"))
      s.outputs.push_back({o.at("name").get<std::string>(), o.at("shape").get<Shape>(), o.at("scale").get<int>(),
                           o.at("softmax").get<bool>(), o.at("first_signal").get<uint32_t>()});
    for (const auto& a : j.at("approximations"))
      s.approximations.push_back({a.at("node").get<std::string>(), a.at("op").get<std::string>(),
                                  a.at("max_abs_error").get<double>()});
    for (const auto& [name, scale] : j.at("plan").items()) s.plan[name] = scale.get<int>();
    for (const auto& o : s.outputs)
      if (uint64_t(o.first_signal) + element_count(o.shape) > s.n_public)
        throw ModelError("model.json: output '" + o.name + "' lies outside the public signals");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(std::string("model.json: malformed: ") + e.what());
  }
}

}  // namespace zkinfer::compiler
