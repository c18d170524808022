// --backend for every command that proves: cpu, cuda or auto.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "backend.h"

namespace zkinfer::cli {

struct BackendOptions {
  std::string backend = "auto";
  unsigned threads = 0;     // CPU threads, 0: all
  unsigned msm_tables = 0;  // GPU: MSM point tables per resident key array (CudaBackendConfig)
};

void add_backend_options(CLI::App* cmd, BackendOptions& o);

// The backend asked for. `auto` takes the best one this build and machine offer; an explicit
// choice that is not available is an error that says why.
std::unique_ptr<Backend> select_backend(const BackendOptions& o);

}  // namespace zkinfer::cli
