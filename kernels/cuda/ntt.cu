// The CUDA NTT: thin kernels over the steps in ntt_steps.h, and the driver that owns tables,
// events and buffers (ntt.h).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device_scope.h"
#include "cuda/ntt.h"
#include "cuda/ntt_steps.h"
#include "cuda/pinned_copy.h"

namespace zkinfer::gpu {
namespace {

// ---- kernels ------------------------------------------------------------------------------------

// Each block takes tiles in turn and runs the pass's phases on each, a barrier after every phase.
// kRadix4: NttDriverConfig::radix4's instance.
template <bool kRadix4>
__global__ void __launch_bounds__(ntt::kMaxThreads) ntt_pass_kernel(const ntt::PassArgs args) {
  extern __shared__ ntt::Half smem[];
  const ntt::SharedTile sh{smem, smem + (1u << args.pass.tile_log())};
  const uint32_t phases = ntt::pass_phases<kRadix4>(args.pass);
  for (uint64_t tile = blockIdx.x; tile < args.tiles; tile += gridDim.x) {
    for (uint32_t ph = 0; ph < phases; ++ph) {
      ntt::run_pass_phase<kRadix4>(args, ph, tile, threadIdx.x, blockDim.x, sh);
      __syncthreads();
    }
  }
}

using PassKernel = void (*)(ntt::PassArgs);
PassKernel pass_kernel(bool radix4) { return radix4 ? ntt_pass_kernel<true> : ntt_pass_kernel<false>; }

__global__ void __launch_bounds__(ntt::kPermuteThreads)
    ntt_permute_kernel(const ntt::PermuteArgs args) {
  __shared__ ntt::Half lo[ntt::kPermuteSlots], hi[ntt::kPermuteSlots];
  const ntt::SharedTile sh{lo, hi};
  for (uint64_t item = blockIdx.x; item < args.items; item += gridDim.x) {
    if (!ntt::permute_active(args, item)) continue;  // the same for every thread of the block
    for (uint32_t ph = 0; ph < ntt::kPermutePhaseCount; ++ph) {
      ntt::run_permute_phase(args, ph, item, threadIdx.x, blockDim.x, sh);
      __syncthreads();
    }
  }
}

// out[i] = scale * base^i for i < count.
__global__ void ntt_powers_kernel(Fr* out, const Fr base, const Fr scale, uint32_t count) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) ntt::store(out + i, ntt::power_entry(base, scale, i));
}

// A non-last pass's twiddle table: out[i] = ntt::pass_twiddle_entry(ps, level, i), i < 2^ls.
__global__ void ntt_pass_twiddles_kernel(Fr* out, const ntt::Pass ps, const ntt::Powers level) {
  const uint64_t count = uint64_t{1} << ps.ls;
  for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += uint64_t(gridDim.x) * blockDim.x)
    ntt::store(out + i, ntt::pass_twiddle_entry(ps, level, i));
}

// The same table in Shoup form (NttDriverConfig::shoup_pass_twiddles).
__global__ void ntt_pass_shoup_kernel(ntt::ShoupTwiddle* out, const ntt::Pass ps, const ntt::Powers level) {
  const uint64_t count = uint64_t{1} << ps.ls;
  for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += uint64_t(gridDim.x) * blockDim.x) {
    const ntt::ShoupTwiddle t = ntt::pass_twiddle_shoup_entry(ps, level, i);
    ntt::store(&out[i].w, t.w);
    ntt::store(&out[i].wq, t.wq);
  }
}

// abc[i] = a_i b_i - c_i for the three vectors a, b, c of n elements at abc.
__global__ void ntt_quotient_kernel(Fr* abc, uint64_t n) {
  for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += uint64_t(gridDim.x) * blockDim.x)
    ntt::store(abc + i, ntt::quotient_entry(ntt::load(abc + i), ntt::load(abc + n + i), ntt::load(abc + 2 * n + i)));
}

constexpr unsigned kFillThreads = 256;

void fill(Fr* table, const ntt::PowerFill& f, cudaStream_t stream) {
  if (f.count == 0) return;
  const unsigned blocks = unsigned((f.count + kFillThreads - 1) / kFillThreads);
  ntt_powers_kernel<<<blocks, kFillThreads, 0, stream>>>(table + f.offset, f.base, f.scale,
                                                         uint32_t(f.count));
  ZK_CUDA_CHECK_LAUNCH();
}

// Grid for a grid-stride loop over `work` items.
unsigned grid_for(uint64_t work) { return unsigned(std::min<uint64_t>(work, INT_MAX)); }

// ---- RAII over streams, events and the current device ------------------------------------------

class Event {
 public:
  Event() { ZK_CUDA_CHECK(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming)); }
  ~Event() {
    if (e_) (void)cudaEventDestroy(e_);
  }
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

class Stream {
 public:
  Stream() { ZK_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (s_) (void)cudaStreamDestroy(s_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};


// Scratch vectors of the out-of-place schedule, one per stream that runs transforms, so streams
// still overlap; past this many streams the least recently used one is shared (in turn).
constexpr size_t kScratchSlots = 4;

// Coset tables kept per domain and direction: the prover uses one shift per domain (snarkjs's),
// a second slot spares a rebuild when a caller alternates two.
constexpr size_t kCosetSlots = 2;

bool is_inverse(NttKind k) { return k == NttKind::kInverse || k == NttKind::kCosetInverse; }
bool is_coset(NttKind k) { return k == NttKind::kCosetForward || k == NttKind::kCosetInverse; }

void check_args(unsigned log_n, NttKind kind, const Fr& shift, size_t batch, const void* data) {
  if (log_n > kFrMaxLogDomain)
    throw std::invalid_argument("NTT of 2^" + std::to_string(log_n) +
                                " points: Fr allows at most 2^" + std::to_string(kFrMaxLogDomain));
  if (kind != NttKind::kForward && kind != NttKind::kInverse && kind != NttKind::kCosetForward &&
      kind != NttKind::kCosetInverse)
    throw std::invalid_argument("NTT: unknown NttKind");
  if (is_coset(kind) && shift.is_zero())
    throw std::invalid_argument("NTT coset shift must be non-zero");
  // 2^62 bytes at most: offsets stay far from overflow.
  if (batch > (uint64_t{1} << (62 - 5 - log_n)))
    throw std::invalid_argument("NTT: batch of " + std::to_string(batch) + " vectors of 2^" +
                                std::to_string(log_n) + " points is too large");
  if (batch > 0 && data == nullptr) throw std::invalid_argument("NTT: data is null");
  if (reinterpret_cast<uintptr_t>(data) % 16 != 0)
    throw std::invalid_argument("NTT: data is not 16-byte aligned");
}

}  // namespace

// ---- driver state -------------------------------------------------------------------------------

struct NttDriver::Scratch {
  cudaStream_t stream = nullptr;  // the stream of its latest transform
  DeviceBuffer<Fr> buf;           // grown as needed
  Event done;                     // recorded after its latest transform
  uint64_t last_used = 0;
};

struct NttDriver::Resources {
  Stream stream;
  DeviceBuffer<Fr> stage_fwd, stage_inv;  // 2^tile_log - 1 entries each
  DeviceBuffer<ntt::ShoupTwiddle> shoup_fwd, shoup_inv;  // the same in Shoup form (shoup_twiddles)
  DeviceBuffer<Fr> staging;               // run_host's device copy, grown as needed
  PinnedCopier pinned;                    // run_host's and coset_quotient_host's copies
  std::vector<std::unique_ptr<Scratch>> scratch;
  uint64_t scratch_tick = 0;
};

struct NttDriver::Coset {
  struct Use {
    cudaStream_t stream;
    Event done;
  };
  bool valid = false;
  Fr g = Fr::zero();
  uint64_t last_used = 0;
  DeviceBuffer<Fr> table;  // lo (2^m entries) then hi
  Event ready;
  std::vector<Use> uses;  // one event per stream that read the table since it was filled

  // Blocks until no queued kernel reads the table any more.
  void wait_unused() {
    for (Use& u : uses) ZK_CUDA_CHECK(cudaEventSynchronize(u.done.get()));
    uses.clear();
  }
  void used_on(cudaStream_t s) {
    auto it = std::find_if(uses.begin(), uses.end(), [&](const Use& u) { return u.stream == s; });
    if (it == uses.end()) {
      uses.push_back(Use{s, Event()});
      it = uses.end() - 1;
    }
    ZK_CUDA_CHECK(cudaEventRecord(it->done.get(), s));
  }
};

struct NttDriver::Domain {
  unsigned log_n = 0;
  Fr size_inv = Fr::one();
  DeviceBuffer<Fr> level;  // forward powers of w, then inverse (ntt::powers_fills)
  // The non-last passes' twiddle tables (ntt::pass_tables), forward then inverse, in Montgomery
  // form or (NttDriverConfig::shoup_pass_twiddles) Shoup's; both empty when switched off, not
  // needed (one tile) or not allocatable.
  DeviceBuffer<Fr> pass_twiddles;
  DeviceBuffer<ntt::ShoupTwiddle> pass_shoup;
  uint64_t pass_twiddle_entries = 0;
  Event ready;
  std::array<Coset, kCosetSlots> fwd_cosets, inv_cosets;
  uint64_t tick = 0;

  const Fr* level_table(bool inverse) const {
    return level.data() + (inverse ? ntt::powers_entries(log_n) : 0);
  }
  const Fr* pass_twiddle_table(bool inverse) const {
    if (pass_twiddles.size() == 0) return nullptr;
    return pass_twiddles.data() + (inverse ? pass_twiddle_entries : 0);
  }
  const ntt::ShoupTwiddle* pass_shoup_table(bool inverse) const {
    if (pass_shoup.size() == 0) return nullptr;
    return pass_shoup.data() + (inverse ? pass_twiddle_entries : 0);
  }
};

NttDriver::NttDriver(const NttDriverConfig& cfg) {
  ZK_CUDA_CHECK(cudaGetDevice(&device_));
  int optin = 0;
  ZK_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device_));
  unsigned fit = 0;  // largest tile the device's shared memory per block holds
  while (fit < ntt::kMaxTileLog && (size_t(sizeof(Fr)) << (fit + 1)) <= size_t(optin)) ++fit;
  if (fit == 0) throw std::runtime_error("NTT: the device has too little shared memory per block");
  ntt::Shape shape;
  shape.tile_log = std::min(cfg.tile_log ? cfg.tile_log : ntt::kDefaultTileLog, fit);
  shape.threads = cfg.threads ? cfg.threads : ntt::kDefaultThreads;
  shape.min_columns_log = cfg.min_columns_log >= 0 ? uint32_t(cfg.min_columns_log) : ntt::kDefaultMinColumnsLog;
  shape.radix4 = cfg.radix4;
  shape.last_rows_log = cfg.last_rows_log;
  shape = ntt::checked(shape);
  tile_log_ = shape.tile_log;
  threads_ = shape.threads;
  min_columns_log_ = shape.min_columns_log;
  last_rows_log_ = shape.last_rows_log;
  reorder_pass_ = cfg.reorder_pass;
  pass_twiddle_tables_ = cfg.pass_twiddle_tables;
  shoup_twiddles_ = cfg.shoup_twiddles;
  shoup_pass_twiddles_ = cfg.shoup_pass_twiddles;
  radix4_ = shape.radix4;

  // The limit belongs to the kernel instance, not to this driver: set for the largest tile the
  // device holds, so building a driver with smaller tiles cannot fail the launches of a larger
  // one alive beside it. Occupancy follows each launch's own shared memory size.
  ZK_CUDA_CHECK(cudaFuncSetAttribute(pass_kernel(radix4_), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     int(sizeof(Fr) << fit)));
  res_ = std::make_unique<Resources>();
  res_->stage_fwd = DeviceBuffer<Fr>(ntt::stage_entries(tile_log_));
  res_->stage_inv = DeviceBuffer<Fr>(ntt::stage_entries(tile_log_));
  const cudaStream_t s = res_->stream.get();
  for (unsigned k = 1; k <= tile_log_; ++k) {
    fill(res_->stage_fwd.data(), ntt::stage_fill(k, false), s);
    fill(res_->stage_inv.data(), ntt::stage_fill(k, true), s);
  }
  if (shoup_twiddles_) {
    // A few thousand entries, made on the host (shoup_twiddle needs w' from each).
    for (const bool inverse : {false, true})
      (inverse ? res_->shoup_inv : res_->shoup_fwd) =
          DeviceBuffer<ntt::ShoupTwiddle>(ntt::shoup_stage_table(tile_log_, inverse));
  }
  // Any stream may read the stage tables from now on.
  ZK_CUDA_CHECK(cudaStreamSynchronize(s));
}

NttDriver::~NttDriver() {
  // Kernels on callers' streams may still read the tables; the buffers are freed after them.
  int prev = -1;
  (void)cudaGetDevice(&prev);
  if (prev != device_) (void)cudaSetDevice(device_);
  (void)cudaDeviceSynchronize();
  for (auto& d : domains_) d.reset();
  res_.reset();
  if (prev != device_ && prev >= 0) (void)cudaSetDevice(prev);
}

cudaStream_t NttDriver::stream() const { return res_->stream.get(); }

NttDriver::Domain& NttDriver::domain(unsigned log_n, cudaStream_t stream) {
  std::unique_ptr<Domain>& slot = domains_[log_n];
  if (slot) {
    ZK_CUDA_CHECK(cudaStreamWaitEvent(stream, slot->ready.get(), 0));
    return *slot;
  }
  auto d = std::make_unique<Domain>();
  d->log_n = log_n;
  const zkinfer::Domain dom(log_n);
  d->size_inv = dom.size_inv;
  d->level = DeviceBuffer<Fr>(2 * ntt::powers_entries(log_n));
  for (const ntt::PowerFill& f : ntt::powers_fills(log_n, dom.omega, Fr::one()))
    fill(d->level.data(), f, stream);
  for (const ntt::PowerFill& f : ntt::powers_fills(log_n, dom.omega_inv, Fr::one()))
    fill(d->level.data() + ntt::powers_entries(log_n), f, stream);
  // Transforms that fit one tile have no non-last pass.
  const ntt::PassTables pt =
      pass_twiddle_tables_ && log_n > tile_log_ ? ntt::pass_tables(log_n, shape()) : ntt::PassTables{};
  if (pt.count > 0) {
    try {
      if (shoup_pass_twiddles_)
        d->pass_shoup = DeviceBuffer<ntt::ShoupTwiddle>(2 * pt.entries);
      else
        d->pass_twiddles = DeviceBuffer<Fr>(2 * pt.entries);
    } catch (const CudaError& e) {
      if (e.code() != cudaErrorMemoryAllocation) throw;
      // Out of memory: the passes compute their twiddles instead.
    }
  }
  if (d->pass_twiddles.size() != 0 || d->pass_shoup.size() != 0) {
    d->pass_twiddle_entries = pt.entries;
    for (const bool inverse : {false, true}) {
      const ntt::Powers level = ntt::powers_at(d->level_table(inverse), log_n);
      const uint64_t base = inverse ? pt.entries : 0;
      for (uint32_t i = 0; i < pt.count; ++i) {
        const uint64_t count = uint64_t{1} << pt.passes[i].ls;
        const unsigned grid = grid_for((count + kFillThreads - 1) / kFillThreads);
        if (d->pass_shoup.size() != 0)
          ntt_pass_shoup_kernel<<<grid, kFillThreads, 0, stream>>>(d->pass_shoup.data() + base + pt.offset[i],
                                                                   pt.passes[i], level);
        else
          ntt_pass_twiddles_kernel<<<grid, kFillThreads, 0, stream>>>(d->pass_twiddles.data() + base + pt.offset[i],
                                                                      pt.passes[i], level);
        ZK_CUDA_CHECK_LAUNCH();
      }
    }
  }
  ZK_CUDA_CHECK(cudaEventRecord(d->ready.get(), stream));
  slot = std::move(d);
  return *slot;
}

NttDriver::Coset& NttDriver::coset(Domain& d, const Fr& g, bool inverse, cudaStream_t stream) {
  std::array<Coset, kCosetSlots>& slots = inverse ? d.inv_cosets : d.fwd_cosets;
  ++d.tick;
  for (Coset& c : slots) {
    if (c.valid && c.g == g) {
      c.last_used = d.tick;
      ZK_CUDA_CHECK(cudaStreamWaitEvent(stream, c.ready.get(), 0));
      return c;
    }
  }
  Coset* c = &slots[0];
  for (Coset& s : slots)
    if (!s.valid || s.last_used < c->last_used) c = &s;
  c->wait_unused();
  c->valid = false;
  if (c->table.size() == 0) c->table = DeviceBuffer<Fr>(ntt::powers_entries(d.log_n));
  // Forward: g^i. Inverse: (1/n) * g^-i (ntt::make_inputs).
  const auto fills = inverse ? ntt::powers_fills(d.log_n, g.inverse(), d.size_inv)
                             : ntt::powers_fills(d.log_n, g, Fr::one());
  for (const ntt::PowerFill& f : fills) fill(c->table.data(), f, stream);
  ZK_CUDA_CHECK(cudaEventRecord(c->ready.get(), stream));
  c->g = g;
  c->valid = true;
  c->last_used = d.tick;
  return *c;
}

NttDriver::Scratch* NttDriver::scratch(size_t elements, cudaStream_t stream) {
  auto& slots = res_->scratch;
  Scratch* sl = nullptr;
  for (auto& x : slots)
    if (x->stream == stream) sl = x.get();
  if (!sl && slots.size() < kScratchSlots) sl = slots.emplace_back(std::make_unique<Scratch>()).get();
  if (!sl) {
    sl = slots.front().get();
    for (auto& x : slots)
      if (x->last_used < sl->last_used) sl = x.get();
  }
  // The buffer's earlier transforms come first, also when they ran on another stream (or on a
  // destroyed stream whose handle was reused).
  ZK_CUDA_CHECK(cudaStreamWaitEvent(stream, sl->done.get(), 0));
  sl->stream = stream;
  sl->last_used = ++res_->scratch_tick;
  if (sl->buf.size() >= elements) return sl;
  ZK_CUDA_CHECK(cudaEventSynchronize(sl->done.get()));
  sl->buf = DeviceBuffer<Fr>();
  try {
    sl->buf = DeviceBuffer<Fr>(elements);
  } catch (const CudaError& e) {
    if (e.code() != cudaErrorMemoryAllocation) throw;
    return nullptr;  // the in-place schedule needs no scratch
  }
  return sl;
}

void NttDriver::release_scratch() {
  DeviceScope scope(device_);
  for (auto& x : res_->scratch) ZK_CUDA_CHECK(cudaEventSynchronize(x->done.get()));
  res_->scratch.clear();
}

ntt::Shape NttDriver::shape() const {
  ntt::Shape sh;
  sh.tile_log = tile_log_;
  sh.threads = threads_;
  sh.min_columns_log = min_columns_log_;
  sh.radix4 = radix4_;
  sh.last_rows_log = last_rows_log_;
  return sh;
}

bool NttDriver::has_pass_twiddle_tables(unsigned log_n) const {
  return log_n < domains_.size() && domains_[log_n] &&
         (domains_[log_n]->pass_twiddles.size() != 0 || domains_[log_n]->pass_shoup.size() != 0);
}

size_t NttDriver::scratch_bytes() const {
  size_t bytes = 0;
  for (const auto& x : res_->scratch) bytes += x->buf.size() * sizeof(Fr);
  return bytes;
}

void NttDriver::prepare(unsigned log_n, cudaStream_t stream) {
  check_args(log_n, NttKind::kForward, Fr::one(), 0, nullptr);
  DeviceScope scope(device_);
  (void)domain(log_n, stream);
}

void NttDriver::run(Fr* data, unsigned log_n, NttKind kind, const Fr& coset_shift, size_t batch,
                    cudaStream_t stream) {
  check_args(log_n, kind, coset_shift, batch, data);
  // One point: every kind is the identity (1/n = 1, p(g) = a_0).
  if (batch == 0 || log_n == 0) return;
  DeviceScope scope(device_);
  const bool inverse = is_inverse(kind), coset_kind = is_coset(kind);
  Domain& d = domain(log_n, stream);

  Coset* c = coset_kind ? &coset(d, coset_shift, inverse, stream) : nullptr;
  ntt::Inputs in = ntt::make_inputs(
      data, log_n, batch, inverse, inverse ? res_->stage_inv.data() : res_->stage_fwd.data(),
      d.level_table(inverse), c ? c->table.data() : nullptr, d.size_inv);
  Scratch* scr = !reorder_pass_ && log_n > tile_log_ ? scratch(batch << log_n, stream) : nullptr;
  if (scr) in.scratch = scr->buf.data();
  in.pass_twiddles = d.pass_twiddle_table(inverse);
  in.pass_shoup = d.pass_shoup_table(inverse);
  if (shoup_twiddles_) in.stage_shoup = (inverse ? res_->shoup_inv : res_->shoup_fwd).data();
  const ntt::Schedule sc = ntt::make_schedule(in, shape());
  for (uint32_t i = 0; i < sc.count; ++i) {
    const ntt::PassLaunch& pl = sc.passes[i];
    pass_kernel(pl.args.pass.radix4)<<<grid_for(pl.args.tiles), pl.threads, pl.smem_bytes, stream>>>(
        pl.args);
    ZK_CUDA_CHECK_LAUNCH();
  }
  if (sc.permute) {
    ntt_permute_kernel<<<grid_for(sc.perm.items), sc.perm_threads, 0, stream>>>(sc.perm);
    ZK_CUDA_CHECK_LAUNCH();
  }
  if (c) c->used_on(stream);
  if (scr) ZK_CUDA_CHECK(cudaEventRecord(scr->done.get(), stream));
}

void NttDriver::run_host(Fr* data, unsigned log_n, NttKind kind, const Fr& coset_shift,
                         size_t batch) {
  check_args(log_n, kind, coset_shift, batch, data);
  if (batch == 0) return;
  DeviceScope scope(device_);
  const size_t n = size_t{1} << log_n;
  // As many vectors at a time as device memory takes, halving on allocation failure.
  size_t group = batch;
  while (res_->staging.size() < group * n) {
    try {
      res_->staging = DeviceBuffer<Fr>();
      res_->staging = DeviceBuffer<Fr>(group * n);
    } catch (const CudaError& e) {
      if (e.code() != cudaErrorMemoryAllocation) throw;
      if (group == 1)
        throw std::runtime_error("NTT of 2^" + std::to_string(log_n) +
                                 " points: not enough free "
                                 "device memory for one vector (" +
                                 std::to_string((n * sizeof(Fr)) >> 20) + " MiB): " + e.what());
      group = (group + 1) / 2;
    }
  }
  const cudaStream_t s = res_->stream.get();
  Fr* dev = res_->staging.data();
  for (size_t v = 0; v < batch; v += group) {
    const size_t m = std::min(group, batch - v);
    res_->pinned.upload(dev, data + v * n, m * n * sizeof(Fr), s);
    run(dev, log_n, kind, coset_shift, m, s);
    res_->pinned.download(data + v * n, dev, m * n * sizeof(Fr), s);
  }
}

void NttDriver::coset_quotient(Fr* abc, unsigned log_n, const Fr& shift, cudaStream_t stream) {
  run(abc, log_n, NttKind::kInverse, Fr::one(), 3, stream);
  run(abc, log_n, NttKind::kCosetForward, shift, 3, stream);
  DeviceScope scope(device_);
  const uint64_t n = uint64_t{1} << log_n;
  constexpr unsigned kThreads = 256;
  ntt_quotient_kernel<<<grid_for((n + kThreads - 1) / kThreads), kThreads, 0, stream>>>(abc, n);
  ZK_CUDA_CHECK_LAUNCH();
}

void NttDriver::coset_quotient_host(Fr* a, const Fr* b, const Fr* c, unsigned log_n, const Fr& shift) {
  check_args(log_n, NttKind::kCosetForward, shift, 3, a);
  if (!b || !c) throw std::invalid_argument("NTT quotient: null input");
  DeviceScope scope(device_);
  const size_t n = size_t{1} << log_n;
  if (res_->staging.size() < 3 * n) {
    try {
      res_->staging = DeviceBuffer<Fr>();
      res_->staging = DeviceBuffer<Fr>(3 * n);
    } catch (const CudaError& e) {
      if (e.code() != cudaErrorMemoryAllocation) throw;
      throw std::runtime_error("Groth16 quotient of 2^" + std::to_string(log_n) + " points: not enough free device "
                               "memory for its three vectors (" + std::to_string((3 * n * sizeof(Fr)) >> 20) +
                               " MiB): " + e.what());
    }
  }
  const cudaStream_t s = res_->stream.get();
  Fr* dev = res_->staging.data();
  res_->pinned.upload(dev, a, n * sizeof(Fr), s);
  res_->pinned.upload(dev + n, b, n * sizeof(Fr), s);
  res_->pinned.upload(dev + 2 * n, c, n * sizeof(Fr), s);
  coset_quotient(dev, log_n, shift, s);
  res_->pinned.download(a, dev, n * sizeof(Fr), s);
}

}  // namespace zkinfer::gpu
