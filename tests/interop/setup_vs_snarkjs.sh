#!/usr/bin/env bash
# zkinfer's setup code against snarkjs 0.7.6, section by section:
#
#   tests/interop/setup_vs_snarkjs.sh SETUP_TOOL WORK_DIR [CASE...]
#
# SETUP_TOOL is tests/tools' setup_tool (BUILD_DIR/bin/setup_tool). Cases (default: all):
#   fixture     tests/data/setup: zkinfer's `groth16 setup` on snarkjs's pot8.ptau equals the
#               committed snarkjs key and snarkjs's own run; `snarkjs zkey verify` accepts it
#   devptau     a zkinfer development .ptau (power 8): snarkjs `groth16 setup` accepts it, both
#               setups give equal sections, `snarkjs zkey verify` accepts zkinfer's key
#   poseidon    circuits/poseidon_chain.circom (full-size coefficients, 2^13) on a development
#               .ptau of power 13: equal sections, zkey verify
#   chain15     a 16,382-constraint chain (domain 2^15) on a .ptau of power 15: snarkjs's circuit
#               hash reads past tauG1 there (setup.h); equal sections
#   chain16     the same chain on a .ptau of power 16 (one real extra hashed point); equal sections
#   devkey      `setup_tool setup-dev` on poseidon_chain: snarkjs proves with the key and verifies
#               with its verification key; a tampered public signal is rejected
# Needs tests/interop/node_modules (scripts/setup.sh). Takes about a minute and a half on the
# 2-core dev machine.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if (($# < 2)); then
  echo "usage: $0 SETUP_TOOL WORK_DIR [CASE...]" >&2
  exit 2
fi
tool="$1"
mkdir -p "$2"
work="$(cd "$2" && pwd)"
shift 2
cases=("$@")
((${#cases[@]})) || cases=(fixture devptau poseidon chain15 chain16 devkey)

nm="$here/node_modules"
if [[ ! -f "$nm/snarkjs/build/cli.cjs" ]]; then
  echo "setup_vs_snarkjs: node modules missing in tests/interop (run scripts/setup.sh)" >&2
  exit 1
fi
if [[ ! -x "$tool" ]]; then
  echo "setup_vs_snarkjs: no setup_tool at $tool" >&2
  exit 1
fi

source "$here/lib.sh"
snarkjs() { run node --max-old-space-size=8192 "$nm/snarkjs/build/cli.cjs" "$@"; }
zk() { run "$tool" "$@"; }
same_sections() { run node "$here/zkey_sections.mjs" "$1" "$2"; }

# Both setups on the same inputs; zkinfer's key must equal snarkjs's section by section.
compare_setups() {  # R1CS PTAU DIR
  mkdir -p "$3"
  snarkjs groth16 setup "$1" "$2" "$3/snarkjs.zkey" >/dev/null
  zk setup "$1" "$2" "$3/zkinfer.zkey"
  same_sections "$3/snarkjs.zkey" "$3/zkinfer.zkey"
}

fixtures="$root/tests/data/setup"

for c in "${cases[@]}"; do
  echo "=== $c"
  d="$work/$c"
  rm -rf "$d"
  mkdir -p "$d"
  case "$c" in
    fixture)
      compare_setups "$fixtures/setup_small.r1cs" "$fixtures/pot8.ptau" "$d"
      same_sections "$fixtures/setup_small_snarkjs.zkey" "$d/zkinfer.zkey"
      snarkjs zkey verify "$fixtures/setup_small.r1cs" "$fixtures/pot8.ptau" "$d/zkinfer.zkey"
      ;;
    devptau)
      zk dev-ptau "$d/pot8.ptau" 8
      compare_setups "$fixtures/setup_small.r1cs" "$d/pot8.ptau" "$d"
      snarkjs zkey verify "$fixtures/setup_small.r1cs" "$d/pot8.ptau" "$d/zkinfer.zkey"
      ;;
    poseidon)
      run "$here/build_circuits.sh" "$work/circuits" poseidon_chain
      zk dev-ptau "$d/pot13.ptau" 13
      r1cs="$work/circuits/poseidon_chain/poseidon_chain.r1cs"
      compare_setups "$r1cs" "$d/pot13.ptau" "$d"
      snarkjs zkey verify "$r1cs" "$d/pot13.ptau" "$d/zkinfer.zkey"
      ;;
    chain15 | chain16)
      p="${c#chain}"
      zk chain-r1cs "$d/chain.r1cs" 16382
      zk dev-ptau "$d/pot$p.ptau" "$p"
      compare_setups "$d/chain.r1cs" "$d/pot$p.ptau" "$d"
      ;;
    devkey)
      run "$here/build_circuits.sh" "$work/circuits" poseidon_chain
      cd_="$work/circuits/poseidon_chain"
      zk setup-dev "$cd_/poseidon_chain.r1cs" "$d/dev.zkey"
      snarkjs zkey export verificationkey "$d/dev.zkey" "$d/vk.json" >/dev/null
      snarkjs groth16 prove "$d/dev.zkey" "$cd_/poseidon_chain.wtns" "$d/proof.json" "$d/public.json"
      snarkjs groth16 verify "$d/vk.json" "$d/public.json" "$d/proof.json"
      node -e '
        const fs = require("fs");
        const p = JSON.parse(fs.readFileSync(process.argv[1]));
        p[0] = (BigInt(p[0]) + 1n).toString();
        fs.writeFileSync(process.argv[2], JSON.stringify(p));' "$d/public.json" "$d/bad_public.json"
      if node "$nm/snarkjs/build/cli.cjs" groth16 verify "$d/vk.json" "$d/bad_public.json" "$d/proof.json"; then
        echo "setup_vs_snarkjs: a tampered public signal verified" >&2
        exit 1
      fi
      ;;
    *)
      echo "setup_vs_snarkjs: unknown case $c" >&2
      exit 2
      ;;
  esac
done
echo "setup_vs_snarkjs: all cases passed (${cases[*]})"
