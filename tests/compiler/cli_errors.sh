#!/usr/bin/env bash
# `zkinfer compile|setup|prove|verify` with bad arguments and bad files (DESIGN.md section 6):
#   cli_errors.sh ZKINFER WORK
# Every case must fail cleanly: an exit status from 1 to 127 (128 and up is a signal: a crash or
# an abort), and one clear message naming the problem. Errors found while running say so in one
# line, `zkinfer: error: ...`; command-line usage errors are CLI11's (the option and the
# problem, then "Run with --help"). Nothing may print an uncaught-exception or sanitizer report.
# The good model directory (the digits MLP, compiled, set up with --dev, one proof) is made first
# so that each case breaks one thing.
set -uo pipefail
zkinfer=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ex="$root/examples/digits"
rm -rf "$work" && mkdir -p "$work"
cd "$work" || exit 1

failures=0
cases=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run_case KIND EXPECT NAME -- CMD...
#   KIND: error (one `zkinfer: error:` line, exit 1) or usage (CLI11's message, exit 1..127)
#   EXPECT: a fixed string the message must contain
run_case() {
  local kind=$1 expect=$2 name=$3
  shift 4
  cases=$((cases + 1))
  "$@" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$?
  if ((rc == 0)); then
    fail "$name: exit status 0 (expected an error): $*"
    return
  fi
  if ((rc >= 128)); then
    fail "$name: exit status $rc (killed by signal $((rc - 128))): $*"
    sed 's/^/    /' "$work/err.txt" | tail -20 >&2
    return
  fi
  if grep -qE "terminate called|Aborted|AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation" "$work/err.txt"; then
    fail "$name: crash report on stderr: $*"
    sed 's/^/    /' "$work/err.txt" | tail -20 >&2
    return
  fi
  local msg
  if [[ $kind == error ]]; then
    local n
    n=$(grep -c '^zkinfer: error: ' "$work/err.txt")
    if ((n != 1)); then
      fail "$name: $n 'zkinfer: error:' lines (expected one): $*"
      sed 's/^/    /' "$work/err.txt" | tail -20 >&2
      return
    fi
    ((rc == 1)) || fail "$name: exit status $rc, expected 1"
    msg=$(grep '^zkinfer: error: ' "$work/err.txt")
  else
    msg=$(cat "$work/err.txt")
  fi
  if [[ $msg != *"$expect"* ]]; then
    fail "$name: the message does not name '$expect': $msg"
    return
  fi
  echo "ok  $name: $(head -1 <<<"$msg")"
}

# ---- a good model directory --------------------------------------------------------------------
good="$work/good"
"$zkinfer" compile "$ex/mlp.onnx" -o "$good" --calibration "$ex/calibration.json" >/dev/null 2>&1 &&
  "$zkinfer" setup "$good" --dev >/dev/null 2>&1 &&
  "$zkinfer" prove "$good" --input "$ex/input.json" -o "$work/proof" >/dev/null 2>&1 &&
  "$zkinfer" verify "$good/verification_key.json" "$work/proof/public.json" "$work/proof/proof.json" >/dev/null 2>&1 ||
  {
    echo "cli_errors.sh: the good path (compile, setup --dev, prove, verify of the digits MLP) failed" >&2
    exit 1
  }

# ---- files to break things with ------------------------------------------------------------------
head -c 3000 /dev/urandom >junk.bin
head -c 5000 "$ex/mlp.onnx" >truncated.onnx
: >empty.onnx
echo "this is not a model" >text.onnx
LC_ALL=C sed 's/Relu/Erfx/g' "$ex/mlp.onnx" >unsupported.onnx  # same length: still valid protobuf
echo '{"input": [1, 2,' >broken.json
echo '[[1e400]]' >huge_number.json
echo '{"input": [[1, 2, 3]]}' >short.json
echo '[[1, 2], [3]]' >ragged.json
echo '[["a", 2, 3]]' >string.json
echo '{"pixels": []}' >wrong_name.json
row_of() { # 64 copies of $1
  local s="" i
  for ((i = 0; i < 64; i++)); do s+="${s:+,}$1"; done
  echo "[[$s]]"
}
row_of 1000 >out_of_range.json
row_of 0.5 >fine_input.json
echo '[]' >empty_samples.json
echo '[{"input": [[1, 2]]}]' >bad_samples.json
echo 'a file' >a_file

# ---- compile -------------------------------------------------------------------------------------
run_case usage "required" "compile without arguments" -- "$zkinfer" compile
run_case usage "does not exist" "compile a missing model" -- "$zkinfer" compile missing.onnx -o c1
run_case usage "-o" "compile without -o" -- "$zkinfer" compile "$ex/mlp.onnx"
run_case usage "--act-bits" "compile --act-bits 3" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --act-bits 3
run_case usage "--weight-bits" "compile --weight-bits 30" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --weight-bits 30
run_case usage "--act-bits" "compile --act-bits x" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --act-bits x
run_case usage "--input-visibility" "compile --input-visibility secret" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --input-visibility secret
run_case usage "--headroom" "compile --headroom 0.5" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --headroom 0.5
run_case usage "--input-range" "compile --input-range -1" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --input-range -1
run_case usage "--no-such-option" "compile with an unknown option" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --no-such-option
run_case usage "does not exist" "compile with a missing calibration file" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --calibration missing.json
run_case error "junk.bin" "compile random bytes" -- "$zkinfer" compile junk.bin -o c1
run_case error "truncated.onnx: not a valid ONNX model" "compile a truncated model" -- "$zkinfer" compile truncated.onnx -o c1
run_case error "empty.onnx" "compile an empty file" -- "$zkinfer" compile empty.onnx -o c1
run_case error "text.onnx" "compile a text file" -- "$zkinfer" compile text.onnx -o c1
run_case error "op 'Erfx' (opset 13) is not supported" "compile an unsupported op" -- "$zkinfer" compile unsupported.onnx -o c1
# Element counts that overflowed 64 bits (the first crashed zkinfer compile); from the fuzz corpus.
run_case error "initializer 'W'" "compile an initializer of 2^64 elements" -- "$zkinfer" compile "$root/tests/fuzz/corpus/onnx/count_overflow_initializer.onnx" -o c1
run_case error "input 'x'" "compile an input of 2^64 elements" -- "$zkinfer" compile "$root/tests/fuzz/corpus/onnx/count_overflow_input.onnx" -o c1
run_case error "broken.json: not valid JSON" "compile with broken calibration JSON" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --calibration broken.json
run_case error "huge_number.json" "compile with a calibration number beyond double" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --calibration huge_number.json
run_case error "non-empty array" "compile with no calibration samples" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --calibration empty_samples.json
run_case error "sample 0" "compile with a calibration sample of the wrong shape" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --calibration bad_samples.json
run_case error "[1,1,8,8]" "compile the MLP with the CNN's calibration" -- "$zkinfer" compile "$ex/mlp.onnx" -o c1 --calibration "$ex/calibration_cnn.json"
run_case error "a_file" "compile into a path that is a file" -- "$zkinfer" compile "$ex/mlp.onnx" -o a_file

# ---- setup ---------------------------------------------------------------------------------------
mkdir -p empty_dir
cp -r "$good" no_key && rm -f no_key/circuit.zkey no_key/verification_key.json
cp -r "$good" bad_r1cs && head -c 100 "$good/circuit.r1cs" >bad_r1cs/circuit.r1cs
run_case usage "required" "setup without arguments" -- "$zkinfer" setup
run_case usage "missing_dir" "setup a missing directory" -- "$zkinfer" setup missing_dir --dev
run_case error "exactly one of --ptau" "setup without --dev or --ptau" -- "$zkinfer" setup no_key
run_case error "exactly one of --ptau" "setup with both --dev and --ptau" -- "$zkinfer" setup no_key --dev --ptau junk.bin
run_case usage "does not exist" "setup with a missing .ptau" -- "$zkinfer" setup no_key --ptau missing.ptau
run_case error "junk.bin" "setup with a corrupt .ptau" -- "$zkinfer" setup no_key --ptau junk.bin
run_case error "zkinfer compile" "setup a directory with no circuit" -- "$zkinfer" setup empty_dir --dev
run_case error "circuit.r1cs" "setup a truncated circuit" -- "$zkinfer" setup bad_r1cs --dev

# ---- prove ---------------------------------------------------------------------------------------
cp -r "$good" other_json && "$zkinfer" compile "$ex/cnn.onnx" -o cnn_dir >/dev/null 2>&1 &&
  cp cnn_dir/model.json other_json/model.json
cp -r "$good" broken_json && echo '{ not json' >broken_json/model.json
cp -r "$good" array_json && echo '[1, 2]' >array_json/model.json
cp -r "$good" changed_onnx && printf 'x' >>changed_onnx/model.onnx
cp -r "$good" no_onnx && rm no_onnx/model.onnx
run_case usage "required" "prove without --input" -- "$zkinfer" prove "$good" -o p1
run_case usage "does not exist" "prove a missing input file" -- "$zkinfer" prove "$good" --input missing.json -o p1
run_case usage "missing_dir" "prove a missing directory" -- "$zkinfer" prove missing_dir --input fine_input.json -o p1
run_case error "zkinfer setup" "prove before setup" -- "$zkinfer" prove no_key --input fine_input.json -o p1
run_case error "broken.json: not valid JSON" "prove with broken input JSON" -- "$zkinfer" prove "$good" --input broken.json -o p1
run_case error "huge_number.json" "prove with a number beyond double" -- "$zkinfer" prove "$good" --input huge_number.json -o p1
run_case error "[1,3]" "prove an input of the wrong shape" -- "$zkinfer" prove "$good" --input short.json -o p1
run_case error "ragged" "prove a ragged input" -- "$zkinfer" prove "$good" --input ragged.json -o p1
run_case error "expected a number" "prove an input holding a string" -- "$zkinfer" prove "$good" --input string.json -o p1
run_case error "no value for input 'input'" "prove an input under another name" -- "$zkinfer" prove "$good" --input wrong_name.json -o p1
run_case error "outside the range" "prove an input beyond the compiled range" -- "$zkinfer" prove "$good" --input out_of_range.json -o p1
run_case error "SHA-256" "prove with another model's model.json" -- "$zkinfer" prove other_json --input fine_input.json -o p1
run_case error "model.json: not valid JSON" "prove with a broken model.json" -- "$zkinfer" prove broken_json --input fine_input.json -o p1
run_case error "model.json" "prove with a model.json that is an array" -- "$zkinfer" prove array_json --input fine_input.json -o p1
run_case error "SHA-256" "prove with a changed model.onnx" -- "$zkinfer" prove changed_onnx --input fine_input.json -o p1
run_case error "model.onnx" "prove without model.onnx" -- "$zkinfer" prove no_onnx --input fine_input.json -o p1
run_case error "a_file" "prove into a path that is a file" -- "$zkinfer" prove "$good" --input fine_input.json -o a_file

# ---- verify --------------------------------------------------------------------------------------
vk="$good/verification_key.json" pub="$work/proof/public.json" proof="$work/proof/proof.json"
# A public signal changed: the first (an output logit) replaced by 12345.
sed '0,/"[0-9]*"/s//"12345"/' "$pub" >tampered_public.json
cmp -s "$pub" tampered_public.json && fail "could not tamper with public.json"
head -c 200 "$proof" >truncated_proof.json
echo '["1", "2"]' >short_public.json
run_case usage "required" "verify without arguments" -- "$zkinfer" verify
run_case error "missing.json" "verify with a missing key" -- "$zkinfer" verify missing.json "$pub" "$proof"
run_case error "INVALID" "verify a tampered public signal" -- "$zkinfer" verify "$vk" tampered_public.json "$proof"
run_case error "truncated_proof.json" "verify a truncated proof" -- "$zkinfer" verify "$vk" "$pub" truncated_proof.json
run_case error "broken.json" "verify a broken key" -- "$zkinfer" verify broken.json "$pub" "$proof"
echo '["1e400"]' >string_huge_public.json
echo '[1e400]' >huge_public.json
run_case error "string_huge_public.json" "verify a public signal string that is no integer" -- "$zkinfer" verify "$vk" string_huge_public.json "$proof"
# (the message names no file: prover's read_json_file lets nlohmann's out_of_range through)
run_case error "huge_public.json" "verify a public signal beyond double" -- "$zkinfer" verify "$vk" huge_public.json "$proof"
run_case error "" "verify with too few public signals" -- "$zkinfer" verify "$vk" short_public.json "$proof"
run_case error "" "verify a proof as the key" -- "$zkinfer" verify "$proof" "$pub" "$proof"
run_case error "" "verify with the key as the proof" -- "$zkinfer" verify "$vk" "$pub" "$vk"

echo "cli_errors.sh: $cases cases, $failures failed"
((failures == 0))
