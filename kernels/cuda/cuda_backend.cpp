// Tested where tests/gpu runs on a device (first on an H100, 2026-11-26).
#include "cuda/cuda_backend.h"

#include <algorithm>
#include <bit>
#include <exception>
#include <optional>
#include <span>
#include <utility>
#include <vector>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/device_scope.h"
#include "cuda/msm.h"
#include "cuda/ntt.h"
#include "cuda/pinned_copy.h"
#include "cuda/rows.h"
#include "split_backend.h"
#if ZKINFER_HAVE_NCCL
#include "cuda/nccl_group.h"
#endif

namespace zkinfer::gpu {

class NcclGroup;  // nccl_group.h, in builds with ZKINFER_NCCL; never made in others

namespace {

std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

class DeviceOutOfMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A device array of n T, or a clear DeviceOutOfMemory naming `what` when the device lacks the
// memory (DeviceBuffer leaves no CUDA error behind).
template <class T>
DeviceBuffer<T> allocate_or_explain(size_t n, const std::string& what) {
  try {
    return DeviceBuffer<T>(n);
  } catch (const CudaError& e) {
    if (e.code() != cudaErrorMemoryAllocation) throw;
    size_t free = 0, total = 0;
    (void)cudaMemGetInfo(&free, &total);
    throw DeviceOutOfMemory("GPU out of memory: " + what + " need " + mib(n * sizeof(T)) + ", " + mib(free) +
                            " of " + mib(total) + " are free (a smaller key, or the CPU backend)");
  }
}

// Host data copied into a device array through `stream` and the backend's page-locked chunks,
// then waited for: that stream does not synchronise with others. Straight from pageable memory
// (a witness, the mapped .zkey) the copy ran at 4-9 GB/s on an H200; through the chunks it
// overlaps the host-side copy with the DMA (bench_gpu_msm: 55 GB/s page-locked).
template <class T>
void upload_now(DeviceBuffer<T>& dst, const T* host, size_t n, cudaStream_t stream, PinnedCopier& copier) {
  if (!n) return;
  copier.upload(dst.data(), host, n * sizeof(T), stream);
  ZK_CUDA_CHECK(cudaStreamSynchronize(stream));
}

// An array (points, or a proof's scalars) copied once into device memory of `device`; MSMs read
// it in place.
template <class A>
class DeviceResident final : public ResidentArray<A> {
 public:
  DeviceResident(const A* host, size_t n, int device, cudaStream_t stream, const char* what, PinnedCopier& copier)
      : ResidentArray<A>(host, n),
        device_(device),
        buf_(allocate_or_explain<A>(n, std::to_string(n) + " resident " + what + " values")) {
    upload_now(buf_, host, n, stream, copier);
  }
  // A copy of n values already in this device's memory, with no host array.
  DeviceResident(const A* device_src, size_t n, int device, cudaStream_t stream, const char* what,
                 typename ResidentArray<A>::DeviceOnly tag)
      : ResidentArray<A>(tag, n),
        device_(device),
        buf_(allocate_or_explain<A>(n, std::to_string(n) + " resident " + what + " values")) {
    ZK_CUDA_CHECK(cudaMemcpyAsync(buf_.data(), device_src, n * sizeof(A), cudaMemcpyDeviceToDevice, stream));
    ZK_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  // A copy of src, which lives on this device or another, straight from src's device memory:
  // as an NCCL send where `nccl` holds both devices, else a CUDA peer copy (over NVLink or PCIe
  // peer access where the GPUs have it; the driver stages through the host where they do not).
  // It keeps src's host array, if any. `stream` belongs to `device`.
  DeviceResident(const DeviceResident& src, int device, cudaStream_t stream, const char* what, NcclGroup* nccl)
      : ResidentArray<A>(typename ResidentArray<A>::DeviceOnly{}, src.size(), src.has_host() ? src.host() : nullptr),
        device_(device),
        buf_(allocate_or_explain<A>(src.size(), std::to_string(src.size()) + " resident " + what + " values")) {
    if (!src.size()) return;
    const size_t bytes = src.size() * sizeof(A);
#if ZKINFER_HAVE_NCCL
    if (nccl && nccl->has(device) && nccl->has(src.device())) {
      nccl->copy(buf_.data(), device, src.device_data(), src.device(), bytes);
      return;
    }
#else
    (void)nccl;
#endif
    ZK_CUDA_CHECK(cudaMemcpyPeerAsync(buf_.data(), device, src.device_data(), src.device(), bytes, stream));
    ZK_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  // Points copied in, followed in the same buffer by their MSM point tables (t.tables > 1),
  // which `msm` computes from them on its stream.
  DeviceResident(const A* host, size_t n, int device, const char* what, PinnedCopier& copier, const MsmTables& t,
                 MsmDriver& msm)
      : ResidentArray<A>(host, n),
        device_(device),
        buf_(allocate_or_explain<A>(t.points(), std::to_string(n) + " resident " + what + " points with " +
                                                    std::to_string(t.tables) + " MSM tables")),
        tables_(t) {
    upload_now(buf_, host, n, msm.stream(), copier);
    msm.precompute(buf_.data(), n, t);
  }
  // Values of an array without a host array come back from the device.
  void read(A* out) const override {
    if (this->has_host()) return ResidentArray<A>::read(out);
    DeviceScope scope(device_);
    ZK_CUDA_CHECK(cudaMemcpy(out, buf_.data(), this->size() * sizeof(A), cudaMemcpyDeviceToHost));
  }
  size_t device_bytes() const override { return buf_.size() * sizeof(A); }
  const A* device_data() const { return buf_.data(); }
  int device() const { return device_; }
  // MSM point tables after the values (tables = 1: none).
  const MsmTables& tables() const { return tables_; }

 private:
  int device_;
  DeviceBuffer<A> buf_;
  MsmTables tables_{0, 1, this->size()};
};

// Constraint rows (CSR) copied once into device memory.
class DeviceRows final : public ResidentRows {
 public:
  DeviceRows(const SparseRows& m, int device, cudaStream_t stream, PinnedCopier& copier)
      : ResidentRows(m),
        device_(device),
        row_start_(allocate_or_explain<uint32_t>(m.row_start.size(), "the constraint rows' starts")),
        cols_(allocate_or_explain<uint32_t>(m.cols.size(), "the constraint rows' signals")),
        values_(allocate_or_explain<Fr>(m.values.size(), "the constraint rows' coefficients")) {
    upload_now(row_start_, m.row_start.data(), m.row_start.size(), stream, copier);
    upload_now(cols_, m.cols.data(), m.cols.size(), stream, copier);
    upload_now(values_, m.values.data(), m.values.size(), stream, copier);
  }
  size_t device_bytes() const override {
    return row_start_.size() * sizeof(uint32_t) + cols_.size() * sizeof(uint32_t) + values_.size() * sizeof(Fr);
  }
  int device() const { return device_; }
  const uint32_t* row_start() const { return row_start_.data(); }
  const uint32_t* cols() const { return cols_.data(); }
  const Fr* values() const { return values_.data(); }

 private:
  int device_;
  DeviceBuffer<uint32_t> row_start_, cols_;
  DeviceBuffer<Fr> values_;
};

class CudaBackend final : public Backend {
 public:
  // nccl: the group of a split backend's GPUs, shared by its parts, or null.
  CudaBackend(const GpuInfo& info, int device, const CudaBackendConfig& cfg, std::shared_ptr<NcclGroup> nccl = nullptr)
      : name_("cuda (" + info.name + (nccl ? ", NCCL" : "") + (cfg.g1_dedicated_square ? ", dedicated square" : "") +
              ")"),
        device_(device),
        msm_tables_(cfg.msm_tables),
        nccl_(std::move(nccl)),
        msm_(device, msm_config(cfg)),
        msm_g2_side_(device) {
    ZK_CUDA_CHECK(cudaSetDevice(device));
    ntt_ = std::make_unique<NttDriver>(NttDriverConfig{});
  }

  std::string name() const override { return name_; }

  void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) override {
    msm_.msm_g1(out, scalars, points, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) override {
    msm_.msm_g2(out, scalars, points, n);
  }

  using Backend::msm_g1;
  using Backend::msm_g2;
  std::shared_ptr<const ResidentG1> resident_g1(const G1Affine* points, size_t n) override {
    return make_resident_points(points, n, "G1");
  }
  std::shared_ptr<const ResidentG2> resident_g2(const G2Affine* points, size_t n) override {
    return make_resident_points(points, n, "G2");
  }
  void msm_g1(G1Jacobian& out, const Fr* scalars, const ResidentG1& points, size_t first, size_t n) override {
    points.check_range(first, n);
    msm_over(msm_, out, scalars, points, first, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* scalars, const ResidentG2& points, size_t first, size_t n) override {
    points.check_range(first, n);
    msm_over(msm_, out, scalars, points, first, n);
  }

  std::shared_ptr<const ResidentFr> resident_fr(const Fr* values, size_t n) override {
    return make_resident(values, n, "scalar");
  }
  // An array on a GPU (this one or another: a split backend's h) is copied device to device,
  // through NCCL between two GPUs of this backend's group; anything else as Backend does.
  std::shared_ptr<const ResidentFr> resident_copy(const ResidentFr& from) override {
    const auto* d = dynamic_cast<const DeviceResident<Fr>*>(&from);
    if (!d) return Backend::resident_copy(from);
    DeviceScope scope(device_);
    NcclGroup* nccl = d->device() != device_ ? nccl_.get() : nullptr;
    return std::make_shared<const DeviceResident<Fr>>(*d, device_, msm_.stream(), "scalar", nccl);
  }
  void msm_g1(G1Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG1& points, size_t first,
              size_t n) override {
    run_job(msm_, MsmG1Job{&out, &s, s_first, &points, first, n});
  }
  void msm_g2(G2Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG2& points, size_t first,
              size_t n) override {
    run_job(msm_, MsmG2Job{&out, &s, s_first, &points, first, n});
  }

  // The G2 jobs run on a second driver (its own stream and buffers) on a host thread of their
  // own, while this thread runs the G1 jobs: each side's host round trips and narrow reduction
  // levels leave the GPU to the other. Where the device lacks the memory for both at once, the
  // G2 jobs run afterwards on the first driver.
  void msm_jobs(std::span<const MsmG1Job> g1, std::span<const MsmG2Job> g2) override {
    if (g1.empty() || g2.empty()) return Backend::msm_jobs(g1, g2);
    // Each side stops at its first failure; out of memory is retried below, anything else thrown.
    size_t g1_done = 0, g2_done = 0;
    std::exception_ptr g1_error, g2_error;
    auto run_side = [this](MsmDriver& driver, auto jobs, size_t& done, std::exception_ptr& error) {
      try {
        for (; done < jobs.size(); ++done) run_job(driver, jobs[done]);
      } catch (const MsmOutOfMemory&) {
      } catch (...) {
        error = std::current_exception();
      }
    };
    std::thread side([&] { run_side(msm_g2_side_, g2, g2_done, g2_error); });
    run_side(msm_, g1, g1_done, g1_error);
    side.join();
    if (g1_error) std::rethrow_exception(g1_error);
    if (g2_error) std::rethrow_exception(g2_error);
    if (g1_done < g1.size() || g2_done < g2.size()) {
      // Out of memory with two drivers' buffers: the rest one after another, on one driver,
      // with the NTT's scratch vectors (the quotient is done) freed too.
      msm_g2_side_.release_scratch();
      ntt_->release_scratch();
      for (; g1_done < g1.size(); ++g1_done) run_job(msm_, g1[g1_done]);
      for (; g2_done < g2.size(); ++g2_done) run_job(msm_, g2[g2_done]);
    }
  }

  std::shared_ptr<const ResidentRows> resident_rows(const SparseRows& m) override {
    DeviceScope scope(device_);
    return std::make_shared<const DeviceRows>(m, device_, msm_.stream(), pinned_);
  }

  // Rows and witness on the device (copied in here when they were made elsewhere): the
  // evaluation, both transforms and the quotient run there, and only h comes back.
  void constraint_quotient(Fr* h_out, const ResidentRows& rows, const ResidentFr& z, size_t n,
                           const Fr& shift) override {
    DeviceScope scope(device_);
    quotient_on_device(rows, z, n, shift);
    pinned_.download(h_out, abc_.data(), n * sizeof(Fr), ntt_->stream());
  }

  // h stays on the device for the H MSM: no host array, no copy out and back in (measured on an
  // H200 at 2^20: 2.6 ms out and 3.0 ms back in, plus the host vector's first touch).
  std::shared_ptr<const ResidentFr> constraint_quotient_resident(const ResidentRows& rows, const ResidentFr& z, size_t n,
                                                                 const Fr& shift) override {
    DeviceScope scope(device_);
    quotient_on_device(rows, z, n, shift);
    return std::make_shared<const DeviceResident<Fr>>(abc_.data(), n, device_, ntt_->stream(), "h",
                                                      ResidentFr::DeviceOnly{});
  }

  void ntt(Fr* data, size_t n, NttKind kind, const Fr& coset_shift) override {
    if (!std::has_single_bit(n)) throw std::invalid_argument("NTT size must be a power of two");
    ntt_->run_host(data, unsigned(std::countr_zero(n)), kind, coset_shift, 1);
  }

  void coset_quotient(Fr* a, Fr* b, Fr* c, size_t n, const Fr& shift) override {
    if (!std::has_single_bit(n)) throw std::invalid_argument("NTT size must be a power of two");
    ntt_->coset_quotient_host(a, b, c, unsigned(std::countr_zero(n)), shift);
  }

 private:
  // Rows and witness on the device (copied in here when they were made elsewhere): A z, B z,
  // both transforms and the quotient; h ends in the first n entries of abc_.
  void quotient_on_device(const ResidentRows& rows, const ResidentFr& z, size_t n, const Fr& shift) {
    check_quotient_shapes(rows, z, n);
    if (!std::has_single_bit(n)) throw std::invalid_argument("NTT size must be a power of two");
    std::optional<DeviceRows> own_rows;
    const auto* dr = dynamic_cast<const DeviceRows*>(&rows);
    if (!dr || dr->device() != device_) dr = &own_rows.emplace(rows.host(), device_, msm_.stream(), pinned_);
    std::optional<DeviceResident<Fr>> own_z;
    const auto* dz = dynamic_cast<const DeviceResident<Fr>*>(&z);
    if (!dz || dz->device() != device_) dz = &own_z.emplace(z.host(), z.size(), device_, msm_.stream(), "witness", pinned_);
    if (abc_.size() < 3 * n) {
      abc_ = DeviceBuffer<Fr>();
      abc_ = allocate_or_explain<Fr>(3 * n, "Groth16's A z, B z and C z vectors");
    }
    const cudaStream_t s = ntt_->stream();
    eval_constraint_rows(dr->row_start(), dr->cols(), dr->values(), dz->device_data(), n, abc_.data(), s);
    ntt_->coset_quotient(abc_.data(), unsigned(std::countr_zero(n)), shift, s);
  }

  template <class Job>
  void run_job(MsmDriver& driver, const Job& j) {
    j.scalars->check_range(j.s_first, j.n);
    j.points->check_range(j.first, j.n);
    msm_over(driver, *j.out, device_or_host(*j.scalars) + j.s_first, *j.points, j.first, j.n);
  }

  // out = MSM of scalars with points [first, first + n): through the point tables where this
  // device holds the points with tables, else as for any device or host points.
  template <class C>
  void msm_over(MsmDriver& driver, Jacobian<C>& out, const Fr* scalars, const ResidentArray<Affine<C>>& points,
                size_t first, size_t n) {
    const auto* d = dynamic_cast<const DeviceResident<Affine<C>>*>(&points);
    const bool tables = d && d->device() == device_ && d->tables().tables > 1;
    const Affine<C>* p = device_or_host(points) + first;
    if (tables)
      driver.msm(out, scalars, p, n, d->tables());
    else
      driver.msm(out, scalars, p, n);
  }

  template <class A>
  std::shared_ptr<const ResidentArray<A>> make_resident(const A* values, size_t n, const char* what) {
    DeviceScope scope(device_);
    return std::make_shared<const DeviceResident<A>>(values, n, device_, msm_.stream(), what, pinned_);
  }
  // Points with MSM point tables where CudaBackendConfig::msm_tables and the memory allow
  // (at most 1/16 of the device, and a quarter of it left free after them: a worker keeps
  // several keys and key ranges resident, and the MSMs' scratch must still fit); without, where
  // they do not or their allocation fails.
  template <class A>
  std::shared_ptr<const ResidentArray<A>> make_resident_points(const A* points, size_t n, const char* what) {
    DeviceScope scope(device_);
    if (msm_tables_ != 1 && n > 0) {
      size_t free = 0, total = 0;
      ZK_CUDA_CHECK(cudaMemGetInfo(&free, &total));
      const size_t reserve = total / 4;
      size_t budget = free > reserve ? std::min(total / 16, free - reserve) : 0;
      if (msm_tables_ > 1) budget = std::min(budget, size_t{msm_tables_} * n * sizeof(A));
      const MsmTables t = msm_.plan_tables(n, sizeof(A), budget);
      if (t.tables > 1) {
        try {
          return std::make_shared<const DeviceResident<A>>(points, n, device_, what, pinned_, t, msm_);
        } catch (const DeviceOutOfMemory&) {
        }
      }
    }
    return make_resident(points, n, what);
  }
  // This backend's device copy, or the host array of a resident array made elsewhere (the CPU
  // backend's, another device's): the MSM driver copies those in as for any host input.
  template <class A>
  const A* device_or_host(const ResidentArray<A>& p) const {
    const auto* d = dynamic_cast<const DeviceResident<A>*>(&p);
    return d && d->device() == device_ ? d->device_data() : p.host();
  }

  static MsmConfig msm_config(const CudaBackendConfig& cfg) {
    MsmConfig m;
    m.g1_dedicated_square = cfg.g1_dedicated_square;
    return m;
  }

  std::string name_;
  int device_;
  unsigned msm_tables_;  // CudaBackendConfig::msm_tables
  std::shared_ptr<NcclGroup> nccl_;
  MsmDriver msm_;
  MsmDriver msm_g2_side_;  // msm_jobs' G2 MSMs, beside msm_'s G1 ones
  std::unique_ptr<NttDriver> ntt_;
  DeviceBuffer<Fr> abc_;  // constraint_quotient's three vectors, grown as needed
  PinnedCopier pinned_;   // resident arrays in, h out (when asked for on the host)
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendConfig& cfg, std::string* why_not, std::string* notes) {
  if (notes) notes->clear();
  if (cfg.all_devices) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      (void)cudaGetLastError();
      count = 0;
    }
    std::vector<std::pair<GpuInfo, int>> usable;
    std::string first_reason;
    for (int d = 0; d < std::max(count, 1); ++d) {
      GpuInfo info = probe_gpu(d);
      if (info.usable)
        usable.emplace_back(std::move(info), d);
      else if (first_reason.empty())
        first_reason = info.reason;
    }
    if (usable.empty()) {
      if (why_not) *why_not = first_reason;
      return nullptr;
    }
    std::shared_ptr<NcclGroup> nccl;
#if ZKINFER_HAVE_NCCL
    if (usable.size() > 1) {
      std::vector<int> devices;
      for (const auto& u : usable) devices.push_back(u.second);
      try {
        nccl = std::make_shared<NcclGroup>(devices);
      } catch (const std::exception& e) {
        if (notes) *notes = std::string(e.what()) + "; the GPUs exchange data by CUDA peer copies";
      }
    }
#endif
    std::vector<std::unique_ptr<Backend>> parts;
    for (const auto& [info, d] : usable) parts.push_back(std::make_unique<CudaBackend>(info, d, cfg, nccl));
    return make_split_backend(std::move(parts));
  }
  const GpuInfo info = probe_gpu(cfg.device);
  if (!info.usable) {
    if (why_not) *why_not = info.reason;
    return nullptr;
  }
  return std::make_unique<CudaBackend>(info, cfg.device, cfg);
}

}  // namespace zkinfer::gpu
