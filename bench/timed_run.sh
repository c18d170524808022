# Sourced by the bench scripts that race zkinfer against snarkjs on whole commands.
# timed_run DIR CMD...: runs CMD with stdout to DIR/last.out and stderr to DIR/last.err, under
# /usr/bin/time for the peak RSS; prints "seconds peak_kib". The seconds come from clock reads
# around it, to the millisecond: /usr/bin/time's %e has 10 ms steps, 7% of a 0.14 s proof.
# A failing CMD is reported with its stderr and ends the script.
timed_run() {
  local dir=$1 start end
  shift
  start=$(date +%s%N)
  /usr/bin/time -o "$dir/time.out" -f "%M" "$@" >"$dir/last.out" 2>"$dir/last.err" ||
    { echo "$(basename "$0"): failed: $*" >&2; cat "$dir/last.err" >&2; exit 1; }
  end=$(date +%s%N)
  echo "$(awk -v ns=$((end - start)) 'BEGIN { printf "%.4f", ns / 1e9 }') $(cat "$dir/time.out")"
}
