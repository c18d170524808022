// Progress lines on stderr for long steps, so stdout stays for results.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace zkinfer::cli {

inline void progress_line(std::string_view step, double seconds) {
  std::fprintf(stderr, "  %-28.*s %9.3f s\n", (int)step.size(), step.data(), seconds);
}

// Times a step from construction to done().
class Step {
 public:
  explicit Step(std::string name) : name_(std::move(name)) {}
  void done() { progress_line(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count()); }

 private:
  std::string name_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace zkinfer::cli
