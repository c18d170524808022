#!/usr/bin/env bash
# One step of the interop tests between zkinfer and snarkjs 0.7.6 (each step is one ctest, see
# CMakeLists.txt here; they share files under WORK_DIR).
#
#   run_interop.sh ZKINFER WORK_DIR STEP [ARGS...]
#
# Steps (C is a circuit of circuits/, P a .ptau power):
#   circuits            compile every circuit and compute its witness (build_circuits.sh)
#   ptau P              zkinfer powersoftau dev P -> WORK_DIR/ptau/pot<P>.ptau
#   snarkjs_setup C P   snarkjs groth16 setup on zkinfer's .ptau -> C/snarkjs.zkey, its vk
#   zkinfer_setup C P   zkinfer groth16 setup with that .ptau -> C/zkinfer.zkey, vk from both tools
#   zkey_verify C P     snarkjs zkey verify accepts zkinfer.zkey against the r1cs and the .ptau
#   a C                 zkinfer prove (snarkjs.zkey) -> snarkjs groth16 verify; public.json checked
#                       against the witness
#   b C                 snarkjs groth16 prove (zkinfer.zkey) -> zkinfer groth16 verify (and snarkjs)
#   c C                 zkinfer prove -> zkinfer verify, with zkinfer.zkey (--backend cpu) and
#                       with a key of `zkinfer groth16 setup --dev`
#   d C                 tampered proof, public signal and verification key (two ways): rejected
#                       by both verifiers, after the untampered files are accepted by both
#   e C                 zkinfer zkey export verificationkey == snarkjs's, for both keys
#   solidity C          zkinfer zkey export solidityverifier -> solidity_test.mjs on anvil with a
#                       zkinfer proof and a snarkjs proof
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
if (($# < 3)); then
  echo "usage: $0 ZKINFER WORK_DIR STEP [ARGS...]" >&2
  exit 2
fi
zkinfer_bin="$1"
mkdir -p "$2"
work="$(cd "$2" && pwd)"
step="$3"
shift 3

nm="$here/node_modules"
if [[ ! -f "$nm/snarkjs/build/cli.cjs" ]]; then
  echo "run_interop: node modules missing in tests/interop (run scripts/setup.sh)" >&2
  exit 1
fi
if [[ "$step" != circuits && ! -x "$zkinfer_bin" ]]; then
  echo "run_interop: no zkinfer executable at $zkinfer_bin" >&2
  exit 1
fi

source "$here/lib.sh"
zkinfer() { run "$zkinfer_bin" "$@"; }
snarkjs() { run node "$nm/snarkjs/build/cli.cjs" "$@"; }
json_tool() { node "$here/json_tool.mjs" "$@"; }

# Runs a verifier that must reject: fails the step when it exits 0, or dies of a signal.
expect_reject() {
  local what="$1"
  shift
  echo "+ $* (must reject: $what)"
  local rc=0
  "$@" >"$work/reject.$$.log" 2>&1 || rc=$?
  if ((rc == 0)); then
    cat "$work/reject.$$.log"
    echo "run_interop: FAIL: $what was accepted" >&2
    exit 1
  fi
  if ((rc >= 128)); then
    cat "$work/reject.$$.log"
    echo "run_interop: FAIL: $what: the verifier died (exit $rc)" >&2
    exit 1
  fi
  echo "  rejected (exit $rc): $(tail -n 1 "$work/reject.$$.log")"
  rm -f "$work/reject.$$.log"
}

circuit_files() {
  c="$1"
  r1cs="$work/circuits/$c/$c.r1cs"
  wtns="$work/circuits/$c/$c.wtns"
  d="$work/$c"
  if [[ ! -f "$r1cs" || ! -f "$wtns" ]]; then
    echo "run_interop: $c has no r1cs/wtns under $work/circuits (the circuits step builds them)" >&2
    exit 1
  fi
  mkdir -p "$d"
}
need() {
  for f in "$@"; do
    if [[ ! -f "$f" ]]; then
      echo "run_interop: missing $f (made by an earlier step)" >&2
      exit 1
    fi
  done
}

case "$step" in
  circuits)
    "$here/build_circuits.sh" "$work/circuits" "$@"
    ;;

  ptau)
    p="$1"
    mkdir -p "$work/ptau"
    rm -f "$work/ptau/pot$p.ptau"
    zkinfer powersoftau dev "$p" "$work/ptau/pot$p.ptau"
    need "$work/ptau/pot$p.ptau"
    ;;

  snarkjs_setup)
    circuit_files "$1"
    ptau="$work/ptau/pot$2.ptau"
    need "$ptau"
    rm -f "$d/snarkjs.zkey" "$d/snarkjs_vk.json"
    snarkjs groth16 setup "$r1cs" "$ptau" "$d/snarkjs.zkey"
    snarkjs zkey export verificationkey "$d/snarkjs.zkey" "$d/snarkjs_vk.json"
    ;;

  zkinfer_setup)
    circuit_files "$1"
    ptau="$work/ptau/pot$2.ptau"
    need "$ptau"
    rm -f "$d/zkinfer.zkey" "$d/zkinfer_vk.json" "$d/snarkjs_vk_of_zkinfer.json"
    zkinfer groth16 setup "$r1cs" "$ptau" "$d/zkinfer.zkey"
    zkinfer zkey export verificationkey "$d/zkinfer.zkey" "$d/zkinfer_vk.json"
    snarkjs zkey export verificationkey "$d/zkinfer.zkey" "$d/snarkjs_vk_of_zkinfer.json"
    ;;

  zkey_verify)
    circuit_files "$1"
    ptau="$work/ptau/pot$2.ptau"
    need "$ptau" "$d/zkinfer.zkey"
    snarkjs zkey verify "$r1cs" "$ptau" "$d/zkinfer.zkey"
    ;;

  a)
    circuit_files "$1"
    need "$d/snarkjs.zkey" "$d/snarkjs_vk.json"
    zkinfer groth16 prove "$d/snarkjs.zkey" "$wtns" "$d/a_proof.json" "$d/a_public.json"
    snarkjs groth16 verify "$d/snarkjs_vk.json" "$d/a_public.json" "$d/a_proof.json"
    # public.json holds witness signals 1 .. nPublic, as snarkjs writes them.
    snarkjs wtns export json "$wtns" "$d/a_witness.json"
    n_public="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).nPublic)' \
      "$d/snarkjs_vk.json")"
    json_tool public-from-witness "$d/a_witness.json" "$n_public" "$d/a_public_expected.json"
    json_tool same-json "$d/a_public.json" "$d/a_public_expected.json"
    echo "public.json matches the witness ($n_public signals)"
    ;;

  b)
    circuit_files "$1"
    need "$d/zkinfer.zkey" "$d/zkinfer_vk.json" "$d/snarkjs_vk_of_zkinfer.json"
    snarkjs groth16 prove "$d/zkinfer.zkey" "$wtns" "$d/b_proof.json" "$d/b_public.json"
    zkinfer groth16 verify "$d/zkinfer_vk.json" "$d/b_public.json" "$d/b_proof.json"
    snarkjs groth16 verify "$d/snarkjs_vk_of_zkinfer.json" "$d/b_public.json" "$d/b_proof.json"
    ;;

  c)
    circuit_files "$1"
    need "$d/zkinfer.zkey" "$d/zkinfer_vk.json"
    zkinfer groth16 prove "$d/zkinfer.zkey" "$wtns" "$d/c_proof.json" "$d/c_public.json" --backend cpu
    zkinfer groth16 verify "$d/zkinfer_vk.json" "$d/c_public.json" "$d/c_proof.json"
    # A development key (no .ptau): prove and verify with zkinfer, and snarkjs agrees.
    rm -f "$d/dev.zkey"
    zkinfer groth16 setup "$r1cs" "$d/dev.zkey" --dev
    zkinfer zkey export verificationkey "$d/dev.zkey" "$d/dev_vk.json"
    zkinfer groth16 prove "$d/dev.zkey" "$wtns" "$d/c_dev_proof.json" "$d/c_dev_public.json"
    zkinfer groth16 verify "$d/dev_vk.json" "$d/c_dev_public.json" "$d/c_dev_proof.json"
    snarkjs groth16 verify "$d/dev_vk.json" "$d/c_dev_public.json" "$d/c_dev_proof.json"
    ;;

  d)
    circuit_files "$1"
    need "$d/snarkjs.zkey" "$d/snarkjs_vk.json"
    zkinfer groth16 prove "$d/snarkjs.zkey" "$wtns" "$d/d_proof.json" "$d/d_public.json"
    vk="$d/snarkjs_vk.json"
    # The untampered files pass both, so a rejection below is about the tampering.
    zkinfer groth16 verify "$vk" "$d/d_public.json" "$d/d_proof.json"
    snarkjs groth16 verify "$vk" "$d/d_public.json" "$d/d_proof.json"
    json_tool tamper-proof "$d/d_proof.json" "$d/d_proof_bad.json"
    json_tool tamper-public "$d/d_public.json" "$d/d_public_bad.json"
    json_tool tamper-vk-alpha "$vk" "$d/d_vk_bad_alpha.json"
    json_tool tamper-vk-ic "$vk" "$d/d_vk_bad_ic.json"
    sj=(node "$nm/snarkjs/build/cli.cjs")
    for verifier in zkinfer snarkjs; do
      if [[ $verifier == zkinfer ]]; then v=("$zkinfer_bin" groth16 verify); else v=("${sj[@]}" groth16 verify); fi
      expect_reject "$verifier: pi_a negated" "${v[@]}" "$vk" "$d/d_public.json" "$d/d_proof_bad.json"
      expect_reject "$verifier: public signal 0 + 1" "${v[@]}" "$vk" "$d/d_public_bad.json" "$d/d_proof.json"
      expect_reject "$verifier: vk alpha1 negated" "${v[@]}" "$d/d_vk_bad_alpha.json" "$d/d_public.json" "$d/d_proof.json"
      expect_reject "$verifier: vk last IC negated" "${v[@]}" "$d/d_vk_bad_ic.json" "$d/d_public.json" "$d/d_proof.json"
    done
    ;;

  e)
    circuit_files "$1"
    need "$d/snarkjs.zkey" "$d/snarkjs_vk.json" "$d/zkinfer_vk.json" "$d/snarkjs_vk_of_zkinfer.json"
    zkinfer zkey export verificationkey "$d/snarkjs.zkey" "$d/e_zkinfer_vk_of_snarkjs.json"
    run json_tool same-json "$d/e_zkinfer_vk_of_snarkjs.json" "$d/snarkjs_vk.json"
    run json_tool same-json "$d/zkinfer_vk.json" "$d/snarkjs_vk_of_zkinfer.json"
    echo "verification keys agree (snarkjs.zkey and zkinfer.zkey)"
    ;;

  solidity)
    circuit_files "$1"
    need "$d/snarkjs.zkey"
    rm -f "$d/verifier.sol"
    zkinfer zkey export solidityverifier "$d/snarkjs.zkey" "$d/verifier.sol"
    zkinfer groth16 prove "$d/snarkjs.zkey" "$wtns" "$d/sol_zkinfer_proof.json" "$d/sol_zkinfer_public.json"
    snarkjs groth16 prove "$d/snarkjs.zkey" "$wtns" "$d/sol_snarkjs_proof.json" "$d/sol_snarkjs_public.json"
    run node "$here/solidity_test.mjs" "$d/verifier.sol" \
      "$d/sol_zkinfer_proof.json" "$d/sol_zkinfer_public.json" \
      "$d/sol_snarkjs_proof.json" "$d/sol_snarkjs_public.json"
    ;;

  *)
    echo "run_interop: unknown step $step" >&2
    exit 2
    ;;
esac
echo "run_interop: $step $* passed"
