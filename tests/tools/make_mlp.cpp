// make_mlp SIZES OUT_DIR [SEED]: writes OUT_DIR/model.onnx, a multilayer perceptron with the
// given layer sizes ("784,128,10") and random weights (tests/support/onnx_builder.h), plus
// OUT_DIR/input.json (one random input in [0, 1]) and OUT_DIR/calibration.json (16 more), for the
// model benchmarks (bench/models_cpu.sh). Prints the parameter count.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "onnx_builder.h"

namespace {
std::string random_input(std::mt19937_64& rng, int64_t n) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::ostringstream s;
  s << "[[";
  for (int64_t i = 0; i < n; ++i) s << (i ? "," : "") << double(int(u(rng) * 1000)) / 1000;
  s << "]]";
  return s.str();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_mlp SIZES OUT_DIR [SEED]   (SIZES like 784,128,10)\n");
    return 2;
  }
  try {
    std::vector<int64_t> sizes;
    std::stringstream ss(argv[1]);
    for (std::string tok; std::getline(ss, tok, ',');) {
      const int64_t v = std::stoll(tok);
      if (v < 1) throw std::invalid_argument("layer sizes must be positive");
      sizes.push_back(v);
    }
    const std::string dir = argv[2];
    const uint64_t seed = argc > 3 ? std::stoull(argv[3]) : 1;
    std::filesystem::create_directories(dir);
    zkinfer::testing::make_mlp(sizes, seed).save(dir + "/model.onnx");
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    std::ofstream(dir + "/input.json") << random_input(rng, sizes[0]) << "\n";
    std::ofstream cal(dir + "/calibration.json");
    cal << "[";
    for (int i = 0; i < 16; ++i) cal << (i ? ",\n" : "") << random_input(rng, sizes[0]);
    cal << "]\n";
    std::printf("%lld\n", (long long)zkinfer::testing::mlp_parameter_count(sizes));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_mlp: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
