// Shared by the GPU benchmarks: CUDA-event timing (warm-up, then the median of N timed runs),
// command-line options, and a small JSON result writer (no library needed on GPU machines).
#pragma once

#include <cuda_profiler_api.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cuda/check.h"
#include "cuda/device.h"

namespace zkinfer::bench {

// Wall-clock budget for a benchmark program's measurements: ZKINFER_GPU_BENCH_BUDGET_S
// (bench/gpu_check.sh sets it from the time it has left; at least 20 s), else 220 s
// (gpu_check.sh allows a benchmark 300 s).
inline double budget_seconds() {
  if (const char* s = std::getenv("ZKINFER_GPU_BENCH_BUDGET_S")) return std::max(20.0, std::atof(s));
  return 220;
}
using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;
};

// Median, min and max of timed runs (at least one).
inline Timing summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Timing t;
  const size_t k = ms.size();
  t.reps = int(k);
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  t.median_ms = k % 2 ? ms[k / 2] : (ms[k / 2 - 1] + ms[k / 2]) / 2;
  return t;
}

// Runs `launch` (which enqueues work on the default stream) `warmup` times untimed, then `reps`
// times each between two events; every run is waited for, so runs do not overlap.
template <class Launch>
Timing time_runs(Launch&& launch, int warmup, int reps) {
  cudaEvent_t start, stop;
  ZK_CUDA_CHECK(cudaEventCreate(&start));
  ZK_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < warmup; ++i) launch();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    ZK_CUDA_CHECK(cudaEventRecord(start));
    launch();
    ZK_CUDA_CHECK(cudaEventRecord(stop));
    ZK_CUDA_CHECK(cudaEventSynchronize(stop));
    float t = 0;
    ZK_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  ZK_CUDA_CHECK(cudaEventDestroy(start));
  ZK_CUDA_CHECK(cudaEventDestroy(stop));
  return summarise(std::move(ms));
}

struct Options {
  std::string out;  // JSON file; none when empty
  int warmup = 3;
  int reps = 21;
  bool quick = false;  // smaller sizes, for a smoke run
  bool profile = false;  // only the key sizes, each once inside profiled(), for ncu
};

// --profile is an option only of the benchmarks that have that mode (can_profile).
inline Options parse_options(int argc, char** argv, const char* usage, bool can_profile = false) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value\n%s", argv[0], a.c_str(), usage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--out") {
      o.out = value();
    } else if (a == "--reps") {
      o.reps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--warmup") {
      o.warmup = std::max(0, std::atoi(value().c_str()));
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--profile" && can_profile) {
      o.profile = true;
    } else {
      std::fprintf(stderr, "%s: unknown option %s\n%s", argv[0], a.c_str(), usage);
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  return o;
}

inline std::string json_string(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    r += c;
  }
  return r + "\"";
}

// One measured operation of a benchmark.
struct Result {
  std::string name;
  std::string unit;     // what ops_per_s counts, e.g. "Fr mul"
  double elements = 0;  // array length or thread count
  double ops = 0;       // operations per timed run
  double bytes = 0;     // device-memory bytes a run must move at least (0: compute-bound)
  Timing t;
  bool check_ok = false;  // device results matched the host on a sample
  double ops_per_s() const { return ops / (t.median_ms * 1e-3); }
  double gbytes_per_s() const { return bytes / (t.median_ms * 1e-3) / 1e9; }
};

inline void print_table(const std::vector<Result>& rs) {
  std::printf("%-28s %12s %10s %10s %14s %10s %6s\n", "benchmark", "elements", "median_ms",
              "min_ms", "ops/s", "GB/s", "check");
  for (const Result& r : rs)
    std::printf("%-28s %12.0f %10.4f %10.4f %14.4g %10.1f %6s\n", r.name.c_str(), r.elements,
                r.t.median_ms, r.t.min_ms, r.ops_per_s(), r.gbytes_per_s(),
                r.check_ok ? "ok" : "FAIL");
}

inline void write_json(const std::string& path, const char* program, const gpu::GpuInfo& g,
                       const Options& o, const std::vector<Result>& rs) {
  std::ofstream f(path);
  f.precision(10);
  f << "{\n  \"benchmark\": " << json_string(program) << ",\n";
  f << "  \"gpu\": {\"name\": " << json_string(g.name) << ", \"compute_capability\": \""
    << g.cc_major << "." << g.cc_minor << "\", \"sm_count\": " << g.sm_count
    << ", \"memory_bytes\": " << g.global_mem_bytes << ", \"l2_bytes\": " << g.l2_bytes
    << ", \"cuda_runtime\": " << g.runtime_version << ", \"cuda_driver\": " << g.driver_version
    << "},\n";
  f << "  \"warmup\": " << o.warmup << ", \"reps\": " << o.reps
    << ", \"quick\": " << (o.quick ? "true" : "false") << ",\n  \"results\": [\n";
  for (size_t i = 0; i < rs.size(); ++i) {
    const Result& r = rs[i];
    f << "    {\"name\": " << json_string(r.name) << ", \"unit\": " << json_string(r.unit)
      << ", \"elements\": " << r.elements << ", \"ops\": " << r.ops
      << ", \"median_ms\": " << r.t.median_ms << ", \"min_ms\": " << r.t.min_ms
      << ", \"max_ms\": " << r.t.max_ms << ", \"ops_per_s\": " << r.ops_per_s()
      << ", \"gbytes_per_s\": " << r.gbytes_per_s()
      << ", \"check\": " << (r.check_ok ? "\"ok\"" : "\"failed\"") << "}"
      << (i + 1 < rs.size() ? "," : "") << "\n";
  }
  f << "  ]\n}\n";
  if (!f) throw std::runtime_error("cannot write " + path);
}

// Prints the table, writes the JSON file when --out asked for one, and returns the exit status:
// 0 when every result checked out (and, with require_results, there is at least one), else 1
// after a line "<program>: <failure>".
inline int report(const char* program, const gpu::GpuInfo& g, const Options& o,
                  const std::vector<Result>& rs, const char* failure, bool require_results = false) {
  print_table(rs);
  if (!o.out.empty()) write_json(o.out, program, g, o, rs);
  bool ok = !(require_results && rs.empty());
  for (const Result& r : rs) ok = ok && r.check_ok;
  if (!ok) std::fprintf(stderr, "%s: %s\n", program, failure);
  return ok ? 0 : 1;
}

// --profile: `run` once untimed (tables, buffers and caches warm), then once more between
// cudaProfilerStart and cudaProfilerStop, so `ncu --profile-from-start off` (bench/gpu/profile.sh)
// records the kernels of one steady-state call and nothing else.
template <class Fn>
void profiled(const char* what, Fn&& run) {
  run();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  ZK_CUDA_CHECK(cudaProfilerStart());
  run();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  ZK_CUDA_CHECK(cudaProfilerStop());
  std::printf("profiled: %s\n", what);
  std::fflush(stdout);
}

// main() of a benchmark: runs it, and turns an exception into one line and exit status 1.
inline int bench_main(const char* program, int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace zkinfer::bench
