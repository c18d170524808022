// Shared by the fuzz targets: runs one parse and allows exactly two outcomes, success or the
// parser's documented error type (FormatError for the binary formats, std::invalid_argument for
// snarkjs JSON). Any other exception is a bug (a parser must say what is wrong with a file, not
// fail some other way) and aborts with a message, so libFuzzer and the replay runner both
// record it as a crash; no exception leaves the C entry point.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "zkinfer/prover/binfile.h"

namespace zkinfer::fuzz {

template <class Allowed = prover::FormatError, class Parse>
int run_parser(Parse&& parse) {
  // One thread: thread start-up per parallel section would dominate small inputs. Set only if
  // the environment does not choose otherwise.
  static const bool single_thread = ::setenv("ZKINFER_THREADS", "1", 0) == 0;
  (void)single_thread;
  try {
    parse();
  } catch (const Allowed&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz target: unexpected exception (not the parser's error type): %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz target: unexpected non-standard exception\n");
    std::abort();
  }
  return 0;
}

}  // namespace zkinfer::fuzz
