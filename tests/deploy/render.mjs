// deploy_render: `kubectl kustomize` renders the base and every overlay (written to OUT/NAME.yaml
// for the checks after it), and the alert rules are derived from the rendered PrometheusRule into
// a plain Prometheus rules file (OUT/zkinfer.rules.yml), as deploy/README.md tells operators.
// Usage: node render.mjs REPO_ROOT OUT
import fs from "node:fs";
import path from "node:path";
import { main, need, run, yamlDocs, OVERLAYS, Report } from "./lib.mjs";

main(() => {
  const [root, out] = process.argv.slice(2);
  need("kubectl", "its client renders kustomizations offline; it is on the project's machine image");
  need("yq", "Debian package yq");
  fs.mkdirSync(out, { recursive: true });
  const r = new Report("deploy_render");
  const dirs = { base: "deploy/k8s/base", dev: "deploy/k8s/overlays/dev", gpu: "deploy/k8s/overlays/gpu" };
  for (const name of OVERLAYS) {
    const file = path.join(out, `${name}.yaml`);
    fs.rmSync(file, { force: true });
    try {
      fs.writeFileSync(file, run("kubectl", ["kustomize", path.join(root, dirs[name])], { stdio: ["ignore", "pipe", "pipe"] }));
    } catch (e) {
      r.check(false, `kubectl kustomize ${dirs[name]}: ${e.stderr || e.message}`);
      continue;
    }
    const docs = yamlDocs(file);
    r.check(docs.length > 0, `${dirs[name]} renders no objects`);
    console.log(`${dirs[name]}: ${docs.map((d) => `${d.kind}/${d.metadata?.name}`).join(", ")}`);
  }
  const rules = path.join(out, "zkinfer.rules.yml");
  fs.rmSync(rules, { force: true });
  const gpu = path.join(out, "gpu.yaml");
  if (fs.existsSync(gpu)) {
    const spec = run("yq", ["-y", 'select(.kind == "PrometheusRule") | .spec', gpu]);
    if (r.check(/\bgroups:/.test(spec), "the gpu overlay renders no PrometheusRule with rule groups")) fs.writeFileSync(rules, spec);
  }
  r.finish();
});
