// The CPU backend's fork-join helpers (kernels/cpu/parallel.h): every index in exactly one
// chunk, exceptions carried to the caller, and parallel_memcpy (which the CUDA backend's
// page-locked uploads use) copying every byte and nothing past the end, at odd sizes and
// misaligned addresses.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "../support/seed.h"
#include "cpu/parallel.h"

namespace zkinfer {
namespace {

TEST(ParallelChunks, EveryIndexInExactlyOneChunk) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{1000}}) {
    for (unsigned chunks : {1u, 3u, 16u}) {
      std::vector<std::atomic<int>> seen(n);
      std::vector<std::atomic<int>> chunk_used(chunks);
      cpu::parallel_chunks(n, chunks, [&](size_t b, size_t e, unsigned c) {
        ASSERT_LT(c, chunks);
        chunk_used[c]++;
        for (size_t i = b; i < e; ++i) seen[i]++;
      });
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i].load(), 1) << "n=" << n << " chunks=" << chunks << " i=" << i;
      for (unsigned c = 0; c < chunks; ++c) EXPECT_LE(chunk_used[c].load(), 1);
    }
  }
}

TEST(ParallelChunks, AnExceptionReachesTheCaller) {
  EXPECT_THROW(cpu::parallel_chunks(100, 4,
                                    [](size_t b, size_t, unsigned) {
                                      if (b > 0) throw std::runtime_error("chunk failed");
                                    }),
               std::runtime_error);
}

TEST(ParallelMemcpy, CopiesEveryByteAndNothingMore) {
  auto rng = testing::seeded_rng();
  constexpr size_t kGuard = 128;
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4097},
                       (size_t{1} << 20) + 13, (size_t{3} << 20) + 7}) {
    for (unsigned threads : {1u, 3u, 8u}) {
      for (size_t min_piece : {size_t{100}, size_t{1} << 20}) {
        for (size_t misalign : {size_t{0}, size_t{3}}) {
          std::vector<uint8_t> src(bytes + misalign), dst(bytes + misalign + kGuard, 0xee);
          for (auto& b : src) b = uint8_t(rng());
          cpu::parallel_memcpy(dst.data() + misalign, src.data() + misalign, bytes, threads, min_piece);
          SCOPED_TRACE("bytes=" + std::to_string(bytes) + " threads=" + std::to_string(threads) +
                       " min_piece=" + std::to_string(min_piece) + " misalign=" + std::to_string(misalign));
          size_t wrong = 0;
          for (size_t i = 0; i < bytes; ++i) wrong += dst[misalign + i] != src[misalign + i];
          EXPECT_EQ(wrong, 0u);
          for (size_t i = 0; i < misalign; ++i) EXPECT_EQ(dst[i], 0xee) << "before the start, byte " << i;
          for (size_t i = 0; i < kGuard; ++i) EXPECT_EQ(dst[misalign + bytes + i], 0xee) << "past the end, byte " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace zkinfer
