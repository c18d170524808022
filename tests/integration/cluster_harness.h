// A local cluster for integration tests: the real zkinfer-coordinator and zkinfer-worker
// programs as child processes on loopback, each with its own free ports, data directory and log
// file. Processes can be killed (-9) and restarted; everything is killed when the harness goes,
// and the logs' tails are printed when the test failed.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "../support/prometheus_harness.h"  // free_tcp_port
#include "zkinfer/client/coordinator_client.h"

namespace zkinfer::testing {

namespace fs = std::filesystem;

// A child process with stdout and stderr in a log file.
struct Process {
  pid_t pid = -1;
  std::string name, log;

  void start(const std::string& program, const std::vector<std::string>& args, const std::string& log_file) {
    log = log_file;
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      std::FILE* f = std::fopen(log_file.c_str(), "a");
      if (f) {
        ::dup2(fileno(f), 1);
        ::dup2(fileno(f), 2);
      }
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      std::perror("execv");
      ::_exit(127);
    }
  }
  bool running() {
    if (pid <= 0) return false;
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      pid = -1;
      return false;
    }
    return true;
  }
  // Sends `sig` and waits (up to `wait`) for the process to end; then SIGKILL.
  void stop(int sig = SIGTERM, std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    if (pid <= 0) return;
    ::kill(pid, sig);
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  std::string tail(size_t bytes = 3000) const {
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string s = ss.str();
    return s.size() > bytes ? s.substr(s.size() - bytes) : s;
  }
};

struct ClusterOptions {
  unsigned workers = 2;
  unsigned heartbeat_ms = 200;  // fast failure detection: a dead worker is noticed within a second
  unsigned liveness = 5;
  double lease_seconds = 60;
  std::vector<std::string> coordinator_args, worker_args;
};

class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions o = {}) : opts_(std::move(o)) {
    dir_ = fs::temp_directory_path() / ("zkinfer-cluster-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "logs");
    clients_port_ = free_tcp_port();
    workers_port_ = free_tcp_port();
    metrics_port_ = free_tcp_port();
    start_coordinator();
    workers_.resize(opts_.workers);
    for (unsigned i = 0; i < opts_.workers; ++i) worker_metrics_ports_.push_back(free_tcp_port());
    for (unsigned i = 0; i < opts_.workers; ++i) start_worker(i);
  }

  ~LocalCluster() {
    const bool failed = ::testing::Test::HasFailure();
    for (auto& w : workers_) w.stop(SIGKILL);
    coordinator_.stop(SIGKILL);
    if (failed) {
      std::fprintf(stderr, "---- coordinator log (tail) ----\n%s\n", coordinator_.tail().c_str());
      for (auto& w : workers_) std::fprintf(stderr, "---- %s log (tail) ----\n%s\n", w.name.c_str(), w.tail(1500).c_str());
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string client_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(clients_port_); }
  std::string worker_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(workers_port_); }
  int metrics_port() const { return metrics_port_; }
  int worker_metrics_port(unsigned i) const { return worker_metrics_ports_.at(i); }

  // One sample from an HTTP /metrics page ("name" or "name{labels}" exactly as exposed); -1
  // when the page or the sample is not there.
  static double scrape(int port, const std::string& series) {
    httplib::Client cli("127.0.0.1", port);
    cli.set_connection_timeout(2);
    cli.set_read_timeout(5);
    auto res = cli.Get("/metrics");
    if (!res || res->status != 200) return -1;
    std::istringstream in(res->body);
    for (std::string line; std::getline(in, line);)
      if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
        return std::stod(line.substr(series.size() + 1));
    return -1;
  }
  double coordinator_metric(const std::string& series) const { return scrape(metrics_port_, series); }
  const fs::path& dir() const { return dir_; }

  client::ClientOptions client_options() const {
    client::ClientOptions o;
    o.endpoint = client_endpoint();
    o.timeout = std::chrono::seconds(20);
    return o;
  }
  client::CoordinatorClient client() const { return client::CoordinatorClient(client_options()); }

  void start_coordinator() {
    std::vector<std::string> args{"--data",          (dir_ / "coordinator").string(),
                                  "--clients",       client_endpoint(),
                                  "--workers",       worker_endpoint(),
                                  "--metrics",       "127.0.0.1:" + std::to_string(metrics_port_),
                                  "--heartbeat-ms",  std::to_string(opts_.heartbeat_ms),
                                  "--liveness",      std::to_string(opts_.liveness),
                                  "--lease-seconds", std::to_string(opts_.lease_seconds)};
    args.insert(args.end(), opts_.coordinator_args.begin(), opts_.coordinator_args.end());
    coordinator_.name = "coordinator";
    coordinator_.start(ZKINFER_COORDINATOR_BIN, args, (dir_ / "logs" / "coordinator.log").string());
  }
  void stop_coordinator(int sig) { coordinator_.stop(sig); }

  void start_worker(unsigned i) {
    std::vector<std::string> args{"--coordinator", worker_endpoint(), "--backend", "cpu", "--threads", "1",
                                  "--cache", (dir_ / ("worker-" + std::to_string(i))).string(), "--name",
                                  "worker-" + std::to_string(i), "--metrics",
                                  "127.0.0.1:" + std::to_string(worker_metrics_ports_.at(i))};
    args.insert(args.end(), opts_.worker_args.begin(), opts_.worker_args.end());
    workers_[i].name = "worker-" + std::to_string(i);
    workers_[i].start(ZKINFER_WORKER_BIN, args, (dir_ / "logs" / (workers_[i].name + ".log")).string());
  }
  Process& worker(unsigned i) { return workers_.at(i); }
  Process& coordinator() { return coordinator_; }

  // Waits until the coordinator answers a request (bounded).
  void wait_ready(std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      try {
        client::ClientOptions o = client_options();
        o.timeout = std::chrono::milliseconds(500);
        client::CoordinatorClient c(o);
        c.list_models(1);
        return;
      } catch (const std::exception& e) {
        if (std::chrono::steady_clock::now() > until)
          throw std::runtime_error(std::string("coordinator not answering: ") + e.what() + "\n" + coordinator_.tail());
      }
    }
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  ClusterOptions opts_;
  fs::path dir_;
  int clients_port_ = 0, workers_port_ = 0, metrics_port_ = 0;
  std::vector<int> worker_metrics_ports_;
  Process coordinator_;
  std::vector<Process> workers_;
};

}  // namespace zkinfer::testing
