// zkinfer::client against a fake coordinator (fake_coordinator.h). Every wait is bounded: the
// client's timeouts are short here, and the fake stops with the test.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_coordinator.h"
#include "zkinfer/client/coordinator_client.h"
#include "zkinfer/common/curve.h"
#include "zkinfer/common/sha256.h"
#include "zkinfer/proto/wire.h"

namespace {

namespace fs = std::filesystem;
using namespace zkinfer;
using namespace zkinfer::client;
using namespace zkinfer::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ClientOptions options(const FakeCoordinator& f, std::chrono::milliseconds timeout = 2000ms) {
  ClientOptions o;
  o.endpoint = f.endpoint();
  o.timeout = timeout;
  return o;
}

// Bytes that differ from chunk to chunk, so a reordered chunk cannot go unnoticed.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + i / 4099) & 0xff);
  return s;
}

// The upload requests must rebuild `data` in offset order, each naming its hash and size.
void expect_chunks(const std::vector<v1::ClientRequest>& reqs, const std::string& data) {
  const std::string sha = common::sha256_hex(data);
  std::string joined;
  for (const auto& r : reqs) {
    ASSERT_EQ(r.body_case(), v1::ClientRequest::kUpload);
    EXPECT_EQ(r.upload().sha256(), sha);
    EXPECT_EQ(r.upload().total_size(), data.size());
    EXPECT_EQ(r.upload().offset(), joined.size());
    EXPECT_LE(r.upload().data().size(), wire::kDefaultChunkBytes);
    joined += r.upload().data();
  }
  EXPECT_TRUE(joined == data);
}

TEST(CoordinatorClient, UploadSendsChunksInOrderEachAfterItsOk) {
  FakeCoordinator fake([](const v1::ClientRequest& r) { return std::vector{ok(r)}; }, {.listen_before_answer = 100ms});
  CoordinatorClient c(options(fake));
  const std::string data = pattern(2 * wire::kDefaultChunkBytes + 12345);
  EXPECT_EQ(c.upload_bytes(data), common::sha256_hex(data));
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 3u);
  expect_chunks(reqs, data);
  EXPECT_EQ(fake.early_requests(), 0) << "a chunk was sent before the previous one was acknowledged";
}

TEST(CoordinatorClient, UploadOfAFileAndOfNothing) {
  FakeCoordinator fake([](const v1::ClientRequest& r) { return std::vector{ok(r)}; });
  CoordinatorClient c(options(fake));
  const fs::path file = fs::temp_directory_path() / ("zkinfer_client_upload_" + std::to_string(getpid()));
  const std::string data = pattern(wire::kDefaultChunkBytes + 7);
  std::ofstream(file, std::ios::binary) << data;
  EXPECT_EQ(c.upload(file.string()), common::sha256_hex(data));
  fs::remove(file);
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  expect_chunks(reqs, data);

  // An empty artifact is one empty chunk.
  EXPECT_EQ(c.upload_bytes(""), common::sha256_hex(std::string_view()));
  reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].upload().total_size(), 0u);
  EXPECT_TRUE(reqs[2].upload().data().empty());

  EXPECT_THROW(c.upload("/nonexistent/zkinfer/file"), std::runtime_error);
}

TEST(CoordinatorClient, RequestIdsIncreaseAndStaleResponsesAreIgnored) {
  FakeCoordinator fake([](const v1::ClientRequest& r) {
    // First an answer to some earlier request (a different job), then the real one.
    v1::ClientResponse stale = answer(r);
    stale.set_request_id(r.request_id() + 1000);
    stale.mutable_job()->set_job_id("stale");
    v1::ClientResponse right = answer(r);
    right.mutable_job()->set_job_id(r.status().job_id());
    right.mutable_job()->set_state(v1::JOB_STATE_RUNNING);
    return std::vector{stale, right};
  });
  CoordinatorClient c(options(fake));
  EXPECT_EQ(c.status("job-a").job_id(), "job-a");
  EXPECT_EQ(c.status("job-b").job_id(), "job-b");
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].protocol_version(), wire::kProtocolVersion);
  EXPECT_EQ(reqs[1].protocol_version(), wire::kProtocolVersion);
  EXPECT_LT(reqs[0].request_id(), reqs[1].request_id());
}

TEST(CoordinatorClient, ALateAnswerToATimedOutCallIsDropped) {
  // The first status is answered only after the client gave up; the second call must not take it.
  std::atomic<int> n{0};
  FakeCoordinator fake([&n](const v1::ClientRequest& r) {
    if (n++ == 0) std::this_thread::sleep_for(400ms);
    v1::ClientResponse a = answer(r);
    a.mutable_job()->set_job_id(r.status().job_id());
    return std::vector{a};
  });
  CoordinatorClient c(options(fake, 200ms));
  EXPECT_THROW(c.status("first"), TimeoutError);
  std::this_thread::sleep_for(300ms);  // the late answer is on its way now
  EXPECT_EQ(c.status("second").job_id(), "second");
}

TEST(CoordinatorClient, AnErrorResponseBecomesCoordinatorError) {
  FakeCoordinator fake([](const v1::ClientRequest& r) {
    v1::ClientResponse e = answer(r);
    *e.mutable_error() = wire::make_error(v1::ERROR_CODE_NOT_FOUND, "no job " + r.result().job_id());
    return std::vector{e};
  });
  CoordinatorClient c(options(fake));
  try {
    c.result("j42");
    FAIL() << "no exception";
  } catch (const CoordinatorError& e) {
    EXPECT_EQ(e.code(), v1::ERROR_CODE_NOT_FOUND);
    EXPECT_EQ(e.message(), "no job j42");
    EXPECT_STREQ(e.what(), "NOT_FOUND: no job j42");
  }
}

TEST(CoordinatorClient, AnAnswerOfTheWrongKindIsAnError) {
  FakeCoordinator fake([](const v1::ClientRequest& r) { return std::vector{ok(r)}; });
  CoordinatorClient c(options(fake));
  EXPECT_THROW(c.status("j"), std::runtime_error);
}

void expect_timeout_within(CoordinatorClient& c, const std::string& endpoint) {
  const auto t0 = Clock::now();
  try {
    c.status("j");
    FAIL() << "no exception";
  } catch (const TimeoutError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no answer from the coordinator at " + endpoint + " within 0.3 s"), std::string::npos) << what;
    EXPECT_NE(what.find("zkinfer cluster up"), std::string::npos) << what;
  }
  const auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 3s);
}

TEST(CoordinatorClient, ASilentCoordinatorTimesOut) {
  FakeCoordinator fake([](const v1::ClientRequest&) { return std::vector<v1::ClientResponse>{}; });
  CoordinatorClient c(options(fake, 300ms));
  expect_timeout_within(c, fake.endpoint());
}

TEST(CoordinatorClient, NoCoordinatorAtAllTimesOut) {
  std::string endpoint;
  {
    // A port that was free a moment ago and has nothing bound now.
    FakeCoordinator gone([](const v1::ClientRequest&) { return std::vector<v1::ClientResponse>{}; });
    endpoint = gone.endpoint();
  }
  ClientOptions o;
  o.endpoint = endpoint;
  o.timeout = 300ms;
  CoordinatorClient c(o);
  expect_timeout_within(c, endpoint);
}

TEST(CoordinatorClient, BadEndpointsAreRefused) {
  ClientOptions o;
  o.endpoint = "127.0.0.1:7700";
  EXPECT_THROW(CoordinatorClient{o}, std::invalid_argument);
  o.endpoint = "tcp://";
  EXPECT_THROW(CoordinatorClient{o}, std::invalid_argument);
}

TEST(CoordinatorClient, SubmitStatusWaitResultRoundTrip) {
  FakeCoordinator fake(job_script);
  CoordinatorClient c(options(fake));
  v1::SubmitJobRequest s;
  s.set_model_id(std::string(64, 'b'));
  s.set_input_json("{\"x\": [1, 2]}");
  s.set_priority(7);
  s.set_deadline_unix_ms(1'900'000'000'000ull);
  s.set_split_into(4);
  const JobInfo submitted = c.submit(s);
  EXPECT_EQ(submitted.job_id(), "job-1");
  EXPECT_EQ(submitted.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(c.status("job-1").shards_done(), 1u);
  const JobInfo done = c.wait("job-1", 1500ms);
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.shards_done(), 3u);
  const JobResult r = c.result("job-1");
  EXPECT_EQ(r.info().job_id(), "job-1");
  EXPECT_EQ(r.public_json(), "[\"1\"]");
  EXPECT_EQ(c.cancel("job-1").state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(c.list_jobs(v1::JOB_STATE_RUNNING, 5).size(), 2u);
  EXPECT_EQ(c.list_models().size(), 1u);
  EXPECT_EQ(c.get_model(std::string(64, 'c')).constraints(), 17u);

  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 8u);
  const auto& sent = reqs[0].submit();
  EXPECT_EQ(sent.model_id(), s.model_id());
  EXPECT_EQ(sent.input_json(), s.input_json());
  EXPECT_EQ(sent.priority(), 7);
  EXPECT_EQ(sent.deadline_unix_ms(), s.deadline_unix_ms());
  EXPECT_EQ(sent.split_into(), 4u);
  EXPECT_EQ(reqs[1].status().job_id(), "job-1");
  EXPECT_EQ(reqs[2].wait().job_id(), "job-1");
  EXPECT_EQ(reqs[2].wait().timeout_ms(), 1500u);
  EXPECT_EQ(reqs[3].result().job_id(), "job-1");
  EXPECT_EQ(reqs[5].list_jobs().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(reqs[5].list_jobs().limit(), 5u);
}

TEST(CoordinatorClient, AddModelSendsEitherSource) {
  FakeCoordinator fake(job_script);
  CoordinatorClient c(options(fake));
  v1::OnnxSource onnx;
  onnx.set_onnx_sha256(std::string(64, '1'));
  onnx.mutable_compile()->set_calibration_sha256(std::string(64, '2'));
  onnx.mutable_compile()->set_input_visibility(v1::INPUT_VISIBILITY_PRIVATE);
  onnx.mutable_compile()->set_act_bits(20);
  onnx.mutable_setup()->set_dev(true);
  EXPECT_EQ(c.add_model("digits", onnx, 1s).state(), v1::MODEL_STATE_READY);
  v1::CircuitSource circuit;
  circuit.set_r1cs_sha256(std::string(64, '3'));
  circuit.set_zkey_sha256(std::string(64, '4'));
  EXPECT_EQ(c.add_model("small", circuit).constraints(), 17u);

  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].add_model().name(), "digits");
  ASSERT_TRUE(reqs[0].add_model().has_onnx());
  EXPECT_EQ(reqs[0].add_model().onnx().compile().act_bits(), 20u);
  EXPECT_EQ(reqs[0].add_model().onnx().compile().input_visibility(), v1::INPUT_VISIBILITY_PRIVATE);
  EXPECT_TRUE(reqs[0].add_model().onnx().setup().dev());
  ASSERT_TRUE(reqs[1].add_model().has_circuit());
  EXPECT_EQ(reqs[1].add_model().circuit().zkey_sha256(), std::string(64, '4'));
}

TEST(CoordinatorClient, LongCallsWaitPastTheShortTimeoutAndReportWaiting) {
  // Answers after 1.3 s: past the client's 300 ms, within the call's own timeout.
  FakeCoordinator fake([](const v1::ClientRequest& r) {
    std::this_thread::sleep_for(1300ms);
    return job_script(r);
  });
  CoordinatorClient c(options(fake, 300ms));
  EXPECT_EQ(c.wait("job-1", 1200ms).state(), v1::JOB_STATE_SUCCEEDED);
  int reports = 0;
  v1::CircuitSource circuit;
  const ModelInfo m = c.add_model("slow", circuit, 5s, [&reports](double) { ++reports; });
  EXPECT_EQ(m.state(), v1::MODEL_STATE_READY);
  EXPECT_GE(reports, 1);
}

TEST(ResultFiles, WritesTheFourFiles) {
  const fs::path dir = fs::temp_directory_path() / ("zkinfer_client_result_" + std::to_string(getpid()));
  fs::remove_all(dir);
  JobResult r;
  r.mutable_info()->set_job_id("job-1");
  r.set_output_json("{\"y\": [0.25]}");
  r.set_proof_json("{\"protocol\": \"groth16\"}\n");
  r.set_public_json("[\"1\"]");
  r.set_verification_key_json("{\"nPublic\": 1}");
  const auto written = write_result_files(r, dir / "out");
  EXPECT_EQ(written.size(), 4u);
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  EXPECT_EQ(read(dir / "out/output.json"), "{\"y\": [0.25]}\n");
  EXPECT_EQ(read(dir / "out/proof.json"), "{\"protocol\": \"groth16\"}\n");
  EXPECT_EQ(read(dir / "out/public.json"), "[\"1\"]\n");
  EXPECT_EQ(read(dir / "out/verification_key.json"), "{\"nPublic\": 1}\n");

  // A circuit model's result has no outputs: no output.json.
  r.clear_output_json();
  EXPECT_EQ(write_result_files(r, dir / "circuit").size(), 3u);
  EXPECT_FALSE(fs::exists(dir / "circuit/output.json"));

  r.clear_proof_json();
  EXPECT_THROW(write_result_files(r, dir / "noproof"), std::runtime_error);
  fs::remove_all(dir);
}

TEST(Names, StatesAndCodes) {
  EXPECT_EQ(state_name(v1::JOB_STATE_SUCCEEDED), "SUCCEEDED");
  EXPECT_EQ(state_name(v1::MODEL_STATE_PREPARING), "PREPARING");
  EXPECT_EQ(code_name(v1::ERROR_CODE_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
  EXPECT_EQ(parse_job_state("running"), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(parse_job_state("Cancelled"), v1::JOB_STATE_CANCELLED);
  EXPECT_THROW(parse_job_state("done"), std::invalid_argument);
  EXPECT_THROW(parse_job_state("unspecified"), std::invalid_argument);
}

TEST(Curve, ClientTalksToACurveServer) {
  if (!common::curve_available()) GTEST_SKIP() << "libzmq without CURVE";
  const common::Keypair server = common::generate_keypair(), me = common::generate_keypair();
  const fs::path key = fs::temp_directory_path() / ("zkinfer_client_key_" + std::to_string(getpid()));
  common::write_keypair(key.string(), me);
  FakeCoordinator fake(job_script, {.curve = &server});
  ClientOptions o = options(fake);
  o.curve_key_file = key.string();
  o.server_public_key = server.public_z85;
  {
    CoordinatorClient c(o);
    EXPECT_EQ(c.status("job-1").state(), v1::JOB_STATE_RUNNING);
  }
  // The server key may also be given as a key file: only its public line is read.
  const fs::path server_file = key.string() + ".server";
  common::write_keypair(server_file.string(), server);
  EXPECT_EQ(read_public_key(server_file.string()), server.public_z85);
  EXPECT_EQ(read_public_key(server.public_z85), server.public_z85);
  EXPECT_THROW(read_public_key("not-a-key"), std::runtime_error);
  // Half a CURVE configuration is refused rather than silently plain.
  o.server_public_key.clear();
  EXPECT_THROW(CoordinatorClient{o}, std::invalid_argument);
  fs::remove(key);
  fs::remove(server_file);
}

}  // namespace
