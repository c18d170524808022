#include "zkinfer/common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace zkinfer::common {

namespace {

bool is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Prometheus's data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* with names starting "__" reserved for Prometheus itself.
void check_metric_name(const std::string& name) {
  bool ok = !name.empty() && (is_alpha_(name[0]) || name[0] == ':');
  for (char c : name) ok = ok && (is_alpha_(c) || is_digit(c) || c == ':');
  if (!ok) throw std::invalid_argument("invalid metric name '" + name + "'");
}

void check_label_name(const std::string& metric, const std::string& label) {
  bool ok = !label.empty() && is_alpha_(label[0]);
  for (char c : label) ok = ok && (is_alpha_(c) || is_digit(c));
  if (!ok || label.starts_with("__"))
    throw std::invalid_argument("invalid label name '" + label + "' on metric " + metric);
}

// Prometheus refuses a whole scrape over one label value that is not UTF-8.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// HELP lines escape only backslash and newline (format 0.0.4).
std::string escape_help(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// `{a="x",b="y"}` with an optional extra label (le) last; empty when there are no labels.
std::string label_text(const std::vector<std::string>& names, const std::vector<std::string>& values,
                       const std::string& le = {}) {
  if (names.empty() && le.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + escape_label_value(values[i]) + '"';
  }
  if (!le.empty()) out += std::string(names.empty() ? "" : ",") + "le=\"" + le + '"';
  return out + '}';
}

const char* type_name(int t) {
  static const char* names[] = {"counter", "gauge", "histogram"};
  return names[t];
}

}  // namespace

void Counter::inc(double v) {
  if (!(v >= 0)) throw std::invalid_argument("counter increment must be >= 0, got " + format_value(v));
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]))
      throw std::invalid_argument("histogram bucket bound " + format_value(bounds_[i]) +
                                  " is not finite (+Inf is implicit)");
    if (i > 0 && !(bounds_[i] > bounds_[i - 1]))
      throw std::invalid_argument("histogram bucket bounds must increase strictly: " +
                                  format_value(bounds_[i - 1]) + " then " + format_value(bounds_[i]));
  }
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
  // The first bucket whose bound is >= v (le means "less or equal"); NaN lands in +Inf.
  size_t b = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++counts_[b];
  sum_ += v;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mu_);
  s.cumulative.resize(counts_.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < counts_.size(); ++i) s.cumulative[i] = acc += counts_[i];
  s.count = acc;
  s.sum = sum_;
  return s;
}

std::vector<double> duration_buckets() {
  // Written out: computed steps would carry rounding noise (0.0025000000000000005) into `le`.
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5,
          5,     10,     25,    50,   100,   250,  500, 1000, 1800, 3600};
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integers below 2^53 are exact: print them plainly, as counters usually are.
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0)
    return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

Registry::Series& Registry::series(const std::string& name, const std::string& help, Type type,
                                   const Labels& labels, const std::vector<double>* buckets) {
  check_metric_name(name);
  if (type == Type::counter && !name.ends_with("_total"))
    throw std::invalid_argument("counter name '" + name + "' must end in _total");
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> names, values;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [label, value] = sorted[i];
    check_label_name(name, label);
    if (type == Type::histogram && label == "le")
      throw std::invalid_argument("histogram " + name + " cannot have a label named le");
    if (i > 0 && label == sorted[i - 1].first)
      throw std::invalid_argument("label " + label + " given twice on metric " + name);
    if (!valid_utf8(value))
      throw std::invalid_argument("label " + label + " of metric " + name + " is not UTF-8");
    names.push_back(label);
    values.push_back(value);
  }

  auto [it, created] = families_.try_emplace(name);
  Family& f = it->second;
  if (created) {
    f.type = type;
    f.help = help;
    f.label_names = names;
    if (buckets) f.buckets = *buckets;
  } else {
    if (f.type != type)
      throw std::invalid_argument("metric " + name + " is already a " +
                                  type_name(static_cast<int>(f.type)) + ", not a " +
                                  type_name(static_cast<int>(type)));
    if (f.label_names != names)
      throw std::invalid_argument("metric " + name + " is already registered with other label names");
    if (buckets && f.buckets != *buckets)
      throw std::invalid_argument("histogram " + name + " is already registered with other buckets");
  }
  return f.series[values];
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = series(name, help, Type::counter, labels, nullptr);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = series(name, help, Type::gauge, labels, nullptr);
  if (s.callback)
    throw std::invalid_argument("gauge " + name + " already has a callback for these labels");
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& buckets, const Labels& labels) {
  // Checks the bounds before the family remembers them.
  auto fresh = std::make_unique<Histogram>(buckets);
  std::lock_guard lock(mu_);
  Series& s = series(name, help, Type::histogram, labels, &buckets);
  if (!s.histogram) s.histogram = std::move(fresh);
  return *s.histogram;
}

void Registry::gauge_callback(const std::string& name, const std::string& help,
                              const Labels& labels, std::function<double()> fn) {
  if (!fn) throw std::invalid_argument("gauge " + name + ": empty callback");
  std::lock_guard lock(mu_);
  Series& s = series(name, help, Type::gauge, labels, nullptr);
  if (s.gauge || s.callback)
    throw std::invalid_argument("gauge " + name + " already exists for these labels");
  s.callback = std::move(fn);
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + name + ' ' + type_name(static_cast<int>(f.type)) + '\n';
    for (const auto& [values, s] : f.series) {
      std::string labels = label_text(f.label_names, values);
      if (s.counter) {
        out += name + labels + ' ' + format_value(s.counter->value()) + '\n';
      } else if (s.gauge) {
        out += name + labels + ' ' + format_value(s.gauge->value()) + '\n';
      } else if (s.callback) {
        double v;
        try {
          v = s.callback();
        } catch (...) {
          continue;
        }
        out += name + labels + ' ' + format_value(v) + '\n';
      } else if (s.histogram) {
        Histogram::Snapshot snap = s.histogram->snapshot();
        for (size_t i = 0; i <= snap.bounds.size(); ++i) {
          std::string le = i < snap.bounds.size() ? format_value(snap.bounds[i]) : "+Inf";
          out += name + "_bucket" + label_text(f.label_names, values, le) + ' ' +
                 std::to_string(snap.cumulative[i]) + '\n';
        }
        out += name + "_sum" + labels + ' ' + format_value(snap.sum) + '\n';
        out += name + "_count" + labels + ' ' + std::to_string(snap.count) + '\n';
      }
    }
  }
  return out;
}

}  // namespace zkinfer::common
