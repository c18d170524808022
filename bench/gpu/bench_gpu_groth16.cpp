// Groth16 proving with the CUDA backend and the key resident on the device (DESIGN.md 5: 2^20
// constraints <= 50 ms on an H100): domains 2^16, 2^18 and 2^20 (--quick: 2^12, 2^14). For each,
// a development key of the chain circuit (tests/support/chain_circuit.h: 2^k - 3 constraints, so
// the domain is 2^k) is made with groth16_setup_dev (timed: several seconds at 2^20 on 16 cores,
// extrapolated from 2 cores) and uploaded once into a ResidentKey; then one warm-up proof and the
// median of several timed proofs, each proof verified (outside the timing). Beside it, the same
// proof with the key resident without MSM point tables (CudaBackendConfig::msm_tables = 1) and
// with the G1 MSMs' dedicated Fq square (CudaBackendConfig::g1_dedicated_square, an
// experiment: groth16_resident_square), the proof with the key read from host memory each time
// (the cost a resident key saves), and at the smallest size the CPU backend for a side-by-side
// ratio, the H step's device parts timed apart, and the five MSMs as one set of jobs (G2 beside
// G1) against one after another. The witness is the chain's for a random x_0: full-width
// values, the MSMs' worst case. Timing is host wall-clock around prove().
// Sizes whose estimated time would pass the budget (ZKINFER_GPU_BENCH_BUDGET_S, which
// bench/gpu_check.sh sets, else 220 s) are skipped and listed.
//
//   bench_gpu_groth16 [--out results.json] [--reps N] [--warmup N] [--quick] [--cpu-only]
// --cpu-only runs the same code with the CPU backend in place of CUDA (no GPU needed), to check
// the benchmark itself. Exit status: 0 every proof verified, 1 a proof failed or an error, 2 no
// usable GPU.
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../../tests/support/chain_circuit.h"
#include "../../tests/support/chain_witness.h"
#include "backend.h"
#include "bench_util.h"
#include "cpu/parallel.h"
#include "cuda/buffer.h"
#include "cuda/cuda_backend.h"
#include "cuda/device.h"
#include "cuda/ntt.h"
#include "cuda/pinned_copy.h"
#include "cuda/rows.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/resident_key.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::bench {
namespace {

using namespace zkinfer::prover;

constexpr const char* kUsage =
    "usage: bench_gpu_groth16 [--out results.json] [--reps N] [--warmup N] [--quick] [--cpu-only]\n";

// A file in the temporary directory, removed on scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() / ("zkinfer-bench-" + std::to_string(::getpid()) + "-" + name))
                 .string()) {}
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

class Bench {
 public:
  // plain: the same device without MSM point tables (CudaBackendConfig::msm_tables = 1), or null;
  // square: with CudaBackendConfig::g1_dedicated_square, or null.
  Bench(const Options& o, Backend& device, Backend* plain, Backend* square, Backend& cpu, bool on_gpu)
      : o_(o),
        device_(device),
        plain_(plain),
        square_(square),
        cpu_(cpu),
        on_gpu_(on_gpu),
        t0_(Clock::now()),
        budget_s_(budget_seconds()) {}

  void size(unsigned lg, bool with_cpu) {
    const std::string tag = "2^" + std::to_string(lg);
    const uint32_t n_c = testing::chain_constraints_for_domain(lg);
    const int reps = std::max(1, std::min(o_.reps, lg >= 20 ? 5 : 7));
    const int warmup = std::min(o_.warmup, 1);
    const int host_reps = std::min(reps, 3);
    // Setup and proofs grow about linearly: scale the previous size's costs.
    if (prev_lg_) {
      const double f = double(uint64_t{1} << (lg - prev_lg_));
      const int proofs = (warmup + reps) * (1 + (plain_ ? 1 : 0) + (square_ ? 1 : 0)) + host_reps + 2;
      const double estimate = f * (prev_setup_s_ + prev_proof_s_ * proofs);
      if (seconds_since(t0_) + estimate > budget_s_) {
        std::printf("groth16 %-8s skipped: about %.0f s would pass the %.0f s budget\n", tag.c_str(), estimate,
                    budget_s_);
        skipped_.push_back(tag);
        return;
      }
    }
    TempFile file("groth16-" + tag + ".zkey");
    auto t = Clock::now();
    groth16_setup_dev(testing::chain_circuit(n_c), file.path);
    const double setup_s = seconds_since(t);
    const Zkey key = Zkey::open(file.path, ZkeyCheck::kHeader);  // just written by us
    const VerificationKey vk = verification_key(key);
    std::mt19937_64 rng(20240607 + lg);  // fixed: the same witness every run
    const std::vector<Fr> w = testing::chain_witness(n_c, Fr::from_u64(rng() | 1) * Fr::from_u64(rng()));
    const std::vector<Fr> pub = public_signals(key, w);

    t = Clock::now();
    const ResidentKey rk(key, device_);
    const double upload_s = seconds_since(t);
    std::printf("groth16 %-8s %u constraints: dev setup %.1f s, key resident in %.3f s (%.0f MiB on the device)\n",
                tag.c_str(), n_c, setup_s, upload_s, double(rk.device_bytes()) / (1 << 20));

    auto prove_series = [&](const std::string& name, Backend& be, const ResidentKey* resident, int nwarm, int nreps) {
      bool ok = true;
      std::vector<double> ms;
      for (int i = 0; i < nwarm + nreps; ++i) {
        const auto t1 = Clock::now();
        const Proof p = resident ? prove(*resident, w, be) : prove(key, w, be);
        const double elapsed = seconds_since(t1) * 1e3;
        if (i >= nwarm) ms.push_back(elapsed);
        ok = verify(vk, pub, p) && ok;  // every proof, warm-up included
      }
      Result r{name + "_" + tag, "proof", double(n_c), 1, 0, summarise(ms), ok};
      std::printf("%-36s %10.3f ms median of %d (min %.3f)%s\n", r.name.c_str(), r.t.median_ms, r.t.reps, r.t.min_ms,
                  ok ? ", verified" : "  PROOF DID NOT VERIFY");
      std::fflush(stdout);
      results_.push_back(r);
      return r.t.median_ms;
    };
    const double resident_ms = prove_series("groth16_resident", device_, &rk, warmup, reps);
    if (plain_) {
      t = Clock::now();
      const ResidentKey plain_key(key, *plain_);
      std::printf("    without MSM point tables: key resident in %.3f s (%.0f MiB)\n", seconds_since(t),
                  double(plain_key.device_bytes()) / (1 << 20));
      prove_series("groth16_resident_no_tables", *plain_, &plain_key, warmup, reps);
    }
    if (square_) {
      const ResidentKey square_key(key, *square_);
      prove_series("groth16_resident_square", *square_, &square_key, warmup, reps);
    }
    // Where the time of one resident proof goes.
    ProveOptions opts;
    opts.progress = [](std::string_view step, double s) {
      std::printf("    %-28.*s %9.3f ms\n", int(step.size()), step.data(), s * 1e3);
    };
    if (!verify(vk, pub, prove(rk, w, device_, opts))) results_.back().check_ok = false;
    if (on_gpu_) h_parts(key, rk, w);
    msm_jobs_overlap(key, rk, w);
    prove_series("groth16_key_from_host", device_, nullptr, 0, host_reps);
    if (with_cpu) {
      const double cpu_ms = prove_series("groth16_cpu", cpu_, nullptr, std::min(warmup, 1), std::min(reps, 3));
      std::printf("groth16 %-8s resident %s %.3f ms vs cpu %.3f ms: %.1fx\n", tag.c_str(), device_.name().c_str(),
                  resident_ms, cpu_ms, cpu_ms / resident_ms);
    }
    prev_lg_ = lg;
    prev_setup_s_ = setup_s + upload_s;
    prev_proof_s_ = resident_ms * 1e-3;
  }

  // The H step's parts on the device, each the median of 5 (CUDA events on one stream): the
  // constraint rows' evaluation, the two batched NTTs with the quotient, and h's copy back. Then
  // the parts of "witness to the backend" (host wall-clock): the device allocation a proof makes,
  // the copy in through the page-locked chunks, and its two halves alone (the host copy into
  // page-locked memory, the DMA from it), to tell which of them a proof's 4 ms at 2^20 are.
  void h_parts(const Zkey& key, const ResidentKey& rk, const std::vector<Fr>& w) {
    const SparseRows m = rk.rows().view();
    const uint32_t n = key.header().domain_size;
    gpu::DeviceBuffer<uint32_t> starts(std::vector<uint32_t>(m.row_start.begin(), m.row_start.end()));
    gpu::DeviceBuffer<uint32_t> cols(std::vector<uint32_t>(m.cols.begin(), m.cols.end()));
    gpu::DeviceBuffer<Fr> values(std::vector<Fr>(m.values.begin(), m.values.end())), z(w), abc(3 * size_t{n});
    gpu::NttDriver ntt;
    gpu::PinnedCopier pinned;
    std::vector<Fr> h(n);
    const cudaStream_t st = ntt.stream();
    const Fr shift = snarkjs_coset_shift(unsigned(std::countr_zero(n)));
    auto timed = [&](const char* what, auto&& fn) {
      cudaEvent_t a, b;
      ZK_CUDA_CHECK(cudaEventCreate(&a));
      ZK_CUDA_CHECK(cudaEventCreate(&b));
      std::vector<double> ms;
      for (int i = 0; i < 6; ++i) {
        ZK_CUDA_CHECK(cudaEventRecord(a, st));
        fn();
        ZK_CUDA_CHECK(cudaEventRecord(b, st));
        ZK_CUDA_CHECK(cudaEventSynchronize(b));
        float t = 0;
        ZK_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
        if (i > 0) ms.push_back(t);  // the first run builds tables
      }
      ZK_CUDA_CHECK(cudaEventDestroy(a));
      ZK_CUDA_CHECK(cudaEventDestroy(b));
      std::printf("      H part: %-34s %9.3f ms\n", what, summarise(ms).median_ms);
    };
    timed("A z, B z, a b (rows.cu)", [&] {
      gpu::eval_constraint_rows(starts.data(), cols.data(), values.data(), z.data(), n, abc.data(), st);
    });
    timed("NTTs and quotient (ntt.cu)", [&] { ntt.coset_quotient(abc.data(), unsigned(std::countr_zero(n)), shift, st); });
    timed("h to the host (page-locked chunks)", [&] { pinned.download(h.data(), abc.data(), n * sizeof(Fr), st); });

    const size_t bytes = w.size() * sizeof(Fr);
    auto host_timed = [&](const char* what, auto&& fn) {
      std::vector<double> ms;
      for (int i = 0; i < 6; ++i) {
        const auto t1 = Clock::now();
        fn();
        ZK_CUDA_CHECK(cudaStreamSynchronize(st));
        if (i > 0) ms.push_back(seconds_since(t1) * 1e3);
      }
      std::printf("      witness part: %-29s %9.3f ms\n", what, summarise(ms).median_ms);
    };
    host_timed("device allocation and free", [&] { gpu::DeviceBuffer<Fr> fresh(w.size()); });
    host_timed("in through page-locked chunks", [&] { pinned.upload(z.data(), w.data(), bytes, st); });
    void* locked = nullptr;
    ZK_CUDA_CHECK(cudaMallocHost(&locked, bytes));
    host_timed("host copy to page-locked", [&] { cpu::parallel_memcpy(locked, w.data(), bytes); });
    host_timed("DMA from page-locked", [&] {
      ZK_CUDA_CHECK(cudaMemcpyAsync(z.data(), locked, bytes, cudaMemcpyHostToDevice, st));
    });
    ZK_CUDA_CHECK(cudaFreeHost(locked));
    std::fflush(stdout);
  }

  // The proof's five MSMs as one set of jobs (Backend::msm_jobs: on CUDA, G2 beside the G1 ones)
  // against the same jobs one after another (the interface's default), each the median of 5
  // (host wall-clock); the results must agree.
  void msm_jobs_overlap(const Zkey& key, const ResidentKey& rk, const std::vector<Fr>& w) {
    const ZkeyHeader& hd = key.header();
    const auto z = device_.resident_fr(w.data(), w.size());
    const auto h = device_.constraint_quotient_resident(rk.resident_rows(), *z, hd.domain_size,
                                                        snarkjs_coset_shift(unsigned(std::countr_zero(hd.domain_size))));
    ProofMsms m[2];
    auto jobs = [&](ProofMsms& o, bool together) {
      const ProofMsmJobs j = proof_msm_jobs(rk, *z, *h, &o);  // the prover's own job list
      if (together)
        device_.msm_jobs(j.g1, j.g2);
      else
        device_.Backend::msm_jobs(j.g1, j.g2);
    };
    double med[2];
    for (int together = 0; together < 2; ++together) {
      std::vector<double> ms;
      for (int i = 0; i < 6; ++i) {
        const auto t1 = Clock::now();
        jobs(m[together], together);
        if (i > 0) ms.push_back(seconds_since(t1) * 1e3);
      }
      med[together] = summarise(ms).median_ms;
    }
    const bool same = m[0].a == m[1].a && m[0].b1 == m[1].b1 && m[0].b2 == m[1].b2 && m[0].c == m[1].c && m[0].h == m[1].h;
    std::printf("    five MSMs one after another %9.3f ms, as jobs (G2 beside G1) %9.3f ms: %.2fx%s\n", med[0], med[1],
                med[0] / med[1], same ? "" : "  RESULTS DIFFER");
    if (!same) results_.back().check_ok = false;
    std::fflush(stdout);
  }

  int finish(const gpu::GpuInfo& g) {
    const int status = report("bench_gpu_groth16", g, o_, results_, "a proof did not verify", true);
    if (!skipped_.empty()) std::printf("skipped for time: %zu sizes\n", skipped_.size());
    std::printf("total %.1f s\n", seconds_since(t0_));
    return status;
  }

 private:
  const Options& o_;
  Backend& device_;
  Backend* plain_;
  Backend* square_;
  Backend& cpu_;
  bool on_gpu_;
  Clock::time_point t0_;
  double budget_s_;
  unsigned prev_lg_ = 0;
  double prev_setup_s_ = 0, prev_proof_s_ = 0;
  std::vector<Result> results_;
  std::vector<std::string> skipped_;
};

int run(int argc, char** argv) {
  bool cpu_only = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--cpu-only")
      cpu_only = true;
    else
      args.push_back(argv[i]);
  }
  const Options o = parse_options(int(args.size()), args.data(), kUsage);
  gpu::GpuInfo g;
  std::unique_ptr<Backend> device, plain, square;
  if (cpu_only) {
    g.name = "none (--cpu-only)";
    device = make_cpu_backend();
  } else {
    g = gpu::probe_gpu();
    std::string why;
    if (g.usable) device = gpu::make_cuda_backend({}, &why);
    if (!device) {
      std::fprintf(stderr, "bench_gpu_groth16: %s\n", g.usable ? why.c_str() : g.reason.c_str());
      return 2;
    }
    std::printf("device: %s\n", gpu::describe(g).c_str());
    gpu::CudaBackendConfig no_tables;
    no_tables.msm_tables = 1;
    plain = gpu::make_cuda_backend(no_tables, &why);
    gpu::CudaBackendConfig dedicated_square;
    dedicated_square.g1_dedicated_square = true;
    square = gpu::make_cuda_backend(dedicated_square, &why);
  }
  std::printf("target (H100, DESIGN.md 5): Groth16 at 2^20 constraints <= 50 ms with the key resident\n");
  auto cpu = make_cpu_backend();
  Bench b(o, *device, plain.get(), square.get(), *cpu, !cpu_only);
  const unsigned first = o.quick ? 12 : 16, last = o.quick ? 14 : 20;
  for (unsigned lg = first; lg <= last; lg += 2) b.size(lg, lg == first);
  return b.finish(g);
}

}  // namespace
}  // namespace zkinfer::bench

int main(int argc, char** argv) {
  return zkinfer::bench::bench_main("bench_gpu_groth16", zkinfer::bench::run, argc, argv);
}
