// Progress reports of long steps (setup, proving): each step's name and the seconds it took.
// The library never prints; the command line turns reports into lines on stderr.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

namespace zkinfer::prover {

// Empty: silent.
using ProgressFn = std::function<void(std::string_view step, double seconds)>;

// Reports the time since construction, or since the previous step, as each step ends.
class StepTimer {
 public:
  explicit StepTimer(const ProgressFn& fn) : fn_(fn) {}
  void done(std::string_view step) {
    auto now = std::chrono::steady_clock::now();
    if (fn_) fn_(step, std::chrono::duration<double>(now - start_).count());
    start_ = now;
  }

 private:
  const ProgressFn& fn_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace zkinfer::prover
