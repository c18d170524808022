// The `zkinfer` cluster subcommands as scripts use them: the built binary run against a fake
// coordinator (fake_coordinator.h), and `cluster up|down` with stand-in coordinator and worker
// programs beside a copy of the binary. Every run is bounded by `timeout`.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_coordinator.h"
#include "zkinfer/common/curve.h"
#include "zkinfer/common/sha256.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace zkinfer;
using namespace zkinfer::testing;

const fs::path kData = ZKINFER_TEST_DATA;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

struct Outcome {
  int rc = -1;
  std::string out, err;
};

// A scratch directory per test, removed afterwards.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("zkinfer_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `exe args...` (at most 60 s), with `env` ("NAME=value ...") before it.
  Outcome run(const std::vector<std::string>& args, const std::string& env = "", const fs::path& exe = ZKINFER_EXE) {
    std::string cmd = "env " + env + " timeout 60 '" + exe.string() + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    cmd += " >'" + out.string() + "' 2>'" + err.string() + "'";
    const int st = std::system(cmd.c_str());
    Outcome r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
  }

  fs::path dir_;
};

TEST_F(Cli, ModelAddOfACircuitUploadsBothFilesAndPrintsTheIdLast) {
  FakeCoordinator fake([](const v1::ClientRequest& r) {
    if (r.has_upload()) return std::vector{ok(r)};
    return job_script(r);
  });
  const Outcome r = run({"model", "add", (kData / "small.r1cs").string(), (kData / "small.zkey").string(), "--name", "small",
                     "--coordinator", fake.endpoint()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(last_line(r.out), std::string(64, 'c'));
  const auto reqs = fake.requests();
  ASSERT_GE(reqs.size(), 3u);
  const auto& add = reqs.back().add_model();
  EXPECT_EQ(add.name(), "small");
  EXPECT_EQ(add.circuit().r1cs_sha256(), common::sha256_file_hex((kData / "small.r1cs").string()));
  EXPECT_EQ(add.circuit().zkey_sha256(), common::sha256_file_hex((kData / "small.zkey").string()));
}

TEST_F(Cli, ModelAddRefusesWhatItCannotTellApart) {
  const Outcome r = run({"model", "add", (kData / "small.zkey").string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("give MODEL.onnx, or CIRCUIT.r1cs and KEY.zkey"), std::string::npos) << r.err;
}

TEST_F(Cli, SubmitSendsTheInputAndPrintsTheJobIdLast) {
  FakeCoordinator fake(job_script);
  const fs::path input = kData / "small_input.json";
  const auto before = std::chrono::system_clock::now();
  // The endpoint from the environment, as scripts may set it once.
  const Outcome r = run({"submit", std::string(64, 'b'), "--input", input.string(), "--priority", "3", "--deadline", "60",
                     "--split", "2"},
                    "ZKINFER_COORDINATOR=" + fake.endpoint());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "job-1");
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& s = reqs[0].submit();
  EXPECT_EQ(s.input_json(), read_file(input));
  EXPECT_EQ(s.priority(), 3);
  EXPECT_EQ(s.split_into(), 2u);
  const uint64_t now_ms =
      uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch()).count());
  EXPECT_GE(s.deadline_unix_ms(), now_ms + 59'000);
  EXPECT_LE(s.deadline_unix_ms(), now_ms + 70'000);
}

// Answers wait requests with the states in `states`, one each, holding on to the last.
FakeCoordinator::Script wait_script(std::vector<v1::JobState> states, std::string error = "") {
  auto n = std::make_shared<std::atomic<size_t>>(0);
  return [states, error, n](const v1::ClientRequest& r) {
    v1::ClientResponse a = answer(r);
    const size_t i = std::min(n->fetch_add(1), states.size() - 1);
    v1::JobInfo* j = a.mutable_job();
    j->set_job_id(r.wait().job_id());
    j->set_state(states[i]);
    j->set_shards_total(3);
    j->set_shards_done(uint32_t(std::min<size_t>(i, 3)));
    if (states[i] == v1::JOB_STATE_FAILED) j->set_error(error);
    return std::vector{a};
  };
}

TEST_F(Cli, WaitShowsProgressAndSucceeds) {
  FakeCoordinator fake(wait_script({v1::JOB_STATE_QUEUED, v1::JOB_STATE_RUNNING, v1::JOB_STATE_RUNNING,
                                    v1::JOB_STATE_SUCCEEDED}));
  const Outcome r = run({"wait", "job-1", "--timeout", "20", "--coordinator", fake.endpoint()});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "SUCCEEDED");
  EXPECT_NE(r.err.find("shards 2/3"), std::string::npos) << r.err;
  for (const auto& q : fake.requests()) EXPECT_LE(q.wait().timeout_ms(), 2000u);
}

TEST_F(Cli, WaitFailsWhenTheJobFailsOrIsCancelled) {
  {
    FakeCoordinator fake(wait_script({v1::JOB_STATE_RUNNING, v1::JOB_STATE_FAILED}, "worker lost three times"));
    const Outcome r = run({"wait", "job-1", "--timeout", "20", "--coordinator", fake.endpoint()});
    EXPECT_NE(r.rc, 0);
    EXPECT_EQ(last_line(r.out), "FAILED");
    EXPECT_NE(r.err.find("job job-1 failed: worker lost three times"), std::string::npos) << r.err;
  }
  {
    FakeCoordinator fake(wait_script({v1::JOB_STATE_CANCELLED}));
    const Outcome r = run({"wait", "job-1", "--coordinator", fake.endpoint()});
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.err.find("was cancelled"), std::string::npos) << r.err;
  }
}

TEST_F(Cli, WaitGivesUpAfterItsTimeout) {
  FakeCoordinator fake(wait_script({v1::JOB_STATE_RUNNING}));
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome r = run({"wait", "job-1", "--timeout", "1", "--coordinator", fake.endpoint()});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_NE(r.rc, 0);
  EXPECT_EQ(last_line(r.out), "RUNNING");
  EXPECT_NE(r.err.find("still RUNNING"), std::string::npos) << r.err;
}

TEST_F(Cli, ResultWritesTheFiles) {
  FakeCoordinator fake(job_script);
  const Outcome r = run({"result", "job-1", "-o", (dir_ / "out").string(), "--coordinator", fake.endpoint()});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const char* f : {"output.json", "proof.json", "public.json", "verification_key.json"})
    EXPECT_TRUE(fs::exists(dir_ / "out" / f)) << f;
  EXPECT_EQ(read_file(dir_ / "out/public.json"), "[\"1\"]\n");
}

TEST_F(Cli, StatusJobsModelsAndCancelPrintWhatTheyGot) {
  FakeCoordinator fake(job_script);
  Outcome r = run({"status", "job-1", "--coordinator", fake.endpoint()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("RUNNING"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1/3"), std::string::npos) << r.out;
  r = run({"jobs", "--state", "running", "--limit", "5", "--coordinator", fake.endpoint()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("job-0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("job-1"), std::string::npos) << r.out;
  r = run({"models", "--coordinator", fake.endpoint()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(std::string(64, 'c')), std::string::npos) << r.out;
  r = run({"cancel", "job-1", "--coordinator", fake.endpoint()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("CANCELLED"), std::string::npos) << r.out;
}

TEST_F(Cli, ACoordinatorErrorIsOneClearLine) {
  FakeCoordinator fake([](const v1::ClientRequest& r) {
    v1::ClientResponse e = answer(r);
    *e.mutable_error() = wire::make_error(v1::ERROR_CODE_NOT_FOUND, "no job nope");
    return std::vector{e};
  });
  const Outcome r = run({"status", "nope", "--coordinator", fake.endpoint()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "zkinfer: error: NOT_FOUND: no job nope\n");
}

TEST_F(Cli, KeygenWritesAKeyFileThatCurveOptionsUse) {
  if (!common::curve_available()) GTEST_SKIP() << "libzmq without CURVE";
  const fs::path key = dir_ / "client.key";
  const Outcome k = run({"keygen", "-o", key.string()});
  ASSERT_EQ(k.rc, 0) << k.err;
  const common::Keypair mine = common::read_keypair(key.string());
  EXPECT_EQ(last_line(k.out), mine.public_z85);
  EXPECT_EQ(fs::status(key).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);

  const common::Keypair server = common::generate_keypair();
  FakeCoordinator fake(job_script, {.curve = &server});
  const Outcome r = run({"status", "job-1", "--coordinator", fake.endpoint(), "--curve-key", key.string(), "--server-key",
                         server.public_z85});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("RUNNING"), std::string::npos) << r.out;
  const Outcome half = run({"status", "job-1", "--coordinator", fake.endpoint(), "--curve-key", key.string()});
  EXPECT_NE(half.rc, 0);
  EXPECT_NE(half.err.find("CURVE needs both"), std::string::npos) << half.err;
}

// ---- cluster up / down, with stand-ins -----------------------------------------------------------

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  return text.substr(text.rfind(')') + 2, 1) != "Z";
}

// A bin directory with a copy of zkinfer and stand-ins: the coordinator serves /readyz (a file
// of that name) on its --metrics port with Python's http.server, the workers sleep; each records
// its arguments and its pid (in bin/pids).
class Cluster : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3 for the stand-in coordinator";
    bin_ = dir_ / "bin";
    fs::create_directories(bin_);
    fs::copy_file(ZKINFER_EXE, bin_ / "zkinfer");
    write_script("zkinfer-coordinator",
                 "echo $$ >> \"$here/pids\"\necho \"$@\" > \"$here/coordinator.args\"\n"
                 "while [ $# -gt 0 ]; do [ \"$1\" = --metrics ] && m=\"$2\"; shift; done\n"
                 "mkdir -p \"$here/www\" && touch \"$here/www/readyz\" && cd \"$here/www\"\n"
                 "exec /usr/bin/python3 -m http.server \"${m##*:}\" --bind \"${m%:*}\"\n");
    write_script("zkinfer-worker", "echo $$ >> \"$here/pids\"\necho \"$@\" >> \"$here/workers.args\"\nexec sleep 600\n");
    metrics_ = "127.0.0.1:" + std::to_string(free_port());
  }

  void write_script(const std::string& name, const std::string& body) {
    const fs::path p = bin_ / name;
    std::ofstream(p) << "#!/bin/sh\nhere=\"$(dirname \"$0\")\"\n" << body;
    fs::permissions(p, fs::perms::owner_all);
  }

  std::vector<std::string> up_args() {
    return {"cluster", "up", "--workers", "2", "--data", (dir_ / "data").string(), "--metrics", metrics_,
            "--clients", "tcp://127.0.0.1:17700", "--workers-endpoint", "tcp://127.0.0.1:17701",
            "--backend", "cpu", "--ready-timeout", "20"};
  }

  fs::path bin_;
  std::string metrics_;
};

TEST_F(Cluster, DetachThenDown) {
  auto args = up_args();
  args.push_back("--detach");
  Outcome r = run(args, "", bin_ / "zkinfer");
  ASSERT_EQ(r.rc, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("cluster up"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(bin_ / "coordinator.args"),
            "--data " + (dir_ / "data").string() + " --clients tcp://127.0.0.1:17700 --workers tcp://127.0.0.1:17701 --metrics " +
                metrics_ + "\n");
  const int port = std::stoi(metrics_.substr(metrics_.rfind(':') + 1));
  const std::string workers = read_file(bin_ / "workers.args");
  EXPECT_NE(workers.find("--coordinator tcp://127.0.0.1:17701 --backend cpu --cache " + (dir_ / "data/worker-0").string() +
                         " --metrics 127.0.0.1:" + std::to_string(port + 1)),
            std::string::npos)
      << workers;
  EXPECT_NE(workers.find("--metrics 127.0.0.1:" + std::to_string(port + 2)), std::string::npos) << workers;
  EXPECT_TRUE(fs::exists(dir_ / "data/logs/coordinator.log"));

  std::ifstream pids(dir_ / "data/cluster.pids");
  std::vector<pid_t> started;
  std::string name;
  pid_t pid;
  uint64_t start;
  while (pids >> name >> pid >> start) started.push_back(pid);
  ASSERT_EQ(started.size(), 3u);
  for (pid_t p : started) EXPECT_TRUE(alive(p)) << p;

  // A second cluster on the same directory is refused while this one runs.
  r = run(up_args(), "", bin_ / "zkinfer");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("cluster down"), std::string::npos) << r.err;

  r = run({"cluster", "down", "--data", (dir_ / "data").string()}, "", bin_ / "zkinfer");
  ASSERT_EQ(r.rc, 0) << r.err;
  for (pid_t p : started) EXPECT_FALSE(alive(p)) << p;
  EXPECT_FALSE(fs::exists(dir_ / "data/cluster.pids"));
}

TEST_F(Cluster, ForegroundStopsEverythingOnSigterm) {
  auto args = up_args();
  args.insert(args.begin(), (bin_ / "zkinfer").string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const fs::path out = dir_ / "up.out";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir_ / "up.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t up = -1;
  ASSERT_EQ(posix_spawn(&up, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (read_file(out).find("cluster up;") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(read_file(out).find("cluster up;"), std::string::npos) << read_file(dir_ / "up.err");

  kill(up, SIGTERM);
  int st = 0;
  while (waitpid(up, &st, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (alive(up)) {
    kill(up, SIGKILL);
    waitpid(up, &st, 0);
    FAIL() << "cluster up did not stop on SIGTERM";
  }
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(dir_ / "up.err");
  std::ifstream pids(bin_ / "pids");
  int n = 0;
  for (pid_t p; pids >> p; ++n) EXPECT_FALSE(alive(p)) << "stand-in " << p << " still runs";
  EXPECT_EQ(n, 3);
}

TEST_F(Cluster, AMissingBinaryIsNamed) {
  fs::remove(bin_ / "zkinfer-worker");
  const Outcome r = run(up_args(), "", bin_ / "zkinfer");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("zkinfer-worker not found: looked for " + (bin_ / "zkinfer-worker").string()), std::string::npos)
      << r.err;
}

TEST_F(Cluster, ACoordinatorThatDiesShowsItsLog) {
  write_script("zkinfer-coordinator", "echo 'cannot open the job store: disk full' >&2\nexit 3\n");
  const Outcome r = run(up_args(), "", bin_ / "zkinfer");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("coordinator exited with status 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
}

TEST_F(Cluster, AWorkerThatCannotStartStopsTheCluster) {
  write_script("zkinfer-worker", "echo $$ >> \"$here/pids\"\necho 'no usable GPU' >&2\nexit 2\n");
  const Outcome r = run(up_args(), "", bin_ / "zkinfer");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("worker-0 exited with status 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no usable GPU"), std::string::npos) << r.err;
  std::ifstream pids(bin_ / "pids");
  for (pid_t p; pids >> p;) EXPECT_FALSE(alive(p)) << "stand-in " << p << " still runs";
}

}  // namespace
