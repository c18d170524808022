// The files of a compiled model directory (`zkinfer compile MODEL.onnx -o DIR`):
//   DIR/model.onnx            the model, copied so the directory is self-contained
//   DIR/model.json            scales, inputs, outputs, circuit counts (ModelSpec)
//   DIR/circuit.r1cs          the circuit (circom format)
//   DIR/circuit.zkey          proving key            (zkinfer setup DIR)
//   DIR/verification_key.json verification key       (zkinfer setup DIR)
#pragma once

#include <string>

#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/lower.h"

namespace zkinfer::compiler {

struct ModelDir {
  explicit ModelDir(std::string dir) : dir(std::move(dir)) {}
  std::string dir;
  std::string onnx() const { return dir + "/model.onnx"; }
  std::string spec() const { return dir + "/model.json"; }
  std::string r1cs() const { return dir + "/circuit.r1cs"; }
  std::string zkey() const { return dir + "/circuit.zkey"; }
  std::string vk() const { return dir + "/verification_key.json"; }
};

// Hex SHA-256 of a file's bytes (common/sha256.h), with the compiler's ModelError naming the file
// when it is not a readable regular file.
std::string sha256_file_hex(const std::string& path);

// Loads DIR/model.onnx and DIR/model.json and checks they belong together (the hash recorded at
// compile time); errors name the file and say to compile again.
struct LoadedModel {
  Graph graph;
  ModelSpec spec;
};
LoadedModel load_model_dir(const ModelDir& d);

}  // namespace zkinfer::compiler
