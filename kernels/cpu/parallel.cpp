#include "parallel.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace zkinfer::cpu {

unsigned default_threads() {
  if (const char* s = std::getenv("ZKINFER_THREADS")) {
    long v = std::strtol(s, nullptr, 10);
    if (v > 0) return (unsigned)v;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

void parallel_memcpy(void* dst, const void* src, size_t bytes, unsigned threads, size_t min_piece) {
  if (bytes == 0) return;
  if (threads == 0) threads = default_threads();
  const size_t pieces = std::min<size_t>(threads, std::max<size_t>(1, bytes / std::max<size_t>(min_piece, 1)));
  // Pieces end on multiples of 64 bytes: with an aligned dst no two threads write one cache line.
  const size_t lines = (bytes + 63) / 64;
  parallel_chunks(lines, unsigned(pieces), [&](size_t begin, size_t end, unsigned) {
    const size_t from = begin * 64, to = std::min(end * 64, bytes);
    std::memcpy(static_cast<char*>(dst) + from, static_cast<const char*>(src) + from, to - from);
  });
}

}  // namespace zkinfer::cpu
