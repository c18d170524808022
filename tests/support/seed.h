// Random seeds for tests: fresh each run unless ZKINFER_TEST_SEED is set, always printed,
// so a failure can be replayed with the same values.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace zkinfer::testing {

inline uint64_t test_seed() {
  if (const char* s = std::getenv("ZKINFER_TEST_SEED")) return std::strtoull(s, nullptr, 0);
  std::random_device rd;
  return (uint64_t(rd()) << 32) | rd();
}

// A generator seeded for the current test; the seed goes to stdout and the XML report.
inline std::mt19937_64 seeded_rng() {
  uint64_t seed = test_seed();
  std::cout << "[ seed     ] ZKINFER_TEST_SEED=" << seed << "\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return std::mt19937_64(seed);
}

}  // namespace zkinfer::testing
