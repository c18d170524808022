// Preparing a model the coordinator was asked to add (AddModelRequest in zkinfer.proto): checks
// or makes its circuit and proving key in the artifact store and describes it as a ModelRow in
// state READY. Both functions take long (a compile and a setup, or a full check of every key
// point), so the coordinator runs them on a background thread; they touch only the artifact
// store, never the job Store. Every failure is an exception whose message says what is wrong
// (the coordinator records it as the model's error).
#pragma once

#include <functional>
#include <string>

#include "zkinfer.pb.h"
#include "zkinfer/common/artifact_store.h"
#include "zkinfer/coordinator/store.h"

namespace zkinfer::coordinator {

// A circuit with its proving key, both already in `artifacts`. Checks that they parse (every
// key point on its curve) and belong together: the key's n_vars equals the circuit's wires, its
// n_public the circuit's public signals, and its domain holds constraints + public + 1 points;
// else std::invalid_argument naming what differs. model_id = SHA-256 of r1cs_sha256 +
// zkey_sha256 (ModelInfo.model_id); owner is left empty for the caller.
ModelRow prepare_circuit_model(common::ArtifactStore& artifacts, const std::string& name,
                               const std::string& r1cs_sha256, const std::string& zkey_sha256);

// An ONNX model in `artifacts`, compiled as `zkinfer compile` does (CompileOptions: zero fields
// take the compiler's defaults), then set up as `zkinfer setup` does (SetupOptions: exactly one
// of dev and ptau_sha256). circuit.r1cs and circuit.zkey are added to `artifacts`; the row
// carries the compiler's model.json, which records onnx_sha256 as the ONNX artifact's hash.
// `log` gets progress lines for people, and the setup's warning (a dev setup is NOT for
// production). Compiler errors (unsupported ops, bad calibration samples) propagate unchanged.
ModelRow prepare_onnx_model(common::ArtifactStore& artifacts, const std::string& name,
                            const zkinfer::v1::OnnxSource& src,
                            const std::function<void(const std::string&)>& log);

}  // namespace zkinfer::coordinator
