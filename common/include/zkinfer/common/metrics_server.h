// The HTTP side of metrics (DESIGN.md 3): GET /metrics renders a Registry, /healthz says the
// process runs, /readyz says whether it can take work. Served by cpp-httplib on its own thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "zkinfer/common/metrics.h"

namespace zkinfer::common {

class MetricsServer {
 public:
  // (ready, reason): /readyz answers 200 when ready, else 503 with the reason as its body.
  using ReadyFn = std::function<std::pair<bool, std::string>()>;

  // Binds `address` ("HOST:PORT", "[v6]:PORT"; port 0 picks a free one) and starts serving.
  // Throws std::runtime_error naming the address when it is malformed or cannot be bound.
  // `registry` and `ready` must outlive the server; an empty `ready` means always ready.
  MetricsServer(const std::string& address, const Registry& registry, ReadyFn ready = {});
  ~MetricsServer();  // stops serving and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkinfer::common
