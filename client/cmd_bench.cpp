// `zkinfer bench`: runs MSM (G1, G2) and NTT on a backend at growing sizes, checks every
// result against an independent computation, and prints median timings.
//
// MSM check: the points are generated with known discrete logs (P_i = k_i G with
// k_i = k_0 + i t), so sum s_i P_i must equal (sum s_i k_i) G, a single scalar multiplication.
// NTT check: a few outputs are recomputed by Horner evaluation at w^j (or g w^j for the coset),
// and the inverse transform must give back the input.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.h"
#include "backend_select.h"
#include "commands.h"
#include "cpu/parallel.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::cli {
namespace {

struct BenchOptions {
  BackendOptions backend;
  unsigned msm_min = 12, msm_max = 18;
  unsigned g2_max = 16;
  unsigned ntt_min = 12, ntt_max = 20;
  unsigned repeats = 3;
  uint64_t seed = 0;
  std::string json_out;
};

struct Row {
  std::string op;
  unsigned log_n;
  double median_s;
  bool ok;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class Fn>
double median_time(unsigned repeats, Fn&& fn) {
  std::vector<double> ts;
  for (unsigned r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    ts.push_back(seconds_since(t0));
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

// n affine points P_i = (k0 + i t) G, built by repeated addition in parallel chunks.
template <class C>
std::vector<Affine<C>> points_with_known_logs(const Affine<C>& gen, size_t n, const Fr& k0,
                                              const Fr& t) {
  std::vector<Affine<C>> out(n);
  Jacobian<C> g = Jacobian<C>::from_affine(gen);
  Jacobian<C> step = scalar_mul(g, t.to_canonical());
  cpu::parallel_for(n, [&](size_t b, size_t e) {
    Jacobian<C> p = scalar_mul(g, (k0 + t * Fr::from_u64(b)).to_canonical());
    std::vector<Jacobian<C>> jac(e - b);
    for (size_t i = b; i < e; ++i) {
      jac[i - b] = p;
      p += step;
    }
    std::vector<typename C::Field> scratch(e - b);
    batch_to_affine(jac.data(), out.data() + b, e - b, scratch.data());
  });
  return out;
}

template <class C, class Msm>
Row bench_msm(const char* op, const Affine<C>& gen, unsigned log_n, const BenchOptions& o,
              std::mt19937_64& rng, Msm&& msm) {
  size_t n = size_t{1} << log_n;
  std::fprintf(stderr, "  %s 2^%u: generating %zu points...\n", op, log_n, n);
  Fr k0 = field_random<Fr>(rng), t = field_random<Fr>(rng);
  auto points = points_with_known_logs(gen, n, k0, t);
  std::vector<Fr> scalars(n);
  for (auto& s : scalars) s = field_random<Fr>(rng);

  Jacobian<C> result;
  double med = median_time(o.repeats, [&] { msm(result, scalars.data(), points.data(), n); });

  Fr log_sum = Fr::zero(), k = k0;
  for (size_t i = 0; i < n; ++i, k += t) log_sum += scalars[i] * k;
  Jacobian<C> expected = scalar_mul(Jacobian<C>::from_affine(gen), log_sum.to_canonical());
  return {op, log_n, med, result == expected};
}

Row bench_ntt(const char* op, Backend& be, unsigned log_n, NttKind kind, const BenchOptions& o,
              std::mt19937_64& rng) {
  size_t n = size_t{1} << log_n;
  std::vector<Fr> input(n);
  for (auto& x : input) x = field_random<Fr>(rng);
  const Fr shift = fr_coset_generator();
  bool coset = kind == NttKind::kCosetForward;

  std::vector<Fr> data;
  double med = median_time(o.repeats, [&] {
    data = input;
    be.ntt(data.data(), n, kind, shift);
  });

  const Fr omega = fr_root_of_unity(log_n);
  bool ok = true;
  for (int probe = 0; probe < 4; ++probe) {
    size_t j = rng() % n;
    Fr x = omega.pow(j);
    if (coset) x *= shift;
    Fr acc = Fr::zero();
    for (size_t i = n; i-- > 0;) acc = acc * x + input[i];
    ok = ok && acc == data[j];
  }
  be.ntt(data.data(), n, coset ? NttKind::kCosetInverse : NttKind::kInverse, shift);
  ok = ok && data == input;
  return {op, log_n, med, ok};
}

void run_bench(const BenchOptions& o) {
  if (o.msm_min > o.msm_max || o.ntt_min > o.ntt_max || o.msm_max > 26 || o.ntt_max > 28)
    throw std::invalid_argument("size range is empty or too large (MSM up to 2^26, NTT up to 2^28)");
  if (o.repeats == 0) throw std::invalid_argument("--repeats must be at least 1");

  uint64_t seed = o.seed ? o.seed : std::random_device{}();
  std::mt19937_64 rng(seed);
  auto be = select_backend(o.backend);
  std::fprintf(stderr, "zkinfer bench: backend %s, %u threads, seed %llu, median of %u runs\n",
               be->name().c_str(), o.backend.threads ? o.backend.threads : cpu::default_threads(),
               (unsigned long long)seed, o.repeats);

  std::vector<Row> rows;
  auto msm1 = [&](G1Jacobian& r, const Fr* s, const G1Affine* p, size_t n) { be->msm_g1(r, s, p, n); };
  auto msm2 = [&](G2Jacobian& r, const Fr* s, const G2Affine* p, size_t n) { be->msm_g2(r, s, p, n); };
  for (unsigned k = o.msm_min; k <= o.msm_max; k += 2)
    rows.push_back(bench_msm("msm_g1", g1_generator(), k, o, rng, msm1));
  for (unsigned k = o.msm_min; k <= std::min(o.g2_max, o.msm_max); k += 2)
    rows.push_back(bench_msm("msm_g2", g2_generator(), k, o, rng, msm2));
  for (unsigned k = o.ntt_min; k <= o.ntt_max; k += 2) {
    std::fprintf(stderr, "  ntt 2^%u...\n", k);
    rows.push_back(bench_ntt("ntt", *be, k, NttKind::kForward, o, rng));
    rows.push_back(bench_ntt("ntt_coset", *be, k, NttKind::kCosetForward, o, rng));
  }

  std::printf("%-10s %8s %12s %16s  %s\n", "op", "size", "median ms", "elements/s", "check");
  bool all_ok = true;
  for (const Row& r : rows) {
    double n = double(size_t{1} << r.log_n);
    std::printf("%-10s %6s%-2u %12.2f %16.0f  %s\n", r.op.c_str(), "2^", r.log_n, r.median_s * 1e3,
                n / r.median_s, r.ok ? "ok" : "MISMATCH");
    all_ok = all_ok && r.ok;
  }
  if (!o.json_out.empty()) {
    std::ofstream f(o.json_out);
    if (!f) throw std::runtime_error("cannot write " + o.json_out);
    f << "{\"backend\":\"" << be->name() << "\",\"seed\":" << seed << ",\"results\":[";
    for (size_t i = 0; i < rows.size(); ++i)
      f << (i ? "," : "") << "{\"op\":\"" << rows[i].op << "\",\"log_n\":" << rows[i].log_n
        << ",\"median_s\":" << rows[i].median_s << ",\"ok\":" << (rows[i].ok ? "true" : "false") << "}";
    f << "]}\n";
  }
  if (!all_ok) throw std::runtime_error("a result did not match its independent check");
  std::printf("all results verified\n");
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "MSM and NTT timings on a backend, each result verified");
  add_backend_options(cmd, o->backend);
  cmd->add_option("--msm-min", o->msm_min, "Smallest MSM size, log2")->capture_default_str();
  cmd->add_option("--msm-max", o->msm_max, "Largest G1 MSM size, log2")->capture_default_str();
  cmd->add_option("--g2-max", o->g2_max, "Largest G2 MSM size, log2")->capture_default_str();
  cmd->add_option("--ntt-min", o->ntt_min, "Smallest NTT size, log2")->capture_default_str();
  cmd->add_option("--ntt-max", o->ntt_max, "Largest NTT size, log2")->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "Timed runs per size (median reported)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed (0: fresh)");
  cmd->add_option("--json", o->json_out, "Also write the results as JSON to this file");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace zkinfer::cli
