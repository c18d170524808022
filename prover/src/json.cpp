#include "zkinfer/prover/json.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "zkinfer/ec/pairing.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::prover {

using json = nlohmann::ordered_json;

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}

const json& field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object()) bad(where, "expected a JSON object");
  auto it = j.find(key);
  if (it == j.end()) bad(where, std::string("missing \"") + key + "\"");
  return *it;
}

std::string str(const json& j, const std::string& where) {
  if (!j.is_string()) bad(where, "expected a decimal string, got " + std::string(j.type_name()));
  return j.get<std::string>();
}

const json& array_of(const json& j, size_t n, const std::string& where) {
  if (!j.is_array() || j.size() != n)
    bad(where, "expected an array of " + std::to_string(n) + " elements");
  return j;
}

G1Affine g1_from(const json& j, const std::string& where) {
  array_of(j, 3, where);
  G1Json s;
  for (size_t i = 0; i < 3; ++i) s[i] = str(j[i], where + "[" + std::to_string(i) + "]");
  try {
    return point_from_json<G1Curve>(s);
  } catch (const std::invalid_argument& e) {
    bad(where, e.what());
  }
}

G2Affine g2_from(const json& j, const std::string& where) {
  array_of(j, 3, where);
  G2Json s;
  for (size_t i = 0; i < 3; ++i) {
    std::string wi = where + "[" + std::to_string(i) + "]";
    array_of(j[i], 2, wi);
    for (size_t k = 0; k < 2; ++k) s[i][k] = str(j[i][k], wi + "[" + std::to_string(k) + "]");
  }
  try {
    return point_from_json<G2Curve>(s);
  } catch (const std::invalid_argument& e) {
    bad(where, e.what());
  }
}

json g1_to(const G1Affine& p) { return point_to_json<G1Curve>(p); }
json g2_to(const G2Affine& p) { return point_to_json<G2Curve>(p); }

void check_tag(const json& j, const char* key, const char* want, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return;  // optional, as in snarkjs
  if (!it->is_string() || it->get<std::string>() != want)
    bad(where, std::string("\"") + key + "\" must be \"" + want + "\", got " + it->dump());
}

// ffjavascript's final exponentiation uses the Fuentes-Castaneda et al. hard part, so its
// pairing is the optimal ate pairing raised to m = 2x(6x^2 + 3x + 1) (x the BN parameter): a
// fixed power coprime to r, hence an equally valid pairing. snarkjs's verifier never reads
// vk_alphabeta_12, but writing the same value keeps our verification keys equal to its exports.
Fq12 snarkjs_pairing(const G1Affine& p, const G2Affine& q) {
  const Fr x = Fr::from_u64(bn254::kBnX);
  const Fr m = (x + x) * (Fr::from_u64(6) * x * x + Fr::from_u64(3) * x + Fr::one());
  return pairing(p, q).pow(m.to_canonical());
}

json fq2_to(const Fq2& a) { return json::array({field_to_decimal(a.c0), field_to_decimal(a.c1)}); }
json fq6_to(const Fq6& a) { return json::array({fq2_to(a.c0), fq2_to(a.c1), fq2_to(a.c2)}); }

}  // namespace

json proof_to_json(const Proof& p) {
  return json{{"pi_a", g1_to(p.a)}, {"pi_b", g2_to(p.b)}, {"pi_c", g1_to(p.c)},
              {"protocol", "groth16"}, {"curve", "bn128"}};
}

Proof proof_from_json(const json& j, const std::string& name) {
  check_tag(j, "protocol", "groth16", name);
  check_tag(j, "curve", "bn128", name);
  return {g1_from(field(j, "pi_a", name), name + ": pi_a"), g2_from(field(j, "pi_b", name), name + ": pi_b"),
          g1_from(field(j, "pi_c", name), name + ": pi_c")};
}

json public_to_json(std::span<const Fr> signals) {
  json out = json::array();
  for (const Fr& x : signals) out.push_back(field_to_decimal(x));
  return out;
}

std::vector<Fr> public_from_json(const json& j, const std::string& name) {
  if (!j.is_array()) bad(name, "expected an array of decimal strings");
  std::vector<Fr> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    std::string where = name + "[" + std::to_string(i) + "]";
    std::string s;
    if (j[i].is_number_integer() && (j[i].is_number_unsigned() || j[i].get<int64_t>() >= 0)) {
      s = std::to_string(j[i].get<uint64_t>());
    } else {
      s = str(j[i], where);
    }
    try {
      out.push_back(field_from_decimal<Fr>(s));
    } catch (const std::invalid_argument& e) {
      bad(where, std::string(e.what()) + " (public signals must be decimal integers below the BN254 scalar field order r)");
    }
  }
  return out;
}

json vk_to_json(const VerificationKey& vk) {
  Fq12 ab = snarkjs_pairing(vk.alpha1, vk.beta2);
  json ic = json::array();
  for (const auto& p : vk.ic) ic.push_back(g1_to(p));
  return json{{"protocol", "groth16"},
              {"curve", "bn128"},
              {"nPublic", vk.n_public()},
              {"vk_alpha_1", g1_to(vk.alpha1)},
              {"vk_beta_2", g2_to(vk.beta2)},
              {"vk_gamma_2", g2_to(vk.gamma2)},
              {"vk_delta_2", g2_to(vk.delta2)},
              {"vk_alphabeta_12", json::array({fq6_to(ab.c0), fq6_to(ab.c1)})},
              {"IC", ic}};
}

VerificationKey vk_from_json(const json& j, const std::string& name) {
  check_tag(j, "protocol", "groth16", name);
  check_tag(j, "curve", "bn128", name);
  VerificationKey vk;
  vk.alpha1 = g1_from(field(j, "vk_alpha_1", name), name + ": vk_alpha_1");
  vk.beta2 = g2_from(field(j, "vk_beta_2", name), name + ": vk_beta_2");
  vk.gamma2 = g2_from(field(j, "vk_gamma_2", name), name + ": vk_gamma_2");
  vk.delta2 = g2_from(field(j, "vk_delta_2", name), name + ": vk_delta_2");
  const json& ic = field(j, "IC", name);
  if (!ic.is_array() || ic.empty()) bad(name, "\"IC\" must be a non-empty array of G1 points");
  for (size_t i = 0; i < ic.size(); ++i)
    vk.ic.push_back(g1_from(ic[i], name + ": IC[" + std::to_string(i) + "]"));
  auto np = j.find("nPublic");
  if (np != j.end() && (!np->is_number_unsigned() || np->get<uint64_t>() != vk.n_public()))
    bad(name, "\"nPublic\" is " + np->dump() + " but \"IC\" has " + std::to_string(ic.size()) +
                  " points (nPublic + 1 expected)");
  return vk;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": not valid JSON: " + e.what());
  }
}

void write_json_file(const std::string& path, const json& j) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path + ": cannot create");
  out << j.dump(1) << "\n";
  out.close();
  if (!out) throw std::runtime_error(path + ": write failed");
}

}  // namespace zkinfer::prover
