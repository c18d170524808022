#include "zkinfer/coordinator/aggregate.h"

#include <stdexcept>

#include "zkinfer.pb.h"
#include "zkinfer/prover/csprng.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::coordinator {

namespace v1 = zkinfer::v1;

namespace {

nlohmann::ordered_json parse_json(const std::string& text, const std::string& what) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(what + " is not valid JSON: " + e.what());
  }
}

CheckedProof verified(const ModelRow& model, const prover::Proof& proof, std::span<const Fr> pub) {
  const prover::VerificationKey vk = prover::vk_from_json(parse_json(model.verification_key_json, "verification key"),
                                                          "model " + model.model_id + "'s verification key");
  std::string why;
  if (!prover::verify(vk, pub, proof, &why)) throw std::invalid_argument("the proof does not verify: " + why);
  return {prover::proof_to_json(proof).dump(), prover::public_to_json(pub).dump()};
}

}  // namespace

CheckedProof check_proof(const ModelRow& model, const std::string& proof_json, const std::string& public_json) {
  const prover::Proof proof = prover::proof_from_json(parse_json(proof_json, "proof"), "proof");
  const std::vector<Fr> pub = prover::public_from_json(parse_json(public_json, "public signals"), "public signals");
  return verified(model, proof, pub);
}

CheckedProof aggregate_split(const common::ArtifactStore& artifacts, const ModelRow& model,
                             const std::string& witness_sha256, std::span<const ShardRow> shards) {
  const prover::Zkey key = prover::Zkey::open(artifacts.path(model.zkey_sha256), prover::ZkeyCheck::kHeader);
  prover::ProofMsms m{G1Jacobian::infinity(), G1Jacobian::infinity(), G1Jacobian::infinity(), G1Jacobian::infinity(),
                      G2Jacobian::infinity()};
  for (const auto& s : shards) {
    if (s.kind != v1::SHARD_KIND_MSM) continue;
    if (s.state != kShardDone) throw std::logic_error("aggregate_split: shard " + s.shard_id + " is not done");
    const std::string what = "partial point of shard " + s.shard_id;
    switch (s.msm) {
      case v1::MSM_KIND_A: m.a += G1Jacobian::from_affine(wire::decode_g1(s.point, what)); break;
      case v1::MSM_KIND_B1: m.b1 += G1Jacobian::from_affine(wire::decode_g1(s.point, what)); break;
      case v1::MSM_KIND_B2: m.b2 += G2Jacobian::from_affine(wire::decode_g2(s.point, what)); break;
      case v1::MSM_KIND_C: m.c += G1Jacobian::from_affine(wire::decode_g1(s.point, what)); break;
      case v1::MSM_KIND_H: m.h += G1Jacobian::from_affine(wire::decode_g1(s.point, what)); break;
      default: throw std::invalid_argument("shard " + s.shard_id + ": unknown MSM kind " + std::to_string(s.msm));
    }
  }
  const std::vector<Fr> witness = prover::read_wtns(artifacts.path(witness_sha256));
  prover::check_witness(key, witness);
  const std::vector<Fr> pub = prover::public_signals(key, witness);
  const prover::Proof proof =
      prover::assemble_proof(key.header(), m, prover::secure_random_fr(), prover::secure_random_fr());
  return verified(model, proof, pub);
}

}  // namespace zkinfer::coordinator
