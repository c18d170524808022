// deploy_manifests: the rendered overlays (deploy_render) against the Kubernetes schemas, offline,
// with the kubernetes-models packages (Kubernetes itself, prometheus-operator and KEDA CRDs; they
// check types, required fields and formats, not unknown extra fields), and against what the
// programs and images expect: flags the binaries know, probes on their endpoints, the images'
// user, Service and selector wiring, GPU requests per overlay, the KEDA query's namespace.
// Usage: node validate_manifests.mjs REPO_ROOT OUT NODE_MODULES COORDINATOR_BIN WORKER_BIN
import fs from "node:fs";
import path from "node:path";
import { main, rendered, run, OVERLAYS, Report } from "./lib.mjs";

// API group -> npm package holding its models.
const PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "keda.sh": "@kubernetes-models/keda",
};

async function modelFor(nodeModules, apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = PACKAGES[group] ?? "kubernetes-models";
  const file = path.join(nodeModules, pkg, group || "", version, `${kind}.js`);
  if (!fs.existsSync(path.join(nodeModules, pkg, "package.json")))
    throw new Error(`${pkg} is not installed in ${nodeModules}: it must be listed in tests/interop/package.json, which scripts/setup.sh installs (npm ci)`);
  if (!fs.existsSync(file)) return null;
  return (await import(file))[kind];
}

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const flagsOf = (args) => (args ?? []).filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]);

main(async () => {
  const [root, out, nodeModules, coordinatorBin, workerBin] = process.argv.slice(2);
  const r = new Report("deploy_manifests");
  const help = {
    "zkinfer/coordinator": run(coordinatorBin, ["--help"]),
    "zkinfer/worker": run(workerBin, ["--help"]),
  };
  const uid = Number(/^ARG UID=(\d+)$/m.exec(fs.readFileSync(path.join(root, "deploy/docker/Dockerfile"), "utf8"))?.[1]);
  r.check(uid > 0, "deploy/docker/Dockerfile sets no non-root ARG UID");
  const dashboard = fs.readFileSync(path.join(root, "deploy/monitoring/dashboards/zkinfer.json"), "utf8");

  for (const overlay of OVERLAYS) {
    const docs = rendered(out, overlay);
    const find = (kind, name) => docs.find((d) => d.kind === kind && (!name || d.metadata.name === name));
    const tag = (d) => `${overlay}: ${d.kind}/${d.metadata?.name}`;

    for (const d of docs) {
      const Model = await modelFor(nodeModules, d.apiVersion, d.kind);
      if (!r.check(Model, `${tag(d)}: no schema for ${d.apiVersion} ${d.kind}`)) continue;
      try {
        new Model(d).validate();
        r.check(true);
      } catch (e) {
        r.check(false, `${tag(d)}: ${e.message}`);
      }
      if (d.kind !== "Namespace")
        for (const l of overlay === "base" ? ["app.kubernetes.io/name"] : ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/instance"])
          r.check(d.metadata.labels?.[l], `${tag(d)}: no label ${l}`);
      if (overlay !== "base") r.check(d.kind === "Namespace" || d.metadata.namespace, `${tag(d)}: no namespace`);
    }

    const workloads = docs.filter((d) => d.kind === "StatefulSet" || d.kind === "Deployment");
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      r.check(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${tag(w)}: selector does not match its pods`);
      r.check(pod.securityContext?.runAsNonRoot === true && pod.securityContext?.runAsUser === uid,
        `${tag(w)}: pods must run as non-root user ${uid}, the images' user`);
      for (const c of pod.containers) {
        const ctag = `${tag(w)} container ${c.name}`;
        const image = c.image.split(":")[0];
        if (!r.check(help[image], `${ctag}: image ${c.image} is not one deploy/docker builds`)) continue;
        r.check(c.image.includes(":"), `${ctag}: image ${c.image} has no tag`);
        for (const f of flagsOf(c.args))
          r.check(new RegExp(`(^|[\\s,])${f}\\b`, "m").test(help[image]), `${ctag}: ${image} has no flag ${f}`);
        r.check(c.securityContext?.allowPrivilegeEscalation === false && c.securityContext?.readOnlyRootFilesystem === true,
          `${ctag}: no privilege escalation and a read-only root filesystem expected`);
        const ports = new Set((c.ports ?? []).map((p) => p.name));
        r.check(c.livenessProbe?.httpGet?.path === "/healthz" && ports.has(c.livenessProbe.httpGet.port), `${ctag}: liveness probe on /healthz`);
        r.check(c.readinessProbe?.httpGet?.path === "/readyz" && ports.has(c.readinessProbe.httpGet.port), `${ctag}: readiness probe on /readyz`);
        const metrics = flagsOf(c.args).includes("--metrics") && c.args.find((a) => a.startsWith("--metrics=")).split(":").pop();
        r.check(c.ports?.some((p) => p.name === "metrics" && String(p.containerPort) === metrics), `${ctag}: port "metrics" is not the --metrics port`);
        const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
        for (const a of c.args ?? []) {
          const file = /^--(curve-key|client-keys|worker-keys|server-key)=(\/.+)$/.exec(a)?.[2];
          if (!file) continue;
          const ok = (pod.volumes ?? []).some((v) => v.secret && mounts.has(v.name) &&
            (v.secret.items ?? []).some((i) => path.join(mounts.get(v.name), i.path) === file));
          r.check(ok, `${ctag}: ${a} names no file of a mounted Secret`);
        }
      }
    }

    const coord = find("StatefulSet", "zkinfer-coordinator");
    const svc = find("Service", "zkinfer-coordinator");
    const worker = find("Deployment", "zkinfer-worker");
    if (r.check(coord && svc && worker, `${overlay}: coordinator StatefulSet, its Service and the worker Deployment expected`)) {
      const cpod = coord.spec.template;
      r.check(coord.spec.serviceName === svc.metadata.name, `${overlay}: the StatefulSet's serviceName is not its Service`);
      r.check(matches(svc.spec.selector, cpod.metadata.labels), `${overlay}: the Service does not select the coordinator`);
      const cports = new Map(cpod.spec.containers[0].ports.map((p) => [p.name, p.containerPort]));
      for (const p of svc.spec.ports) r.check(cports.has(p.targetPort), `${overlay}: Service port ${p.name} targets no coordinator port`);
      r.check(coord.spec.volumeClaimTemplates?.some((t) => cpod.spec.containers[0].volumeMounts.some((m) => m.name === t.metadata.name && m.mountPath === "/var/lib/zkinfer")),
        `${overlay}: the coordinator's --data directory is not on its PersistentVolumeClaim`);
      const wargs = worker.spec.template.spec.containers[0].args;
      const endpoint = wargs.find((a) => a.startsWith("--coordinator="))?.split("=")[1];
      const workersPort = svc.spec.ports.find((p) => p.name === "workers")?.port;
      r.check(endpoint === `tcp://${svc.metadata.name}:${workersPort}`, `${overlay}: workers connect to ${endpoint}, not the Service's worker port`);
      const strategy = worker.spec.strategy;
      r.check(strategy?.type === "RollingUpdate" && strategy.rollingUpdate?.maxSurge === 0, `${overlay}: worker rollouts need maxSurge 0`);
      r.check(worker.spec.template.spec.terminationGracePeriodSeconds >= 300, `${overlay}: workers need a grace period that lets a shard drain`);
      const pdb = find("PodDisruptionBudget");
      r.check(pdb && matches(pdb.spec.selector.matchLabels, worker.spec.template.metadata.labels), `${overlay}: no PodDisruptionBudget for the workers`);

      const wc = worker.spec.template.spec.containers[0];
      const gpus = wc.resources?.limits?.["nvidia.com/gpu"];
      if (overlay === "dev") {
        r.check(!gpus && !worker.spec.template.spec.nodeSelector && !worker.spec.template.spec.tolerations, "dev: workers must not ask for GPUs or GPU nodes");
        r.check(wargs.includes("--backend=cpu"), "dev: workers must use --backend=cpu");
      } else {
        r.check(String(gpus) === "1", `${overlay}: one nvidia.com/gpu per worker expected`);
        r.check(worker.spec.template.spec.nodeSelector && worker.spec.template.spec.tolerations?.some((t) => t.key === "nvidia.com/gpu"),
          `${overlay}: workers need a GPU node selector and toleration`);
        r.check(wargs.includes("--backend=cuda"), `${overlay}: GPU workers must use --backend=cuda`);
      }
    }

    for (const so of docs.filter((d) => d.kind === "ScaledObject")) {
      r.check(find("Deployment", so.spec.scaleTargetRef.name), `${tag(so)}: scales no Deployment of this overlay`);
      r.check(find("Deployment", so.spec.scaleTargetRef.name)?.spec.replicas === undefined, `${tag(so)}: the Deployment it scales still sets replicas`);
      for (const t of so.spec.triggers) {
        const ns = [...t.metadata.query.matchAll(/namespace="([^"]*)"/g)].map((m) => m[1]);
        r.check(ns.length && ns.every((n) => n === so.metadata.namespace), `${tag(so)}: its query must select namespace ${so.metadata.namespace}`);
      }
    }
    for (const pm of docs.filter((d) => d.kind === "PodMonitor"))
      r.check(workloads.some((w) => matches(pm.spec.selector.matchLabels, w.spec.template.metadata.labels) &&
        w.spec.template.spec.containers.some((c) => c.ports?.some((p) => p.name === pm.spec.podMetricsEndpoints[0].port))),
        `${tag(pm)}: selects no pod with a port ${pm.spec.podMetricsEndpoints[0].port}`);
    const cm = find("ConfigMap", "zkinfer-dashboard");
    if (cm) r.check(cm.data?.["zkinfer.json"] === dashboard, `${tag(cm)}: not deploy/monitoring/dashboards/zkinfer.json`);
    if (overlay === "gpu")
      for (const k of ["ScaledObject", "PodMonitor", "PrometheusRule", "ConfigMap"]) r.check(find(k), `gpu: no ${k}`);
  }
  r.finish();
});
