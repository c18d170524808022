// Peer benchmark: the MSM and FFT kernels of ffjavascript, the arithmetic library under
// snarkjs, timed over the same sizes as `zkinfer bench` so bench/compare_peers.sh can put the
// two side by side. Prints {"peer","threads","results":[{"op","log_n","median_s","ok"}]} on
// stdout (the same shape as zkinfer's JSON); progress goes to stderr.
//
// The curve is built the way snarkjs builds it (getCurveFromName("bn128") with singleThread
// left unset), so ffjavascript runs its WebAssembly kernels on a pool of worker threads, one per
// os.cpus() entry -- the same parallelism zkinfer gets with --threads 0.
//
// Usage: node ffjavascript_bench.mjs [--msm-min K] [--msm-max K] [--g2-max K]
//                                    [--ntt-min K] [--ntt-max K] [--repeats R]

import { getCurveFromName } from "ffjavascript";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

// ffjavascript's "exports" map hides its package.json, so read the installed copy directly.
const ffVersion = JSON.parse(readFileSync(
    new URL("./node_modules/ffjavascript/package.json", import.meta.url), "utf8")).version;

function parseArgs(argv) {
  // Defaults match `zkinfer bench`, so both sides measure the same sizes unless told otherwise.
  const opts = { msmMin: 12, msmMax: 18, g2Max: 16, nttMin: 12, nttMax: 20, repeats: 3 };
  const names = {
    "--msm-min": "msmMin", "--msm-max": "msmMax", "--g2-max": "g2Max",
    "--ntt-min": "nttMin", "--ntt-max": "nttMax", "--repeats": "repeats",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 1) {
      console.error(`usage: ffjavascript_bench.mjs [${Object.keys(names).join(" K] [")} K]`);
      process.exit(2);
    }
    opts[key] = value;
  }
  return opts;
}

// Sizes 2^min, 2^(min+2), ..., 2^max: the same step of 2 that zkinfer bench uses.
function logSizes(min, max) {
  const out = [];
  for (let k = min; k <= max; k += 2) out.push(k);
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timeMedian(repeats, fn) {
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(Math.round((performance.now() - t0) * 1e3) / 1e6);  // seconds, to the microsecond
  }
  return median(times);
}

// n random 32-byte little-endian values below r. Reducing only the top byte mod 0x30 keeps every
// value under r (r = 0x30644e72...) while keeping full 254-bit width, so the MSM does the same
// number of windows as with uniform scalars; exact uniformity does not matter for timing.
function randomFieldBytes(n) {
  const buf = randomBytes(32 * n);
  for (let i = 0; i < n; i++) buf[32 * i + 31] %= 0x30;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

// n distinct affine points in ffjavascript's own layout (x, y in Montgomery form, little-endian:
// what a .zkey holds and what multiExpAffine reads). Built as B, 2B, 3B, ... for a random B,
// which costs one addition per point instead of one scalar multiplication, then converted to
// affine in one batch on the worker pool.
async function makeAffinePoints(G, n) {
  const sJac = G.F.n8 * 3;
  const base = G.timesScalar(G.g, randomFieldBytes(1));
  const jac = new Uint8Array(n * sJac);
  let p = base;
  for (let i = 0; i < n; i++) {
    jac.set(p, i * sJac);
    p = G.add(p, base);
  }
  return await G.batchToAffine(jac);
}

// Checks multiExpAffine against the plain sum of scalar multiplications on a small input, so a
// misuse of the memory format (wrong form, wrong stride) is caught rather than timed.
async function checkMsm(G, bases, scalars, n) {
  const sAff = G.F.n8 * 2;
  const got = await G.multiExpAffine(bases.slice(0, n * sAff), scalars.slice(0, n * 32));
  let want = G.zero;
  for (let i = 0; i < n; i++) {
    const pt = bases.slice(i * sAff, (i + 1) * sAff);
    want = G.add(want, G.timesScalar(pt, scalars.slice(i * 32, (i + 1) * 32)));
  }
  return G.eq(got, want);
}

function bytesEqual(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function benchMsm(curve, group, op, logs, repeats, results) {
  if (logs.length === 0) return;
  const G = curve[group];
  const maxN = 1 << logs[logs.length - 1];
  console.error(`  ${op}: generating ${maxN} points...`);
  const bases = await makeAffinePoints(G, maxN);
  const scalars = randomFieldBytes(maxN);
  const ok = await checkMsm(G, bases, scalars, 64);
  const sAff = G.F.n8 * 2;
  for (const k of logs) {
    const n = 1 << k;
    // Prefixes of one point set: generation is not what is measured.
    const b = bases.slice(0, n * sAff);
    const s = scalars.slice(0, n * 32);
    console.error(`  ${op} 2^${k}...`);
    const medianS = await timeMedian(repeats, () => G.multiExpAffine(b, s));
    results.push({ op, log_n: k, median_s: medianS, ok });
  }
}

// Forward FFT, and the coset FFT the way snarkjs's groth16 prover does it: Fr.batchApplyKey
// (multiply element i by shift^i) followed by Fr.fft. Both are checked by an inverse FFT that
// must give the input back.
async function benchNtt(curve, logs, repeats, results) {
  const Fr = curve.Fr;
  // Any shift outside the 2^28 subgroup gives a coset; snarkjs uses Fr.w[power + 1].
  for (const k of logs) {
    const n = 1 << k;
    const a = randomFieldBytes(n);
    const shift = Fr.w[k + 1];
    console.error(`  ntt 2^${k}...`);
    const okFwd = bytesEqual(await Fr.ifft(await Fr.fft(a)), a);
    const fwd = await timeMedian(repeats, () => Fr.fft(a));
    results.push({ op: "ntt", log_n: k, median_s: fwd, ok: okFwd });

    const coset = async () => Fr.fft(await Fr.batchApplyKey(a, Fr.one, shift));
    const back = await Fr.batchApplyKey(await Fr.ifft(await coset()), Fr.one, Fr.inv(shift));
    const cos = await timeMedian(repeats, coset);
    results.push({ op: "ntt_coset", log_n: k, median_s: cos, ok: bytesEqual(back, a) });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const curve = await getCurveFromName("bn128");
  const threads = curve.tm.concurrency;
  console.error(`ffjavascript ${ffVersion}: ${threads} worker threads, median of ${opts.repeats}`);
  const results = [];
  try {
    await benchMsm(curve, "G1", "msm_g1", logSizes(opts.msmMin, opts.msmMax), opts.repeats,
                   results);
    await benchMsm(curve, "G2", "msm_g2", logSizes(opts.msmMin, opts.g2Max), opts.repeats,
                   results);
    await benchNtt(curve, logSizes(opts.nttMin, opts.nttMax), opts.repeats, results);
  } finally {
    // The worker pool keeps node alive until it is terminated.
    await curve.terminate();
  }
  process.stdout.write(JSON.stringify({ peer: `ffjavascript ${ffVersion}`, threads, results }) +
                       "\n");
  if (results.some((r) => !r.ok)) {
    console.error("ffjavascript_bench: a result check failed");
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
