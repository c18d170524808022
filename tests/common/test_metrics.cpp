#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../support/prometheus_harness.h"
#include "zkinfer/common/metrics.h"

using zkinfer::common::duration_buckets;
using zkinfer::common::format_value;
using zkinfer::common::Histogram;
using zkinfer::common::Registry;

TEST(Metrics, RendersCountersGaugesHistogramsExactly) {
  Registry r;
  r.counter("zkinfer_jobs_total", "Jobs accepted.", {{"kind", "setup"}}).inc(2.5);
  r.counter("zkinfer_jobs_total", "Jobs accepted.", {{"kind", "prove"}}).inc();
  r.gauge("zkinfer_queue_depth", "Queued shards; a\\b\nnext line.").set(7);
  auto& h = r.histogram("zkinfer_shard_seconds", "Shard time.", {0.125, 1}, {{"worker", "w\"1\\\n"}});
  h.observe(0.0625);
  h.observe(0.125);  // le is inclusive
  h.observe(3);
  r.gauge_callback("zkinfer_device_bytes", "Device memory.", {{"gpu", "0"}, {"kind", "free"}},
                   [] { return 1e20; });

  EXPECT_EQ(r.render(),
            "# HELP zkinfer_device_bytes Device memory.\n"
            "# TYPE zkinfer_device_bytes gauge\n"
            "zkinfer_device_bytes{gpu=\"0\",kind=\"free\"} 1e+20\n"
            "# HELP zkinfer_jobs_total Jobs accepted.\n"
            "# TYPE zkinfer_jobs_total counter\n"
            "zkinfer_jobs_total{kind=\"prove\"} 1\n"
            "zkinfer_jobs_total{kind=\"setup\"} 2.5\n"
            "# HELP zkinfer_queue_depth Queued shards; a\\\\b\\nnext line.\n"
            "# TYPE zkinfer_queue_depth gauge\n"
            "zkinfer_queue_depth 7\n"
            "# HELP zkinfer_shard_seconds Shard time.\n"
            "# TYPE zkinfer_shard_seconds histogram\n"
            "zkinfer_shard_seconds_bucket{worker=\"w\\\"1\\\\\\n\",le=\"0.125\"} 2\n"
            "zkinfer_shard_seconds_bucket{worker=\"w\\\"1\\\\\\n\",le=\"1\"} 2\n"
            "zkinfer_shard_seconds_bucket{worker=\"w\\\"1\\\\\\n\",le=\"+Inf\"} 3\n"
            "zkinfer_shard_seconds_sum{worker=\"w\\\"1\\\\\\n\"} 3.1875\n"
            "zkinfer_shard_seconds_count{worker=\"w\\\"1\\\\\\n\"} 3\n");
}

TEST(Metrics, SameNameAndLabelsGiveTheSameSeries) {
  Registry r;
  auto& a = r.counter("x_total", "h", {{"a", "1"}, {"b", "2"}});
  auto& b = r.counter("x_total", "h", {{"b", "2"}, {"a", "1"}});  // order does not matter
  auto& c = r.counter("x_total", "h", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  auto& g1 = r.gauge("g", "h");
  auto& g2 = r.gauge("g", "other help is ignored");
  EXPECT_EQ(&g1, &g2);
  auto& h1 = r.histogram("h_seconds", "h", {1, 2});
  auto& h2 = r.histogram("h_seconds", "h", {1, 2});
  EXPECT_EQ(&h1, &h2);
}

TEST(Metrics, RejectsBadNamesAndConflicts) {
  Registry r;
  for (const char* bad : {"", "1abc", "a-b", "a b", "é"})
    EXPECT_THROW(r.gauge(bad, "h"), std::invalid_argument) << bad;
  EXPECT_NO_THROW(r.gauge("ok:name_1", "h"));
  for (const char* bad : {"", "1a", "a-b", "__reserved", "a:b"})
    EXPECT_THROW(r.gauge("g1", "h", {{bad, "v"}}), std::invalid_argument) << bad;
  EXPECT_THROW(r.counter("jobs", "h"), std::invalid_argument);  // counters end in _total
  EXPECT_THROW(r.gauge("g2", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h_seconds", "h", {1}, {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.gauge("g3", "h", {{"a", "\xff"}}), std::invalid_argument);  // not UTF-8
  EXPECT_NO_THROW(r.gauge("g3", "h", {{"a", "grüße ✓"}}));

  r.counter("c_total", "h", {{"a", "1"}});
  EXPECT_THROW(r.gauge("c_total", "h", {{"a", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("c_total", "h", {{"b", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("c_total", "h"), std::invalid_argument);
  r.histogram("d_seconds", "h", {1, 2});
  EXPECT_THROW(r.histogram("d_seconds", "h", {1, 3}), std::invalid_argument);
  EXPECT_THROW(r.histogram("e_seconds", "h", {2, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("e_seconds", "h", {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("e_seconds", "h", {1, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);

  r.gauge_callback("cb", "h", {}, [] { return 1.0; });
  EXPECT_THROW(r.gauge_callback("cb", "h", {}, [] { return 2.0; }), std::invalid_argument);
  EXPECT_THROW(r.gauge("cb", "h"), std::invalid_argument);
  r.gauge("plain", "h");
  EXPECT_THROW(r.gauge_callback("plain", "h", {}, [] { return 2.0; }), std::invalid_argument);
  // A failed registration leaves no trace in the output.
  EXPECT_EQ(r.render().find("e_seconds"), std::string::npos);
}

TEST(Metrics, CounterOnlyGoesUp) {
  Registry r;
  auto& c = r.counter("c_total", "h");
  EXPECT_THROW(c.inc(-1), std::invalid_argument);
  EXPECT_THROW(c.inc(std::nan("")), std::invalid_argument);
  c.inc(0);
  EXPECT_EQ(c.value(), 0);
}

TEST(Metrics, GaugeSetIncDec) {
  Registry r;
  auto& g = r.gauge("g", "h");
  g.set(10);
  g.inc();
  g.dec(3.5);
  EXPECT_EQ(g.value(), 7.5);
}

TEST(Metrics, CallbackThatThrowsIsLeftOutOfTheScrape) {
  Registry r;
  r.gauge_callback("a", "h", {{"k", "bad"}}, []() -> double { throw std::runtime_error("gone"); });
  r.gauge_callback("a", "h", {{"k", "good"}}, [] { return 4.0; });
  EXPECT_EQ(r.render(), "# HELP a h\n# TYPE a gauge\na{k=\"good\"} 4\n");
}

TEST(Metrics, FormatsValuesAsPrometheusParsesThem) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-0.0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(123456789012345), "123456789012345");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(0.001), "0.001");
  EXPECT_EQ(format_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_value(1.0 / 3)), 1.0 / 3);  // shortest text that reads back exactly
}

TEST(Metrics, DurationBucketsSpanMillisecondToHour) {
  auto b = duration_buckets();
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b.front(), 0.001);
  EXPECT_EQ(b.back(), 3600);
  for (size_t i = 1; i < b.size(); ++i) {
    EXPECT_GT(b[i], b[i - 1]);
    EXPECT_LE(b[i] / b[i - 1], 2.5 + 1e-9);  // roughly exponential, no big gaps
  }
  Histogram h(b);  // valid bounds
  for (double x : b) EXPECT_EQ(format_value(x).find('e'), std::string::npos) << x;  // clean `le`
}

TEST(Metrics, ConcurrentUpdatesAreExact) {
  Registry r;
  auto& c = r.counter("c_total", "h");
  auto& g = r.gauge("g", "h");
  auto& h = r.histogram("h_seconds", "h", {0.5});
  constexpr int kThreads = 8, kPer = 50000;
  std::atomic<bool> done{false};
  // Scrapes and new series while the counters move.
  std::thread scraper([&] {
    int i = 0;
    while (!done) {
      r.render();
      r.gauge("dyn", "h", {{"i", std::to_string(i++ % 50)}}).inc();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        c.inc();
        g.inc(2);
        g.dec();
        h.observe(t % 2 ? 1.0 : 0.25);
      }
    });
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();
  EXPECT_EQ(c.value(), kThreads * kPer);
  EXPECT_EQ(g.value(), kThreads * kPer);
  auto s = h.snapshot();
  EXPECT_EQ(s.count, uint64_t(kThreads) * kPer);
  EXPECT_EQ(s.cumulative[0], uint64_t(kThreads / 2) * kPer);
  EXPECT_EQ(s.sum, (kThreads / 2) * kPer * 1.25);
}

namespace {

// promtool's verdict on an exposition: (exit status, what it printed).
std::pair<int, std::string> promtool_check(const std::string& text) {
  auto file = std::filesystem::temp_directory_path() / ("zkinfer-metrics-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(file) << text;
  std::string cmd = "promtool check metrics < '" + file.string() + "' 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  int status = p ? ::pclose(p) : -1;
  std::filesystem::remove(file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST(Metrics, PromtoolAcceptsTheOutput) {
  if (zkinfer::testing::find_on_path("promtool").empty()) GTEST_SKIP() << "promtool is not installed";
  Registry r;
  r.counter("zkinfer_proofs_total", "Proofs finished.", {{"status", "ok"}}).inc(3);
  r.counter("zkinfer_proofs_total", "Proofs finished.", {{"status", "failed \"x\"\n"}}).inc();
  r.gauge("zkinfer_workers", "Workers connected.").set(2);
  r.gauge_callback("zkinfer_queue_oldest_seconds", "Age of the oldest queued shard.", {}, [] { return 0.25; });
  auto& h = r.histogram("zkinfer_prove_seconds", "Time to prove.", duration_buckets(), {{"model", "mlp"}});
  for (double x : {0.0005, 0.3, 12.0, 5000.0}) h.observe(x);
  auto [status, out] = promtool_check(r.render());
  EXPECT_EQ(status, 0) << out << "\n" << r.render();
  EXPECT_EQ(out, "");

  // The check can fail: promtool flags a counter without _total, which the registry refuses.
  auto [bad_status, bad_out] = promtool_check("# HELP jobs Jobs.\n# TYPE jobs counter\njobs 1\n");
  EXPECT_NE(bad_status, 0);
  EXPECT_NE(bad_out.find("_total"), std::string::npos) << bad_out;
}
