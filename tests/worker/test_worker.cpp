// The worker against a fake coordinator (fake_coordinator.h): its session (Hello, heartbeats,
// reconnection, drain) and every shard kind, checked against the prover run directly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "fake_coordinator.h"
#include "zkinfer/common/sha256.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/io_json.h"
#include "zkinfer/compiler/lower.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"
#include "zkinfer/worker/worker.h"
#include "../support/onnx_builder.h"

namespace zkinfer::testing {
namespace {

namespace fs = std::filesystem;
using worker::Worker;
using worker::WorkerConfig;
using WM = v1::WorkerMessage;

const std::string kData = ZKINFER_TEST_DATA;

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() / ("zkinfer-worker-" + std::string(info->name()) + "-" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A worker on the CPU backend, running on its own thread; the destructor stops it and fails
// (rather than hangs) when it does not finish.
struct RunningWorker {
  Worker w;
  std::future<void> done;
  RunningWorker(const WorkerConfig& cfg) : w(cfg, worker::select_backend("cpu", 2)) {
    done = std::async(std::launch::async, [this] { w.run(); });
  }
  // Returns whether run() ended within `timeout` (rethrowing what it threw).
  bool finished(std::chrono::milliseconds timeout) {
    if (done.wait_for(timeout) != std::future_status::ready) return false;
    done.get();
    return true;
  }
  ~RunningWorker() {
    w.stop();
    if (done.valid() && done.wait_for(30s) != std::future_status::ready) {
      ADD_FAILURE() << "the worker did not stop within 30 s";
      std::abort();
    }
  }
};

WorkerConfig config(const FakeCoordinator& c, const TempDir& dir) {
  WorkerConfig cfg;
  cfg.coordinator = c.endpoint;
  cfg.name = "test-worker";
  cfg.cache_dir = (dir.path / "cache").string();
  cfg.hello_timeout = 1000ms;
  cfg.backoff_initial = 100ms;
  cfg.backoff_max = 400ms;
  return cfg;
}

v1::ShardAssignment shard(const std::string& id, v1::ShardKind kind) {
  v1::ShardAssignment a;
  a.set_shard_id(id);
  a.set_job_id("job1");
  a.set_kind(kind);
  a.set_lease_ms(60000);
  return a;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- session ------------------------------------------------------------------------------

TEST(WorkerSession, HelloCarriesCapacityAndCache) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  WorkerConfig cfg = config(c, dir);
  const std::string cached = common::ArtifactStore(cfg.cache_dir).put("already here");
  RunningWorker rw(cfg);
  const auto m = c.expect(WM::kHello);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->protocol_version(), wire::kProtocolVersion);
  const v1::Hello& h = m->hello();
  EXPECT_EQ(h.worker_name(), "test-worker");
  EXPECT_EQ(h.capacity().backend(), v1::BACKEND_KIND_CPU);
  EXPECT_EQ(h.capacity().gpu_count(), 0u);
  EXPECT_GT(h.capacity().cpu_threads(), 0u);
  EXPECT_GT(h.capacity().host_memory_bytes(), 0u);
  EXPECT_GE(h.capacity().cache_bytes(), 12u);
  ASSERT_EQ(h.cached_artifacts_size(), 1);
  EXPECT_EQ(h.cached_artifacts(0), cached);
}

TEST(WorkerSession, HeartbeatsAtTheIntervalAndReadyForWork) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  c.heartbeat_ms = 100;
  RunningWorker rw(config(c, dir));
  c.handshake();
  ASSERT_TRUE(c.expect(WM::kReady));
  EXPECT_TRUE(rw.w.ready());
  c.expect(WM::kGoodbye, 1500ms, false);  // nothing to wait for: collects 1.5 s of heartbeats
  ASSERT_GE(c.heartbeats.size(), 8u);
  EXPECT_LE(c.heartbeats.size(), 18u);
  for (size_t i = 1; i < c.heartbeats.size(); ++i) {
    EXPECT_GT(c.heartbeats[i].sequence(), c.heartbeats[i - 1].sequence());
    EXPECT_EQ(c.heartbeats[i].state(), v1::WORKER_STATE_IDLE);
    EXPECT_TRUE(c.heartbeats[i].shard_in_hand().empty());
  }
  const auto span = c.heartbeat_times.back().first - c.heartbeat_times.front().first;
  const double mean_ms = std::chrono::duration<double, std::milli>(span).count() / double(c.heartbeats.size() - 1);
  EXPECT_NEAR(mean_ms, 100.0, 30.0);
}

TEST(WorkerSession, NoWorkMeansAskingAgainAfterTheDelay) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  RunningWorker rw(config(c, dir));
  c.handshake();
  ASSERT_TRUE(c.expect(WM::kReady));
  v1::CoordinatorMessage nw;
  nw.mutable_no_work()->set_retry_after_ms(300);
  const auto sent = FakeCoordinator::Clock::now();
  c.send(nw);
  ASSERT_TRUE(c.expect(WM::kReady, 3s));
  EXPECT_GE(FakeCoordinator::Clock::now() - sent, 280ms);
}

TEST(WorkerSession, SilentCoordinatorMeansReconnectAndHelloAgain) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  c.heartbeat_ms = 100;
  c.liveness = 3;
  RunningWorker rw(config(c, dir));
  c.handshake();
  ASSERT_TRUE(c.expect(WM::kReady));
  c.silent = true;
  const auto from = FakeCoordinator::Clock::now();
  ASSERT_TRUE(c.expect(WM::kHello, 5s));
  EXPECT_GE(FakeCoordinator::Clock::now() - from, 300ms);  // not before liveness x interval
  EXPECT_FALSE(rw.w.ready());
  c.silent = false;
  c.welcome();
  EXPECT_TRUE(c.expect(WM::kReady));
  EXPECT_TRUE(rw.w.ready());
}

TEST(WorkerSession, FailedPreconditionMeansHelloAgain) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  RunningWorker rw(config(c, dir));
  c.handshake();
  ASSERT_TRUE(c.expect(WM::kReady));
  v1::CoordinatorMessage e;
  *e.mutable_error() = wire::make_error(v1::ERROR_CODE_FAILED_PRECONDITION, "unknown worker");
  c.send(e);
  ASSERT_TRUE(c.expect(WM::kHello, 3s));
  c.welcome();
  EXPECT_TRUE(c.expect(WM::kReady));
}

// ---- shards on tests/data/small.* (a circom circuit) ---------------------------------------

struct SmallCircuit {
  std::string zkey_sha, wtns_sha;
  prover::Zkey key = prover::Zkey::open(kData + "/small.zkey");
  std::vector<Fr> witness = prover::read_wtns(kData + "/small.wtns");
  explicit SmallCircuit(FakeCoordinator& c)
      : zkey_sha(c.store.put_file(kData + "/small.zkey")), wtns_sha(c.store.put_file(kData + "/small.wtns")) {}
  // The whole proof of small.wtns, as job1's only shard.
  v1::ShardAssignment whole() const {
    v1::ShardAssignment a = shard("job1/whole/0", v1::SHARD_KIND_WHOLE);
    a.set_zkey_sha256(zkey_sha);
    a.set_witness_sha256(wtns_sha);
    return a;
  }
};

TEST(WorkerShards, WholeCircuitProofVerifies) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  RunningWorker rw(config(c, dir));
  c.handshake();
  v1::ShardAssignment a = s.whole();
  const v1::ShardResult r = c.run_shard(a);
  ASSERT_FALSE(r.has_failure()) << r.failure().message();
  EXPECT_EQ(r.shard_id(), "job1/whole/0");
  const auto vk = prover::vk_from_json(prover::read_json_file(kData + "/small_vk.json"));
  const auto proof = prover::proof_from_json(nlohmann::ordered_json::parse(r.proof_json()));
  const auto pub = prover::public_from_json(nlohmann::ordered_json::parse(r.public_json()));
  EXPECT_EQ(pub, prover::public_signals(s.key, s.witness));
  std::string why;
  EXPECT_TRUE(prover::verify(vk, pub, proof, &why)) << why;
  for (const char* phase : {"fetch", "load", "witness", "h", "msm", "prove"}) EXPECT_TRUE(r.phase_seconds().contains(phase)) << phase;
  // Both artifacts came over in several chunks, and are in the cache now.
  EXPECT_GT(c.fetched.size(), 2u);
  EXPECT_TRUE(c.expect(WM::kReady));

  // The second proof reads no artifact and finds the key resident.
  c.fetched.clear();
  a.set_shard_id("job2/whole/0");
  c.assign(a);
  const auto r2 = c.expect(WM::kResult, 60s);
  ASSERT_TRUE(r2);
  EXPECT_FALSE(r2->result().has_failure());
  EXPECT_TRUE(c.fetched.empty());
  c.expect(WM::kReady);
  c.expect(WM::kGoodbye, 300ms, false);
  ASSERT_FALSE(c.heartbeats.empty());
  bool a_resident = false;
  for (const auto& hb : c.heartbeats)
    for (const auto& kr : hb.resident())
      a_resident |= kr.zkey_sha256() == s.zkey_sha && kr.msm() == v1::MSM_KIND_A && kr.count() == s.key.header().n_vars;
  EXPECT_TRUE(a_resident);
}

G1Jacobian g1_point(const std::string& bytes) { return G1Jacobian::from_affine(wire::decode_g1(bytes, "point")); }
G2Jacobian g2_point(const std::string& bytes) { return G2Jacobian::from_affine(wire::decode_g2(bytes, "point")); }

TEST(WorkerShards, MsmRangesAddUpToTheWholeMsm) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  auto cpu = make_cpu_backend({1});
  const auto& hd = s.key.header();
  const auto& parts = s.key.parts();
  const std::vector<Fr> h = prover::compute_h(s.key, s.witness, *cpu);
  const std::string h_sha = c.store.put(wire::encode_scalars(h));

  RunningWorker rw(config(c, dir));
  c.handshake();
  auto msm_shard = [&](v1::MsmKind kind, uint64_t first, uint64_t count, int index) {
    v1::ShardAssignment a = shard("job1/msm/" + std::to_string(index), v1::SHARD_KIND_MSM);
    a.set_zkey_sha256(s.zkey_sha);
    a.set_msm(kind);
    a.set_first(first);
    a.set_count(count);
    a.set_scalars_sha256(kind == v1::MSM_KIND_H ? h_sha : s.wtns_sha);
    const v1::ShardResult r = c.run_shard(a);
    EXPECT_FALSE(r.has_failure()) << r.failure().message();
    EXPECT_TRUE(r.phase_seconds().contains("msm"));
    return r.point();
  };
  int index = 0;
  const uint32_t n = hd.n_vars, priv = hd.n_public + 1;
  {
    G1Jacobian want;
    cpu->msm_g1(want, s.witness.data(), parts.a.data(), n);
    const G1Jacobian got = g1_point(msm_shard(v1::MSM_KIND_A, 0, 7, index++)) + g1_point(msm_shard(v1::MSM_KIND_A, 7, n - 7, index++));
    EXPECT_EQ(got.to_affine(), want.to_affine());
  }
  {
    G2Jacobian want;
    cpu->msm_g2(want, s.witness.data(), parts.b2.data(), n);
    const G2Jacobian got = g2_point(msm_shard(v1::MSM_KIND_B2, 0, 10, index++)) + g2_point(msm_shard(v1::MSM_KIND_B2, 10, n - 10, index++));
    EXPECT_EQ(got.to_affine(), want.to_affine());
  }
  {
    G1Jacobian want;
    cpu->msm_g1(want, s.witness.data() + priv, parts.c.data(), n - priv);
    const G1Jacobian got = g1_point(msm_shard(v1::MSM_KIND_C, 0, 5, index++)) + g1_point(msm_shard(v1::MSM_KIND_C, 5, n - priv - 5, index++));
    EXPECT_EQ(got.to_affine(), want.to_affine());
  }
  {
    G1Jacobian want;
    cpu->msm_g1(want, h.data(), parts.h.data(), hd.domain_size);
    const uint32_t half = hd.domain_size / 2;
    const G1Jacobian got = g1_point(msm_shard(v1::MSM_KIND_H, 0, half, index++)) +
                           g1_point(msm_shard(v1::MSM_KIND_H, half, hd.domain_size - half, index++));
    EXPECT_EQ(got.to_affine(), want.to_affine());
  }
}

// Job data beyond the limit leaves the cache, oldest first; the two most recent and the key stay.
TEST(WorkerShards, OldJobDataLeavesTheCache) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  const uint32_t n = s.key.header().domain_size;
  std::vector<std::string> scalars;
  for (uint64_t k = 0; k < 4; ++k) {  // four jobs' h vectors (any values will do for an MSM)
    std::vector<Fr> w(n, Fr::from_u64(k + 2));
    scalars.push_back(c.store.put(wire::encode_scalars(w)));
  }
  auto cfg = config(c, dir);
  cfg.job_cache_bytes = 1;  // keep only the two most recent
  RunningWorker rw(cfg);
  c.handshake();
  for (size_t k = 0; k < scalars.size(); ++k) {
    v1::ShardAssignment a = shard("job" + std::to_string(k) + "/msm/0", v1::SHARD_KIND_MSM);
    a.set_zkey_sha256(s.zkey_sha);
    a.set_msm(v1::MSM_KIND_H);  // h-style scalars: raw 32-byte values
    a.set_count(n);
    a.set_scalars_sha256(scalars[k]);
    const v1::ShardResult r = c.run_shard(a);
    ASSERT_FALSE(r.has_failure()) << r.failure().message();
  }
  auto cached = [&](const std::string& sha) { return fs::exists(fs::path(cfg.cache_dir) / sha); };
  EXPECT_FALSE(cached(scalars[0]));
  EXPECT_FALSE(cached(scalars[1]));
  EXPECT_TRUE(cached(scalars[2]));
  EXPECT_TRUE(cached(scalars[3]));
  EXPECT_TRUE(cached(s.zkey_sha));
}

TEST(WorkerShards, HShardUploadsH) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  auto cpu = make_cpu_backend({1});
  const std::string want = wire::encode_scalars(prover::compute_h(s.key, s.witness, *cpu));
  RunningWorker rw(config(c, dir));
  c.handshake();
  v1::ShardAssignment a = shard("job1/h/0", v1::SHARD_KIND_H);
  a.set_zkey_sha256(s.zkey_sha);
  a.set_witness_sha256(s.wtns_sha);
  const v1::ShardResult r = c.run_shard(a);
  ASSERT_FALSE(r.has_failure()) << r.failure().message();
  EXPECT_EQ(r.h_sha256(), common::sha256_hex(want));
  ASSERT_TRUE(c.uploaded.contains(r.h_sha256()));
  EXPECT_EQ(c.uploaded[r.h_sha256()], want);
  EXPECT_TRUE(r.phase_seconds().contains("h"));
}

TEST(WorkerShards, BadShardsFailAndTheWorkerAsksForMore) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  RunningWorker rw(config(c, dir));
  c.handshake();

  v1::ShardAssignment a = shard("job1/msm/0", v1::SHARD_KIND_MSM);
  a.set_zkey_sha256(s.zkey_sha);
  a.set_msm(v1::MSM_KIND_A);
  a.set_first(s.key.header().n_vars - 2);
  a.set_count(3);
  a.set_scalars_sha256(s.wtns_sha);
  v1::ShardResult r = c.run_shard(a);
  ASSERT_TRUE(r.has_failure());
  EXPECT_EQ(r.failure().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(r.failure().message().find("exceeds the key's 17 points"), std::string::npos) << r.failure().message();

  const std::string absent(64, 'a');
  v1::ShardAssignment b = shard("job1/h/0", v1::SHARD_KIND_H);
  b.set_zkey_sha256(s.zkey_sha);
  b.set_witness_sha256(absent);
  r = c.run_shard(b);
  ASSERT_TRUE(r.has_failure());
  EXPECT_EQ(r.failure().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_NE(r.failure().message().find(absent), std::string::npos) << r.failure().message();

  v1::ShardAssignment bad = shard("job1/msm/1", v1::SHARD_KIND_MSM);
  bad.set_zkey_sha256("../../etc/passwd");
  bad.set_msm(v1::MSM_KIND_A);
  bad.set_scalars_sha256(s.wtns_sha);
  r = c.run_shard(bad);
  ASSERT_TRUE(r.has_failure());
  EXPECT_EQ(r.failure().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(r.failure().message().find("zkey_sha256"), std::string::npos) << r.failure().message();

  // A witness that is not one: the worker reports it and keeps serving.
  v1::ShardAssignment w = shard("job1/whole/0", v1::SHARD_KIND_WHOLE);
  w.set_zkey_sha256(s.zkey_sha);
  w.set_witness_sha256(c.store.put("not a witness"));
  r = c.run_shard(w);
  ASSERT_TRUE(r.has_failure());
  EXPECT_EQ(r.failure().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_TRUE(c.expect(WM::kReady));
}

TEST(WorkerSession, StopDrainsTheShardInHandThenGoodbye) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  RunningWorker rw(config(c, dir));
  c.handshake();
  ASSERT_TRUE(c.expect(WM::kReady));
  v1::ShardAssignment a = s.whole();
  c.assign(a);
  const auto f = c.expect(WM::kFetch);  // the shard is in hand
  ASSERT_TRUE(f);
  rw.w.stop();
  c.serve(f->fetch());
  const auto r = c.expect(WM::kResult, 60s);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->result().has_failure()) << r->result().failure().message();
  ASSERT_TRUE(c.expect(WM::kGoodbye, 5s));
  bool draining = false;
  for (const auto& hb : c.heartbeats) draining |= hb.state() == v1::WORKER_STATE_DRAINING && hb.shard_in_hand() == "job1/whole/0";
  EXPECT_TRUE(draining);
  EXPECT_TRUE(rw.finished(5s));
  EXPECT_FALSE(c.expect(WM::kReady, 300ms, false));
}

// A coordinator restart in the middle of a fetch: the shard in hand goes on after the new Welcome.
TEST(WorkerSession, ShardInHandSurvivesHelloAgain) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  RunningWorker rw(config(c, dir));
  c.handshake();
  ASSERT_TRUE(c.expect(WM::kReady));
  v1::ShardAssignment a = s.whole();
  c.assign(a);
  const auto f = c.expect(WM::kFetch);
  ASSERT_TRUE(f);
  c.serve(f->fetch());
  ASSERT_TRUE(c.expect(WM::kFetch));  // the second chunk's request, left unanswered
  v1::CoordinatorMessage e;
  *e.mutable_error() = wire::make_error(v1::ERROR_CODE_FAILED_PRECONDITION, "unknown worker");
  c.send(e);
  const auto h = c.expect(WM::kHello, 3s);
  ASSERT_TRUE(h);
  c.welcome();
  const auto again = c.expect(WM::kFetch);  // the same chunk asked for again
  ASSERT_TRUE(again);
  EXPECT_EQ(again->fetch().sha256(), f->fetch().sha256());
  EXPECT_EQ(again->fetch().offset(), c.max_chunk);
  EXPECT_FALSE(c.expect(WM::kResult, 350ms, false));  // heartbeats meanwhile
  c.serve(again->fetch());
  const auto r = c.expect(WM::kResult, 60s);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->result().has_failure()) << r->result().failure().message();
  bool busy = false;
  for (const auto& hb : c.heartbeats) busy |= hb.state() == v1::WORKER_STATE_BUSY && hb.shard_in_hand() == "job1/whole/0";
  EXPECT_TRUE(busy);
}

// GET http://127.0.0.1:PORT/PATH: the status line and body ("" when nothing answers).
std::string http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == ssize_t(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    }
  }
  close(fd);
  return out;
}

TEST(WorkerSession, MetricsAndReadiness) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  SmallCircuit s(c);
  WorkerConfig cfg = config(c, dir);
  cfg.metrics_address = "127.0.0.1:0";
  RunningWorker rw(cfg);
  ASSERT_TRUE(c.expect(WM::kHello));
  for (int i = 0; i < 200 && rw.w.metrics_port() == 0; ++i) std::this_thread::sleep_for(10ms);
  const int port = rw.w.metrics_port();
  ASSERT_NE(port, 0);
  EXPECT_NE(http_get(port, "/readyz").find(" 503 "), std::string::npos);  // not welcomed yet
  c.welcome();
  v1::ShardAssignment a = shard("job1/msm/0", v1::SHARD_KIND_MSM);
  a.set_zkey_sha256(s.zkey_sha);
  a.set_msm(v1::MSM_KIND_B1);
  a.set_first(2);
  a.set_count(9);
  a.set_scalars_sha256(s.wtns_sha);
  const v1::ShardResult r = c.run_shard(a);
  ASSERT_FALSE(r.has_failure()) << r.failure().message();
  ASSERT_TRUE(c.expect(WM::kReady));
  EXPECT_NE(http_get(port, "/readyz").find(" 200 "), std::string::npos);
  const std::string m = http_get(port, "/metrics");
  for (const char* line : {"zkinfer_worker_shards_total{kind=\"msm\",outcome=\"succeeded\"} 1",
                           "zkinfer_worker_msm_points_total 9", "zkinfer_worker_state{state=\"idle\"} 1",
                           "zkinfer_worker_state{state=\"busy\"} 0", "zkinfer_worker_reconnects_total 0",
                           "zkinfer_worker_shard_duration_seconds_count{kind=\"msm\",phase=\"msm\"} 1",
                           "zkinfer_worker_shard_duration_seconds_count{kind=\"msm\",phase=\"total\"} 1",
                           "zkinfer_worker_device_memory_used_bytes 0"})
    EXPECT_NE(m.find(line), std::string::npos) << line << " not in\n" << m;
  const uint64_t fetched = c.store.size(s.zkey_sha) + c.store.size(s.wtns_sha);
  EXPECT_NE(m.find("zkinfer_worker_artifact_fetched_bytes_total " + std::to_string(fetched)), std::string::npos) << m;
  // The range is reported resident in a heartbeat.
  c.expect(WM::kGoodbye, 300ms, false);
  bool reported = false;
  for (const auto& hb : c.heartbeats)
    for (const auto& kr : hb.resident()) reported |= kr.msm() == v1::MSM_KIND_B1 && kr.first() == 2 && kr.count() == 9;
  EXPECT_TRUE(reported);
}

// ---- ONNX: WITNESS, then WHOLE --------------------------------------------------------------

TEST(WorkerShards, OnnxWitnessAndWholeProof) {
  TempDir dir;
  FakeCoordinator c((dir.path / "coord").string());
  std::mt19937_64 rng(20261126);
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.initializer("W", {3, 4}, random_floats(rng, 12, -1, 1));
  b.initializer("B", {3}, random_floats(rng, 3, -0.5, 0.5));
  b.node("Gemm", {"x", "W", "B"}, {"h"}, {attr_int("transB", 1)}, "fc");
  b.node("Relu", {"h"}, {"y"}, {}, "relu");
  b.output("y");
  const std::string onnx_path = (dir.path / "model.onnx").string();
  b.save(onnx_path);
  const compiler::Graph g = compiler::load_onnx(onnx_path);
  compiler::Compiled compiled = compiler::compile_model(g, compiler::QuantOptions{}, nullptr);
  compiled.spec.onnx_sha256 = common::sha256_file_hex(onnx_path);
  const std::string zkey_path = (dir.path / "circuit.zkey").string();
  prover::groth16_setup_dev(compiled.r1cs, zkey_path);
  const std::string onnx_sha = c.store.put_file(onnx_path), zkey_sha = c.store.put_file(zkey_path);
  const std::string model_json = compiler::spec_to_json(compiled.spec).dump();
  const std::string input_json = R"({"x": [[0.5, -0.25, 0.75, 1.0]]})";
  const compiler::Evaluation ev =
      compiler::evaluate_model(g, compiled.spec, compiler::inputs_from_json(nlohmann::json::parse(input_json), g, "input"));
  nlohmann::json want_out;
  want_out["y"] = compiler::tensor_to_json(ev.outputs.at("y"));

  RunningWorker rw(config(c, dir));
  c.handshake();
  v1::ShardAssignment a = shard("job1/witness/0", v1::SHARD_KIND_WITNESS);
  a.set_model_id(common::sha256_hex("model"));
  a.set_onnx_sha256(onnx_sha);
  a.set_model_json(model_json);
  a.set_input_json(input_json);
  v1::ShardResult r = c.run_shard(a);
  ASSERT_FALSE(r.has_failure()) << r.failure().message();
  ASSERT_TRUE(c.uploaded.contains(r.witness_sha256()));
  const std::string& wtns = c.uploaded[r.witness_sha256()];
  EXPECT_EQ(common::sha256_hex(wtns), r.witness_sha256());
  EXPECT_EQ(prover::parse_wtns({reinterpret_cast<const uint8_t*>(wtns.data()), wtns.size()}, "uploaded"), ev.witness);
  EXPECT_EQ(nlohmann::json::parse(r.output_json()), want_out);

  a.set_shard_id("job1/whole/0");
  a.set_kind(v1::SHARD_KIND_WHOLE);
  a.set_zkey_sha256(zkey_sha);
  r = c.run_shard(a);
  ASSERT_FALSE(r.has_failure()) << r.failure().message();
  EXPECT_EQ(nlohmann::json::parse(r.output_json()), want_out);
  const prover::Zkey key = prover::Zkey::open(zkey_path);
  std::string why;
  EXPECT_TRUE(prover::verify(prover::verification_key(key),
                             prover::public_from_json(nlohmann::ordered_json::parse(r.public_json())),
                             prover::proof_from_json(nlohmann::ordered_json::parse(r.proof_json())), &why))
      << why;
  EXPECT_TRUE(fs::exists(dir.path / "cache" / "models" / a.model_id() / "model.onnx"));
}

}  // namespace
}  // namespace zkinfer::testing
