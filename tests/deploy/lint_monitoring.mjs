// deploy_monitoring_lint: the alert rules (as deploy_render derives them) and the Grafana
// dashboard, statically: the alerts the deployment issue asks for exist with a severity and a
// summary; every metric the rules, the dashboard and the KEDA trigger read is one the
// coordinator or worker exports (or a DCGM exporter field); the dashboard has its rows (each
// explained in deploy/README.md), unique panel ids, no overlapping panels and the data source
// variable on every query.
// Usage: node lint_monitoring.mjs REPO_ROOT OUT
import fs from "node:fs";
import path from "node:path";
import { main, yamlDocs, rendered, exportedMetrics, metricNames, dashboardQueries, dashboardVariables, DCGM_METRICS, Report } from "./lib.mjs";

const ALERTS = ["ZkinferCoordinatorDown", "ZkinferNoReadyWorkers", "ZkinferQueuedJobTooOld", "ZkinferJobFailureRate",
  "ZkinferWorkerEvictions", "ZkinferProofVerificationFailures", "ZkinferGpuMemoryNearFull", "ZkinferGpuXidErrors"];
const ROWS = ["Jobs and throughput", "Latency", "Queue", "Workers and evictions", "Shards by kind and phase", "GPU (DCGM, joined to worker pods)"];

main(() => {
  const [root, out] = process.argv.slice(2);
  const r = new Report("deploy_monitoring_lint");
  const known = exportedMetrics(root);
  for (const m of DCGM_METRICS) known.add(m);
  const metricsKnown = (expr, where) => {
    const names = metricNames(expr);
    r.check(names.length > 0, `${where}: reads no zkinfer or DCGM metric`);
    for (const n of names) r.check(known.has(n), `${where}: ${n} is exported by no program of the project`);
  };

  const rulesFile = path.join(out, "zkinfer.rules.yml");
  if (!fs.existsSync(rulesFile)) throw new Error(`${rulesFile} is missing: the deploy_render check makes it`);
  const rules = yamlDocs(rulesFile)[0].groups.flatMap((g) => g.rules);
  for (const a of ALERTS) r.check(rules.some((x) => x.alert === a), `no alert ${a}`);
  for (const x of rules) {
    const where = `rule ${x.alert ?? x.record}`;
    r.check(!x.alert || ["critical", "warning", "info"].includes(x.labels?.severity), `${where}: severity critical, warning or info`);
    r.check(!x.alert || x.annotations?.summary, `${where}: no summary`);
    metricsKnown(x.expr, where);
  }
  for (const so of rendered(out, "gpu").filter((d) => d.kind === "ScaledObject"))
    for (const t of so.spec.triggers) metricsKnown(t.metadata.query, `ScaledObject ${so.metadata.name}`);

  const dashText = fs.readFileSync(path.join(root, "deploy/monitoring/dashboards/zkinfer.json"), "utf8");
  const dash = JSON.parse(dashText);
  const readme = fs.readFileSync(path.join(root, "deploy/README.md"), "utf8");
  r.check(dash.uid && dash.title, "dashboard: uid and title");
  const rows = dash.panels.filter((p) => p.type === "row").map((p) => p.title);
  r.check(JSON.stringify(rows) === JSON.stringify(ROWS), `dashboard rows ${JSON.stringify(rows)}, expected ${JSON.stringify(ROWS)}`);
  for (const t of rows) r.check(readme.includes(t), `deploy/README.md does not explain the dashboard row "${t}"`);
  const ids = dash.panels.map((p) => p.id);
  r.check(new Set(ids).size === ids.length, "dashboard: panel ids repeat");
  const boxes = dash.panels.map((p) => ({ t: p.title, ...p.gridPos }));
  for (const [i, a] of boxes.entries()) {
    r.check(a.x >= 0 && a.w > 0 && a.x + a.w <= 24, `panel "${a.t}": outside the 24-column grid`);
    for (const b of boxes.slice(i + 1))
      r.check(!(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h), `panels "${a.t}" and "${b.t}" overlap`);
  }
  const dsVar = dash.templating.list.find((v) => v.type === "datasource" && v.query === "prometheus");
  r.check(dsVar, "dashboard: no Prometheus data source variable");
  for (const p of dash.panels.filter((p) => p.type !== "row")) {
    r.check(p.datasource?.uid === `\${${dsVar?.name}}`, `panel "${p.title}": data source is not \${${dsVar?.name}}`);
    r.check(p.targets?.length > 0, `panel "${p.title}": no query`);
  }
  for (const q of dashboardQueries(dash)) metricsKnown(q.expr, q.where);
  for (const v of dashboardVariables(dash)) metricsKnown(v.metric, `variable ${v.name}`);
  r.finish();
});
