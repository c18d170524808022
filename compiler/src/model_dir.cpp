#include "zkinfer/compiler/model_dir.h"

#include <sodium.h>

#include <fstream>
#include <vector>

#include "zkinfer/compiler/io_json.h"

namespace zkinfer::compiler {

std::string sha256_file_hex(const std::string& path) {
  require_regular_file(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open");
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buf(1 << 16);
  while (f) {
    f.read(buf.data(), std::streamsize(buf.size()));
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()), size_t(f.gcount()));
  }
  if (f.bad()) throw ModelError(path + ": read error");
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, h);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : h) out += hex[c >> 4], out += hex[c & 15];
  return out;
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
