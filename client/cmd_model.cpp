// `zkinfer compile|setup|prove|verify`: an ONNX model to a circuit, keys, and proofs of its
// inferences (issue 5). The files of a model directory are listed in compiler/model_dir.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "commands.h"
#include "progress.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/io_json.h"
#include "zkinfer/compiler/lower.h"
#include "zkinfer/compiler/model_dir.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/ptau.h"
#include "zkinfer/prover/r1cs.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::cli {
namespace {

namespace fs = std::filesystem;
using namespace zkinfer::compiler;

unsigned log2_domain(uint64_t constraints_plus_public) {
  unsigned k = 0;
  while ((uint64_t{1} << k) < constraints_plus_public) ++k;
  return k;
}

// The Groth16 cost of a circuit on the CPU backend, from bench/results/models-cpu-2026-11-2[67]
// (2-core AMD EPYC, whole prove command, medians): 0.04 s at 2^12, about 0.09 s at 2^15,
// 0.12-0.25 s at 2^16, 0.23 s at 2^17, 0.44 s at 2^18, and 2.9 s at 2^21 (a GPT-2 block of width
// 64, one run): about 0.03 s plus 1.5 us per domain point, dense witnesses (wide MLPs) up to twice
// that. Memory: the proving key (about 320 bytes per wire, 64 per domain point and 44 per
// nonzero coefficient), mapped, plus the H polynomial's buffers.
void print_estimate(const prover::R1cs& cs) {
  const unsigned k = log2_domain(uint64_t(cs.header.n_constraints) + cs.header.n_public() + 1);
  const double n = std::ldexp(1.0, int(k));
  const double nnz = double(cs.a.wire.size() + cs.b.wire.size());
  const double key_mib = (320.0 * cs.header.n_wires + 64.0 * n + 44.0 * nnz) / 1048576.0;
  const double mem_mib = key_mib + (6.0 * 32.0 * n + 32.0 * cs.header.n_wires) / 1048576.0;
  std::fprintf(stderr, "  estimate: domain 2^%u; proving about %.2f s on 2 CPU cores (less with more), proving key about %.0f MiB, "
               "prover memory about %.0f MiB\n", k, 0.03 + 1.5e-6 * n, key_mib, mem_mib);
}

// ---- compile ------------------------------------------------------------------------------------

struct CompileArgs {
  std::string model, out, calibration, visibility = "public";
  QuantOptions q;
};

// Evaluates every calibration sample once, in the circuit and in the float reference: the first
// sample's witness must satisfy the circuit just built (a self-check; its errors propagate), and
// each output's largest difference and argmax agreement are reported.
void check_and_report(const Graph& g, const Compiled& c, const std::vector<TensorMap>& samples) {
  struct Stat {
    double max_err = 0;
    size_t agree = 0;
  };
  std::vector<Stat> stats(c.spec.outputs.size());
  size_t failed = 0;
  for (size_t k = 0; k < samples.size(); ++k) {
    Evaluation ev;
    if (k == 0) {
      ev = evaluate_model(g, c.spec, samples[0]);
      std::string why;
      if (!prover::r1cs_satisfied(c.r1cs, ev.witness, &why))
        throw std::logic_error("internal error: the witness of calibration sample 0 does not satisfy the circuit: " + why);
    } else {
      try {
        ev = evaluate_model(g, c.spec, samples[k]);
      } catch (const ProveError&) {
        ++failed;
        continue;
      }
    }
    const TensorMap ref = evaluate_reference(g, samples[k]);
    for (size_t o = 0; o < stats.size(); ++o) {
      const Tensor& want = ref.at(c.spec.outputs[o].name);
      const Tensor& have = ev.outputs.at(c.spec.outputs[o].name);
      size_t best_w = 0, best_h = 0;
      for (size_t i = 0; i < want.data.size(); ++i) {
        stats[o].max_err = std::max(stats[o].max_err, std::fabs(want.data[i] - have.data[i]));
        if (want.data[i] > want.data[best_w]) best_w = i;
        if (have.data[i] > have.data[best_h]) best_h = i;
      }
      stats[o].agree += best_w == best_h;
    }
  }
  std::fprintf(stderr, "  circuit vs float model (float reference evaluator) on %zu calibration samples:\n", samples.size());
  for (size_t o = 0; o < stats.size(); ++o) {
    std::fprintf(stderr, "    %-20s max |circuit - float| %.6g, same argmax on %zu of %zu",
                 c.spec.outputs[o].name.c_str(), stats[o].max_err, stats[o].agree, samples.size() - failed);
    if (failed) std::fprintf(stderr, ", %zu samples out of range", failed);
    std::fprintf(stderr, "\n");
  }
}

void run_compile(const CompileArgs& a) {
  if (a.visibility != "public" && a.visibility != "private")
    throw std::invalid_argument("--input-visibility must be public or private");
  std::fprintf(stderr, "zkinfer compile: %s -> %s/\n", a.model.c_str(), a.out.c_str());
  Step load("load model");
  Graph g = load_onnx(a.model);
  load.done();
  std::fprintf(stderr, "  %s, opset %lld, %zu nodes\n", g.producer.empty() ? "unknown producer" : g.producer.c_str(),
               (long long)g.opset, g.nodes.size());
  QuantOptions q = a.q;
  q.private_inputs = a.visibility == "private";
  Ranges ranges;
  std::vector<TensorMap> samples;
  if (!a.calibration.empty()) {
    Step cal("calibrate");
    samples = samples_from_json(read_json_file(a.calibration), g, a.calibration);
    ranges = calibrate(g, samples);
    cal.done();
    std::fprintf(stderr, "  %zu calibration samples\n", samples.size());
  } else {
    std::fprintf(stderr, "  no --calibration: scales from worst-case bounds with inputs in [-%g, %g] (safe but coarse)\n",
                 q.input_range, q.input_range);
  }
  Step lower("build circuit");
  Compiled c = compile_model(g, q, a.calibration.empty() ? nullptr : &ranges);
  lower.done();

  fs::create_directories(a.out);
  ModelDir d(a.out);
  if (!fs::exists(d.onnx()) || !fs::equivalent(a.model, d.onnx()))
    fs::copy_file(a.model, d.onnx(), fs::copy_options::overwrite_existing);
  c.spec.onnx_sha256 = sha256_file_hex(d.onnx());
  Step wr("write circuit");
  prover::write_r1cs(d.r1cs(), c.r1cs);
  prover::write_json_file(d.spec(), spec_to_json(c.spec));
  wr.done();

  const ModelSpec& s = c.spec;
  std::printf("constraints %u\nwires %u\npublic signals %u\n", s.n_constraints, s.n_wires, s.n_public);
  for (const auto& in : s.inputs)
    std::printf("input  %-20s %-14s scale 2^-%d, %s\n", in.name.c_str(), shape_str(in.shape).c_str(), in.scale,
                q.private_inputs ? "private (Poseidon commitment is the last public signal)" : "public");
  for (const auto& o : s.outputs)
    std::printf("output %-20s %-14s scale 2^-%d%s\n", o.name.c_str(), shape_str(o.shape).c_str(), o.scale,
                o.softmax ? ", softmax applied to the proved logits" : "");
  std::printf("constraints by node:\n");
  for (const auto& l : s.layers) {
    if (l.op.empty()) std::printf("  %-32s %-18s %-16s %10u\n", l.node.c_str(), "", "", l.constraints);
    else std::printf("  %-32s %-18s %-16s %10u  scale 2^-%d\n", l.node.c_str(), l.op.c_str(), shape_str(l.shape).c_str(),
                     l.constraints, l.scale);
  }
  for (const auto& ap : s.approximations)
    std::printf("approximation %s (%s): max abs error %.3g\n", ap.node.c_str(), ap.op.c_str(), ap.max_abs_error);
  print_estimate(c.r1cs);
  if (!samples.empty()) check_and_report(g, c, samples);
  std::fprintf(stderr, "wrote %s, %s and %s\n", d.onnx().c_str(), d.spec().c_str(), d.r1cs().c_str());
}

// ---- setup --------------------------------------------------------------------------------------

struct SetupArgs {
  std::string dir, ptau;
  bool dev = false;
  BackendOptions backend;
};

void run_setup(const SetupArgs& a) {
  if (a.dev == !a.ptau.empty()) throw std::invalid_argument("give exactly one of --ptau POT.ptau and --dev");
  ModelDir d(a.dir);
  if (!fs::exists(d.r1cs())) throw std::runtime_error(d.r1cs() + " not found: run `zkinfer compile MODEL.onnx -o " + a.dir + "` first");
  std::fprintf(stderr, "zkinfer setup: %s%s\n", a.dir.c_str(), a.dev ? " (development setup)" : "");
  Step rd("read circuit");
  prover::R1cs cs = prover::read_r1cs(d.r1cs());
  rd.done();
  prover::SetupResult res;
  if (a.dev) {
    res = prover::groth16_setup_dev(cs, d.zkey(), progress_line);
  } else {
    prover::Ptau ptau = prover::Ptau::open(a.ptau);
    auto be = select_backend(a.backend);
    res = prover::groth16_setup(cs, ptau, d.zkey(), progress_line, be.get());
  }
  prover::Zkey key = prover::Zkey::open(d.zkey(), prover::ZkeyCheck::kHeader);
  prover::write_json_file(d.vk(), prover::vk_to_json(prover::verification_key(key)));
  std::fprintf(stderr, "wrote %s and %s\n", d.zkey().c_str(), d.vk().c_str());
  if (!res.warning.empty()) std::fprintf(stderr, "\n%s\n\n", res.warning.c_str());
}

// ---- prove --------------------------------------------------------------------------------------

struct ProveArgs {
  std::string dir, input, out;
  BackendOptions backend;
};

void run_prove(const ProveArgs& a) {
  ModelDir d(a.dir);
  if (!fs::exists(d.zkey()))
    throw std::runtime_error(d.zkey() + " not found: run `zkinfer setup " + a.dir + " --dev` (or --ptau POT.ptau) first");
  std::fprintf(stderr, "zkinfer prove: model %s, input %s -> %s/\n", a.dir.c_str(), a.input.c_str(), a.out.c_str());
  auto be = select_backend(a.backend);
  Step load("load model");
  LoadedModel m = load_model_dir(d);
  TensorMap inputs = inputs_from_json(read_json_file(a.input), m.graph, a.input);
  load.done();
  Step wit("witness");
  Evaluation ev = evaluate_model(m.graph, m.spec, inputs);
  wit.done();
  fs::create_directories(a.out);
  const std::string wtns = a.out + "/witness.wtns", out_json = a.out + "/output.json";
  prover::write_wtns(wtns, ev.witness);
  nlohmann::ordered_json outputs;
  for (const auto& o : m.spec.outputs) outputs[o.name] = tensor_to_json(ev.outputs.at(o.name));
  prover::write_json_file(out_json, outputs);
  prove_and_write(d.zkey(), ev.witness, "computed from " + a.input, a.out + "/proof.json", a.out + "/public.json", *be);
  for (const auto& o : m.spec.outputs) {
    const auto& t = ev.outputs.at(o.name);
    std::string vals;
    for (size_t i = 0; i < std::min<size_t>(t.data.size(), 10); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.4g", i ? " " : "", t.data[i]);
      vals += buf;
    }
    const size_t best = size_t(std::max_element(t.data.begin(), t.data.end()) - t.data.begin());
    std::printf("%s: [%s%s] (argmax %zu)\n", o.name.c_str(), vals.c_str(), t.data.size() > 10 ? " ..." : "", best);
  }
  std::fprintf(stderr, "wrote %s, %s, %s/proof.json and %s/public.json\n", out_json.c_str(), wtns.c_str(), a.out.c_str(),
               a.out.c_str());
}

struct VerifyArgs {
  std::string vk, pub, proof;
};

}  // namespace

void add_model_commands(CLI::App& app) {
  auto ca = std::make_shared<CompileArgs>();
  CLI::App* compile = app.add_subcommand("compile", "Compile an ONNX model to a quantized circuit: DIR/circuit.r1cs and DIR/model.json");
  compile->add_option("MODEL.onnx", ca->model, "ONNX model (opset 9-24, static shapes)")->required()->check(CLI::ExistingFile);
  compile->add_option("-o,--out", ca->out, "Output directory")->required();
  compile->add_option("--calibration", ca->calibration,
                      "SAMPLES.json: a JSON array of inputs; scales are chosen from their value ranges")
      ->check(CLI::ExistingFile);
  compile->add_option("--input-visibility", ca->visibility,
                      "public: inputs are public signals; private: only their Poseidon commitment is")
      ->capture_default_str()
      ->check(CLI::IsMember({"public", "private"}));
  compile->add_option("--act-bits", ca->q.act_bits, "Signed bits of every range-checked activation")
      ->capture_default_str()
      ->check(CLI::Range(4, 40));
  compile->add_option("--weight-bits", ca->q.weight_bits, "Signed bits of every quantized weight")
      ->capture_default_str()
      ->check(CLI::Range(2, 24));
  compile->add_option("--segment-bits", ca->q.segment_bits,
                      "Sigmoid/Tanh/Erf: 2^N linear segments (more: smaller error, more constraints)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10));
  compile->add_option("--headroom", ca->q.headroom, "Factor applied to calibrated ranges before choosing scales")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
  compile->add_option("--input-range", ca->q.input_range, "Without --calibration: inputs assumed in [-R, R]")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  compile->callback([ca] { run_compile(*ca); });

  auto sa = std::make_shared<SetupArgs>();
  CLI::App* setup = app.add_subcommand("setup", "Groth16 setup of a compiled model: DIR/circuit.zkey and DIR/verification_key.json");
  setup->add_option("DIR", sa->dir, "Directory written by zkinfer compile")->required()->check(CLI::ExistingDirectory);
  setup->add_option("--ptau", sa->ptau, "Prepared phase-1 powers of tau (snarkjs .ptau)")->check(CLI::ExistingFile);
  setup->add_flag("--dev", sa->dev,
                  "Development setup: draws its own toxic waste; NOT for production (whoever runs it can forge proofs)");
  add_backend_options(setup, sa->backend);
  setup->callback([sa] { run_setup(*sa); });

  auto pa = std::make_shared<ProveArgs>();
  CLI::App* prove = app.add_subcommand(
      "prove", "Run the model on an input and prove it: OUT/output.json, witness.wtns, proof.json, public.json");
  prove->add_option("DIR", pa->dir, "Model directory (compiled and set up)")->required()->check(CLI::ExistingDirectory);
  prove->add_option("--input", pa->input, "INPUT.json: input name -> nested array (a bare array for one input)")
      ->required()
      ->check(CLI::ExistingFile);
  prove->add_option("-o,--out", pa->out, "Output directory")->required();
  add_backend_options(prove, pa->backend);
  prove->callback([pa] { run_prove(*pa); });

  auto va = std::make_shared<VerifyArgs>();
  CLI::App* verify = app.add_subcommand("verify", "Check a proof; exit status 0 only when it is valid");
  verify->add_option("VERIFICATION_KEY.json", va->vk, "Verification key (DIR/verification_key.json)")->required();
  verify->add_option("PUBLIC.json", va->pub, "Public signals (OUT/public.json)")->required();
  verify->add_option("PROOF.json", va->proof, "Proof (OUT/proof.json)")->required();
  verify->callback([va] { verify_files(va->vk, va->pub, va->proof); });
}

}  // namespace zkinfer::cli
