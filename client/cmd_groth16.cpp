// `zkinfer groth16 ...`, `zkinfer zkey export ...` and `zkinfer powersoftau dev`: the snarkjs
// commands of the same names, on zkinfer's prover, with the same files in and out.
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "backend_select.h"
#include "commands.h"
#include "progress.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/ptau.h"
#include "zkinfer/prover/r1cs.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/solidity.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::cli {

namespace {

using namespace zkinfer::prover;

void print_warning(const std::string& text) { std::fprintf(stderr, "\n%s\n\n", text.c_str()); }

std::string hex_hash(const std::array<uint8_t, 64>& h) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < h.size(); ++i) {
    out += d[h[i] >> 4];
    out += d[h[i] & 15];
    if (i % 16 == 15 && i + 1 < h.size()) out += "\n    ";
    else if (i % 4 == 3 && i + 1 < h.size()) out += ' ';
  }
  return out;
}

struct SetupArgs {
  std::vector<std::string> files;
  bool dev = false;
  BackendOptions backend;
};

void run_setup(const SetupArgs& a) {
  if (a.dev ? a.files.size() != 2 : a.files.size() != 3)
    throw std::invalid_argument(a.dev ? "usage: zkinfer groth16 setup CIRCUIT.r1cs OUT.zkey --dev"
                                      : "usage: zkinfer groth16 setup CIRCUIT.r1cs POT.ptau OUT.zkey "
                                        "(or CIRCUIT.r1cs OUT.zkey --dev)");
  const std::string& out = a.files.back();
  std::fprintf(stderr, "zkinfer groth16 setup: %s -> %s%s\n", a.files[0].c_str(), out.c_str(),
               a.dev ? " (development setup)" : "");
  Step rd("read circuit");
  R1cs cs = read_r1cs(a.files[0]);
  rd.done();
  std::fprintf(stderr, "  %u constraints, %u signals, %u public, domain %u\n", cs.header.n_constraints,
               cs.header.n_wires, cs.header.n_public(), groth16_domain_size(cs.header));
  SetupResult res;
  if (a.dev) {
    res = groth16_setup_dev(cs, out, progress_line);
  } else {
    Ptau ptau = Ptau::open(a.files[1]);
    auto be = select_backend(a.backend);
    res = groth16_setup(cs, ptau, out, progress_line, be.get());
  }
  std::fprintf(stderr, "circuit hash:\n    %s\nwrote %s\n", hex_hash(res.circuit_hash).c_str(), out.c_str());
  print_warning(res.warning);
}

struct PtauArgs {
  unsigned power = 0;
  std::string out;
};

void run_ptau_dev(const PtauArgs& a) {
  std::fprintf(stderr, "zkinfer powersoftau dev: power %u (proving domains up to 2^%u) -> %s\n", a.power,
               a.power, a.out.c_str());
  Step total("total");
  write_dev_ptau(a.out, a.power, progress_line);
  total.done();
  std::fprintf(stderr, "wrote %s\n", a.out.c_str());
  print_warning(kDevPtauWarning);
}

struct ExportSolArgs {
  std::string zkey, out = "verifier.sol";
};

void run_export_sol(const ExportSolArgs& a) {
  Zkey key = Zkey::open(a.zkey, ZkeyCheck::kHeader);
  std::string src = solidity_verifier(verification_key(key));
  std::ofstream f(a.out);
  if (!f) throw std::runtime_error(a.out + ": cannot create");
  f << src;
  f.close();
  if (!f) throw std::runtime_error(a.out + ": write failed");
  std::fprintf(stderr, "wrote %s\n", a.out.c_str());
}

struct ProveArgs {
  std::string zkey, wtns, proof = "proof.json", pub = "public.json";
  BackendOptions backend;
};

void run_prove(const ProveArgs& a) {
  auto be = select_backend(a.backend);
  Step wit("load witness");
  std::vector<Fr> witness = read_wtns(a.wtns);
  wit.done();
  prove_and_write(a.zkey, witness, a.wtns, a.proof, a.pub, *be);
}
struct VerifyArgs {
  std::string vk = "verification_key.json", pub = "public.json", proof = "proof.json";
};

void run_verify(const VerifyArgs& a) { verify_files(a.vk, a.pub, a.proof); }
struct ExportVkArgs {
  std::string zkey, vk = "verification_key.json";
};

void run_export_vk(const ExportVkArgs& a) {
  Zkey key = Zkey::open(a.zkey, ZkeyCheck::kHeader);
  write_json_file(a.vk, vk_to_json(verification_key(key)));
  std::fprintf(stderr, "wrote %s\n", a.vk.c_str());
}

}  // namespace

void prove_and_write(const std::string& zkey_path, const std::vector<Fr>& witness, const std::string& witness_name,
                     const std::string& proof_path, const std::string& public_path, Backend& be) {
  std::fprintf(stderr, "zkinfer groth16 prove: %s, backend %s\n", zkey_path.c_str(), be.name().c_str());
  // Section points are not checked up front (22 ms of a 0.5 s proof at 2^16 here): a bad point
  // can only make the proof invalid, the proof is checked below, and only then are the points
  // examined to say which one it was.
  Step load("load proving key");
  Zkey key = Zkey::open(zkey_path, ZkeyCheck::kHeader);
  load.done();
  check_witness(key, witness);
  const auto& h = key.header();
  std::fprintf(stderr, "  %u signals, %u public, domain 2^%d\n", h.n_vars, h.n_public,
               __builtin_ctz(h.domain_size));
  Step total("prove (total)");
  Proof proof = prove(key, witness, be, {progress_line});
  total.done();
  Step check("verify the new proof");
  std::vector<Fr> pub = public_signals(key, witness);
  std::string why;
  if (!verify(verification_key(key), pub, proof, &why)) {
    key.check_section_points();  // throws FormatError naming a bad key point, if there is one
    throw std::runtime_error("the proof does not verify (" + why + "): the witness " + witness_name +
                             " does not satisfy the circuit of " + zkey_path);
  }
  check.done();
  write_json_file(proof_path, proof_to_json(proof));
  write_json_file(public_path, public_to_json(pub));
  std::fprintf(stderr, "wrote %s and %s\n", proof_path.c_str(), public_path.c_str());
}

void verify_files(const std::string& vk_path, const std::string& public_path, const std::string& proof_path) {
  VerificationKey vk = vk_from_json(read_json_file(vk_path), vk_path);
  std::vector<Fr> pub = public_from_json(read_json_file(public_path), public_path);
  Proof proof = proof_from_json(read_json_file(proof_path), proof_path);
  std::string why;
  if (!verify(vk, pub, proof, &why)) throw std::runtime_error("INVALID proof: " + why);
  std::printf("OK: the proof is valid\n");
}

void add_groth16_command(CLI::App& app) {
  CLI::App* g = app.add_subcommand("groth16", "Groth16 proofs, drop-in for the snarkjs commands of the same names");
  g->require_subcommand(1);

  auto sa = std::make_shared<SetupArgs>();
  CLI::App* setup = g->add_subcommand(
      "setup", "Make a proving key: from a circuit and a prepared .ptau (as snarkjs), or --dev without one");
  setup->add_option("FILES", sa->files, "CIRCUIT.r1cs POT.ptau OUT.zkey, or with --dev: CIRCUIT.r1cs OUT.zkey")
      ->required()
      ->expected(2, 3);
  setup->add_flag("--dev", sa->dev,
                  "Development setup: draws its own toxic waste; NOT for production (whoever runs it can forge proofs)");
  add_backend_options(setup, sa->backend);
  setup->callback([sa] { run_setup(*sa); });

  auto pa = std::make_shared<ProveArgs>();
  CLI::App* prove = g->add_subcommand("prove", "Prove with a .zkey and a .wtns; writes proof.json and public.json");
  prove->add_option("CIRCUIT.zkey", pa->zkey, "Proving key (snarkjs or zkinfer)")->required()->check(CLI::ExistingFile);
  prove->add_option("WITNESS.wtns", pa->wtns, "Witness")->required()->check(CLI::ExistingFile);
  prove->add_option("PROOF.json", pa->proof, "Proof output")->capture_default_str();
  prove->add_option("PUBLIC.json", pa->pub, "Public signals output")->capture_default_str();
  add_backend_options(prove, pa->backend);
  prove->callback([pa] { run_prove(*pa); });

  auto va = std::make_shared<VerifyArgs>();
  CLI::App* verify = g->add_subcommand("verify", "Check a proof; exit status 0 only when it is valid");
  verify->add_option("VERIFICATION_KEY.json", va->vk, "Verification key")->capture_default_str();
  verify->add_option("PUBLIC.json", va->pub, "Public signals")->capture_default_str();
  verify->add_option("PROOF.json", va->proof, "Proof")->capture_default_str();
  verify->callback([va] { run_verify(*va); });
}

void add_zkey_command(CLI::App& app) {
  CLI::App* z = app.add_subcommand("zkey", "Proving key tools");
  z->require_subcommand(1);
  CLI::App* ex = z->add_subcommand("export", "Export from a proving key");
  ex->require_subcommand(1);

  auto va = std::make_shared<ExportVkArgs>();
  CLI::App* vk = ex->add_subcommand("verificationkey", "Write the verification key as snarkjs JSON");
  vk->add_option("CIRCUIT.zkey", va->zkey, "Proving key")->required()->check(CLI::ExistingFile);
  vk->add_option("VK.json", va->vk, "Output")->capture_default_str();
  vk->callback([va] { run_export_vk(*va); });

  auto sol = std::make_shared<ExportSolArgs>();
  CLI::App* sc = ex->add_subcommand("solidityverifier", "Write a Solidity verifier contract for the key");
  sc->add_option("CIRCUIT.zkey", sol->zkey, "Proving key")->required()->check(CLI::ExistingFile);
  sc->add_option("VERIFIER.sol", sol->out, "Output")->capture_default_str();
  sc->callback([sol] { run_export_sol(*sol); });
}

void add_powersoftau_command(CLI::App& app) {
  CLI::App* p = app.add_subcommand("powersoftau", "Powers of tau files");
  p->require_subcommand(1);
  auto a = std::make_shared<PtauArgs>();
  CLI::App* dev = p->add_subcommand(
      "dev", "Write a prepared development .ptau from one party's secrets; NOT for production");
  dev->add_option("POWER", a->power, "log2 of the number of powers (1 to 27)")->required()->check(CLI::Range(1, 27));
  dev->add_option("OUT.ptau", a->out, "Output")->required();
  dev->callback([a] { run_ptau_dev(*a); });
}

}  // namespace zkinfer::cli
