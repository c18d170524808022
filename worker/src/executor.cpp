#include "zkinfer/worker/executor.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include <nlohmann/json.hpp>

#include "zkinfer/common/sha256.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/io_json.h"
#include "zkinfer/compiler/lower.h"
#include "zkinfer/compiler/model_dir.h"
#include "zkinfer/prover/binfile.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/resident_key.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::worker {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

v1::Error error_from_exception(const std::exception& e) {
  if (const auto* s = dynamic_cast<const ShardError*>(&e)) return wire::make_error(s->code(), s->what());
  const bool bad_input = dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const std::out_of_range*>(&e) ||
                         dynamic_cast<const prover::FormatError*>(&e) || dynamic_cast<const compiler::ModelError*>(&e) ||
                         dynamic_cast<const compiler::ProveError*>(&e) || dynamic_cast<const nlohmann::json::exception*>(&e);
  return wire::make_error(bad_input ? v1::ERROR_CODE_INVALID_ARGUMENT : v1::ERROR_CODE_INTERNAL, e.what());
}

namespace {

void need_hash(const std::string& sha, const char* field, std::vector<std::string>& out) {
  if (sha.empty()) throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, std::string("shard assignment: ") + field + " is empty");
  if (!common::is_sha256_hex(sha))
    throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT,
                     std::string("shard assignment: ") + field + " '" + sha + "' is not a lowercase hex SHA-256");
  out.push_back(sha);
}

void need_text(const std::string& s, const char* field) {
  if (s.empty()) throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, std::string("shard assignment: ") + field + " is empty");
}

bool is_onnx(const v1::ShardAssignment& a) { return !a.onnx_sha256().empty(); }

}  // namespace

std::vector<std::string> shard_inputs(const v1::ShardAssignment& a) {
  if (a.shard_id().empty()) throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, "shard assignment: shard_id is empty");
  std::vector<std::string> in;
  switch (a.kind()) {
    case v1::SHARD_KIND_WHOLE:
      need_hash(a.zkey_sha256(), "zkey_sha256", in);
      [[fallthrough]];
    case v1::SHARD_KIND_WITNESS:
      if (is_onnx(a)) {
        need_hash(a.onnx_sha256(), "onnx_sha256", in);
        need_text(a.model_json(), "model_json");
        need_text(a.input_json(), "input_json");
        if (!common::is_sha256_hex(a.model_id()))
          throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT,
                           "shard assignment: model_id '" + a.model_id() + "' is not a lowercase hex SHA-256");
      } else if (a.kind() == v1::SHARD_KIND_WHOLE) {
        need_hash(a.witness_sha256(), "witness_sha256 (a circuit model's WHOLE shard)", in);
      } else {
        throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, "shard assignment: a WITNESS shard needs onnx_sha256");
      }
      break;
    case v1::SHARD_KIND_H:
      need_hash(a.zkey_sha256(), "zkey_sha256", in);
      need_hash(a.witness_sha256(), "witness_sha256", in);
      break;
    case v1::SHARD_KIND_MSM:
      if (a.msm() < v1::MSM_KIND_A || a.msm() > v1::MSM_KIND_H)
        throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, "shard assignment: MSM shard with msm kind " +
                                                              std::to_string(int(a.msm())) + " (expected A, B1, B2, C or H)");
      need_hash(a.zkey_sha256(), "zkey_sha256", in);
      need_hash(a.scalars_sha256(), "scalars_sha256", in);
      break;
    default:
      throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT,
                       "shard assignment: unknown shard kind " + std::to_string(int(a.kind())));
  }
  return in;
}

// A proving key, memory-mapped from the cache; `whole` (every point array and the constraint
// rows resident) is made for the first WHOLE shard, `rows` for the first H shard without it.
struct ShardExecutor::Key {
  std::string sha;
  prover::Zkey zkey;
  std::unique_ptr<prover::ResidentKey> whole;
  std::unique_ptr<prover::ConstraintRows> rows;
};

// Points [first, first + count) of one section, resident for MSM shards.
struct ShardExecutor::Range {
  std::shared_ptr<Key> key;
  v1::MsmKind msm;
  uint64_t first, count;
  std::shared_ptr<const ResidentG1> g1;
  std::shared_ptr<const ResidentG2> g2;
  bool covers(const std::string& sha, v1::MsmKind m, uint64_t f, uint64_t n) const {
    return key->sha == sha && msm == m && first <= f && f + n <= first + count;
  }
  size_t device_bytes() const { return g1 ? g1->device_bytes() : g2->device_bytes(); }
};

struct ShardExecutor::Model {
  std::string id;  // model_id, ONNX hash and model.json hash together
  compiler::LoadedModel loaded;
};

struct ShardExecutor::Phases {
  std::map<std::string, double> seconds;
  Clock::time_point t = Clock::now();
  // Adds the time since the previous lap to `phase`.
  void lap(const std::string& phase) {
    const auto now = Clock::now();
    seconds[phase] += std::chrono::duration<double>(now - t).count();
    t = now;
  }
};

ShardExecutor::ShardExecutor(common::ArtifactStore& cache, Backend& backend, ExecutorConfig cfg)
    : cache_(cache), backend_(backend), cfg_(cfg) {
  if (cfg_.max_keys == 0) cfg_.max_keys = 1;
}

ShardExecutor::~ShardExecutor() = default;

ResidentSnapshot ShardExecutor::resident_snapshot() const {
  std::lock_guard lk(snap_mu_);
  return snap_;
}

void ShardExecutor::publish_resident() {
  ResidentSnapshot s;
  auto add = [&](const std::string& sha, v1::MsmKind m, uint64_t first, uint64_t count) {
    v1::KeyRange& r = s.ranges.emplace_back();
    r.set_zkey_sha256(sha);
    r.set_msm(m);
    r.set_first(first);
    r.set_count(count);
  };
  for (const auto& k : keys_) {
    if (!k->whole) continue;
    const auto& h = k->zkey.header();
    add(k->sha, v1::MSM_KIND_A, 0, h.n_vars);
    add(k->sha, v1::MSM_KIND_B1, 0, h.n_vars);
    add(k->sha, v1::MSM_KIND_B2, 0, h.n_vars);
    add(k->sha, v1::MSM_KIND_C, 0, h.n_vars - h.n_public - 1);
    add(k->sha, v1::MSM_KIND_H, 0, h.domain_size);
    s.device_bytes += k->whole->device_bytes();
  }
  for (const auto& r : ranges_) {
    add(r.key->sha, r.msm, r.first, r.count);
    s.device_bytes += r.device_bytes();
  }
  std::lock_guard lk(snap_mu_);
  auto same = [](const v1::KeyRange& a, const v1::KeyRange& b) {
    return a.zkey_sha256() == b.zkey_sha256() && a.msm() == b.msm() && a.first() == b.first() && a.count() == b.count();
  };
  const bool changed = s.ranges.size() != snap_.ranges.size() ||
                       !std::equal(s.ranges.begin(), s.ranges.end(), snap_.ranges.begin(), same);
  s.version = snap_.version + (changed ? 1 : 0);
  snap_ = std::move(s);
}

std::shared_ptr<ShardExecutor::Key> ShardExecutor::open_key(const std::string& sha) {
  for (auto it = keys_.begin(); it != keys_.end(); ++it) {
    if ((*it)->sha != sha) continue;
    keys_.splice(keys_.begin(), keys_, it);
    return keys_.front();
  }
  // The cache checked the hash; the points are still checked once, as the key stays open.
  auto k = std::make_shared<Key>(Key{sha, prover::Zkey::open(cache_.path(sha)), nullptr, nullptr});
  keys_.push_front(k);
  evict_keys();
  return k;
}

void ShardExecutor::evict_keys() {
  while (keys_.size() > cfg_.max_keys) {
    const std::shared_ptr<Key> gone = keys_.back();
    keys_.pop_back();
    ranges_.remove_if([&](const Range& r) { return r.key == gone; });
  }
  while (ranges_.size() > cfg_.max_ranges) ranges_.pop_back();
}

// A backend throws std::runtime_error when its memory does not hold what is to be made resident:
// then everything else resident goes (but `keep`'s whole key) and it is tried once more.
template <class F>
auto ShardExecutor::with_device_room(Key& keep, F make) {
  try {
    return make();
  } catch (const std::runtime_error&) {
    if (ranges_.empty() && std::none_of(keys_.begin(), keys_.end(), [&](const auto& k) { return k.get() != &keep && k->whole; }))
      throw;
    ranges_.clear();
    for (auto& k : keys_)
      if (k.get() != &keep) k->whole.reset();
    publish_resident();
    return make();
  }
}

const std::vector<Fr>& ShardExecutor::scalars(const std::string& sha, bool h_vector) {
  const std::string id = (h_vector ? "h:" : "w:") + sha;
  if (scalars_sha_ != id) {
    scalars_sha_.clear();
    scalars_ = h_vector ? wire::decode_scalars(cache_.read_all(sha), "h artifact " + sha)
                        : prover::read_wtns(cache_.path(sha));
    scalars_sha_ = id;
  }
  return scalars_;
}

namespace {

// A hard link to a cached artifact (a copy where the file system refuses links), replacing what
// was there unless it already is that file.
void link_artifact(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (fs::exists(to, ec) && fs::equivalent(from, to, ec)) return;
  fs::remove(to, ec);
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// Writes `text` to `path` through a temporary file, unless the file already holds it.
void write_if_changed(const std::string& path, const std::string& text) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      const std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (have == text) return;
    }
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, path);
}

nlohmann::json outputs_json(const compiler::LoadedModel& m, const compiler::Evaluation& ev) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& o : m.spec.outputs) out[o.name] = compiler::tensor_to_json(ev.outputs.at(o.name));
  return out;
}

}  // namespace

// The model directory cache/models/<model_id>/ (compiler/model_dir.h) made from the cached
// artifacts and the assignment's model.json, loaded once and kept for the next shard.
const ShardExecutor::Model& ShardExecutor::model(const v1::ShardAssignment& a) {
  const compiler::ModelDir d(cache_.dir() + "/models/" + a.model_id());
  fs::create_directories(d.dir);
  if (!a.zkey_sha256().empty() && cache_.has(a.zkey_sha256())) link_artifact(cache_.path(a.zkey_sha256()), d.zkey());
  const std::string id = a.model_id() + "/" + a.onnx_sha256() + "/" + common::sha256_hex(a.model_json());
  if (model_ && model_->id == id) return *model_;
  model_.reset();
  link_artifact(cache_.path(a.onnx_sha256()), d.onnx());
  write_if_changed(d.spec(), a.model_json());
  model_ = std::make_unique<Model>(Model{id, compiler::load_model_dir(d)});
  return *model_;
}

ShardOutcome ShardExecutor::run(const v1::ShardAssignment& a) {
  ShardOutcome out;
  out.result.set_shard_id(a.shard_id());
  Phases ph;
  try {
    shard_inputs(a);  // the I/O thread checked this already; a direct caller may not have
    switch (a.kind()) {
      case v1::SHARD_KIND_WHOLE: run_whole(a, out, ph); break;
      case v1::SHARD_KIND_WITNESS: run_witness(a, out, ph); break;
      case v1::SHARD_KIND_H: run_h(a, out, ph); break;
      default: run_msm(a, out, ph); break;
    }
  } catch (const std::exception& e) {
    out = {};
    out.result.set_shard_id(a.shard_id());
    *out.result.mutable_failure() = error_from_exception(e);
  }
  for (const auto& [phase, s] : ph.seconds) (*out.result.mutable_phase_seconds())[phase] = s;
  publish_resident();
  return out;
}

void ShardExecutor::run_whole(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph) {
  std::vector<Fr> witness;
  nlohmann::json outputs;
  if (is_onnx(a)) {
    const Model& m = model(a);
    const auto inputs = compiler::inputs_from_json(nlohmann::json::parse(a.input_json()), m.loaded.graph, "input_json");
    ph.lap("load");
    compiler::Evaluation ev = compiler::evaluate_model(m.loaded.graph, m.loaded.spec, inputs);
    outputs = outputs_json(m.loaded, ev);
    witness = std::move(ev.witness);
  } else {
    witness = prover::read_wtns(cache_.path(a.witness_sha256()));
  }
  ph.lap("witness");
  const auto key = open_key(a.zkey_sha256());
  prover::check_witness(key->zkey, witness);
  if (!key->whole) key->whole = with_device_room(*key, [&] { return std::make_unique<prover::ResidentKey>(key->zkey, backend_); });
  ph.lap("load");
  prover::ProveOptions opts;
  std::map<std::string, double> steps;
  opts.progress = [&](std::string_view step, double s) {
    if (step.starts_with("H")) steps["h"] += s;
    else if (step.starts_with("MSM")) steps["msm"] += s;
  };
  const prover::Proof proof = prover::prove(*key->whole, witness, backend_, opts);
  ph.lap("prove");
  const auto& hd = key->zkey.header();
  out.msm_points = 4 * uint64_t(hd.n_vars) - hd.n_public - 1 + hd.domain_size;
  for (const auto& [phase, s] : steps) ph.seconds[phase] += s;
  out.result.set_proof_json(prover::proof_to_json(proof).dump());
  out.result.set_public_json(prover::public_to_json(prover::public_signals(key->zkey, witness)).dump());
  if (is_onnx(a)) out.result.set_output_json(outputs.dump());
}

void ShardExecutor::run_witness(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph) {
  const Model& m = model(a);
  const auto inputs = compiler::inputs_from_json(nlohmann::json::parse(a.input_json()), m.loaded.graph, "input_json");
  ph.lap("load");
  const compiler::Evaluation ev = compiler::evaluate_model(m.loaded.graph, m.loaded.spec, inputs);
  const std::string tmp = cache_.temp_path();
  try {
    prover::write_wtns(tmp, ev.witness);
    out.result.set_witness_sha256(cache_.adopt(tmp));
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  out.uploads.push_back(out.result.witness_sha256());
  out.result.set_output_json(outputs_json(m.loaded, ev).dump());
  ph.lap("witness");
}

void ShardExecutor::run_h(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph) {
  const auto key = open_key(a.zkey_sha256());
  const prover::ConstraintRows* rows = key->whole ? &key->whole->rows() : key->rows.get();
  if (!rows) rows = (key->rows = std::make_unique<prover::ConstraintRows>(key->zkey)).get();
  ph.lap("load");
  const std::vector<Fr> witness = prover::read_wtns(cache_.path(a.witness_sha256()));
  ph.lap("witness");
  const std::vector<Fr> h = prover::compute_h(key->zkey, witness, backend_, {}, rows);
  ph.lap("h");
  out.result.set_h_sha256(cache_.put(wire::encode_scalars(h)));
  out.uploads.push_back(out.result.h_sha256());
}

void ShardExecutor::run_msm(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph) {
  const auto key = open_key(a.zkey_sha256());
  const prover::ZkeyHeader& hd = key->zkey.header();
  const prover::ZkeyParts& parts = key->zkey.point_parts();
  const v1::MsmKind kind = a.msm();
  const bool h_kind = kind == v1::MSM_KIND_H;
  const std::string name = v1::MsmKind_Name(kind).substr(9);  // without "MSM_KIND_"

  // Section length and where the section's point i finds its scalar.
  uint64_t section = hd.n_vars, scalar_offset = 0;
  if (kind == v1::MSM_KIND_C) {
    section = hd.n_vars - hd.n_public - 1;
    scalar_offset = uint64_t(hd.n_public) + 1;
  } else if (h_kind) {
    section = hd.domain_size;
  }
  const uint64_t first = a.first(), count = a.count();
  if (first > section || count > section - first)
    throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, "MSM " + name + " range [" + std::to_string(first) +
                                                          ", " + std::to_string(first) + " + " + std::to_string(count) +
                                                          ") exceeds the key's " + std::to_string(section) + " points");
  ph.lap("load");
  const std::vector<Fr>& s = scalars(a.scalars_sha256(), h_kind);
  if (h_kind) {
    if (s.size() != hd.domain_size)
      throw ShardError(v1::ERROR_CODE_INVALID_ARGUMENT, "h artifact " + a.scalars_sha256() + " holds " +
                                                            std::to_string(s.size()) + " scalars, the key's domain " +
                                                            std::to_string(hd.domain_size));
  } else {
    prover::check_witness(key->zkey, s);
  }
  ph.lap("witness");

  // The points: a whole resident key, a resident range covering this one, or a new range.
  const ResidentG1* g1 = nullptr;
  const ResidentG2* g2 = nullptr;
  uint64_t base = 0;
  if (key->whole) {
    const prover::ResidentKey& w = *key->whole;
    switch (kind) {
      case v1::MSM_KIND_A: g1 = &w.a(); break;
      case v1::MSM_KIND_B1: g1 = &w.b1(); break;
      case v1::MSM_KIND_B2: g2 = &w.b2(); break;
      case v1::MSM_KIND_C: g1 = &w.c(); break;
      default: g1 = &w.h(); break;
    }
  } else {
    auto it = std::find_if(ranges_.begin(), ranges_.end(), [&](const Range& r) { return r.covers(key->sha, kind, first, count); });
    if (it == ranges_.end()) {
      Range r{key, kind, first, count, nullptr, nullptr};
      with_device_room(*key, [&] {
        switch (kind) {
          case v1::MSM_KIND_A: r.g1 = backend_.resident_g1(parts.a.data() + first, count); break;
          case v1::MSM_KIND_B1: r.g1 = backend_.resident_g1(parts.b1.data() + first, count); break;
          case v1::MSM_KIND_B2: r.g2 = backend_.resident_g2(parts.b2.data() + first, count); break;
          case v1::MSM_KIND_C: r.g1 = backend_.resident_g1(parts.c.data() + first, count); break;
          default: r.g1 = backend_.resident_g1(parts.h.data() + first, count); break;
        }
        return 0;
      });
      ranges_.push_front(std::move(r));
      evict_keys();
    } else {
      ranges_.splice(ranges_.begin(), ranges_, it);
    }
    g1 = ranges_.front().g1.get();
    g2 = ranges_.front().g2.get();
    base = ranges_.front().first;
  }
  ph.lap("load");

  const Fr* sc = s.data() + scalar_offset + first;
  if (g2) {
    G2Jacobian acc;
    backend_.msm_g2(acc, sc, *g2, first - base, count);
    out.result.set_point(wire::encode_g2(acc.to_affine()));
  } else {
    G1Jacobian acc;
    backend_.msm_g1(acc, sc, *g1, first - base, count);
    out.result.set_point(wire::encode_g1(acc.to_affine()));
  }
  out.msm_points = count;
  ph.lap("msm");
}

}  // namespace zkinfer::worker
