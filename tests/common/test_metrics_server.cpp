#include <atomic>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

#include "zkinfer/common/metrics_server.h"

using zkinfer::common::MetricsServer;
using zkinfer::common::Registry;

TEST(MetricsServer, ServesMetricsHealthAndReadiness) {
  Registry r;
  r.counter("zkinfer_requests_total", "Requests.", {{"kind", "x"}}).inc(5);
  std::atomic<bool> ready{false};
  MetricsServer server("127.0.0.1:0", r, [&] {
    return std::pair<bool, std::string>{ready.load(), "no workers connected"};
  });
  ASSERT_GT(server.port(), 0);

  httplib::Client cli("127.0.0.1", server.port());
  cli.set_connection_timeout(2);
  cli.set_read_timeout(5);

  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m) << httplib::to_string(m.error());
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(m->body, r.render());
  EXPECT_NE(m->body.find("zkinfer_requests_total{kind=\"x\"} 5\n"), std::string::npos);

  // Updates show on the next scrape.
  r.counter("zkinfer_requests_total", "Requests.", {{"kind", "x"}}).inc();
  EXPECT_NE(cli.Get("/metrics")->body.find("zkinfer_requests_total{kind=\"x\"} 6\n"), std::string::npos);

  auto h = cli.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "ok\n");

  auto not_ready = cli.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "no workers connected\n");
  ready = true;
  auto is_ready = cli.Get("/readyz");
  ASSERT_TRUE(is_ready);
  EXPECT_EQ(is_ready->status, 200);

  auto missing = cli.Get("/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(MetricsServer, ReadinessCheckThatThrowsIsNotReady) {
  Registry r;
  MetricsServer server("127.0.0.1:0", r, []() -> std::pair<bool, std::string> {
    throw std::runtime_error("store closed");
  });
  httplib::Client cli("127.0.0.1", server.port());
  auto res = cli.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("store closed"), std::string::npos);
}

TEST(MetricsServer, NoReadinessCheckMeansReady) {
  Registry r;
  MetricsServer server("127.0.0.1:0", r);
  httplib::Client cli("127.0.0.1", server.port());
  auto res = cli.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(MetricsServer, BadAddressOrPortInUseThrowsNamingIt) {
  Registry r;
  MetricsServer first("127.0.0.1:0", r);
  std::string taken = "127.0.0.1:" + std::to_string(first.port());
  for (const std::string& bad : {taken, std::string("127.0.0.1"), std::string("127.0.0.1:http"),
                                 std::string("127.0.0.1:70000"), std::string("no.such.host.invalid:0")}) {
    try {
      MetricsServer second(bad, r);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  // The first server still answers.
  httplib::Client cli("127.0.0.1", first.port());
  auto res = cli.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(MetricsServer, StartsAndStopsQuickly) {
  Registry r;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) MetricsServer s("127.0.0.1:0", r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}
