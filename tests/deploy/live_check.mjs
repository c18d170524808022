// deploy_live: the monitoring against a real cluster. Starts a local cluster (`zkinfer cluster up
// --detach`, two CPU workers, free ports, a temporary data directory), proves the test circuit
// whole and split (twice, so that the lazily created per-kind series exist before the second
// round and rates over them are not empty) and verifies the proofs, while a real Prometheus
// scrapes the coordinator and both workers with the labels the PodMonitors give them on
// Kubernetes (namespace, pod, job) and loads the derived alert rules. Then every PromQL
// expression of the rules, of the dashboard and of the KEDA trigger runs through the HTTP API:
// none may fail, every dashboard query must return a number, every rule must evaluate healthy,
// and exactly the expected alerts are active.
// There is no GPU here, so the DCGM exporter is a stand-in: a small HTTP target serving series
// with the DCGM exporter's names and its Kubernetes labels (gpu, UUID, Hostname, namespace,
// pod, ...). It checks the GPU queries and their join to worker pods, not real GPU readings:
// zkinfer-worker-0's GPU is nearly full, zkinfer-worker-1's reported XID 79, and a pod of
// another namespace has both problems and must raise nothing.
// Usage: node live_check.mjs REPO_ROOT BIN_DIR OUT
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { main, need, rendered, dashboardQueries, dashboardVariables, grafanaExpr, Report } from "./lib.mjs";

const NS = "zkinfer";
const DEADLINE = Date.now() + 240_000;
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const canListen = (port) =>
  new Promise((res) => {
    const s = net.createServer().once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });

// `count` consecutive ports free right now (worker K's metrics port is the coordinator's + 1 + K).
async function freePorts(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let p = base; ok && p < base + count; p++) ok = await canListen(p);
    if (ok) return Array.from({ length: count }, (_, i) => base + i);
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1`);
}

// Polls fn until it returns a truthy value; fails with `what` after `seconds` (or the deadline).
async function until(what, seconds, fn) {
  const end = Math.min(Date.now() + seconds * 1000, DEADLINE);
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${seconds} s${last ? ` (${last.message})` : ""}`);
    await sleep(300);
  }
}

function dcgmExporter() {
  const gpus = [
    { gpu: "0", Hostname: "gpu-node-a", namespace: NS, pod: "zkinfer-worker-0", util: 91, used: 79000, free: 1000, xid: 0 },
    { gpu: "1", Hostname: "gpu-node-a", namespace: NS, pod: "zkinfer-worker-1", util: 64, used: 30000, free: 50000, xid: 79 },
    { gpu: "0", Hostname: "gpu-node-b", namespace: "other", pod: "other-app-0", util: 99, used: 80000, free: 0, xid: 48 },
  ];
  const text = [
    ["DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "util"],
    ["DCGM_FI_DEV_FB_FREE", "Frame buffer memory free (in MiB).", "free"],
    ["DCGM_FI_DEV_FB_USED", "Frame buffer memory used (in MiB).", "used"],
    ["DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", "xid"],
  ]
    .map(([name, help, key]) =>
      [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`,
        ...gpus.map((g) =>
          `${name}{gpu="${g.gpu}",UUID="GPU-${g.Hostname}-${g.gpu}",device="nvidia${g.gpu}",modelName="NVIDIA H100 80GB HBM3",` +
          `Hostname="${g.Hostname}",container="worker",namespace="${g.namespace}",pod="${g.pod}"} ${g[key]}`)].join("\n"))
    .join("\n") + "\n";
  return http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(text);
  });
}

main(async () => {
  const [root, binDir, out] = process.argv.slice(2);
  need("prometheus", "Debian package prometheus, installed by scripts/setup.sh");
  const r = new Report("deploy_live");
  const zkinfer = path.join(binDir, "zkinfer");
  const rulesFile = path.join(out, "zkinfer.rules.yml");
  if (!fs.existsSync(rulesFile)) throw new Error(`${rulesFile} is missing: the deploy_render check makes it`);
  const keda = rendered(out, "gpu").filter((d) => d.kind === "ScaledObject").flatMap((d) => d.spec.triggers.map((t) => t.metadata.query));
  const dash = JSON.parse(fs.readFileSync(path.join(root, "deploy/monitoring/dashboards/zkinfer.json"), "utf8"));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkinfer-deploy-live-"));
  const data = path.join(tmp, "cluster");
  // Clients, workers, then the coordinator's metrics port followed by the two workers'.
  const [clientsPort, workersPort, metricsPort] = await freePorts(5);
  const cli = (args, seconds = 60) =>
    promisify(execFile)(zkinfer, args, { timeout: Math.min(seconds * 1000, Math.max(1000, DEADLINE - Date.now())), encoding: "utf8" })
      .then((o) => o.stdout.trim().split("\n").pop())
      .catch((e) => { throw new Error(`zkinfer ${args.join(" ")}: ${e.stderr || e.message}`); });
  const coordinator = ["--coordinator", `tcp://127.0.0.1:${clientsPort}`];

  let prometheus, exporter, clusterUp = false;
  try {
    await cli(["cluster", "up", "--workers", "2", "--data", data, "--backend", "cpu", "--detach",
      "--clients", `tcp://127.0.0.1:${clientsPort}`, "--workers-endpoint", `tcp://127.0.0.1:${workersPort}`,
      "--metrics", `127.0.0.1:${metricsPort}`], 90);
    clusterUp = true;

    exporter = dcgmExporter();
    await new Promise((res) => exporter.listen(0, "127.0.0.1", res));
    const [promPort] = await freePorts(1);
    const target = (port, pod) => ({ targets: [`127.0.0.1:${port}`], labels: { namespace: NS, pod } });
    // JSON is YAML: the config as Prometheus reads it.
    fs.writeFileSync(path.join(tmp, "prometheus.yml"), JSON.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: [rulesFile],
      scrape_configs: [
        { job_name: "zkinfer-coordinator", static_configs: [target(metricsPort, "zkinfer-coordinator-0")] },
        { job_name: "zkinfer-worker", static_configs: [target(metricsPort + 1, "zkinfer-worker-0"), target(metricsPort + 2, "zkinfer-worker-1")] },
        // As the GPU operator scrapes it: the exporter's own namespace/pod labels name the GPU's pod.
        { job_name: "dcgm-exporter", honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${exporter.address().port}`],
          labels: { namespace: "gpu-operator", pod: "nvidia-dcgm-exporter-0" } }] },
      ],
    }));
    const promLog = fs.openSync(path.join(tmp, "prometheus.log"), "w");
    prometheus = spawn("prometheus", [`--config.file=${path.join(tmp, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(tmp, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ["ignore", promLog, promLog] });
    const api = async (p) => {
      const res = await fetch(`http://127.0.0.1:${promPort}${p}`, { signal: AbortSignal.timeout(10_000) });
      const body = await res.json();
      if (body.status !== "success") throw new Error(`${p}: ${body.errorType}: ${body.error}`);
      return body.data;
    };
    const query = (q) => api(`/api/v1/query?query=${encodeURIComponent(q)}`);
    await until("prometheus ready", 30, async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok);
    await until("every target scraped up", 30, async () => {
      const t = (await api("/api/v1/targets")).activeTargets;
      return t.length === 4 && t.every((x) => x.health === "up");
    });

    // Two rounds of a whole and a split proof.
    const model = await cli(["model", "add", path.join(root, "tests/data/small.r1cs"), path.join(root, "tests/data/small.zkey"), ...coordinator]);
    const wtns = path.join(root, "tests/data/small.wtns");
    for (let round = 1; round <= 2; round++) {
      const jobs = [await cli(["submit", model, "--witness", wtns, ...coordinator]), await cli(["submit", model, "--witness", wtns, "--split", "2", ...coordinator])];
      for (const job of jobs) {
        r.check((await cli(["wait", job, "--timeout", "90", ...coordinator], 100)) === "SUCCEEDED", `job ${job} did not succeed`);
        const res = path.join(tmp, `result-${job}`);
        await cli(["result", job, "-o", res, ...coordinator]);
        await cli(["groth16", "verify", ...["verification_key.json", "public.json", "proof.json"].map((f) => path.join(res, f))]);
        r.check(true);
      }
      await until(`prometheus sees round ${round}'s jobs`, 30, async () =>
        Number((await query(`sum(zkinfer_jobs_completed_total{status="succeeded"})`)).result[0]?.value[1]) >= 2 * round &&
        (await query("zkinfer_worker_shards_total")).result.length > 0);
      await sleep(3000);
    }

    // The rules, as Prometheus itself evaluates them, and each of their expressions.
    const evaluatedAfter = Date.now();
    const rules = await until("every rule evaluated after the jobs", 30, async () => {
      const all = (await api("/api/v1/rules")).groups.flatMap((g) => g.rules);
      return all.every((x) => Date.parse(x.lastEvaluation) > evaluatedAfter) && all;
    });
    for (const x of rules) {
      r.check(x.health === "ok" && !x.lastError, `rule ${x.name}: health ${x.health} ${x.lastError ?? ""}`);
      try {
        await query(x.query);
        r.check(true);
      } catch (e) {
        r.check(false, `rule ${x.name}: ${e.message}`);
      }
    }
    const active = (await api("/api/v1/alerts")).alerts.map((a) => `${a.labels.alertname} ${a.labels.namespace}/${a.labels.pod ?? ""}`).sort();
    const expected = [`ZkinferGpuMemoryNearFull ${NS}/zkinfer-worker-0`, `ZkinferGpuXidErrors ${NS}/zkinfer-worker-1`];
    r.check(JSON.stringify(active) === JSON.stringify(expected), `active alerts ${JSON.stringify(active)}, expected ${JSON.stringify(expected)}`);

    // The dashboard's and the autoscaler's queries: each returns at least one number.
    const queries = [...dashboardQueries(dash).map((q) => ({ ...q, expr: grafanaExpr(q.expr) })),
      ...keda.map((expr) => ({ where: "KEDA trigger", expr }))];
    for (const q of queries) {
      try {
        const res = (await query(q.expr)).result;
        const numbers = res.filter((s) => Number.isFinite(Number(s.value[1]))).length;
        console.log(`${q.where}: ${res.length} series, ${numbers} with a number`);
        r.check(numbers > 0, `${q.where}: no data for ${q.expr}`);
        r.check(!res.some((s) => s.metric.namespace === "other"), `${q.where}: shows another tenant's GPU`);
      } catch (e) {
        r.check(false, `${q.where}: ${e.message}`);
      }
    }
    for (const v of dashboardVariables(dash)) {
      const series = await api(`/api/v1/series?match[]=${encodeURIComponent(v.metric)}`);
      r.check(series.some((s) => s[v.label]), `variable ${v.name}: no ${v.label} label on ${v.metric}`);
    }
  } catch (e) {
    r.check(false, e.message);
    for (const log of ["cluster/logs/coordinator.log", "prometheus.log"]) {
      const f = path.join(tmp, log);
      if (fs.existsSync(f)) console.log(`--- end of ${log}\n${fs.readFileSync(f, "utf8").slice(-3000)}`);
    }
  } finally {
    if (clusterUp)
      await promisify(execFile)(zkinfer, ["cluster", "down", "--data", data], { timeout: 90_000 }).catch((e) => r.check(false, `cluster down: ${e.stderr || e.message}`));
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill("SIGTERM");
      await Promise.race([new Promise((res) => prometheus.once("exit", res)), sleep(10_000).then(() => prometheus.kill("SIGKILL"))]);
    }
    exporter?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  r.finish();
});
