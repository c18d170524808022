#include "parallel.h"

#include <cstdlib>

namespace zkinfer::cpu {

unsigned default_threads() {
  if (const char* s = std::getenv("ZKINFER_THREADS")) {
    long v = std::strtol(s, nullptr, 10);
    if (v > 0) return (unsigned)v;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

}  // namespace zkinfer::cpu
