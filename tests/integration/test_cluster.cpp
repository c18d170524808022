// A whole local cluster on loopback (issue 6): the real coordinator and worker programs, driven
// through the client library. Every proof a job returns is checked here again with the verifier
// and the model's verification key; every wait is bounded.
#include <gtest/gtest.h>

#include <zmq.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/chain_circuit.h"
#include "../support/chain_witness.h"
#include "../support/onnx_builder.h"
#include "cluster_harness.h"
#include "zkinfer/common/curve.h"
#include "zkinfer/common/sha256.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/io_json.h"
#include "zkinfer/compiler/reference.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer {
namespace {

namespace fs = std::filesystem;
namespace v1 = zkinfer::v1;
using testing::LocalCluster;
using testing::ClusterOptions;
using std::chrono::seconds;

const fs::path kData = ZKINFER_TEST_DATA_DIR;

// The proof of a succeeded job, checked against the verification key it came with.
void expect_valid(const client::JobResult& r) {
  ASSERT_EQ(r.info().state(), v1::JOB_STATE_SUCCEEDED) << r.info().error();
  const auto vk = prover::vk_from_json(nlohmann::ordered_json::parse(r.verification_key_json()));
  const auto proof = prover::proof_from_json(nlohmann::ordered_json::parse(r.proof_json()));
  const auto pub = prover::public_from_json(nlohmann::ordered_json::parse(r.public_json()));
  std::string why;
  EXPECT_TRUE(prover::verify(vk, pub, proof, &why)) << why;
}

// A circuit model (an .r1cs with its .zkey) and a witness for it, written to `dir`.
struct CircuitFiles {
  std::string r1cs, zkey, wtns;
};

CircuitFiles chain_files(const fs::path& dir, unsigned log_domain) {
  fs::create_directories(dir);
  const uint32_t n = testing::chain_constraints_for_domain(log_domain);
  CircuitFiles f{(dir / "chain.r1cs").string(), (dir / "chain.zkey").string(), (dir / "chain.wtns").string()};
  const prover::R1cs cs = testing::chain_circuit(n);
  prover::write_r1cs(f.r1cs, cs);
  prover::groth16_setup_dev(cs, f.zkey, {});
  prover::write_wtns(f.wtns, testing::chain_witness(n, Fr::from_u64(3)));
  return f;
}

CircuitFiles small_files() {
  return {(kData / "small.r1cs").string(), (kData / "small.zkey").string(), (kData / "small.wtns").string()};
}

std::string add_circuit(client::CoordinatorClient& c, const CircuitFiles& f) {
  v1::CircuitSource src;
  src.set_r1cs_sha256(c.upload(f.r1cs));
  src.set_zkey_sha256(c.upload(f.zkey));
  const auto m = c.add_model("test circuit", src, std::chrono::minutes(2));
  EXPECT_EQ(m.state(), v1::MODEL_STATE_READY);
  return m.model_id();
}

std::string submit_witness(client::CoordinatorClient& c, const std::string& model, const std::string& wtns_sha,
                           uint32_t split = 0) {
  v1::SubmitJobRequest s;
  s.set_model_id(model);
  s.set_witness_sha256(wtns_sha);
  s.set_split_into(split);
  const auto j = c.submit(s);
  EXPECT_EQ(j.state(), v1::JOB_STATE_QUEUED);
  return j.job_id();
}

// Waits for every job (bounded) and checks each proof.
void expect_all_succeed(client::CoordinatorClient& c, const std::vector<std::string>& jobs, seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (const auto& id : jobs) {
    client::JobInfo info;
    do {
      info = c.wait(id, std::chrono::seconds(5));
    } while (info.state() != v1::JOB_STATE_SUCCEEDED && info.state() != v1::JOB_STATE_FAILED &&
             info.state() != v1::JOB_STATE_CANCELLED && std::chrono::steady_clock::now() < until);
    ASSERT_EQ(info.state(), v1::JOB_STATE_SUCCEEDED) << "job " << id << ": " << info.error();
    expect_valid(c.result(id));
  }
}

TEST(Cluster, ManyJobsThroughThreeWorkersAllVerify) {
  LocalCluster cluster({.workers = 3});
  cluster.wait_ready();
  auto c = cluster.client();
  const CircuitFiles f = small_files();
  const std::string model = add_circuit(c, f);
  const std::string w = c.upload(f.wtns);
  std::vector<std::string> jobs;
  for (int i = 0; i < 12; ++i) jobs.push_back(submit_witness(c, model, w));
  expect_all_succeed(c, jobs, seconds(120));
  // Fresh randomness per proof: no two proofs alike.
  std::set<std::string> proofs;
  for (const auto& id : jobs) proofs.insert(c.result(id).proof_json());
  EXPECT_EQ(proofs.size(), jobs.size());
  // The list shows them all, succeeded, in submission order.
  const auto listed = c.list_jobs(v1::JOB_STATE_SUCCEEDED);
  ASSERT_EQ(listed.size(), jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) EXPECT_EQ(listed[i].job_id(), jobs[i]);
}

TEST(Cluster, SplitJobAcrossWorkersVerifies) {
  LocalCluster cluster({.workers = 3});
  cluster.wait_ready();
  auto c = cluster.client();
  const CircuitFiles f = chain_files(cluster.dir() / "circuit", 12);
  const std::string model = add_circuit(c, f);
  const std::string job = submit_witness(c, model, c.upload(f.wtns), 3);
  expect_all_succeed(c, {job}, seconds(120));
  const auto info = c.status(job);
  EXPECT_EQ(info.shards_total(), 1u + 5u * 3u);  // h, then 5 MSMs in 3 ranges each
  EXPECT_EQ(info.shards_done(), info.shards_total());
  // h went with the job; the model and the uploaded witness (kept for reuse) remain.
  const auto m = c.get_model(model);
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(cluster.dir() / "coordinator" / "artifacts"))
    if (e.is_regular_file()) left.insert(e.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{m.r1cs_sha256(), m.zkey_sha256(), common::sha256_file_hex(f.wtns)}));
}

// A two-layer perceptron compiled and set up by the coordinator; its proofs carry the outputs.
TEST(Cluster, OnnxModelWholeAndSplitProofsCarryTheOutputs) {
  LocalCluster cluster({.workers = 2});
  cluster.wait_ready();
  auto c = cluster.client();
  const fs::path onnx = cluster.dir() / "mlp.onnx";
  testing::make_mlp({4, 6, 3}, 7).save(onnx.string());
  v1::OnnxSource src;
  src.set_onnx_sha256(c.upload(onnx.string()));
  src.mutable_setup()->set_dev(true);
  const auto m = c.add_model("mlp", src, std::chrono::minutes(3));
  ASSERT_EQ(m.state(), v1::MODEL_STATE_READY);
  EXPECT_GT(m.constraints(), 0u);
  EXPECT_FALSE(m.model_json().empty());

  const std::string input = R"({"input": [[0.5, -0.25, 0.125, 1.0]]})";
  std::vector<std::string> jobs;
  for (uint32_t split : {0u, 2u}) {
    v1::SubmitJobRequest s;
    s.set_model_id(m.model_id());
    s.set_input_json(input);
    s.set_split_into(split);
    jobs.push_back(c.submit(s).job_id());
  }
  expect_all_succeed(c, jobs, seconds(120));
  EXPECT_EQ(c.status(jobs[1]).shards_total(), 2u + 5u * 2u);  // witness, h, 5 MSMs in 2 ranges

  // The outputs are those of the float model, up to quantisation.
  const compiler::Graph g = compiler::load_onnx(onnx.string());
  const auto ref = compiler::evaluate_reference(g, compiler::inputs_from_json(nlohmann::json::parse(input), g, "input"));
  for (const auto& id : jobs) {
    const auto out = nlohmann::json::parse(c.result(id).output_json());
    ASSERT_EQ(out.size(), 1u) << out.dump();
    const auto& want = ref.at(out.begin().key()).data;
    const auto have = out.begin().value().flatten();
    ASSERT_EQ(have.size(), want.size());
    size_t i = 0;
    for (const auto& [k, v] : have.items()) EXPECT_NEAR(v.get<double>(), want[i++], 0.05) << k;
  }

  // A wrong tensor shape is refused at submission, naming the problem.
  v1::SubmitJobRequest bad;
  bad.set_model_id(m.model_id());
  bad.set_input_json(R"({"input": [[0.5, -0.25, 0.125]]})");
  try {
    c.submit(bad);
    ADD_FAILURE() << "a wrong input shape was accepted";
  } catch (const client::CoordinatorError& e) {
    EXPECT_EQ(e.code(), v1::ERROR_CODE_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("input"), std::string::npos) << e.what();
  }

  // An unsupported op is refused when the model is added, naming the op.
  testing::OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Cos", {"x"}, {"y"});
  b.output("y");
  const fs::path cos = cluster.dir() / "cos.onnx";
  b.save(cos.string());
  v1::OnnxSource bad_src;
  bad_src.set_onnx_sha256(c.upload(cos.string()));
  bad_src.mutable_setup()->set_dev(true);
  try {
    c.add_model("cos", bad_src, std::chrono::minutes(1));
    ADD_FAILURE() << "a model with an unsupported op was added";
  } catch (const client::CoordinatorError& e) {
    EXPECT_NE(std::string(e.what()).find("Cos"), std::string::npos) << e.what();
  }
}

// Waits until at least `n` jobs are running (bounded).
void wait_running(client::CoordinatorClient& c, size_t n, seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (c.list_jobs(v1::JOB_STATE_RUNNING).size() < n) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "jobs never started";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(Cluster, KilledWorkerMidShardEveryJobStillFinishes) {
  LocalCluster cluster({.workers = 3});
  cluster.wait_ready();
  auto c = cluster.client();
  const CircuitFiles f = chain_files(cluster.dir() / "circuit", 14);
  const std::string model = add_circuit(c, f);
  const std::string w = c.upload(f.wtns);
  std::vector<std::string> jobs;
  for (int i = 0; i < 6; ++i) jobs.push_back(submit_witness(c, model, w));
  jobs.push_back(submit_witness(c, model, w, 2));  // and a split one, whose ranges are spread
  wait_running(c, 3, seconds(60));
  ::kill(cluster.worker(0).pid, SIGKILL);
  expect_all_succeed(c, jobs, seconds(180));
  // The dead worker was noticed (heartbeats stopped) and evicted.
  const auto until = std::chrono::steady_clock::now() + seconds(10);
  while (cluster.coordinator_metric("zkinfer_worker_evictions_total") < 1 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(cluster.coordinator_metric("zkinfer_worker_evictions_total"), 1);
  std::printf("shards queued again after the kill: %g\n", cluster.coordinator_metric("zkinfer_retries_total{reason=\"worker_lost\"}"));
}

TEST(Cluster, RestartedCoordinatorFinishesEveryAcceptedJob) {
  LocalCluster cluster({.workers = 2});
  cluster.wait_ready();
  std::vector<std::string> jobs;
  {
    auto c = cluster.client();
    const CircuitFiles f = chain_files(cluster.dir() / "circuit", 13);
    const std::string model = add_circuit(c, f);
    const std::string w = c.upload(f.wtns);
    for (int i = 0; i < 8; ++i) jobs.push_back(submit_witness(c, model, w, i == 3 ? 2 : 0));
    wait_running(c, 1, seconds(60));
  }
  cluster.stop_coordinator(SIGKILL);
  cluster.start_coordinator();
  cluster.wait_ready();
  auto c = cluster.client();
  expect_all_succeed(c, jobs, seconds(180));
}

TEST(Cluster, ClientThatDisconnectsFetchesItsResultLater) {
  LocalCluster cluster({.workers = 1});
  cluster.wait_ready();
  std::string job;
  {
    auto c = cluster.client();
    const CircuitFiles f = small_files();
    job = submit_witness(c, add_circuit(c, f), c.upload(f.wtns));
  }  // gone before the job ends
  auto c = cluster.client();
  expect_all_succeed(c, {job}, seconds(60));
}

// Raw frames on both sockets: none may stop the coordinator.
TEST(Cluster, MalformedAndOversizedMessagesAreRefusedAndServiceGoesOn) {
  LocalCluster cluster({.workers = 1, .coordinator_args = {"--max-message-bytes", "9437184"}});
  cluster.wait_ready();
  zmq::context_t ctx;
  auto raw = [&](const std::string& endpoint) {
    zmq::socket_t s(ctx, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.connect(endpoint);
    return s;
  };
  auto answer = [](zmq::socket_t& s, auto& msg) {
    zmq::pollitem_t it{s.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&it, 1, std::chrono::seconds(5)) <= 0) return false;
    zmq::message_t f;
    EXPECT_TRUE(s.recv(f));
    return wire::from_frame(f, msg);
  };
  {
    zmq::socket_t s = raw(cluster.client_endpoint());
    s.send(zmq::str_buffer("\xff\xfe not a protobuf"), zmq::send_flags::none);
    v1::ClientResponse r;
    ASSERT_TRUE(answer(s, r));
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT) << r.error().message();

    v1::ClientRequest q;
    q.set_protocol_version(99);
    q.set_request_id(7);
    q.mutable_list_models();
    s.send(wire::to_frame(q), zmq::send_flags::none);
    ASSERT_TRUE(answer(s, r));
    EXPECT_EQ(r.request_id(), 7u);
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_UNSUPPORTED_VERSION);
    EXPECT_EQ(r.error().supported_versions_size(), 1);

    // Two frames where one is expected.
    s.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
    s.send(zmq::str_buffer("b"), zmq::send_flags::none);
    ASSERT_TRUE(answer(s, r));
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);

    // A request naming an artifact outside the store's names.
    q.set_protocol_version(wire::kProtocolVersion);
    auto* up = q.mutable_upload();
    up->set_sha256("../../etc/passwd");
    up->set_total_size(3);
    up->set_data("abc");
    s.send(wire::to_frame(q), zmq::send_flags::none);
    ASSERT_TRUE(answer(s, r));
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  }
  {
    // Above the size limit: ZeroMQ drops the connection; nothing comes back.
    zmq::socket_t s = raw(cluster.client_endpoint());
    std::string big(10 << 20, 'x');
    s.send(zmq::buffer(big), zmq::send_flags::none);
    v1::ClientResponse r;
    EXPECT_FALSE(answer(s, r));
  }
  {
    zmq::socket_t s = raw(cluster.worker_endpoint());
    s.send(zmq::str_buffer("garbage"), zmq::send_flags::none);
    v1::CoordinatorMessage r;
    ASSERT_TRUE(answer(s, r));
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
    // A worker message from a peer that never said Hello.
    v1::WorkerMessage m;
    m.set_protocol_version(wire::kProtocolVersion);
    m.mutable_ready();
    s.send(wire::to_frame(m), zmq::send_flags::none);
    ASSERT_TRUE(answer(s, r));
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_FAILED_PRECONDITION);
  }
  // Still serving, and a job still goes through.
  auto c = cluster.client();
  const CircuitFiles f = small_files();
  expect_all_succeed(c, {submit_witness(c, add_circuit(c, f), c.upload(f.wtns))}, seconds(60));
  EXPECT_TRUE(cluster.coordinator().running());
}

TEST(Cluster, CurveAdmitsOnlyAllowlistedKeysAndClientsSeeOnlyTheirJobs) {
  if (!common::curve_available()) GTEST_SKIP() << "libzmq without CURVE";
  const fs::path keys = fs::temp_directory_path() / ("zkinfer-keys-" + std::to_string(::getpid()));
  fs::create_directories(keys);
  const auto server = common::generate_keypair(), alice = common::generate_keypair(), bob = common::generate_keypair(),
             mallory = common::generate_keypair(), worker = common::generate_keypair();
  for (const auto& [name, kp] : std::map<std::string, common::Keypair>{
           {"server", server}, {"alice", alice}, {"bob", bob}, {"mallory", mallory}, {"worker", worker}})
    common::write_keypair((keys / (name + ".key")).string(), kp);
  std::ofstream((keys / "clients.txt").string()) << alice.public_z85 << "  # alice\n" << bob.public_z85 << "\n";
  std::ofstream((keys / "workers.txt").string()) << worker.public_z85 << "\n";
  LocalCluster cluster({.workers = 1,
                        .coordinator_args = {"--curve-key", (keys / "server.key").string(), "--client-keys",
                                             (keys / "clients.txt").string(), "--worker-keys", (keys / "workers.txt").string()},
                        .worker_args = {"--curve-key", (keys / "worker.key").string(), "--server-key", server.public_z85}});
  auto as = [&](const std::string& who, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    client::ClientOptions o = cluster.client_options();
    o.curve_key_file = (keys / (who + ".key")).string();
    o.server_public_key = server.public_z85;
    o.timeout = timeout;
    return std::make_unique<client::CoordinatorClient>(o);
  };
  // Readiness through an allowed key (a plain connection gets no answer under CURVE).
  const auto until = std::chrono::steady_clock::now() + seconds(20);
  for (;;) {
    try {
      as("alice", std::chrono::milliseconds(500))->list_models(1);
      break;
    } catch (const std::exception&) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "coordinator never answered an allowed CURVE client";
    }
  }
  auto a = as("alice");
  const CircuitFiles f = small_files();
  const std::string job = submit_witness(*a, add_circuit(*a, f), a->upload(f.wtns));
  expect_all_succeed(*a, {job}, seconds(60));

  auto b = as("bob");
  EXPECT_TRUE(b->list_jobs().empty());
  try {
    b->result(job);
    ADD_FAILURE() << "bob read alice's result";
  } catch (const client::CoordinatorError& e) {
    EXPECT_EQ(e.code(), v1::ERROR_CODE_NOT_FOUND);
  }
  EXPECT_THROW(as("mallory", std::chrono::seconds(2))->list_models(1), client::TimeoutError);
  client::ClientOptions plain = cluster.client_options();
  plain.timeout = std::chrono::seconds(2);
  EXPECT_THROW(client::CoordinatorClient(plain).list_models(1), client::TimeoutError);
  EXPECT_TRUE(cluster.coordinator().running());
  fs::remove_all(keys);
}

// A real Prometheus scrapes the coordinator and both workers while jobs run; the figures it
// reports are the cluster's.
TEST(Cluster, PrometheusScrapesCoordinatorAndWorkers) {
  LocalCluster cluster({.workers = 2});
  cluster.wait_ready();
  testing::PrometheusHarness prom({"127.0.0.1:" + std::to_string(cluster.metrics_port()),
                                   "127.0.0.1:" + std::to_string(cluster.worker_metrics_port(0)),
                                   "127.0.0.1:" + std::to_string(cluster.worker_metrics_port(1))});
  ASSERT_TRUE(prom.available()) << prom.log_tail();
  auto c = cluster.client();
  const CircuitFiles f = small_files();
  const std::string model = add_circuit(c, f);
  const std::string w = c.upload(f.wtns);
  std::vector<std::string> jobs;
  for (int i = 0; i < 5; ++i) jobs.push_back(submit_witness(c, model, w, i == 0 ? 2 : 0));
  expect_all_succeed(c, jobs, seconds(60));
  const auto until = std::chrono::steady_clock::now() + seconds(30);
  auto eventually = [&](const std::string& q, double want) {
    double got = -1;
    while (std::chrono::steady_clock::now() < until) {
      if (auto v = prom.query(q); v && (got = *v) == want) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ADD_FAILURE() << q << " = " << got << ", expected " << want;
  };
  eventually("sum(up)", 3);
  eventually(R"(zkinfer_jobs_completed_total{status="succeeded"})", 5);
  eventually("zkinfer_jobs_submitted_total", 5);
  eventually(R"(sum(zkinfer_workers))", 2);
  eventually("zkinfer_queue_depth", 0);
  eventually(R"(zkinfer_job_duration_seconds_count)", 5);
  // The split job's 11 shards and the 4 whole proofs, as the workers count them.
  eventually(R"(sum(zkinfer_worker_shards_total))", 4 + 11);
  eventually(R"(sum(zkinfer_shard_results_total{outcome="done"}))", 4 + 11);
  EXPECT_GT(prom.wait_for_value(R"(sum(zkinfer_msm_points_total))", seconds(10)), 0);
}

}  // namespace
}  // namespace zkinfer
