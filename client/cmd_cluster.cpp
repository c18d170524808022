// The cluster subcommands (issue 6): `zkinfer model add|submit|status|wait|result|cancel|jobs|
// models` talk to a coordinator through zkinfer::client; `zkinfer cluster up|down` runs a local
// coordinator and workers; `zkinfer keygen` makes a CURVE keypair. Ids that scripts read are the
// last line of stdout; progress goes to stderr.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "commands.h"
#include "zkinfer/client/coordinator_client.h"
#include "zkinfer/common/curve.h"

extern char** environ;

namespace zkinfer::cli {
namespace {

namespace fs = std::filesystem;
using namespace zkinfer::client;
using Clock = std::chrono::steady_clock;

// ---- connection options -------------------------------------------------------------------------

struct Connection {
  std::string endpoint = kDefaultEndpoint, curve_key, server_key;
};

void add_connection_options(CLI::App* cmd, Connection& c) {
  cmd->add_option("--coordinator", c.endpoint, "The coordinator's client endpoint, tcp://HOST:PORT")
      ->envname("ZKINFER_COORDINATOR")
      ->capture_default_str();
  cmd->add_option("--curve-key", c.curve_key, "CURVE: this client's key file (`zkinfer keygen` writes one)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--server-key", c.server_key, "CURVE: the coordinator's public key, Z85 or a file holding it");
}

CoordinatorClient connect(const Connection& c) {
  if (c.curve_key.empty() != c.server_key.empty())
    throw std::invalid_argument("CURVE needs both --curve-key FILE and --server-key Z85|FILE");
  ClientOptions o;
  o.endpoint = c.endpoint;
  o.curve_key_file = c.curve_key;
  o.server_public_key = c.server_key;
  return CoordinatorClient(std::move(o));
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string size_text(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / 1048576.0);
  return buf;
}

std::string upload_file(CoordinatorClient& c, const std::string& path) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  std::fprintf(stderr, "  uploading %s (%s)\n", path.c_str(), ec ? "?" : size_text(size).c_str());
  return c.upload(path);
}

std::string time_text(uint64_t unix_ms) {
  if (unix_ms == 0) return "-";
  const std::time_t t = std::time_t(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

uint64_t now_unix_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// ---- model add ----------------------------------------------------------------------------------

struct ModelAddArgs {
  Connection conn;
  std::vector<std::string> files;
  std::string name, calibration, visibility, ptau;
  bool dev = false;
  uint32_t act_bits = 0, weight_bits = 0, segment_bits = 0;
  double headroom = 0, input_range = 0;
  double timeout_s = double(kAddModelTimeout.count()) / 1000.0;
};

bool has_ext(const std::string& f, const char* ext) { return fs::path(f).extension() == ext; }

void print_model(const ModelInfo& m) {
  std::fprintf(stderr, "  model %s \"%s\": %s, %u constraints, %u wires, %u public signals, domain 2^%u\n",
               m.model_id().c_str(), m.name().c_str(), state_name(m.state()).c_str(), m.constraints(), m.wires(),
               m.public_signals(), m.log_domain());
}

void run_model_add(const ModelAddArgs& a) {
  const bool onnx = a.files.size() == 1 && has_ext(a.files[0], ".onnx");
  const bool circuit = a.files.size() == 2 && has_ext(a.files[0], ".r1cs") && has_ext(a.files[1], ".zkey");
  if (!onnx && !circuit)
    throw std::invalid_argument("give MODEL.onnx, or CIRCUIT.r1cs and KEY.zkey (told apart by their extensions)");
  const bool onnx_flags = !a.calibration.empty() || !a.visibility.empty() || a.act_bits || a.weight_bits ||
                          a.segment_bits || a.headroom > 0 || a.input_range > 0 || a.dev || !a.ptau.empty();
  if (circuit && onnx_flags)
    throw std::invalid_argument("compile and setup options apply to ONNX models only; a circuit comes with its .zkey");
  if (onnx && a.dev == !a.ptau.empty()) throw std::invalid_argument("give exactly one of --ptau POT.ptau and --dev");
  const std::string name = a.name.empty() ? fs::path(a.files[0]).stem().string() : a.name;
  const auto timeout = Millis(int64_t(a.timeout_s * 1000.0));

  CoordinatorClient c = connect(a.conn);
  std::fprintf(stderr, "zkinfer model add: %s at %s\n", name.c_str(), c.endpoint().c_str());
  ModelInfo m;
  if (onnx) {
    v1::OnnxSource src;
    src.set_onnx_sha256(upload_file(c, a.files[0]));
    v1::CompileOptions* co = src.mutable_compile();
    if (!a.calibration.empty()) co->set_calibration_sha256(upload_file(c, a.calibration));
    co->set_input_visibility(a.visibility == "private"  ? v1::INPUT_VISIBILITY_PRIVATE
                             : a.visibility == "public" ? v1::INPUT_VISIBILITY_PUBLIC
                                                        : v1::INPUT_VISIBILITY_UNSPECIFIED);
    co->set_act_bits(a.act_bits);
    co->set_weight_bits(a.weight_bits);
    co->set_segment_bits(a.segment_bits);
    co->set_headroom(a.headroom);
    co->set_input_range(a.input_range);
    if (a.dev) src.mutable_setup()->set_dev(true);
    else src.mutable_setup()->set_ptau_sha256(upload_file(c, a.ptau));
    std::fprintf(stderr, "  compiling and setting up on the coordinator%s\n", a.dev ? " (development setup, NOT for production)" : "");
    double last = 0;
    m = c.add_model(name, src, timeout, [&last](double s) {
      if (s - last >= 10) {
        std::fprintf(stderr, "  still compiling and setting up (%.0f s)\n", s);
        last = s;
      }
    });
  } else {
    v1::CircuitSource src;
    src.set_r1cs_sha256(upload_file(c, a.files[0]));
    src.set_zkey_sha256(upload_file(c, a.files[1]));
    m = c.add_model(name, src, timeout);
  }
  // The answer may come while the model is still being prepared: ask until it is settled.
  const auto deadline = Clock::now() + timeout;
  while (m.state() == v1::MODEL_STATE_PREPARING) {
    if (Clock::now() >= deadline)
      throw std::runtime_error("model " + m.model_id() + " is still being prepared after the timeout; `zkinfer models` shows when it is READY");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    m = c.get_model(m.model_id());
  }
  if (m.state() != v1::MODEL_STATE_READY)
    throw std::runtime_error("model " + name + " " + state_name(m.state()) + (m.error().empty() ? "" : ": " + m.error()));
  print_model(m);
  std::printf("%s\n", m.model_id().c_str());
}

// ---- jobs ---------------------------------------------------------------------------------------

struct SubmitArgs {
  Connection conn;
  std::string model, input, witness;
  int32_t priority = 0;
  double deadline_s = 0;
  uint32_t split = 0;
};

void run_submit(const SubmitArgs& a) {
  if (a.input.empty() == a.witness.empty())
    throw std::invalid_argument("give exactly one of --input INPUT.json (ONNX models) and --witness W.wtns (circuit models)");
  CoordinatorClient c = connect(a.conn);
  v1::SubmitJobRequest req;
  req.set_model_id(a.model);
  if (!a.input.empty()) req.set_input_json(read_text_file(a.input));
  else req.set_witness_sha256(upload_file(c, a.witness));
  req.set_priority(a.priority);
  if (a.deadline_s > 0) req.set_deadline_unix_ms(now_unix_ms() + uint64_t(a.deadline_s * 1000.0));
  req.set_split_into(a.split);
  const JobInfo j = c.submit(req);
  std::fprintf(stderr, "submitted job %s on model %s: %s\n", j.job_id().c_str(), a.model.c_str(), state_name(j.state()).c_str());
  std::printf("%s\n", j.job_id().c_str());
}

std::string shards_text(const JobInfo& j) {
  return j.shards_total() ? std::to_string(j.shards_done()) + "/" + std::to_string(j.shards_total()) : "-";
}

struct JobArgs {
  Connection conn;
  std::string job, out;
  double timeout_s = 600;
};

void run_status(const JobArgs& a) {
  CoordinatorClient c = connect(a.conn);
  const JobInfo j = c.status(a.job);
  std::printf("job        %s\nmodel      %s\nstate      %s\nshards     %s\nsubmitted  %s\nstarted    %s\nfinished   %s\n",
              j.job_id().c_str(), j.model_id().c_str(), state_name(j.state()).c_str(), shards_text(j).c_str(),
              time_text(j.submitted_unix_ms()).c_str(), time_text(j.started_unix_ms()).c_str(),
              time_text(j.finished_unix_ms()).c_str());
  if (!j.error().empty()) std::printf("error      %s\n", j.error().c_str());
}

bool ended(v1::JobState s) {
  return s == v1::JOB_STATE_SUCCEEDED || s == v1::JOB_STATE_FAILED || s == v1::JOB_STATE_CANCELLED;
}

void run_wait(const JobArgs& a) {
  CoordinatorClient c = connect(a.conn);
  const auto t0 = Clock::now(), deadline = t0 + Millis(int64_t(a.timeout_s * 1000.0));
  std::string shown;
  JobInfo j;
  for (;;) {
    // Short waits, so progress shows while the job runs.
    const auto asked = Clock::now();
    const auto left = std::chrono::duration_cast<Millis>(deadline - asked);
    j = c.wait(a.job, std::clamp(left, Millis(0), Millis(2000)));
    const std::string now = state_name(j.state()) + " " + shards_text(j);
    if (now != shown) {
      std::fprintf(stderr, "  %6.1f s  %-10s shards %s\n", std::chrono::duration<double>(Clock::now() - t0).count(),
                   state_name(j.state()).c_str(), shards_text(j).c_str());
      shown = now;
    }
    if (ended(j.state()) || Clock::now() >= deadline) break;
    // A coordinator that answers at once without the job having ended is not asked in a busy loop.
    std::this_thread::sleep_until(std::min(deadline, asked + Millis(250)));
  }
  std::printf("%s\n", state_name(j.state()).c_str());
  switch (j.state()) {
    case v1::JOB_STATE_SUCCEEDED: return;
    case v1::JOB_STATE_FAILED:
      throw std::runtime_error("job " + a.job + " failed" + (j.error().empty() ? "" : ": " + j.error()));
    case v1::JOB_STATE_CANCELLED: throw std::runtime_error("job " + a.job + " was cancelled");
    default:
      throw std::runtime_error("job " + a.job + " is still " + state_name(j.state()) + " (shards " + shards_text(j) +
                               ") after --timeout " + std::to_string(int64_t(a.timeout_s)) + " s");
  }
}

void run_result(const JobArgs& a) {
  CoordinatorClient c = connect(a.conn);
  const JobResult r = c.result(a.job);
  for (const auto& p : write_result_files(r, a.out)) std::printf("%s\n", p.c_str());
}

void run_cancel(const JobArgs& a) {
  CoordinatorClient c = connect(a.conn);
  const JobInfo j = c.cancel(a.job);
  std::printf("%s %s\n", j.job_id().c_str(), state_name(j.state()).c_str());
}

struct ListArgs {
  Connection conn;
  std::string state;
  uint32_t limit = 50;
};

void run_jobs(const ListArgs& a) {
  const v1::JobState st = a.state.empty() ? v1::JOB_STATE_UNSPECIFIED : parse_job_state(a.state);
  CoordinatorClient c = connect(a.conn);
  const auto jobs = c.list_jobs(st, a.limit);
  std::printf("%-36s %-14s %-10s %-8s %-19s %s\n", "JOB", "MODEL", "STATE", "SHARDS", "SUBMITTED", "ERROR");
  for (const auto& j : jobs)
    std::printf("%-36s %-14s %-10s %-8s %-19s %s\n", j.job_id().c_str(), j.model_id().substr(0, 12).c_str(),
                state_name(j.state()).c_str(), shards_text(j).c_str(), time_text(j.submitted_unix_ms()).c_str(),
                j.error().c_str());
}

void run_models(const ListArgs& a) {
  CoordinatorClient c = connect(a.conn);
  const auto models = c.list_models(a.limit);
  std::printf("%-64s %-20s %-9s %11s %7s %-19s\n", "MODEL", "NAME", "STATE", "CONSTRAINTS", "PUBLIC", "CREATED");
  for (const auto& m : models)
    std::printf("%-64s %-20s %-9s %11u %7u %-19s\n", m.model_id().c_str(), m.name().c_str(), state_name(m.state()).c_str(),
                m.constraints(), m.public_signals(), time_text(m.created_unix_ms()).c_str());
}

// ---- cluster up / down --------------------------------------------------------------------------

struct ClusterArgs {
  std::string data = "zkinfer-cluster", clients = kDefaultEndpoint, workers_ep = "tcp://127.0.0.1:7701",
              metrics = "127.0.0.1:9700", backend = "auto";
  unsigned workers = 2;
  unsigned worker_threads = 0;  // 0: each worker uses every core
  bool detach = false;
  double ready_timeout_s = 30;
};

struct Proc {
  std::string name, log;
  pid_t pid = -1;
  uint64_t start = 0;  // start time (/proc), so a reused pid is not taken for it
};

struct ProcStat {
  char state;
  uint64_t start;  // clock ticks after boot
};

// From /proc/PID/stat; nullopt when there is no such process.
std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // The command name in parentheses may hold spaces; the fields after it do not.
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(paren + 1));
  std::vector<std::string> f;
  for (std::string t; rest >> t && f.size() < 20;) f.push_back(t);
  if (f.size() < 20) return std::nullopt;
  return ProcStat{f[0][0], std::stoull(f[19])};
}

// "HOST:PORT" -> host and port.
std::pair<std::string, int> split_host_port(const std::string& hp, const char* what) {
  const auto colon = hp.rfind(':');
  int port = 0;
  if (colon != std::string::npos) port = std::atoi(hp.c_str() + colon + 1);
  if (colon == std::string::npos || colon == 0 || port <= 0 || port > 65535)
    throw std::invalid_argument(std::string(what) + " '" + hp + "' is not HOST:PORT");
  return {hp.substr(0, colon), port};
}

std::string log_tail(const std::string& path, size_t lines = 30) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string l; std::getline(in, l);) {
    last.push_back(std::move(l));
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    " + l + "\n";
  return out.empty() ? "    (empty)\n" : out;
}

// Starts `argv` in a session of its own (Ctrl-C in the terminal reaches only `zkinfer cluster
// up`, which then stops the cluster in order), stdin from /dev/null, stdout and stderr to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // This process blocks SIGINT/SIGTERM to wait for them; the children must not inherit that.
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, &at, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

// Whether pid is gone; our own children are reaped here, others (cluster down) probed.
bool gone(pid_t pid, bool child) {
  if (child) {
    const pid_t r = waitpid(pid, nullptr, WNOHANG);
    return r == pid || (r < 0 && errno == ECHILD);
  }
  const auto st = proc_stat(pid);
  return !st || st->state == 'Z';  // a zombie has exited; its parent has yet to reap it
}

// SIGTERM to each, then up to `grace` for them to exit, then SIGKILL.
void stop_all(const std::vector<Proc>& ps, std::chrono::seconds grace, bool children) {
  std::vector<const Proc*> live;
  for (const auto& p : ps)
    if (p.pid > 0 && !gone(p.pid, children) && kill(p.pid, SIGTERM) == 0) live.push_back(&p);
  const auto deadline = Clock::now() + grace;
  while (!live.empty() && Clock::now() < deadline) {
    std::erase_if(live, [&](const Proc* p) { return gone(p->pid, children); });
    if (!live.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const Proc* p : live) {
    std::fprintf(stderr, "  %s (pid %d) did not stop within %lld s: killing it\n", p->name.c_str(), int(p->pid),
                 (long long)grace.count());
    kill(p->pid, SIGKILL);
    if (children) waitpid(p->pid, nullptr, 0);
  }
}

// Workers first (they finish or hand back their shard), then the coordinator.
void stop_cluster(const std::vector<Proc>& ps, bool children) {
  if (ps.empty()) return;
  stop_all({ps.begin() + 1, ps.end()}, std::chrono::seconds(30), children);
  stop_all({ps.begin(), ps.begin() + 1}, std::chrono::seconds(15), children);
}

fs::path own_directory() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the zkinfer executable (/proc/self/exe): " + ec.message());
  return exe.parent_path();
}

fs::path find_binary(const fs::path& dir, const char* name) {
  const fs::path p = dir / name;
  if (access(p.c_str(), X_OK) != 0)
    throw std::runtime_error(std::string(name) + " not found: looked for " + p.string() +
                             " (cluster up runs the binaries beside the zkinfer executable; build them with the project)");
  return p;
}

std::vector<Proc> read_pids(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("no detached cluster: cannot read " + file.string());
  std::vector<Proc> ps;
  Proc p;
  while (in >> p.name >> p.pid >> p.start) ps.push_back(p);
  if (ps.empty()) throw std::runtime_error(file.string() + " names no processes");
  return ps;
}

// The process cluster up started is still running (its pid may have been reused since).
bool still_running(const Proc& p) {
  const auto st = proc_stat(p.pid);
  return st && st->state != 'Z' && st->start == p.start;
}

bool ready(const std::string& host, int port) {
  httplib::Client http(host, port);
  http.set_connection_timeout(1, 0);
  http.set_read_timeout(2, 0);
  const auto res = http.Get("/readyz");
  return res && res->status == 200;
}

int run_cluster_up(const ClusterArgs& a) {
  const fs::path data = fs::absolute(a.data), logs = data / "logs", pids = data / "cluster.pids";
  const auto [mhost, mport] = split_host_port(a.metrics, "--metrics");
  if (fs::exists(pids)) {
    for (const auto& p : read_pids(pids))
      if (still_running(p))
        throw std::runtime_error("a detached cluster is running from " + data.string() + " (" + p.name + ", pid " +
                                 std::to_string(p.pid) + "): `zkinfer cluster down --data " + a.data + "` stops it");
    fs::remove(pids);
  }
  const fs::path bin = own_directory();
  const fs::path coord_bin = find_binary(bin, "zkinfer-coordinator");
  const fs::path worker_bin = a.workers ? find_binary(bin, "zkinfer-worker") : fs::path();
  fs::create_directories(logs);

  // Block the stop signals now, so one that arrives during startup still stops everything.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  std::vector<Proc> ps;
  auto start = [&](const std::string& name, const std::vector<std::string>& argv) {
    const std::string log = (logs / (name + ".log")).string();
    const pid_t pid = spawn(argv, log);
    const auto st = proc_stat(pid);
    ps.push_back(Proc{name, log, pid, st ? st->start : 0});
  };
  try {
    start("coordinator", {coord_bin.string(), "--data", data.string(), "--clients", a.clients, "--workers", a.workers_ep,
                          "--metrics", a.metrics});
    for (unsigned k = 0; k < a.workers; ++k)
      start("worker-" + std::to_string(k),
            {worker_bin.string(), "--coordinator", a.workers_ep, "--backend", a.backend, "--cache",
             (data / ("worker-" + std::to_string(k))).string(), "--metrics", mhost + ":" + std::to_string(mport + 1 + int(k)),
             "--threads", std::to_string(a.worker_threads)});
  } catch (...) {
    stop_cluster(ps, true);
    throw;
  }
  std::printf("coordinator  clients %s, workers %s, metrics http://%s/metrics\n", a.clients.c_str(), a.workers_ep.c_str(),
              a.metrics.c_str());
  for (unsigned k = 0; k < a.workers; ++k)
    std::printf("worker-%u     backend %s, metrics http://%s:%d/metrics\n", k, a.backend.c_str(), mhost.c_str(), mport + 1 + int(k));
  std::printf("logs         %s\n", logs.c_str());
  std::fflush(stdout);

  auto fail = [&](const Proc& p, const std::string& why) {
    std::fprintf(stderr, "zkinfer cluster up: %s %s; the end of %s:\n%s", p.name.c_str(), why.c_str(), p.log.c_str(),
                 log_tail(p.log).c_str());
    stop_cluster(ps, true);
    return 1;
  };
  timespec poll{0, 200'000'000};
  const auto ready_deadline = Clock::now() + Millis(int64_t(a.ready_timeout_s * 1000.0));
  for (;;) {
    int st = 0;
    if (waitpid(ps[0].pid, &st, WNOHANG) == ps[0].pid) {
      ps[0].pid = -1;
      return fail(ps[0], exit_text(st));
    }
    if (ready(mhost, mport)) break;
    if (Clock::now() >= ready_deadline)
      return fail(ps[0], "did not answer http://" + a.metrics + "/readyz with 200 within " +
                             std::to_string(int64_t(a.ready_timeout_s)) + " s");
    if (const int sig = sigtimedwait(&stop, nullptr, &poll); sig > 0) {
      std::fprintf(stderr, "zkinfer cluster up: %s while starting, stopping everything\n", strsignal(sig));
      stop_cluster(ps, true);
      return 1;
    }
  }

  // A worker that could not start (a bad flag, no GPU for --backend cuda) has exited by now.
  for (auto& p : ps) {
    int st = 0;
    if (&p == &ps[0] || waitpid(p.pid, &st, WNOHANG) != p.pid) continue;
    p.pid = -1;
    return fail(p, exit_text(st));
  }

  if (a.detach) {
    std::ofstream out(pids);
    for (const auto& p : ps) out << p.name << ' ' << p.pid << ' ' << p.start << '\n';
    if (!out.flush()) return fail(ps[0], "is up, but " + pids.string() + " cannot be written");
    std::printf("cluster up (detached); `zkinfer cluster down --data %s` stops it\n", a.data.c_str());
    return 0;
  }
  std::printf("cluster up; Ctrl-C stops it\n");
  std::fflush(stdout);
  timespec tick{1, 0};
  for (;;) {
    const int sig = sigtimedwait(&stop, nullptr, &tick);
    if (sig > 0) {
      std::fprintf(stderr, "zkinfer cluster up: %s, stopping workers and coordinator\n", strsignal(sig));
      stop_cluster(ps, true);
      std::fprintf(stderr, "cluster stopped\n");
      return 0;
    }
    for (auto& p : ps) {
      int st = 0;
      if (p.pid <= 0 || waitpid(p.pid, &st, WNOHANG) != p.pid) continue;
      p.pid = -1;
      if (&p == &ps[0]) return fail(p, exit_text(st));
      std::fprintf(stderr, "zkinfer cluster up: %s %s; the end of %s:\n%s", p.name.c_str(), exit_text(st).c_str(),
                   p.log.c_str(), log_tail(p.log).c_str());
    }
  }
}

void run_cluster_down(const std::string& data) {
  const fs::path pids = fs::absolute(data) / "cluster.pids";
  std::vector<Proc> ps = read_pids(pids);
  for (auto& p : ps)
    if (!still_running(p)) {
      std::fprintf(stderr, "  %s (pid %d) is not running\n", p.name.c_str(), int(p.pid));
      p.pid = -1;
    }
  // The coordinator is written first; stop_cluster takes it last.
  stop_cluster(ps, false);
  fs::remove(pids);
  std::printf("cluster down\n");
}

// ---- keygen -------------------------------------------------------------------------------------

void run_keygen(const std::string& out) {
  if (!common::curve_available()) throw std::runtime_error("this libzmq was built without CURVE support");
  const common::Keypair k = common::generate_keypair();
  common::write_keypair(out, k);
  std::fprintf(stderr, "wrote %s (mode 0600: it holds the secret key); the public key:\n", out.c_str());
  std::printf("%s\n", k.public_z85.c_str());
}

}  // namespace

void add_cluster_commands(CLI::App& app) {
  // model add
  CLI::App* model = app.add_subcommand("model", "Models on a coordinator");
  model->require_subcommand(1);
  auto ma = std::make_shared<ModelAddArgs>();
  CLI::App* add = model->add_subcommand(
      "add",
      "Register a model with the coordinator: MODEL.onnx (compiled and set up there) or CIRCUIT.r1cs KEY.zkey. "
      "Prints the model id as the last line of stdout");
  add->add_option("FILES", ma->files, "MODEL.onnx, or CIRCUIT.r1cs KEY.zkey")->required()->expected(1, 2)->check(CLI::ExistingFile);
  add->add_option("--name", ma->name, "A name for people (default: the file's stem)");
  add->add_option("--calibration", ma->calibration, "ONNX: SAMPLES.json, inputs whose ranges choose the scales")
      ->check(CLI::ExistingFile);
  add->add_option("--input-visibility", ma->visibility, "ONNX: public, or private (a Poseidon commitment is public)")
      ->check(CLI::IsMember({"public", "private"}));
  add->add_option("--act-bits", ma->act_bits, "ONNX: signed bits of every range-checked activation (default 16)")
      ->check(CLI::Range(4, 40));
  add->add_option("--weight-bits", ma->weight_bits, "ONNX: signed bits of every quantized weight (default 12)")
      ->check(CLI::Range(2, 24));
  add->add_option("--segment-bits", ma->segment_bits, "ONNX: Sigmoid/Tanh/Erf use 2^N linear segments (default 5)")
      ->check(CLI::Range(1, 10));
  add->add_option("--headroom", ma->headroom, "ONNX: factor on calibrated ranges (default 2)")->check(CLI::Range(1.0, 1e6));
  add->add_option("--input-range", ma->input_range, "ONNX without --calibration: inputs assumed in [-R, R] (default 1)")
      ->check(CLI::PositiveNumber);
  add->add_flag("--dev", ma->dev, "ONNX: development setup; NOT for production (the coordinator could forge proofs)");
  add->add_option("--ptau", ma->ptau, "ONNX: setup on a prepared phase-1 POT.ptau")->check(CLI::ExistingFile);
  add->add_option("--timeout", ma->timeout_s, "Seconds to wait for compile and setup")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_connection_options(add, ma->conn);
  add->callback([ma] { run_model_add(*ma); });

  // submit
  auto sa = std::make_shared<SubmitArgs>();
  CLI::App* submit = app.add_subcommand("submit", "Submit a proof job; prints the job id as the last line of stdout");
  submit->add_option("MODEL_ID", sa->model, "Model id (`zkinfer model add` printed it)")->required();
  submit->add_option("--input", sa->input, "ONNX models: INPUT.json, input name -> nested array")->check(CLI::ExistingFile);
  submit->add_option("--witness", sa->witness, "Circuit models: the witness W.wtns")->check(CLI::ExistingFile);
  submit->add_option("--priority", sa->priority, "Higher runs first; equal priorities in submission order")->capture_default_str();
  submit->add_option("--deadline", sa->deadline_s, "Seconds from now after which the job fails instead of running")
      ->check(CLI::PositiveNumber);
  submit->add_option("--split", sa->split, "Ask for N MSM range shards (default: the coordinator decides)")
      ->check(CLI::Range(1u, 1024u));
  add_connection_options(submit, sa->conn);
  submit->callback([sa] { run_submit(*sa); });

  auto job_cmd = [&app](const char* name, const char* help, void (*fn)(const JobArgs&)) {
    auto ja = std::make_shared<JobArgs>();
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("JOB", ja->job, "Job id (`zkinfer submit` printed it)")->required();
    add_connection_options(cmd, ja->conn);
    cmd->callback([ja, fn] { fn(*ja); });
    return std::make_pair(cmd, ja);
  };
  job_cmd("status", "Show a job's state and progress", run_status);
  auto [wait, wa] = job_cmd("wait",
                            "Wait for a job to end, showing its progress; exit status 0 only when it succeeded "
                            "(prints the final state as the last line of stdout)",
                            run_wait);
  wait->add_option("--timeout", wa->timeout_s, "Seconds to wait at most")->capture_default_str()->check(CLI::NonNegativeNumber);
  auto [result, ra] = job_cmd("result",
                              "Fetch a succeeded job's files: DIR/output.json (ONNX models), proof.json, public.json, "
                              "verification_key.json",
                              run_result);
  result->add_option("-o,--out", ra->out, "Output directory")->required();
  job_cmd("cancel", "Cancel a queued or running job", run_cancel);

  auto la = std::make_shared<ListArgs>();
  CLI::App* jobs = app.add_subcommand("jobs", "List jobs, oldest first");
  jobs->add_option("--state", la->state, "Only jobs in this state: queued, running, succeeded, failed, cancelled");
  jobs->add_option("--limit", la->limit, "At most N jobs")->capture_default_str();
  add_connection_options(jobs, la->conn);
  jobs->callback([la] { run_jobs(*la); });

  auto lm = std::make_shared<ListArgs>();
  CLI::App* models = app.add_subcommand("models", "List the coordinator's models");
  models->add_option("--limit", lm->limit, "At most N models")->capture_default_str();
  add_connection_options(models, lm->conn);
  models->callback([lm] { run_models(*lm); });

  // cluster up / down
  CLI::App* cluster = app.add_subcommand("cluster", "A local cluster: a coordinator and workers on this machine");
  cluster->require_subcommand(1);
  auto ca = std::make_shared<ClusterArgs>();
  CLI::App* up = cluster->add_subcommand(
      "up", "Start zkinfer-coordinator and N zkinfer-worker processes (found beside zkinfer) and stay until Ctrl-C");
  up->add_option("--workers", ca->workers, "Number of workers")->capture_default_str()->check(CLI::Range(0u, 64u));
  up->add_option("--data", ca->data, "Directory for the job store, artifacts, worker caches and DIR/logs")->capture_default_str();
  up->add_option("--clients", ca->clients, "The coordinator's client endpoint")->capture_default_str();
  up->add_option("--workers-endpoint", ca->workers_ep, "The coordinator's worker endpoint")->capture_default_str();
  up->add_option("--metrics", ca->metrics, "The coordinator's /metrics HOST:PORT; worker K uses PORT+1+K")->capture_default_str();
  up->add_option("--backend", ca->backend, "The workers' proving backend")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  up->add_option("--worker-threads", ca->worker_threads, "CPU threads per worker (0: all cores each)")->capture_default_str();
  up->add_option("--ready-timeout", ca->ready_timeout_s, "Seconds to wait for the coordinator's /readyz")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  up->add_flag("--detach", ca->detach, "Leave the processes running and return (DIR/cluster.pids; `zkinfer cluster down` stops them)");
  up->callback([ca] {
    if (const int rc = run_cluster_up(*ca)) throw CLI::RuntimeError(rc);
  });
  auto down_data = std::make_shared<std::string>("zkinfer-cluster");
  CLI::App* down = cluster->add_subcommand("down", "Stop a cluster started with `zkinfer cluster up --detach`");
  down->add_option("--data", *down_data, "The directory given to cluster up")->capture_default_str();
  down->callback([down_data] { run_cluster_down(*down_data); });

  // keygen
  auto key_out = std::make_shared<std::string>();
  CLI::App* keygen = app.add_subcommand("keygen", "Write a CURVE keypair file (mode 0600) and print its public key");
  keygen->add_option("-o,--out", *key_out, "Key file to write")->required();
  keygen->callback([key_out] { run_keygen(*key_out); });
}

}  // namespace zkinfer::cli
