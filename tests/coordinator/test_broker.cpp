// The coordinator's broker in-process, against scripted workers that misbehave on purpose: a
// worker that returns a proof that does not verify, one that returns a result twice or late,
// one that goes silent holding a shard, one that heartbeats without naming its shard. Every wait
// is bounded.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <zmq.hpp>

#include "zkinfer/client/coordinator_client.h"
#include "zkinfer/coordinator/coordinator.h"
#include "zkinfer/coordinator/models.h"
#include "zkinfer/coordinator/store.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::coordinator {
namespace {

namespace fs = std::filesystem;
namespace v1 = zkinfer::v1;
using namespace std::chrono_literals;

const fs::path kData = ZKINFER_TEST_DATA_DIR;

std::string read_text(const fs::path& p) { return prover::read_json_file(p.string()).dump(); }

// A coordinator on free loopback ports, serving from its own thread.
struct Running {
  fs::path dir;
  std::unique_ptr<Coordinator> c;
  std::thread t;
  // A fresh data directory, or `existing` as it is.
  explicit Running(CoordinatorConfig cfg, fs::path existing = {}) {
    dir = existing.empty() ? fs::temp_directory_path() / ("zkinfer-broker-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++))
                           : existing;
    if (existing.empty()) fs::remove_all(dir);
    cfg.data_dir = dir.string();
    cfg.clients_endpoint = "tcp://127.0.0.1:0";
    cfg.workers_endpoint = "tcp://127.0.0.1:0";
    cfg.metrics_address = "127.0.0.1:0";
    c = std::make_unique<Coordinator>(cfg);
    t = std::thread([this] { c->run(); });
  }
  ~Running() {
    c->stop();
    t.join();
    c.reset();
    fs::remove_all(dir);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  client::CoordinatorClient client() {
    client::ClientOptions o;
    o.endpoint = c->clients_endpoint();
    o.timeout = 10s;
    return client::CoordinatorClient(o);
  }
  double metric(const std::string& series) {
    httplib::Client cli("127.0.0.1", c->metrics_port());
    auto res = cli.Get("/metrics");
    if (!res) return -1;
    std::istringstream in(res->body);
    for (std::string line; std::getline(in, line);)
      if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
  }
};

// A worker written out message by message.
struct ScriptedWorker {
  zmq::context_t ctx;
  zmq::socket_t s{ctx, zmq::socket_type::dealer};
  explicit ScriptedWorker(const std::string& endpoint, const std::string& name, const std::vector<v1::KeyRange>& resident = {}) {
    s.set(zmq::sockopt::linger, 0);
    s.connect(endpoint);
    v1::WorkerMessage m;
    m.mutable_hello()->set_worker_name(name);
    m.mutable_hello()->mutable_capacity()->set_backend(v1::BACKEND_KIND_CPU);
    m.mutable_hello()->mutable_capacity()->set_host_memory_bytes(uint64_t{1} << 34);
    for (const auto& r : resident) *m.mutable_hello()->add_resident() = r;
    send(m);
    EXPECT_TRUE(next().has_welcome());
  }
  void send(v1::WorkerMessage m) {
    m.set_protocol_version(wire::kProtocolVersion);
    s.send(wire::to_frame(m), zmq::send_flags::none);
  }
  // The next message other than a heartbeat (an empty message after `limit`).
  v1::CoordinatorMessage next(std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      zmq::pollitem_t it{s.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&it, 1, left) <= 0) return {};
      zmq::message_t f;
      (void)s.recv(f);
      v1::CoordinatorMessage m;
      EXPECT_TRUE(wire::from_frame(f, m));
      if (!m.has_heartbeat()) return m;
    }
  }
  v1::ShardAssignment ready() {
    v1::WorkerMessage m;
    m.mutable_ready();
    send(m);
    auto a = next();
    EXPECT_TRUE(a.has_assign()) << a.DebugString();
    return a.assign();
  }
  void heartbeat(const std::string& in_hand) {
    v1::WorkerMessage m;
    m.mutable_heartbeat()->set_state(v1::WORKER_STATE_BUSY);
    m.mutable_heartbeat()->set_shard_in_hand(in_hand);
    send(m);
  }
  void result(const std::string& shard, const std::string& proof, const std::string& pub) {
    v1::WorkerMessage m;
    auto* r = m.mutable_result();
    r->set_shard_id(shard);
    r->set_proof_json(proof);
    r->set_public_json(pub);
    send(m);
  }
};

// small.r1cs + small.zkey registered, a job on small.wtns submitted; returns the job id.
std::string submit_small(client::CoordinatorClient& c) {
  v1::CircuitSource src;
  src.set_r1cs_sha256(c.upload((kData / "small.r1cs").string()));
  src.set_zkey_sha256(c.upload((kData / "small.zkey").string()));
  const auto m = c.add_model("small", src, 60s);
  v1::SubmitJobRequest s;
  s.set_model_id(m.model_id());
  s.set_witness_sha256(c.upload((kData / "small.wtns").string()));
  return c.submit(s).job_id();
}

v1::JobInfo wait_end(client::CoordinatorClient& c, const std::string& job) {
  v1::JobInfo i;
  for (int k = 0; k < 20 && (i = c.wait(job, 1s)).state() <= v1::JOB_STATE_RUNNING; ++k) {
  }
  return i;
}

TEST(Broker, AProofThatDoesNotVerifyIsNeverReturned) {
  CoordinatorConfig cfg;
  cfg.max_failed_retries = 1;
  Running r(cfg);
  auto c = r.client();
  const std::string job = submit_small(c);
  ScriptedWorker w(r.c->workers_endpoint(), "liar");
  const std::string proof = read_text(kData / "small_proof.json");
  const std::string wrong_public = R"(["1", "2", "3"])";
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto a = w.ready();
    EXPECT_EQ(a.shard_id(), job + "/whole/0");  // the same deterministic id each time
    w.result(a.shard_id(), proof, wrong_public);
  }
  const auto info = wait_end(c, job);
  EXPECT_EQ(info.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(info.error().find("does not verify"), std::string::npos) << info.error();
  try {
    c.result(job);
    ADD_FAILURE() << "a failed job returned a result";
  } catch (const client::CoordinatorError& e) {
    EXPECT_EQ(e.code(), v1::ERROR_CODE_FAILED_PRECONDITION);
  }
  EXPECT_EQ(r.metric("zkinfer_proof_verification_failures_total"), 2);
  EXPECT_EQ(r.metric(R"(zkinfer_retries_total{reason="shard_failed"})"), 2);
}

TEST(Broker, DuplicateLateAndUnknownResultsAreDropped) {
  Running r({});
  auto c = r.client();
  const std::string job = submit_small(c);
  ScriptedWorker w(r.c->workers_endpoint(), "echo");
  const auto a = w.ready();
  const std::string proof = read_text(kData / "small_proof.json"), pub = read_text(kData / "small_public.json");
  w.result(a.shard_id(), proof, pub);
  EXPECT_EQ(wait_end(c, job).state(), v1::JOB_STATE_SUCCEEDED);
  w.result(a.shard_id(), proof, R"(["1", "2", "3"])");  // a second, different answer: dropped
  w.result("nosuchjob/whole/0", proof, pub);
  w.result("not-a-shard-id", proof, pub);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (r.metric("zkinfer_results_dropped_total") < 3 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(r.metric("zkinfer_results_dropped_total"), 3);
  EXPECT_EQ(nlohmann::json::parse(c.result(job).public_json()), nlohmann::json::parse(pub));
}

TEST(Broker, ASilentWorkerIsEvictedAndItsShardGoesToAnother) {
  CoordinatorConfig cfg;
  cfg.heartbeat_interval_ms = 100;
  cfg.heartbeat_liveness = 3;
  Running r(cfg);
  auto c = r.client();
  const std::string job = submit_small(c);
  ScriptedWorker quiet(r.c->workers_endpoint(), "quiet");
  const auto first = quiet.ready();
  ScriptedWorker other(r.c->workers_endpoint(), "other");
  // Keep `other` alive while `quiet` says nothing.
  v1::WorkerMessage ready;
  ready.mutable_ready();
  other.send(ready);
  v1::CoordinatorMessage got;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!got.has_assign() && std::chrono::steady_clock::now() < until) {
    other.heartbeat("");
    got = other.next(100ms);
  }
  ASSERT_TRUE(got.has_assign()) << "the shard was not reassigned after its worker went silent";
  EXPECT_EQ(got.assign().shard_id(), first.shard_id());
  EXPECT_EQ(r.metric("zkinfer_worker_evictions_total"), 1);
  EXPECT_EQ(r.metric(R"(zkinfer_retries_total{reason="worker_lost"})"), 1);
  other.result(got.assign().shard_id(), read_text(kData / "small_proof.json"), read_text(kData / "small_public.json"));
  EXPECT_EQ(wait_end(c, job).state(), v1::JOB_STATE_SUCCEEDED);
}

TEST(Broker, ALeaseNotNamedInHeartbeatsRunsOut) {
  CoordinatorConfig cfg;
  cfg.heartbeat_interval_ms = 100;
  cfg.lease_ms = 600;
  Running r(cfg);
  auto c = r.client();
  const std::string job = submit_small(c);
  ScriptedWorker forgetful(r.c->workers_endpoint(), "forgetful");
  const auto first = forgetful.ready();
  // Heartbeats naming the shard keep the lease for longer than lease_ms.
  const auto keep_until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < keep_until) {
    forgetful.heartbeat(first.shard_id());
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(r.metric(R"(zkinfer_retries_total{reason="worker_lost"})"), 0);
  // Alive, but no longer naming it: the lease runs out and the shard is queued again.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (r.metric(R"(zkinfer_retries_total{reason="worker_lost"})") < 1 && std::chrono::steady_clock::now() < until) {
    forgetful.heartbeat("");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(r.metric(R"(zkinfer_retries_total{reason="worker_lost"})"), 1);
  EXPECT_EQ(r.metric("zkinfer_worker_evictions_total"), 0);
  const auto again = forgetful.ready();
  EXPECT_EQ(again.shard_id(), first.shard_id());
  forgetful.result(again.shard_id(), read_text(kData / "small_proof.json"), read_text(kData / "small_public.json"));
  EXPECT_EQ(wait_end(c, job).state(), v1::JOB_STATE_SUCCEEDED);
}

TEST(Broker, AWorkerHoldingTheKeyResidentGetsTheShard) {
  Running r({});
  auto c = r.client();
  v1::CircuitSource src;
  src.set_r1cs_sha256(c.upload((kData / "small.r1cs").string()));
  src.set_zkey_sha256(c.upload((kData / "small.zkey").string()));
  const auto m = c.add_model("small", src, 60s);
  v1::KeyRange whole;
  whole.set_zkey_sha256(m.zkey_sha256());
  whole.set_msm(v1::MSM_KIND_A);
  whole.set_count(m.wires());
  // Several cold workers and one warm one, all waiting before the job arrives.
  std::vector<std::unique_ptr<ScriptedWorker>> cold;
  for (int i = 0; i < 3; ++i) cold.push_back(std::make_unique<ScriptedWorker>(r.c->workers_endpoint(), "cold" + std::to_string(i)));
  ScriptedWorker warm(r.c->workers_endpoint(), "warm", {whole});
  v1::WorkerMessage ready;
  ready.mutable_ready();
  for (auto& w : cold) w->send(ready);
  warm.send(ready);
  std::this_thread::sleep_for(100ms);
  v1::SubmitJobRequest s;
  s.set_model_id(m.model_id());
  s.set_witness_sha256(c.upload((kData / "small.wtns").string()));
  const std::string job = c.submit(s).job_id();
  const auto got = warm.next(5s);
  ASSERT_TRUE(got.has_assign()) << "the worker holding the key did not get the shard";
  EXPECT_EQ(got.assign().shard_id(), job + "/whole/0");
  for (auto& w : cold) EXPECT_FALSE(w->next(50ms).has_assign());
}

// Artifacts: a model's stay; a job's uploaded witness stays while the job runs; unused uploads go
// after the retention (here zero, so at the first sweep after they are one sweep period old).
TEST(Broker, UnusedUploadsAreRemovedAndWhatJobsAndModelsNeedStays) {
  CoordinatorConfig cfg;
  // Retention 0 h: a sweep every heartbeat (500 ms), and an upload younger than that is kept,
  // time for submit_small to name its uploads in add_model and submit even on a loaded machine
  // (with 100 ms, a sweep between an upload and add_model once took the upload).
  cfg.heartbeat_interval_ms = 500;
  cfg.keep_uploads = std::chrono::hours(0);
  Running r(cfg);
  auto c = r.client();
  const fs::path art = r.dir / "artifacts";
  const std::string job = submit_small(c);
  const auto m = c.get_model(c.status(job).model_id());
  const std::string witness = c.upload((kData / "small.wtns").string());  // the job's, uploaded again
  const std::string stray = c.upload_bytes("an upload nothing refers to");
  auto gone = [&](const std::string& sha) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (fs::exists(art / sha) && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
    return !fs::exists(art / sha);
  };
  EXPECT_TRUE(gone(stray));
  EXPECT_TRUE(fs::exists(art / witness));  // its job is queued
  ScriptedWorker w(r.c->workers_endpoint(), "w");
  const auto a = w.ready();
  w.result(a.shard_id(), read_text(kData / "small_proof.json"), read_text(kData / "small_public.json"));
  EXPECT_EQ(wait_end(c, job).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_TRUE(gone(witness));
  EXPECT_TRUE(fs::exists(art / m.r1cs_sha256()));
  EXPECT_TRUE(fs::exists(art / m.zkey_sha256()));
  EXPECT_EQ(nlohmann::json::parse(c.result(job).public_json()), nlohmann::json::parse(read_text(kData / "small_public.json")));
}

// A job whose every shard was done when the previous coordinator stopped is finished on start.
TEST(Broker, AJobWithEveryShardDoneSucceedsWhenResumed) {
  const fs::path dir = fs::temp_directory_path() / ("zkinfer-broker-resume-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string pub = read_text(kData / "small_public.json");
  {
    Store st(dir.string());
    common::ArtifactStore art((dir / "artifacts").string());
    const ModelRow m = prepare_circuit_model(art, "small", art.put_file((kData / "small.r1cs").string()),
                                             art.put_file((kData / "small.zkey").string()));
    st.put_model(m);
    JobRow j;
    j.job_id = "resume1";
    j.model_id = m.model_id;
    j.state = v1::JOB_STATE_RUNNING;
    j.shards_total = j.shards_done = 1;
    j = st.insert_job(j);
    ShardRow s;
    s.shard_id = "resume1/whole/0";
    s.job_id = j.job_id;
    s.kind = v1::SHARD_KIND_WHOLE;
    s.state = kShardDone;
    s.proof_json = read_text(kData / "small_proof.json");
    s.public_json = pub;
    st.plan_job(j, {s});
  }
  Running r({}, dir);
  auto c = r.client();
  EXPECT_EQ(c.status("resume1").state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(nlohmann::json::parse(c.result("resume1").public_json()), nlohmann::json::parse(pub));
}

TEST(Broker, BindErrorsNameTheEndpoint) {
  CoordinatorConfig cfg;
  cfg.data_dir = (fs::temp_directory_path() / ("zkinfer-broker-bind-" + std::to_string(::getpid()))).string();
  cfg.clients_endpoint = "tcp://256.1.1.1:1";
  try {
    Coordinator c(cfg);
    ADD_FAILURE() << "bound an impossible address";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tcp://256.1.1.1:1"), std::string::npos) << e.what();
  }
  fs::remove_all(cfg.data_dir);
}

}  // namespace
}  // namespace zkinfer::coordinator
