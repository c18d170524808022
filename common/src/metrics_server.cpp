#include "zkinfer/common/metrics_server.h"

#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace zkinfer::common {

namespace {

// "HOST:PORT" or "[V6]:PORT"; an empty host means every interface.
std::pair<std::string, int> parse_address(const std::string& address) {
  std::string host, port;
  if (address.starts_with('[')) {
    auto close = address.find("]:");
    if (close == std::string::npos) throw std::runtime_error("metrics address '" + address + "' is not [HOST]:PORT");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("metrics address '" + address + "' is not HOST:PORT");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  int p = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 0 || p > 65535)
    throw std::runtime_error("metrics address '" + address + "' has no valid port (0-65535)");
  return {host.empty() ? "0.0.0.0" : host, p};
}

}  // namespace

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> finished{false};
  int port = -1;
};

MetricsServer::MetricsServer(const std::string& address, const Registry& registry, ReadyFn ready)
    : impl_(std::make_unique<Impl>()) {
  auto [host, port] = parse_address(address);
  httplib::Server& svr = impl_->server;

  // httplib sets SO_REUSEPORT, which would let a second server share a port already in use;
  // SO_REUSEADDR alone still allows a quick restart after TIME_WAIT.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  svr.Get("/readyz", [ready = std::move(ready)](const httplib::Request&, httplib::Response& res) {
    std::pair<bool, std::string> state{true, ""};
    try {
      if (ready) state = ready();
    } catch (const std::exception& e) {
      state = {false, std::string("readiness check failed: ") + e.what()};
    }
    res.status = state.first ? 200 : 503;
    res.set_content(state.first ? "ready\n" : state.second + "\n", "text/plain");
  });

  impl_->port = port == 0 ? svr.bind_to_any_port(host) : (svr.bind_to_port(host, port) ? port : -1);
  if (impl_->port <= 0)
    throw std::runtime_error("metrics server cannot listen on " + address +
                             " (bad host, or the port is in use)");

  impl_->thread = std::thread([impl = impl_.get()] {
    impl->server.listen_after_bind();
    impl->finished = true;
  });
  // stop() only takes effect once the loop runs; wait for it so the destructor cannot miss it.
  while (!svr.is_running() && !impl_->finished)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  impl_->thread.join();
}

int MetricsServer::port() const { return impl_->port; }

}  // namespace zkinfer::common
