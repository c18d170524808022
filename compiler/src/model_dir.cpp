#include "zkinfer/compiler/model_dir.h"

#include <stdexcept>

#include "zkinfer/common/sha256.h"
#include "zkinfer/compiler/io_json.h"

namespace zkinfer::compiler {

std::string sha256_file_hex(const std::string& path) {
  require_regular_file(path);
  try {
    return common::sha256_file_hex(path);
  } catch (const std::runtime_error& e) {  // cannot open or read: the compiler's error type, naming the file
    throw ModelError(e.what());
  }
}

LoadedModel load_model_dir(const ModelDir& d) {
  LoadedModel m;
  try {
    m.spec = spec_from_json(read_json_file(d.spec()));
  } catch (const ModelError& e) {
    // spec_from_json names "model.json"; say which one.
    std::string what = e.what();
    if (what.rfind("model.json", 0) == 0) what = d.spec() + what.substr(10);
    throw ModelError(what);
  }
  const std::string have = sha256_file_hex(d.onnx());
  if (have != m.spec.onnx_sha256)
    throw ModelError(d.onnx() + " is not the model " + d.spec() + " was compiled from (SHA-256 differs): compile again");
  m.graph = load_onnx(d.onnx());
  return m;
}

}  // namespace zkinfer::compiler
