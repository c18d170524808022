#include "zkinfer/prover/solidity.h"

#include <map>
#include <stdexcept>

#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/groth16_verifier_sol.h"  // generated from prover/templates/

namespace zkinfer::prover {

namespace {

std::string dec(const Fq& v) { return u256_to_decimal(v.to_canonical()); }

// {{NAME}} -> value for every placeholder; throws on a placeholder without a value, so a
// template edit and this generator cannot drift apart silently.
std::string fill(std::string_view tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(tmpl.size() + 4096);
  size_t pos = 0;
  while (true) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos)
      throw std::logic_error("solidity template: unterminated placeholder");
    std::string name(tmpl.substr(open + 2, close - open - 2));
    auto it = values.find(name);
    if (it == values.end())
      throw std::logic_error("solidity template: no value for placeholder {{" + name + "}}");
    out.append(tmpl.substr(pos, open - pos));
    out.append(it->second);
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

void put_g2(std::map<std::string, std::string>& m, const std::string& name, const G2Affine& p) {
  // The precompile reads an Fq2 element imaginary part first.
  m[name + "_X1"] = dec(p.x.c1);
  m[name + "_X0"] = dec(p.x.c0);
  m[name + "_Y1"] = dec(p.y.c1);
  m[name + "_Y0"] = dec(p.y.c0);
}

}  // namespace

std::string_view solidity_verifier_template() { return kGroth16VerifierSol; }

std::string solidity_verifier(const VerificationKey& vk) {
  if (vk.ic.size() < 2)
    throw std::invalid_argument(
        "Solidity verifier: the verification key has no public signal; verifyProof's "
        "uint[N] pubSignals needs N >= 1");
  if (vk.alpha1.is_infinity() || vk.beta2.is_infinity() || vk.gamma2.is_infinity() ||
      vk.delta2.is_infinity())
    throw std::invalid_argument("Solidity verifier: a verification key point is the point at infinity");

  std::map<std::string, std::string> m;
  m["N_PUBLIC"] = std::to_string(vk.n_public());
  m["ALPHA1_X"] = dec(vk.alpha1.x);
  m["ALPHA1_Y"] = dec(vk.alpha1.y);
  put_g2(m, "BETA2", vk.beta2);
  put_g2(m, "GAMMA2", vk.gamma2);
  put_g2(m, "DELTA2", vk.delta2);

  std::string ic;
  for (size_t i = 0; i < vk.ic.size(); ++i) {
    // An IC point may be infinity (a public signal no constraint uses): (0, 0) is what the
    // precompiles take for it.
    ic += "        ic[" + std::to_string(i) + "] = [uint256(" + dec(vk.ic[i].x) + "), " +
          dec(vk.ic[i].y) + "];\n";
  }
  if (!ic.empty()) ic.pop_back();  // the template line ends in its own newline
  m["IC_POINTS"] = ic;
  return fill(kGroth16VerifierSol, m);
}

}  // namespace zkinfer::prover
