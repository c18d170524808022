// Model preparation (coordinator/models.h): circuit models checked against their key, ONNX
// models compiled and set up into the artifact store, and clear errors for bad requests.
#include "zkinfer/coordinator/models.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/binfile_testing.h"
#include "../support/chain_circuit.h"
#include "../support/onnx_builder.h"
#include "zkinfer/common/sha256.h"
#include "zkinfer/compiler/lower.h"
#include "zkinfer/compiler/model_dir.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/ptau.h"
#include "zkinfer/prover/r1cs.h"
#include "zkinfer/prover/zkey.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = zkinfer::v1;
using namespace zkinfer;
namespace zt = zkinfer::testing;
using namespace zkinfer::coordinator;
using ::testing::HasSubstr;
using ::testing::Not;

// An artifact store in a directory unique to this process and test, removed afterwards.
class Artifacts {
 public:
  Artifacts() : dir_(make_dir()), store_(dir_) {}
  ~Artifacts() { fs::remove_all(dir_); }
  common::ArtifactStore& operator*() { return store_; }
  common::ArtifactStore* operator->() { return &store_; }
  std::string put_r1cs(const prover::R1cs& cs) {
    const std::string f = dir_ + "/circuit.r1cs.in";
    prover::write_r1cs(f, cs);
    return store_.put_file(f);
  }

 private:
  static std::string make_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path p = fs::temp_directory_path() / ("zkinfer-models-" + std::to_string(::getpid()) + "-" +
                                                    info->test_suite_name() + "." + info->name());
    fs::remove_all(p);
    return p.string();
  }
  std::string dir_;
  common::ArtifactStore store_;
};

std::string data(const char* name) { return (zt::test_data_dir() / name).string(); }

// The exception `f` throws (failing the test when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception";
  return {};
}

TEST(CircuitModel, SmallCircuitAndKey) {
  Artifacts a;
  const std::string r1cs = a->put_file(data("small.r1cs")), zkey = a->put_file(data("small.zkey"));
  const ModelRow m = prepare_circuit_model(*a, "small", r1cs, zkey);
  EXPECT_EQ(m.model_id, common::sha256_hex(r1cs + zkey));
  EXPECT_EQ(m.name, "small");
  EXPECT_EQ(m.state, v1::MODEL_STATE_READY);
  // `snarkjs r1cs info`: 14 constraints, 17 wires, 2 outputs + 1 public input; 14 + 3 + 1 -> 2^5.
  EXPECT_EQ(m.constraints, 14u);
  EXPECT_EQ(m.wires, 17u);
  EXPECT_EQ(m.public_signals, 3u);
  EXPECT_EQ(m.log_domain, 5u);
  EXPECT_EQ(m.r1cs_sha256, r1cs);
  EXPECT_EQ(m.zkey_sha256, zkey);
  EXPECT_TRUE(m.onnx_sha256.empty());
  EXPECT_TRUE(m.model_json.empty());
  EXPECT_GT(m.created_unix_ms, 0u);
  EXPECT_EQ(nlohmann::json::parse(m.verification_key_json), nlohmann::json::parse(std::ifstream(data("small_vk.json"))));
}

TEST(CircuitModel, KeyOfAnotherCircuitIsRefused) {
  Artifacts a;
  const std::string zkey = a->put_file(data("small.zkey"));
  // 6 wires where the key has 17.
  std::string e = error_of([&] { prepare_circuit_model(*a, "x", a.put_r1cs(zt::chain_circuit(4)), zkey); });
  EXPECT_THAT(e, HasSubstr("does not belong"));
  EXPECT_THAT(e, HasSubstr("17 wires, the circuit has 6"));

  // 17 wires like the key, but 2 public signals.
  e = error_of([&] { prepare_circuit_model(*a, "x", a.put_r1cs(zt::chain_circuit(15)), zkey); });
  EXPECT_THAT(e, HasSubstr("3 public signals, the circuit has 2"));

  // Wires and public signals agree, but 35 constraints do not fit the key's 32-point domain.
  prover::R1cs big = zt::chain_circuit(15);
  big.header.n_pub_in = 2;
  const uint32_t w[1] = {2};
  const Fr one[1] = {Fr::one()};
  for (int i = 0; i < 20; ++i) {
    big.a.add_row(w, one);
    big.b.add_row(w, one);
    big.c.add_row(w, one);
  }
  big.header.n_constraints += 20;
  e = error_of([&] { prepare_circuit_model(*a, "x", a.put_r1cs(big), zkey); });
  EXPECT_THAT(e, HasSubstr("domain has 32 points"));
  EXPECT_THAT(e, HasSubstr("need 39"));
}

TEST(CircuitModel, BadArtifactsAreNamed) {
  Artifacts a;
  const std::string r1cs = a->put_file(data("small.r1cs")), zkey = a->put_file(data("small.zkey"));
  const std::string missing = common::sha256_hex(std::string_view("not uploaded"));
  std::string e = error_of([&] { prepare_circuit_model(*a, "x", r1cs, missing); });
  EXPECT_THAT(e, HasSubstr(missing));
  EXPECT_THAT(e, HasSubstr("not been uploaded"));
  EXPECT_THAT(error_of([&] { prepare_circuit_model(*a, "x", "", zkey); }), HasSubstr("no artifact named"));
  EXPECT_THAT(error_of([&] { prepare_circuit_model(*a, "x", "../etc/passwd", zkey); }), HasSubstr("not an artifact name"));

  // Garbage, a truncated key, and the two files swapped: parse errors that name the artifact
  // by its hash, never by its file in the coordinator's data directory.
  const std::string garbage = a->put(std::string_view("this is not a circuit"));
  e = error_of([&] { prepare_circuit_model(*a, "x", garbage, zkey); });
  EXPECT_THAT(e, HasSubstr("circuit (.r1cs) " + garbage + ": not a .r1cs file"));
  EXPECT_THAT(e, Not(HasSubstr(a->dir())));
  const std::vector<uint8_t> key_bytes = zt::read_bytes(data("small.zkey"));
  const std::string truncated = a->put(std::string_view(reinterpret_cast<const char*>(key_bytes.data()), 5000));
  e = error_of([&] { prepare_circuit_model(*a, "x", r1cs, truncated); });
  EXPECT_THAT(e, HasSubstr("proving key (.zkey) " + truncated + ": truncated"));
  e = error_of([&] { prepare_circuit_model(*a, "x", zkey, r1cs); });
  EXPECT_THAT(e, HasSubstr("circuit (.r1cs) " + zkey));
}

// A two-layer perceptron (4 -> 3 -> 2), small enough for a setup in a test.
std::string put_mlp(common::ArtifactStore& a) {
  return a.put(zt::make_mlp({4, 3, 2}, 7).serialized());
}

v1::OnnxSource dev_source(const std::string& onnx) {
  v1::OnnxSource src;
  src.set_onnx_sha256(onnx);
  src.mutable_setup()->set_dev(true);
  return src;
}

TEST(OnnxModel, CompileAndDevSetup) {
  Artifacts a;
  const std::string onnx = put_mlp(*a);
  std::vector<std::string> lines;
  const ModelRow m = prepare_onnx_model(*a, "mlp", dev_source(onnx), [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(m.state, v1::MODEL_STATE_READY);
  EXPECT_EQ(m.name, "mlp");
  EXPECT_GT(m.constraints, 0u);
  EXPECT_GT(m.wires, m.public_signals);
  EXPECT_EQ(m.public_signals, 4u + 2u);  // public inputs and outputs
  EXPECT_GT(m.log_domain, 0u);
  EXPECT_EQ(m.onnx_sha256, onnx);
  EXPECT_EQ(m.model_id, common::sha256_hex(m.r1cs_sha256 + m.zkey_sha256));

  // The artifacts are in the store and agree with the row; the temporary files are gone.
  ASSERT_TRUE(a->has(m.r1cs_sha256));
  ASSERT_TRUE(a->has(m.zkey_sha256));
  const prover::R1cs cs = prover::read_r1cs(a->path(m.r1cs_sha256));
  EXPECT_EQ(cs.header.n_constraints, m.constraints);
  const prover::Zkey key = prover::Zkey::open(a->path(m.zkey_sha256));
  EXPECT_EQ(key.header().n_vars, m.wires);
  EXPECT_EQ(key.header().domain_size, 1u << m.log_domain);
  EXPECT_TRUE(fs::is_empty(a->dir() + "/tmp"));
  const prover::VerificationKey vk = prover::vk_from_json(nlohmann::ordered_json::parse(m.verification_key_json));
  EXPECT_EQ(vk.n_public(), m.public_signals);

  // model.json records the artifact's hash, so a worker's load_model_dir accepts the pair.
  const compiler::ModelSpec spec = compiler::spec_from_json(nlohmann::json::parse(m.model_json));
  EXPECT_EQ(spec.onnx_sha256, onnx);
  EXPECT_EQ(spec.n_constraints, m.constraints);
  const fs::path dir = fs::path(a->dir()) / "model-dir";
  fs::create_directories(dir);
  compiler::ModelDir d(dir.string());
  fs::copy_file(a->path(onnx), d.onnx());
  std::ofstream(d.spec()) << m.model_json;
  EXPECT_NO_THROW(compiler::load_model_dir(d));

  auto logged = [&](const std::string& s) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(logged(std::to_string(m.constraints) + " constraints"));
  EXPECT_TRUE(logged("NOT FOR PRODUCTION"));
}

TEST(OnnxModel, CalibratedPrivateInputsAndPtauSetup) {
  Artifacts a;
  const std::string onnx = put_mlp(*a);
  const std::string samples = a->put(std::string_view("[[0.1, -0.2, 0.3, 0.4], [1, 0.5, -0.5, 0], [0, 0, 0, 0.9]]"));
  v1::OnnxSource src = dev_source(onnx);
  src.mutable_compile()->set_calibration_sha256(samples);
  src.mutable_compile()->set_input_visibility(v1::INPUT_VISIBILITY_PRIVATE);
  src.mutable_compile()->set_act_bits(20);
  const ModelRow dev = prepare_onnx_model(*a, "mlp", src, [](const std::string&) {});
  EXPECT_EQ(dev.public_signals, 2u + 1u);  // outputs and the inputs' commitment
  const compiler::ModelSpec spec = compiler::spec_from_json(nlohmann::json::parse(dev.model_json));
  EXPECT_TRUE(spec.input_commitment);
  EXPECT_EQ(spec.options.act_bits, 20u);

  // The same circuit set up from a .ptau (a development one, big enough for its domain).
  const std::string ptau_file = a->dir() + "/dev.ptau";
  prover::write_dev_ptau(ptau_file, dev.log_domain);
  src.mutable_setup()->set_dev(false);
  src.mutable_setup()->set_ptau_sha256(a->put_file(ptau_file));
  std::vector<std::string> lines;
  const ModelRow m = prepare_onnx_model(*a, "mlp", src, [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(m.r1cs_sha256, dev.r1cs_sha256);  // compiling is deterministic
  EXPECT_NE(m.zkey_sha256, dev.zkey_sha256);
  EXPECT_EQ(m.constraints, dev.constraints);
  EXPECT_NO_THROW(prover::Zkey::open(a->path(m.zkey_sha256)));
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return l.find("phase-2") != std::string::npos; }));
}

TEST(OnnxModel, UnsupportedOpIsNamed) {
  Artifacts a;
  zt::OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Cos", {"x"}, {"y"}, {}, "my_cos");
  b.output("y");
  const std::string onnx = a->put(b.serialized());
  const std::string e = error_of([&] { prepare_onnx_model(*a, "cos", dev_source(onnx), [](const std::string&) {}); });
  EXPECT_THAT(e, HasSubstr("ONNX model " + onnx));
  EXPECT_THAT(e, HasSubstr("'Cos'"));
  EXPECT_THAT(e, HasSubstr("my_cos"));
  EXPECT_THAT(e, HasSubstr("not supported"));
  EXPECT_TRUE(fs::is_empty(a->dir() + "/tmp"));
}

TEST(OnnxModel, BadRequestsAreNamed) {
  Artifacts a;
  const std::string onnx = put_mlp(*a);
  const auto quiet = [](const std::string&) {};
  const std::string missing = common::sha256_hex(std::string_view("absent"));

  v1::OnnxSource src = dev_source(missing);
  std::string e = error_of([&] { prepare_onnx_model(*a, "m", src, quiet); });
  EXPECT_THAT(e, HasSubstr("ONNX model"));
  EXPECT_THAT(e, HasSubstr(missing));

  src = dev_source(onnx);  // both dev and a .ptau
  src.mutable_setup()->set_ptau_sha256(onnx);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("exactly one of dev and ptau_sha256"));
  src.mutable_setup()->Clear();  // neither
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("exactly one of dev and ptau_sha256"));

  src = dev_source(onnx);
  src.mutable_setup()->set_dev(false);
  src.mutable_setup()->set_ptau_sha256(missing);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("powers of tau"));

  src = dev_source(onnx);
  src.mutable_compile()->set_calibration_sha256(missing);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("calibration samples"));
  const std::string not_json = a->put(std::string_view("[[1, 2,"));
  src.mutable_compile()->set_calibration_sha256(not_json);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("calibration samples " + not_json + ": not valid JSON"));
  const std::string not_array = a->put(std::string_view("{\"not\": \"an array\"}"));
  src.mutable_compile()->set_calibration_sha256(not_array);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("calibration samples " + not_array));

  src = dev_source(onnx);
  src.mutable_compile()->set_headroom(0.5);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("headroom"));
  src = dev_source(onnx);
  src.mutable_compile()->set_act_bits(99);
  EXPECT_THAT(error_of([&] { prepare_onnx_model(*a, "m", src, quiet); }), HasSubstr("act_bits"));

  // Not an ONNX file at all.
  const std::string garbage = a->put(std::string_view("garbage"));
  e = error_of([&] { prepare_onnx_model(*a, "m", dev_source(garbage), quiet); });
  EXPECT_THAT(e, HasSubstr("ONNX model " + garbage + ": not a valid ONNX model"));
  EXPECT_THAT(e, Not(HasSubstr(a->dir())));
}

}  // namespace
