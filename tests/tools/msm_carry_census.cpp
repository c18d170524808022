// msm_carry_census LOG2_N [--sms N] [--skewed] [--g2] [--tables] [--window C] [--join R] [--seed S]: what the GPU MSM's
// carry levels (kernels/cuda/msm_steps.h, method step 3) get to do on a device with N SMs
// (default 132, an H100), for one MSM of 2^LOG2_N random points with uniform (or skewed,
// witness-like) scalars; with --tables over the point tables an 80 GB device plans for a
// resident key (MsmDriver::plan_tables with 16 GiB for them; the tables hold copies of the
// points, not their multiples: the counts do not depend on which points they are); --window
// forces the width (with --tables: one table per digit window), --join the segments step 3a
// reaches (msm::Tuning::join_segments). It runs the
// steps on the host, one thread after another, up to the end of the accumulation, and prints per
// step the carries that are not at infinity and, per carry level, whether it has work or returns
// at once. No GPU needed; 2^20 takes about ten seconds for G1.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/msm_steps.h"
#include "msm_host_exec.h"
#include "msm_inputs.h"

namespace zkinfer {
namespace {

namespace msm = gpu::msm;

template <class C>
size_t non_empty(const Xyzz<C>* v, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) k += !v[i].is_infinity();
  return k;
}

// Runs each launch's threads in order and reports the carry steps.
template <class C>
struct CensusExec {
  unsigned level = 0, working = 0;

  template <class Step>
  void launch(const Step& step, size_t threads) {
    if constexpr (std::is_same_v<Step, msm::JoinCarriesStep<C>>) {
      std::printf("level 0 left %zu carries (of %zu slots) not at infinity\n", non_empty(step.carry_vals, 2 * step.segs),
                  2 * step.segs);
      run(step, threads);
      std::printf("the joining step (%zu threads, runs over up to %u segments after their first) left %zu\n", threads,
                  step.reach, non_empty(step.carry_vals, 2 * step.segs));
    } else if constexpr (std::is_same_v<Step, msm::AccumulateStep<C, msm::CarrySource<C>>>) {
      ++level;
      const bool works = *step.carries_in != 0;
      working += works;
      std::printf("carry level %u: %zu threads, %zu entries, %zu not at infinity: %s\n", level, threads, step.count,
                  works ? non_empty(step.src.vals, step.count) : size_t{0}, works ? "works" : "returns at once");
      run(step, threads);
    } else {
      run(step, threads);
    }
  }
  template <class Step, unsigned kBlocks>
  void launch(const msm::MinBlocks<Step, kBlocks>& step, size_t threads) {
    launch(static_cast<const Step&>(step), threads);
  }
  template <class Step>
  static void run(const Step& step, size_t threads) {
    for (size_t t = 0; t < threads; ++t) step(t);
  }
  unsigned sort_pairs(uint32_t* const keys[2], uint32_t* const vals[2], size_t m, unsigned) {
    return testing::stable_sort_pairs(keys, vals, m);
  }
  void zero(void* p, size_t bytes) { std::memset(p, 0, bytes); }
  uint32_t read_u32(const uint32_t* p) { return *p; }
  void first_level_queued() {}
};

struct Options {
  unsigned log_n = 0;
  unsigned sms = 132;
  bool skewed = false;
  bool g2 = false;
  bool tables = false;
  unsigned window = 0;  // 0: the plan's choice
  unsigned join = msm::Tuning{}.join_segments;
  uint64_t seed = 1;
};

template <class C>
int census(const Options& o) {
  const size_t n = size_t{1} << o.log_n;
  std::mt19937_64 rng(o.seed);
  std::vector<Affine<C>> points = testing::progression_points<C>(rng, n);
  const std::vector<Fr> scalars = o.skewed ? testing::skewed_scalars(rng, n) : testing::uniform_scalars(rng, n);
  msm::PlanRequest r;
  r.n = n;
  r.sm_count = o.sms;
  r.point_bytes = sizeof(Affine<C>);
  r.xyzz_bytes = sizeof(Xyzz<C>);
  r.window_bits = o.window;
  r.tuning.join_segments = o.join;
  if (o.tables) {
    gpu::MsmTables t = msm::plan_tables(n, sizeof(Affine<C>), size_t{16} << 30, o.sms, (size_t{80} << 30) / 16);
    if (o.window) t = {o.window, msm::make_layout(o.window).digit_windows, n};
    r.window_bits = t.window_bits;
    r.tables = t.tables;
    r.table_stride = t.stride;
    if (t.tables > 1) {
      points.resize(t.points());
      for (size_t i = n; i < points.size(); ++i) points[i] = points[i - n];
    }
  }
  const msm::Plan p = msm::make_plan(r);
  std::printf("%s, 2^%u points, %s scalars, %u SMs: window %u bits, %u digit windows, %u bucket windows of %u "
              "buckets, %u point tables\n",
              std::is_same_v<C, G1Curve> ? "G1" : "G2", o.log_n, o.skewed ? "skewed" : "uniform", o.sms, p.layout.c,
              p.layout.digit_windows, p.layout.windows, p.layout.buckets, p.layout.tables);
  const testing::PoisonedArena<C> arena(p);
  const msm::Buffers<C>& b = arena.b;
  CensusExec<C> ex;
  msm::clear_buckets(ex, p, b);
  const unsigned cur = msm::sort_batch(ex, p, b, scalars.data(), n);
  const uint32_t nnz = *b.nnz, seg = p.first_segment(nnz);
  std::printf("%u pairs with a digit, level 0: %zu segments of %u\n", nnz, size_t((nnz + seg - 1) / seg), seg);
  msm::accumulate_batch(ex, p, b, 0, cur, nnz, points.data());
  std::printf("%u carry levels, %u with work\n", ex.level, ex.working);
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: msm_carry_census LOG2_N [--sms N] [--skewed] [--g2] [--tables] [--window C] [--join R] [--seed S]\n"
               "  LOG2_N 1..24, C 2..24, R >= 1\n");
  return 2;
}

}  // namespace
}  // namespace zkinfer

int main(int argc, char** argv) {
  using namespace zkinfer;
  Options o;
  if (argc < 2) return usage();
  char* end = nullptr;
  o.log_n = unsigned(std::strtoul(argv[1], &end, 10));
  if (*end || o.log_n < 1 || o.log_n > 24) return usage();
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--skewed") {
      o.skewed = true;
    } else if (a == "--g2") {
      o.g2 = true;
    } else if (a == "--tables") {
      o.tables = true;
    } else if (a == "--sms" && i + 1 < argc) {
      const unsigned long v = std::strtoul(argv[++i], &end, 10);
      if (*end || v == 0 || v > 4096) return usage();
      o.sms = unsigned(v);
    } else if (a == "--window" && i + 1 < argc) {
      const unsigned long v = std::strtoul(argv[++i], &end, 10);
      if (*end || v < msm::kMinWindowBits || v > msm::kMaxWindowBits) return usage();
      o.window = unsigned(v);
    } else if (a == "--join" && i + 1 < argc) {
      const unsigned long v = std::strtoul(argv[++i], &end, 10);
      if (*end || v == 0 || v > 1u << 20) return usage();
      o.join = unsigned(v);
    } else if (a == "--seed" && i + 1 < argc) {
      o.seed = std::strtoull(argv[++i], &end, 10);
      if (*end) return usage();
    } else {
      return usage();
    }
  }
  try {
    return o.g2 ? census<G2Curve>(o) : census<G1Curve>(o);
  } catch (const std::exception& e) {  // a plan too large for this machine's memory, say
    std::fprintf(stderr, "msm_carry_census: %s\n", e.what());
    return 1;
  }
}
