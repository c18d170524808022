// Model preparation: the coordinator's side of `zkinfer compile` and `zkinfer setup`, reading
// its inputs from and writing its outputs to the artifact store.
#include "zkinfer/coordinator/models.h"

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "backend.h"
#include "zkinfer/common/sha256.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/io_json.h"
#include "zkinfer/compiler/lower.h"
#include "zkinfer/prover/binfile.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/ptau.h"
#include "zkinfer/prover/r1cs.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::coordinator {
namespace {

namespace fs = std::filesystem;

// An artifact the request names, which must have been uploaded: its file, and how errors name
// it (what it was to be, and its hash).
struct Input {
  std::string path, label;
};
Input input(const common::ArtifactStore& store, const std::string& sha, const std::string& what) {
  if (sha.empty()) throw std::invalid_argument(what + ": no artifact named");
  if (!common::is_sha256_hex(sha))
    throw std::invalid_argument(what + ": '" + sha.substr(0, 80) + "' is not an artifact name (64 lowercase hex digits)");
  if (!store.has(sha)) throw std::invalid_argument(what + ": artifact " + sha + " has not been uploaded");
  return {store.path(sha), what + " " + sha};
}

// parse(in.path), with parse errors naming the artifact instead of its file under the
// coordinator's data directory: they go back to the client, who knows only the hash.
template <class F>
auto parse(const Input& in, F&& parse_file) {
  auto renamed = [&](const char* what) {
    std::string m = what;
    for (size_t at; (at = m.find(in.path)) != std::string::npos;) m.replace(at, in.path.size(), in.label);
    return m;
  };
  try {
    return parse_file(in.path);
  } catch (const compiler::ModelError& e) {
    throw compiler::ModelError(renamed(e.what()));
  } catch (const prover::FormatError& e) {
    throw prover::FormatError(renamed(e.what()));
  }
}

uint64_t now_unix_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count());
}

// A READY row for a circuit and its key, once they are known to belong together.
ModelRow describe(const std::string& name, const prover::R1cs& cs, const std::string& r1cs_sha256,
                  const prover::Zkey& key, const std::string& zkey_sha256) {
  const prover::R1csHeader& c = cs.header;
  const prover::ZkeyHeader& k = key.header();
  auto mismatch = [&](const std::string& what) {
    return std::invalid_argument("proving key " + zkey_sha256 + " does not belong to circuit " + r1cs_sha256 + ": " + what);
  };
  if (k.n_vars != c.n_wires)
    throw mismatch("the key is for " + std::to_string(k.n_vars) + " wires, the circuit has " + std::to_string(c.n_wires));
  if (k.n_public != c.n_public())
    throw mismatch("the key is for " + std::to_string(k.n_public) + " public signals, the circuit has " +
                   std::to_string(c.n_public()) + " (outputs and public inputs)");
  const uint64_t need = uint64_t(c.n_constraints) + c.n_public() + 1;
  if (k.domain_size < need)
    throw mismatch("the key's domain has " + std::to_string(k.domain_size) + " points, the circuit's " +
                   std::to_string(c.n_constraints) + " constraints and " + std::to_string(c.n_public()) +
                   " public signals need " + std::to_string(need));
  ModelRow m;
  m.model_id = common::sha256_hex(r1cs_sha256 + zkey_sha256);
  m.name = name;
  m.state = v1::MODEL_STATE_READY;
  m.constraints = c.n_constraints;
  m.wires = c.n_wires;
  m.public_signals = c.n_public();
  m.log_domain = uint32_t(std::countr_zero(k.domain_size));
  m.r1cs_sha256 = r1cs_sha256;
  m.zkey_sha256 = zkey_sha256;
  m.verification_key_json = prover::vk_to_json(prover::verification_key(key)).dump();
  m.created_unix_ms = now_unix_ms();
  return m;
}

// CompileOptions over the compiler's defaults: a zero field keeps the default. The bit widths
// are range checked by the compiler itself; the two reals are checked here as the CLI does.
compiler::QuantOptions quant_options(const v1::CompileOptions& o) {
  compiler::QuantOptions q;
  if (o.act_bits()) q.act_bits = o.act_bits();
  if (o.weight_bits()) q.weight_bits = o.weight_bits();
  if (o.segment_bits()) q.segment_bits = o.segment_bits();
  if (o.headroom() != 0) {
    if (!(o.headroom() >= 1 && o.headroom() <= 1e6))
      throw std::invalid_argument("compile options: headroom must be between 1 and 1e6, not " + std::to_string(o.headroom()));
    q.headroom = o.headroom();
  }
  if (o.input_range() != 0) {
    if (!(o.input_range() > 0 && std::isfinite(o.input_range())))
      throw std::invalid_argument("compile options: input_range must be a positive number, not " + std::to_string(o.input_range()));
    q.input_range = o.input_range();
  }
  switch (o.input_visibility()) {
    case v1::INPUT_VISIBILITY_UNSPECIFIED:
    case v1::INPUT_VISIBILITY_PUBLIC: break;
    case v1::INPUT_VISIBILITY_PRIVATE: q.private_inputs = true; break;
    default: throw std::invalid_argument("compile options: unknown input_visibility " + std::to_string(o.input_visibility()));
  }
  return q;
}

// A directory under the artifact store's tmp/, removed with whatever is left in it.
struct TempDir {
  explicit TempDir(std::string p) : path(std::move(p)) { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

}  // namespace

ModelRow prepare_circuit_model(common::ArtifactStore& artifacts, const std::string& name,
                               const std::string& r1cs_sha256, const std::string& zkey_sha256) {
  const Input r1cs = input(artifacts, r1cs_sha256, "circuit (.r1cs)");
  const Input zkey = input(artifacts, zkey_sha256, "proving key (.zkey)");
  const prover::R1cs cs = parse(r1cs, [](const std::string& f) { return prover::read_r1cs(f); });
  const prover::Zkey key = parse(zkey, [](const std::string& f) { return prover::Zkey::open(f); });
  return describe(name, cs, r1cs_sha256, key, zkey_sha256);
}

ModelRow prepare_onnx_model(common::ArtifactStore& artifacts, const std::string& name,
                            const v1::OnnxSource& src, const std::function<void(const std::string&)>& log) {
  // Every request error before the (long) compile.
  const v1::SetupOptions& setup = src.setup();
  if (setup.dev() == !setup.ptau_sha256().empty())
    throw std::invalid_argument("setup options: give exactly one of dev and ptau_sha256");
  const Input onnx = input(artifacts, src.onnx_sha256(), "ONNX model");
  const Input ptau = setup.dev() ? Input{} : input(artifacts, setup.ptau_sha256(), "powers of tau (.ptau)");
  const v1::CompileOptions& co = src.compile();
  const bool calibrated = !co.calibration_sha256().empty();
  const Input calibration = calibrated ? input(artifacts, co.calibration_sha256(), "calibration samples") : Input{};
  const compiler::QuantOptions q = quant_options(co);

  const compiler::Graph g = parse(onnx, [](const std::string& f) { return compiler::load_onnx(f); });
  log("compile: " + name + ": " + std::to_string(g.nodes.size()) + " nodes, opset " + std::to_string(g.opset));
  std::vector<compiler::TensorMap> samples;
  compiler::Ranges ranges;
  if (calibrated) {
    samples = parse(calibration, [&](const std::string& f) {
      return compiler::samples_from_json(compiler::read_json_file(f), g, calibration.label);
    });
    ranges = compiler::calibrate(g, samples);
    log("compile: " + std::to_string(samples.size()) + " calibration samples");
  }
  compiler::Compiled c = compiler::compile_model(g, q, calibrated ? &ranges : nullptr);
  c.spec.onnx_sha256 = src.onnx_sha256();  // the store names files by their hash: load_model_dir's check holds
  // As `zkinfer compile` does: the first sample's witness must satisfy the circuit just built.
  if (!samples.empty()) {
    std::string why;
    if (!prover::r1cs_satisfied(c.r1cs, compiler::evaluate_model(g, c.spec, samples[0]).witness, &why))
      throw std::logic_error("internal error: the witness of calibration sample 0 does not satisfy the circuit: " + why);
  }
  log("compile: " + std::to_string(c.spec.n_constraints) + " constraints, " + std::to_string(c.spec.n_wires) + " wires, " +
      std::to_string(c.spec.n_public) + " public signals");

  TempDir tmp(artifacts.temp_path());
  const std::string r1cs_tmp = tmp.path + "/circuit.r1cs", zkey_tmp = tmp.path + "/circuit.zkey";
  prover::write_r1cs(r1cs_tmp, c.r1cs);
  const prover::SetupProgress progress = [&log](std::string_view step, double seconds) {
    char took[32];
    std::snprintf(took, sizeof took, " (%.2f s)", seconds);
    log("setup: " + std::string(step) + took);
  };
  prover::SetupResult res;
  if (setup.dev()) {
    log("setup: DEVELOPMENT SETUP, NOT FOR PRODUCTION: whoever runs it can forge proofs for this model");
    res = prover::groth16_setup_dev(c.r1cs, zkey_tmp, progress);
  } else {
    const prover::Ptau pot = parse(ptau, [](const std::string& f) { return prover::Ptau::open(f); });
    const auto backend = make_cpu_backend();
    res = prover::groth16_setup(c.r1cs, pot, zkey_tmp, progress, backend.get());
  }
  log("setup: domain 2^" + std::to_string(std::countr_zero(res.domain_size)) + "; " + res.warning);

  const std::string r1cs_sha256 = artifacts.adopt(r1cs_tmp);
  const std::string zkey_sha256 = artifacts.adopt(zkey_tmp);
  // Written just now, so the header check suffices.
  const prover::Zkey key = prover::Zkey::open(artifacts.path(zkey_sha256), prover::ZkeyCheck::kHeader);
  ModelRow m = describe(name, c.r1cs, r1cs_sha256, key, zkey_sha256);
  m.onnx_sha256 = src.onnx_sha256();
  m.model_json = compiler::spec_to_json(c.spec).dump();
  return m;
}

}  // namespace zkinfer::coordinator
