// Helpers shared by the deploy checks (tests/deploy/*.mjs): required tools, rendered manifests,
// metric names the code exports, PromQL found in the rules and the dashboard.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

// Fails (never skips) when a tool a check needs is missing, saying where it comes from.
export function need(tool, from) {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
  } catch {
    throw new Error(`${tool} is not on PATH; the deploy checks need it (${from})`);
  }
}

export function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 120_000, ...opts });
}

// Every document of a YAML stream, through yq (jq over YAML): one JSON value per line.
export function yamlDocs(file) {
  return run("yq", ["-c", ".", file])
    .split("\n")
    .filter((l) => l.trim() && l.trim() !== "null")
    .map((l) => JSON.parse(l));
}

// Rendered overlays, as render.mjs wrote them into the check directory.
export const OVERLAYS = ["base", "dev", "gpu"];
export function rendered(dir, name) {
  const file = path.join(dir, `${name}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the deploy_render check makes it`);
  return yamlDocs(file);
}

// Metric names the project's code registers (string literals in the sources of the programs
// that serve /metrics); a histogram's series get their _bucket, _sum and _count suffixes.
export function exportedMetrics(root) {
  const names = new Set(["up"]);
  for (const dir of ["coordinator/src", "worker/src", "common/src"]) {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs).filter((f) => f.endsWith(".cpp"))) {
      const text = fs.readFileSync(path.join(abs, f), "utf8");
      for (const m of text.matchAll(/"(zkinfer_[a-z0-9_]+)"/g)) {
        names.add(m[1]);
        for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1] + s);
      }
    }
  }
  return names;
}

// The DCGM exporter's series the rules and the dashboard read (its default field names).
export const DCGM_METRICS = ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_XID_ERRORS"];

// Metric names an expression reads: ours, the DCGM exporter's, and Prometheus's own `up`.
export function metricNames(expr) {
  return [...new Set([...expr.matchAll(/\b(zkinfer_[a-z0-9_]+|DCGM_[A-Z0-9_]+|up(?=\s*\{))\b/g)].map((m) => m[1]))];
}

// Grafana's built-in variables and the dashboard's own, as the live check substitutes them: the
// rate window spans several scrapes, the range covers the whole test.
export function grafanaExpr(expr) {
  return expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__range", "1h")
    .replaceAll("$namespace", ".*");
}

// Every query of the dashboard: panel targets, and the label_values() of its template variables.
export function dashboardQueries(dash) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dash.panels);
  return out;
}

export function dashboardVariables(dash) {
  return (dash.templating?.list ?? [])
    .filter((v) => v.type === "query")
    .map((v) => {
      const q = typeof v.query === "string" ? v.query : v.query?.query;
      const m = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(q ?? "");
      if (!m) throw new Error(`dashboard variable ${v.name}: only label_values(METRIC, LABEL) is supported, got ${q}`);
      return { name: v.name, metric: m[1], label: m[2] };
    });
}

// Collects failures so a check reports all of them, then exits non-zero when there were any.
export class Report {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.passed = 0;
  }
  check(ok, what) {
    if (ok) this.passed++;
    else this.failures.push(what);
    return ok;
  }
  finish() {
    for (const f of this.failures) console.log(`FAIL: ${f}`);
    console.log(`${this.name}: ${this.passed} passed, ${this.failures.length} failed`);
    process.exit(this.failures.length ? 1 : 0);
  }
}

// Runs main() and turns a thrown error into a clear failure.
export function main(fn) {
  Promise.resolve()
    .then(fn)
    .catch((e) => {
      console.error(`FAIL: ${e.message}`);
      process.exit(1);
    });
}
