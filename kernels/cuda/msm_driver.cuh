// Internals of MsmDriver (msm.h): the CUDA executor of msm_steps.h's steps, the driver state,
// and the batch loop with input copies. Included by msm.cu and the per-curve files msm_g1.cu,
// msm_g2.cu and msm_g1_square.cu only.
#pragma once

#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/check.h"
#include "cuda/device_scope.h"
#include "cuda/msm.h"
#include "cuda/msm_steps.h"
#include "cuda/pinned_copy.h"

namespace zkinfer::gpu {
namespace msm_detail {

// One thread of a step; the barrier-free steps need nothing else (msm_steps.h).
template <class Step>
__global__ void __launch_bounds__(Step::kBlock) step_kernel(const Step step, size_t threads) {
  const size_t t = size_t(blockIdx.x) * Step::kBlock + threadIdx.x;
  if (t < threads) step(t);
}
// The same with registers capped for kBlocks blocks per SM (msm::MinBlocks).
template <class Step, unsigned kBlocks>
__global__ void __launch_bounds__(Step::kBlock, kBlocks) capped_step_kernel(const Step step, size_t threads) {
  const size_t t = size_t(blockIdx.x) * Step::kBlock + threadIdx.x;
  if (t < threads) step(t);
}

// Radix-sort scratch for `pairs` pairs of 32-bit keys (all bits: an upper bound for any width).
inline size_t sort_temp_bytes(size_t pairs) {
  size_t bytes = 0;
  cub::DoubleBuffer<uint32_t> k(nullptr, nullptr), v(nullptr, nullptr);
  ZK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, k, v, int(pairs), 0, 32));
  return bytes;
}

// Timing events of one call (RunInfo's phase times), destroyed with it.
class PhaseEvents {
 public:
  PhaseEvents() = default;
  PhaseEvents(const PhaseEvents&) = delete;
  PhaseEvents& operator=(const PhaseEvents&) = delete;
  ~PhaseEvents() {
    for (cudaEvent_t e : ev_) (void)cudaEventDestroy(e);
  }
  // Records a new event on `stream`; returns its number.
  size_t mark(cudaStream_t stream) {
    cudaEvent_t e = nullptr;
    ZK_CUDA_CHECK(cudaEventCreate(&e));
    ev_.push_back(e);
    ZK_CUDA_CHECK(cudaEventRecord(e, stream));
    return ev_.size() - 1;
  }
  void wait(size_t i) const { ZK_CUDA_CHECK(cudaEventSynchronize(ev_[i])); }
  // Milliseconds between two recorded events, both complete.
  float ms(size_t a, size_t b) const {
    float t = 0;
    ZK_CUDA_CHECK(cudaEventElapsedTime(&t, ev_[a], ev_[b]));
    return t;
  }

 private:
  std::vector<cudaEvent_t> ev_;
};

// The executor msm_steps.h's run order expects, on one stream.
struct CudaExec {
  cudaStream_t stream;
  void* sort_temp;
  size_t sort_temp_bytes;
  uint32_t* host_word;  // page-locked
  PhaseEvents* events = nullptr;       // where first_level_queued() marks, if anywhere
  std::vector<size_t>* marks = nullptr;

  template <class Step>
  void launch(const Step& step, size_t threads) {
    if (const unsigned grid = grid_for<Step>(threads)) {
      step_kernel<Step><<<grid, Step::kBlock, 0, stream>>>(step, threads);
      ZK_CUDA_CHECK_LAUNCH();
    }
  }
  template <class Step, unsigned kBlocks>
  void launch(const msm::MinBlocks<Step, kBlocks>& step, size_t threads) {
    if (const unsigned grid = grid_for<Step>(threads)) {
      capped_step_kernel<Step, kBlocks><<<grid, Step::kBlock, 0, stream>>>(static_cast<const Step&>(step), threads);
      ZK_CUDA_CHECK_LAUNCH();
    }
  }
  // Blocks for `threads` threads of Step (0: nothing to launch).
  template <class Step>
  static unsigned grid_for(size_t threads) {
    const size_t grid = (threads + Step::kBlock - 1) / Step::kBlock;
    if (grid > 0x7fffffffu) throw std::length_error("GPU MSM: launch of " + std::to_string(threads) + " threads");
    return unsigned(grid);
  }
  unsigned sort_pairs(uint32_t* const keys[2], uint32_t* const vals[2], size_t m, unsigned end_bit) {
    cub::DoubleBuffer<uint32_t> k(keys[0], keys[1]), v(vals[0], vals[1]);
    size_t bytes = sort_temp_bytes;
    ZK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(sort_temp, bytes, k, v, int(m), 0, int(end_bit), stream));
    return unsigned(k.selector);
  }
  void zero(void* p, size_t bytes) { ZK_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream)); }
  void first_level_queued() {
    if (events) marks->push_back(events->mark(stream));
  }
  uint32_t read_u32(const uint32_t* p) {
    ZK_CUDA_CHECK(cudaMemcpyAsync(host_word, p, sizeof(uint32_t), cudaMemcpyDeviceToHost, stream));
    ZK_CUDA_CHECK(cudaStreamSynchronize(stream));
    return *host_word;
  }
  template <class T>
  void download(T* host, const T* p, size_t n) {
    ZK_CUDA_CHECK(cudaMemcpyAsync(host, p, n * sizeof(T), cudaMemcpyDeviceToHost, stream));
    ZK_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
};

// Grow-only device allocation; a failed allocation is MsmOutOfMemory, not a crash.
class DeviceBytes {
 public:
  DeviceBytes() = default;
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
  ~DeviceBytes() { release(); }

  void* ensure(size_t bytes, const char* what) {
    if (bytes <= cap_) return p_;
    release();
    if (cudaError_t e = cudaMalloc(&p_, bytes); e != cudaSuccess) {
      p_ = nullptr;
      (void)cudaGetLastError();
      if (e != cudaErrorMemoryAllocation) check(e, "cudaMalloc", __FILE__, __LINE__);
      size_t free = 0, total = 0;
      (void)cudaMemGetInfo(&free, &total);
      throw MsmOutOfMemory("GPU MSM: cannot allocate " + std::to_string(bytes >> 20) + " MiB of device memory for " +
                           what + " (" + std::to_string(free >> 20) + " of " + std::to_string(total >> 20) +
                           " MiB free); set MsmConfig::memory_limit_bytes or max_batch_points lower");
    }
    cap_ = bytes;
    return p_;
  }
  void release() {
    if (p_) (void)cudaFree(p_);
    p_ = nullptr;
    cap_ = 0;
  }
  void* get() const { return p_; }
  size_t capacity() const { return cap_; }

 private:
  void* p_ = nullptr;
  size_t cap_ = 0;
};

// Held while a driver sizes its plan by the free device memory and allocates.
inline std::mutex& allocation_mutex() {
  static std::mutex m;
  return m;
}

// Device (or managed) memory of `device`: read in place. Anything else is copied in.
inline bool on_device(const void* p, int device, const char* what) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged) return false;
  if (a.type == cudaMemoryTypeDevice && a.device != device)
    throw std::invalid_argument(std::string("GPU MSM: ") + what + " lie on device " + std::to_string(a.device) +
                                ", the driver runs on device " + std::to_string(device));
  if (reinterpret_cast<uintptr_t>(p) % 16 != 0)
    throw std::invalid_argument(std::string("GPU MSM: ") + what + " in device memory are not 16-byte aligned");
  return true;
}

}  // namespace msm_detail

struct MsmDriver::Impl {
  int device = 0;
  MsmConfig cfg;
  unsigned sm_count = 1;
  size_t total_mem = 0;
  cudaStream_t compute = nullptr, copy = nullptr;
  cudaEvent_t copied[2] = {nullptr, nullptr}, consumed[2] = {nullptr, nullptr};
  uint32_t* host_word = nullptr;
  msm_detail::DeviceBytes arena, sort_temp, staging[2];
  PinnedCopier pinned;
  RunInfo last;

  Impl(int dev, const MsmConfig& c);
  ~Impl();
  void destroy() noexcept;
  size_t held_bytes() const {
    return arena.capacity() + sort_temp.capacity() + staging[0].capacity() + staging[1].capacity();
  }
  size_t budget_bytes() const {
    if (cfg.memory_limit_bytes) return cfg.memory_limit_bytes;
    size_t free = 0, total = 0;
    ZK_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    const size_t avail = free + held_bytes(), reserve = total / 32;
    return avail > reserve ? avail - reserve : 0;
  }

  // tables: null for plain points.
  template <class C>
  Jacobian<C> run(const Fr* scalars, const Affine<C>* points, size_t n, const MsmTables* tables = nullptr);
  template <class C>
  void precompute(Affine<C>* table, size_t n, const MsmTables& t);
};

template <class C>
void MsmDriver::Impl::precompute(Affine<C>* table, size_t n, const MsmTables& t) {
  using namespace msm_detail;
  if (t.tables == 0) throw std::invalid_argument("GPU MSM: point tables must be at least 1");
  if (t.window_bits == 0 && t.tables > 1) throw std::invalid_argument("GPU MSM: point tables need their window width");
  if (n > t.stride) throw std::invalid_argument("GPU MSM: point tables of stride " + std::to_string(t.stride) +
                                                " cannot hold " + std::to_string(n) + " points");
  if (n == 0 || t.tables == 1) return;
  const msm::Layout l = msm::make_layout(t.window_bits, t.tables);  // throws for a bad width
  if (table == nullptr) throw std::invalid_argument("GPU MSM: null point table");
  DeviceScope scope(device);
  if (!on_device(table, device, "point tables"))
    throw std::invalid_argument("GPU MSM: point tables must lie in device memory");
  CudaExec ex{compute, nullptr, 0, host_word};
  msm::precompute_tables(ex, table, n, t.stride, l);
  ZK_CUDA_CHECK(cudaStreamSynchronize(compute));
}

template <class C>
Jacobian<C> MsmDriver::Impl::run(const Fr* scalars, const Affine<C>* points, size_t n, const MsmTables* tables) {
  using namespace msm_detail;
  last = RunInfo{};
  if (n == 0) return Jacobian<C>::infinity();
  if (scalars == nullptr || points == nullptr) throw std::invalid_argument("GPU MSM: null input");
  DeviceScope scope(device);
  const bool s_dev = on_device(scalars, device, "scalars"), p_dev = on_device(points, device, "points");
  const bool staged = !s_dev || !p_dev;
  if (tables && tables->tables > 1 && !p_dev)
    throw std::invalid_argument("GPU MSM: point tables must lie in device memory");

  msm::PlanRequest req;
  req.n = n;
  req.sm_count = sm_count;
  req.point_bytes = sizeof(Affine<C>);
  req.xyzz_bytes = sizeof(Xyzz<C>);
  req.window_bits = cfg.window_bits;
  if (tables && tables->tables > 1) {
    req.window_bits = tables->window_bits;
    req.tables = tables->tables;
    req.table_stride = tables->stride;
  }
  req.max_batch = cfg.max_batch_points;
  if (staged && cfg.host_batch_points)
    req.max_batch = req.max_batch ? std::min(req.max_batch, cfg.host_batch_points) : cfg.host_batch_points;
  // Two drivers of one process (the CUDA backend's msm_jobs) must not both count the same free
  // memory: the budget and the allocations below are taken under one lock.
  std::unique_lock<std::mutex> allocating(allocation_mutex());
  req.budget_bytes = budget_bytes();
  req.staging_bytes_per_point = 2 * ((s_dev ? 0 : sizeof(Fr)) + (p_dev ? 0 : sizeof(Affine<C>)));
  req.sort_temp_bytes = sort_temp_bytes;
  req.tuning = cfg.tuning;
  const msm::Plan plan = msm::make_plan(req);

  // Staging slot layout: scalars, then points (256-byte aligned).
  const size_t s_bytes = s_dev ? 0 : msm::aligned(plan.batch * sizeof(Fr));
  const size_t slot_bytes = s_bytes + (p_dev ? 0 : plan.batch * sizeof(Affine<C>));
  const size_t arena_need = msm::arena_bytes(plan);
  const size_t sort_need = std::max<size_t>(sort_temp_bytes(plan.pair_capacity()), 1);
  // The budget counted what the driver holds as available: free it all before growing any.
  if (arena.capacity() < arena_need || sort_temp.capacity() < sort_need ||
      (staged && staging[0].capacity() < slot_bytes)) {
    arena.release();
    sort_temp.release();
    for (auto& s : staging) s.release();
  }
  void* a = arena.ensure(arena_need, "MSM buckets and sorted pairs");
  sort_temp.ensure(sort_need, "the radix sort");
  if (staged)
    for (auto& s : staging) s.ensure(slot_bytes, "input staging");
  allocating.unlock();
  const msm::Buffers<C> b = msm::carve<C>(plan, a);
  CudaExec ex{compute, sort_temp.get(), sort_temp.capacity(), host_word};

  const size_t batches = (n + plan.batch - 1) / plan.batch;
  last = RunInfo{plan.layout.c, plan.layout.tables, plan.batch, batches, s_dev, p_dev};
  auto count = [&](size_t k) { return std::min(plan.batch, n - k * plan.batch); };
  auto batch_scalars = [&](size_t k) -> const Fr* {
    return s_dev ? scalars + k * plan.batch : static_cast<const Fr*>(staging[k % 2].get());
  };
  auto batch_points = [&](size_t k) -> const Affine<C>* {
    if (p_dev) return points + k * plan.batch;
    return reinterpret_cast<const Affine<C>*>(static_cast<const char*>(staging[k % 2].get()) + s_bytes);
  };
  // Copies batch k into its slot once the batch that used the slot before is done.
  auto stage = [&](size_t k) {
    if (!staged) return;
    const unsigned slot = unsigned(k % 2);
    const size_t off = k * plan.batch, nb = count(k);
    char* dst = static_cast<char*>(staging[slot].get());
    ZK_CUDA_CHECK(cudaStreamWaitEvent(copy, consumed[slot], 0));
    if (!s_dev) pinned.upload(dst, scalars + off, nb * sizeof(Fr), copy);
    if (!p_dev) pinned.upload(dst + s_bytes, points + off, nb * sizeof(Affine<C>), copy);
    ZK_CUDA_CHECK(cudaEventRecord(copied[slot], copy));
  };

  // Phase times (RunInfo): events around each step on the compute stream; a wait for a copy
  // falls into the sort's time.
  PhaseEvents ev;
  std::vector<size_t> t_first, first_of_batch;  // the point additions queued (carry levels after)
  ex.events = &ev;
  ex.marks = &t_first;
  const size_t t_start = ev.mark(compute);
  msm::clear_buckets(ex, plan, b);
  stage(0);
  std::vector<size_t> t_batch;  // per batch: start, sorted, accumulated
  for (size_t k = 0; k < batches; ++k) {
    const unsigned slot = unsigned(k % 2);
    t_batch.push_back(ev.mark(compute));
    if (staged) ZK_CUDA_CHECK(cudaStreamWaitEvent(compute, copied[slot], 0));
    const unsigned cur = msm::sort_batch(ex, plan, b, batch_scalars(k), count(k));
    t_batch.push_back(ev.mark(compute));
    const uint32_t nnz = ex.read_u32(b.nnz);
    const size_t marks_before = t_first.size();
    msm::accumulate_batch(ex, plan, b, k, cur, nnz, batch_points(k));
    t_batch.push_back(ev.mark(compute));
    // A batch with no non-zero digit queues no accumulation, hence no mark.
    first_of_batch.push_back(t_first.size() > marks_before ? t_first.back() : SIZE_MAX);
    if (staged) ZK_CUDA_CHECK(cudaEventRecord(consumed[slot], compute));
    // Issued after the accumulation is queued: the host copies into page-locked memory while
    // the GPU works.
    if (k + 1 < batches) stage(k + 1);
  }
  const Jacobian<C> result = msm::reduce_buckets(ex, plan, b);  // waits for the stream
  const size_t t_end = ev.mark(compute);
  ev.wait(t_end);
  for (size_t k = 0; k < batches; ++k) {
    last.sort_ms += ev.ms(t_batch[3 * k], t_batch[3 * k + 1]);
    last.accumulate_ms += ev.ms(t_batch[3 * k + 1], t_batch[3 * k + 2]);
  }
  for (size_t k = 0; k < batches; ++k)
    if (first_of_batch[k] != SIZE_MAX) last.carry_levels_ms += ev.ms(first_of_batch[k], t_batch[3 * k + 2]);
  last.reduce_ms = ev.ms(t_batch.back(), t_end);
  last.device_ms = ev.ms(t_start, t_end);
  return result;
}

}  // namespace zkinfer::gpu
