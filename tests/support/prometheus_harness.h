// A real Prometheus server for tests (the distribution's `prometheus`, found on PATH): it
// listens on 127.0.0.1, scrapes the given targets every second into a temporary directory, and
// answers PromQL queries, so a test checks what Prometheus itself makes of our /metrics.
// The server is killed when the harness goes out of scope, also when a test fails (and with
// the test process, through PR_SET_PDEATHSIG). Needs cpp-httplib (with its pkg-config flags)
// and nlohmann-json.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace zkinfer::testing {

// The program's full path if it is on PATH, else empty.
inline std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// A TCP port free on 127.0.0.1 right now (the kernel's pick; another process may still take it).
inline int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("free_tcp_port: cannot bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

class PrometheusHarness {
 public:
  static bool available() { return !find_on_path("prometheus").empty(); }

  // Starts Prometheus scraping `targets` ("HOST:PORT", path /metrics) and waits until it is
  // ready; throws std::runtime_error with the end of its log when it does not get there.
  explicit PrometheusHarness(const std::vector<std::string>& targets,
                             std::chrono::seconds startup_timeout = std::chrono::seconds(30)) {
    std::string binary = find_on_path("prometheus");
    if (binary.empty()) throw std::runtime_error("prometheus is not on PATH");
    std::string templ = (std::filesystem::temp_directory_path() / "zkinfer-prometheus-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot create a temporary directory");
    dir_ = templ;
    write_config(targets);
    // The port is picked before Prometheus binds it; another process may win the race, so retry.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_tcp_port();
      start(binary);
      if (wait_ready(startup_timeout)) return;
      if (pid_ > 0) break;  // running but not ready: retrying would not help
    }
    std::string log = log_tail();
    stop();
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("prometheus did not become ready; its log ends:\n" + log);
  }

  ~PrometheusHarness() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PrometheusHarness(const PrometheusHarness&) = delete;
  PrometheusHarness& operator=(const PrometheusHarness&) = delete;

  int port() const { return port_; }

  // The value of an instant query: the first sample of a vector, or a scalar; nullopt while
  // the result is empty. Throws std::runtime_error when the HTTP call or the query fails.
  std::optional<double> query(const std::string& promql) {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_connection_timeout(2);
    cli.set_read_timeout(5);
    auto res = cli.Get(("/api/v1/query?query=" + url_encode(promql)).c_str());
    if (!res) throw std::runtime_error("prometheus query '" + promql + "': no HTTP answer");
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200 || body.is_discarded() || body.value("status", "") != "success")
      throw std::runtime_error("prometheus query '" + promql + "' failed: " + res->body);
    const auto& data = body["data"];
    const auto& result = data["result"];
    if (data["resultType"] == "scalar") return std::stod(result[1].get<std::string>());
    if (!result.is_array() || result.empty()) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  // Polls `promql` until it has a value; throws std::runtime_error (with the log's end) after
  // `timeout`.
  double wait_for_value(const std::string& promql, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto v = query(promql)) return *v;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("prometheus: no value for '" + promql + "' within " +
                                 std::to_string(timeout.count()) + " s; its log ends:\n" + log_tail());
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

  // The last few kilobytes of Prometheus's own log.
  std::string log_tail() const {
    std::ifstream in(log_path(), std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

 private:
  std::string log_path() const { return dir_ + "/prometheus.log"; }

  void write_config(const std::vector<std::string>& targets) {
    std::ofstream cfg(dir_ + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: zkinfer\n    static_configs:\n      - targets: [";
    for (size_t i = 0; i < targets.size(); ++i) cfg << (i ? ", " : "") << "'" << targets[i] << "'";
    cfg << "]\n";
    if (!cfg) throw std::runtime_error("cannot write the prometheus config in " + dir_);
  }

  void start(const std::string& binary) {
    std::vector<std::string> args = {binary,
                                     "--config.file=" + dir_ + "/prometheus.yml",
                                     "--storage.tsdb.path=" + dir_ + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=info"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string log = log_path();
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("cannot fork for prometheus");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }

  // True once /-/ready answers 200; false when the process exited (pid_ reset) or on timeout.
  bool wait_ready(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    httplib::Client cli("127.0.0.1", port_);
    cli.set_connection_timeout(1);
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      auto res = cli.Get("/-/ready");
      if (res && res->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // SIGTERM, up to 10 s for a clean exit, then SIGKILL.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  static std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace zkinfer::testing
