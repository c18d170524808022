// A real Prometheus server scrapes an in-process MetricsServer and must see what we registered
// (DESIGN.md 3: the registry's output is checked by a real Prometheus server).
#include <gtest/gtest.h>

#include "../support/prometheus_harness.h"
#include "zkinfer/common/metrics_server.h"

using zkinfer::common::MetricsServer;
using zkinfer::common::Registry;
using zkinfer::testing::PrometheusHarness;

TEST(Prometheus, ScrapesOurMetrics) {
  if (!PrometheusHarness::available()) GTEST_SKIP() << "prometheus is not installed";
  Registry r;
  r.counter("zkinfer_test_jobs_total", "Jobs.", {{"kind", "prove \"quoted\"\n"}}).inc(41);
  r.counter("zkinfer_test_jobs_total", "Jobs.", {{"kind", "prove \"quoted\"\n"}}).inc();
  r.gauge_callback("zkinfer_test_queue_depth", "Queued shards.", {}, [] { return 3.5; });
  auto& h = r.histogram("zkinfer_test_prove_seconds", "Prove time.", zkinfer::common::duration_buckets());
  for (double x : {0.002, 0.3, 0.4, 7.0}) h.observe(x);
  MetricsServer server("127.0.0.1:0", r);

  PrometheusHarness prom({"127.0.0.1:" + std::to_string(server.port())});
  EXPECT_EQ(prom.wait_for_value("up{job=\"zkinfer\"}"), 1) << prom.log_tail();
  // Escaped label values arrive intact.
  EXPECT_EQ(prom.wait_for_value("zkinfer_test_jobs_total{kind=\"prove \\\"quoted\\\"\\n\"}"), 42);
  EXPECT_EQ(prom.wait_for_value("zkinfer_test_queue_depth"), 3.5);
  EXPECT_EQ(prom.wait_for_value("zkinfer_test_prove_seconds_count"), 4);
  EXPECT_EQ(prom.wait_for_value("zkinfer_test_prove_seconds_bucket{le=\"0.5\"}"), 3);
  EXPECT_DOUBLE_EQ(prom.wait_for_value("zkinfer_test_prove_seconds_sum"), 7.702);
  // Prometheus's own view of the scrape: every sample accepted.
  EXPECT_GT(prom.wait_for_value("scrape_samples_scraped{job=\"zkinfer\"}"), 25);
}
