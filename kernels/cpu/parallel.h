// Minimal fork-join parallelism for the CPU backend: split [0, n) into contiguous chunks
// over a fixed number of std::threads. The CPU kernels run few, large parallel regions
// (one per MSM window batch or NTT pass), so creating threads per region costs microseconds
// against milliseconds of work and needs no pool state shared between callers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace zkinfer::cpu {

// Threads to use by default: hardware concurrency, overridable with ZKINFER_THREADS.
unsigned default_threads();

// Calls fn(begin, end, chunk_index) for `chunks` contiguous ranges covering [0, n), each on
// its own thread (the caller's thread runs the first). Exceptions are rethrown in the caller.
template <class Fn>
void parallel_chunks(size_t n, unsigned chunks, Fn&& fn) {
  if (n == 0) return;
  chunks = (unsigned)std::max<size_t>(1, std::min<size_t>(chunks, n));
  if (chunks == 1) {
    fn(size_t{0}, n, 0u);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mu;
  auto run = [&](unsigned c) {
    size_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    try {
      fn(begin, end, c);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(chunks - 1);
  for (unsigned c = 1; c < chunks; ++c) threads.emplace_back(run, c);
  run(0);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

// dst[0, bytes) = src[0, bytes), split into contiguous pieces of at least min_piece bytes over
// up to `threads` threads (0: the default count). One core copies at a fraction of what the
// memory system moves: the CUDA backend's uploads through page-locked chunks were bound by
// this copy (kernels/cuda/pinned_copy.h).
void parallel_memcpy(void* dst, const void* src, size_t bytes, unsigned threads = 0,
                     size_t min_piece = size_t{1} << 20);

// parallel_for over indices with the default thread count; fn(begin, end).
template <class Fn>
void parallel_for(size_t n, Fn&& fn, unsigned threads = 0) {
  if (threads == 0) threads = default_threads();
  parallel_chunks(n, threads, [&](size_t b, size_t e, unsigned) { fn(b, e); });
}

}  // namespace zkinfer::cpu
