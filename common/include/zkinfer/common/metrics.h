// A small Prometheus registry (DESIGN.md 3: prometheus-cpp is not packaged for our base system).
// Series are created once through the Registry and then updated lock-free (counters, gauges) or
// under a per-series lock (histograms) from any thread; render() writes the text exposition
// format 0.0.4 that /metrics serves.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace zkinfer::common {

// Label name/value pairs of one series; their order does not matter.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // Throws std::invalid_argument for a negative or NaN increment: counters only go up.
  void inc(double v = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: finite upper bounds, strictly increasing (the +Inf bucket is implicit).
  explicit Histogram(std::vector<double> bounds);

  void observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then the +Inf bucket (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  // Buckets, sum and count taken together, so a scrape never sees them disagree.
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
};

// Upper bounds for `_seconds` histograms: 1 ms to 1 h in 1-2.5-5 steps (then 30 min, 1 h).
std::vector<double> duration_buckets();

// Prometheus's spelling of a sample value: integers without exponent, +Inf, -Inf, NaN, and
// otherwise the shortest text that reads back as the same double.
std::string format_value(double v);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the series for (name, labels), creating it on first use; references stay valid
  // for the registry's lifetime. Throws std::invalid_argument for an invalid metric or label
  // name, a counter name not ending in `_total`, or a name already registered with another
  // type, other label names or (histograms) other buckets. The first help text given is kept.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& buckets, const Labels& labels = {});

  // A gauge series whose value `fn` computes at every scrape (queue depth, device memory).
  // `fn` runs on the scraping thread with the registry locked, so it must not call back into
  // the registry and must stay callable as long as the registry renders. A call that throws
  // leaves the series out of that scrape. Throws std::invalid_argument as above, and when the
  // series already exists.
  void gauge_callback(const std::string& name, const std::string& help, const Labels& labels,
                      std::function<double()> fn);

  // Text exposition format 0.0.4: families sorted by name, series by label values.
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> callback;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<std::string> label_names;  // sorted
    std::vector<double> buckets;           // histograms only
    std::map<std::vector<std::string>, Series> series;  // keyed by label values, in name order
  };

  // The family's series for `labels`, with the family created or checked against the arguments.
  // The caller holds mu_.
  Series& series(const std::string& name, const std::string& help, Type type,
                 const Labels& labels, const std::vector<double>* buckets);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace zkinfer::common
