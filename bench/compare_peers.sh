#!/usr/bin/env bash
# Side-by-side comparison of zkinfer's CPU MSM and NTT against ffjavascript, the arithmetic
# library snarkjs uses (G1/G2 multiExpAffine, Fr.fft). Both run one after the other in this one
# invocation, on the same sizes, so the ratios come from the same machine under the same load.
#
# zkinfer, being much quicker, runs twice: before and after the peer. On a shared machine the load
# drifts over the minutes the peer takes; the two zkinfer runs show how much, and the speed-up is
# taken against the slower of them, so a quiet moment does not flatter zkinfer.
#
# Writes bench/results/peers-<date>-<cpu>-<cores>cores.{md,zkinfer.json,zkinfer-after.json,
# ffjavascript.json}.
#
# Usage: bench/compare_peers.sh [--msm-min K] [--msm-max K] [--g2-max K] [--ntt-min K]
#                               [--ntt-max K] [--repeats R] [--zkinfer PATH] [--out DIR]
#                               [--no-install]
# Defaults (MSM 2^12..2^18, G2 up to 2^16, NTT 2^12..2^20, median of 5) take about 2.5 minutes
# on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
msm_min=12 msm_max=18 g2_max=16 ntt_min=12 ntt_max=20 repeats=5
zkinfer="$root/build/bin/zkinfer"
out_dir="$root/bench/results"
install=1

while [ $# -gt 0 ]; do
  case "$1" in
    --msm-min) msm_min=$2; shift 2 ;;
    --msm-max) msm_max=$2; shift 2 ;;
    --g2-max) g2_max=$2; shift 2 ;;
    --ntt-min) ntt_min=$2; shift 2 ;;
    --ntt-max) ntt_max=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --zkinfer) zkinfer=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "compare_peers.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

[ -x "$zkinfer" ] || { echo "compare_peers.sh: no zkinfer at $zkinfer (cmake --build build --target zkinfer)" >&2; exit 1; }

peers="$root/bench/peers"
if [ "$install" = 1 ]; then
  # npm ci installs exactly what package-lock.json pins; --prefer-offline takes the packages from
  # the npm cache when they are there, so a second run needs no network.
  (cd "$peers" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi

# Machine label for the result file names (cpu, cpu_slug, cores, day).
source "$root/bench/machine.sh"
base="$out_dir/peers-$day-$cpu_slug-${cores}cores"
mkdir -p "$out_dir"

zk_json="$base.zkinfer.json"
zk2_json="$base.zkinfer-after.json"
peer_json="$base.ffjavascript.json"
sizes=(--msm-min "$msm_min" --msm-max "$msm_max" --g2-max "$g2_max"
       --ntt-min "$ntt_min" --ntt-max "$ntt_max" --repeats "$repeats")

# Load is recorded around each run: on a shared machine a busy neighbour skews one side, and the
# reader of the table should be able to see that.
load_before=$(uptime)
echo "== zkinfer bench (cpu backend, all threads)" >&2
"$zkinfer" bench --backend cpu --threads 0 "${sizes[@]}" --json "$zk_json" >&2
load_between=$(uptime)
echo "== ffjavascript (node $(node --version))" >&2
node "$peers/ffjavascript_bench.mjs" "${sizes[@]}" > "$peer_json"
load_after=$(uptime)
echo "== zkinfer bench again, after the peer" >&2
"$zkinfer" bench --backend cpu --threads 0 "${sizes[@]}" --json "$zk2_json" >&2
load_end=$(uptime)

# The table is built with node, which this script needs anyway for the peer.
ZK_JSON="$zk_json" ZK2_JSON="$zk2_json" PEER_JSON="$peer_json" CPU="$cpu" CORES="$cores" DAY="$day" \
REPEATS="$repeats" NODE_VERSION="$(node --version)" KERNEL="$(uname -sr)" \
LOAD_BEFORE="$load_before" LOAD_BETWEEN="$load_between" LOAD_AFTER="$load_after" LOAD_END="$load_end" \
ZK_NAME="$(basename "$zk_json")" ZK2_NAME="$(basename "$zk2_json")" PEER_NAME="$(basename "$peer_json")" \
node --input-type=module > "$base.md" <<'EOF'
import { readFileSync } from "node:fs";
const env = process.env;
const zk = JSON.parse(readFileSync(env.ZK_JSON, "utf8"));
const zk2 = JSON.parse(readFileSync(env.ZK2_JSON, "utf8"));
const peer = JSON.parse(readFileSync(env.PEER_JSON, "utf8"));
const key = (r) => `${r.op}/${r.log_n}`;
const peerByKey = new Map(peer.results.map((r) => [key(r), r]));
const zk2ByKey = new Map(zk2.results.map((r) => [key(r), r]));
const ms = (s) => (s * 1e3).toFixed(s < 0.01 ? 3 : s < 1 ? 2 : 1);
const lines = [];
lines.push(`# zkinfer vs ${peer.peer} (${env.DAY})`, "");
lines.push(`Machine: ${env.CPU}, ${env.CORES} cores, ${env.KERNEL}; node ${env.NODE_VERSION}.`);
lines.push(`zkinfer: backend ${zk.backend}, all threads, seeds ${zk.seed} / ${zk2.seed}. ` +
           `${peer.peer}: ${peer.threads} worker threads (built as snarkjs builds it).`);
lines.push(`Each time is the median of ${env.REPEATS} runs; both ran one after the other in one ` +
           `invocation of bench/compare_peers.sh, zkinfer once before and once after the peer. ` +
           `Speed-up = ffjavascript / the slower zkinfer run (above 1: zkinfer is faster).`, "");
lines.push("ntt_coset on the ffjavascript side is Fr.batchApplyKey + Fr.fft, which is how the " +
           "snarkjs groth16 prover evaluates on the coset.", "");
lines.push("| op | size | zkinfer ms (before / after) | ffjavascript ms | speed-up | checked |");
lines.push("|---|---|---:|---:|---:|---|");
for (const z of zk.results) {
  const p = peerByKey.get(key(z));
  const z2 = zk2ByKey.get(key(z));
  const slower = Math.max(z.median_s, z2 ? z2.median_s : 0);
  const ok = z.ok && (!z2 || z2.ok) && (!p || p.ok) ? "ok" : "FAILED";
  lines.push(`| ${z.op} | 2^${z.log_n} | ${ms(z.median_s)} / ${z2 ? ms(z2.median_s) : "-"} | ` +
             `${p ? ms(p.median_s) : "-"} | ` +
             `${p ? (p.median_s / slower).toFixed(1) + "x" : "-"} | ${ok} |`);
}
lines.push("", "Machine load (uptime):", "");
lines.push(`- before zkinfer: \`${env.LOAD_BEFORE.trim()}\``);
lines.push(`- between: \`${env.LOAD_BETWEEN.trim()}\``);
lines.push(`- after ffjavascript: \`${env.LOAD_AFTER.trim()}\``);
lines.push(`- after the second zkinfer run: \`${env.LOAD_END.trim()}\``, "");
lines.push(`Raw results: ${env.ZK_NAME}, ${env.ZK2_NAME}, ${env.PEER_NAME}.`);
console.log(lines.join("\n"));
EOF
echo "wrote $base.md" >&2
cat "$base.md"
