// The coordinator's share of proving (DESIGN.md 2, step 5): adding up the partial MSM points of a
// split job, applying the randomisers, and checking every proof against the model's verification
// key before a job may succeed. An invalid proof is never returned as a result.
#pragma once

#include <span>
#include <string>

#include "zkinfer/common/artifact_store.h"
#include "zkinfer/coordinator/store.h"

namespace zkinfer::coordinator {

struct CheckedProof {
  std::string proof_json, public_json;  // snarkjs layouts
};

// Parses a proof and its public signals (snarkjs JSON) and verifies them against the model's
// verification key; throws std::invalid_argument naming what is wrong.
CheckedProof check_proof(const ModelRow& model, const std::string& proof_json, const std::string& public_json);

// A split job's proof: the partial points of its MSM shards (all done) added per MSM, assembled
// with r and s fresh from the OS CSPRNG, public signals from the witness artifact, then checked
// as above. Throws std::invalid_argument when a partial point is malformed or the proof fails.
CheckedProof aggregate_split(const common::ArtifactStore& artifacts, const ModelRow& model,
                             const std::string& witness_sha256, std::span<const ShardRow> shards);

}  // namespace zkinfer::coordinator
