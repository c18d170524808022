# Sourced by the interop scripts.

# Runs a command, echoing it and then its wall time, so a ctest log shows where the time goes.
run() {
  echo "+ $*"
  local start end
  start=$(date +%s%N)
  "$@"
  end=$(date +%s%N)
  echo "  ($(((end - start) / 1000000)) ms)"
}
