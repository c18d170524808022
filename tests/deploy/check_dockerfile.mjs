// deploy_dockerfile: what can be checked of deploy/docker without building it (no hadolint in
// Debian 12 or on npm; images.sh builds and runs the CPU flavor, but the GPU flavor's bases come
// from a registry CI cannot reach): pinned base images of CUDA 13, explicit GPU architectures,
// COPY sources that exist and that the build context does not ignore, every CMake subdirectory
// the build needs copied, binaries that are CMake targets, runtime stages that run as a non-root
// user, default flags the binaries know; then collect-runtime.sh on this build's binaries (each
// runs from the collected libraries), and the copied sources configure on their own with the
// Dockerfile's CMake options and define the targets it builds.
// Usage: node check_dockerfile.mjs REPO_ROOT CMAKE BIN_DIR OUT
import fs from "node:fs";
import path from "node:path";
import { main, run, Report } from "./lib.mjs";

// Instructions of a Dockerfile: comments dropped, continuation lines joined.
function instructions(text) {
  const out = [];
  let cur = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    cur += line.replace(/\\$/, " ");
    if (line.endsWith("\\")) continue;
    if (cur.trim()) {
      const [, op, rest] = /^\s*(\S+)\s*(.*)$/.exec(cur);
      out.push({ op: op.toUpperCase(), rest: rest.trim() });
    }
    cur = "";
  }
  return out;
}

// .dockerignore patterns as regular expressions over paths relative to the context root.
function ignoreRules(text) {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((p) => {
      const negate = p.startsWith("!");
      const glob = p.replace(/^!/, "").replace(/^\//, "");
      const re = glob
        .split("/")
        .map((part) => (part === "**" ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*").replaceAll("?", "[^/]")))
        .join("/")
        .replaceAll(".*/", "(.*/)?");
      return { negate, re: new RegExp(`^${re}(/.*)?$`) };
    });
}
const ignored = (rules, file) => rules.reduce((acc, { negate, re }) => (re.test(file) ? !negate : acc), false);

main(() => {
  const [root, cmake, binDir, out] = process.argv.slice(2);
  const r = new Report("deploy_dockerfile");
  const dockerfile = path.join(root, "deploy/docker/Dockerfile");
  const ins = instructions(fs.readFileSync(dockerfile, "utf8"));
  const rules = ignoreRules(fs.readFileSync(`${dockerfile}.dockerignore`, "utf8"));
  const args = {};
  for (const i of ins.filter((i) => i.op === "ARG")) {
    const [k, v] = i.rest.split("=");
    if (v !== undefined) args[k] = v.replace(/^"|"$/g, "");
  }
  const expand = (s) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? "");

  // Stages, and the FLAVOR values their names offer.
  const stages = new Map();
  let stage = null;
  for (const i of ins) {
    if (i.op === "FROM") {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.rest);
      stage = { name, image, ins: [] };
      stages.set(name, stage);
    } else if (stage) stage.ins.push(i);
  }
  const flavors = [...stages.keys()].filter((n) => n?.startsWith("build-base-")).map((n) => n.slice("build-base-".length));
  r.check(flavors.includes("gpu") && flavors.includes("cpu") && flavors.includes(args.FLAVOR), `FLAVOR ${args.FLAVOR}: gpu and cpu build bases expected`);
  for (const s of stages.values()) {
    if (s.image.includes("${FLAVOR}")) {
      for (const f of flavors) r.check(stages.has(s.image.replace("${FLAVOR}", f)), `stage ${s.name}: no stage ${s.image} for FLAVOR=${f}`);
      continue;
    }
    const image = expand(s.image);
    const tag = /^[^:@]+:([^:@]+)$/.exec(image)?.[1];
    r.check(tag && tag !== "latest", `stage ${s.name}: base image ${image} needs an explicit tag`);
    if (image.startsWith("nvidia/cuda:")) r.check(tag.startsWith("13."), `stage ${s.name}: ${image} is not CUDA 13`);
  }
  const archs = [...stages.values()].flatMap((s) => s.ins).find((i) => i.op === "ARG" && i.rest.startsWith("CUDA_ARCHITECTURES="));
  r.check(archs && /^CUDA_ARCHITECTURES="?\d+(;\d+)*"?$/.test(archs.rest), "CUDA_ARCHITECTURES must default to an explicit list (DESIGN.md 3)");

  // Sources: COPY from the context, and what the build stage needs.
  const targets = new Set();
  for (const f of run("git", ["-C", root, "ls-files", "*CMakeLists.txt"]).split("\n").filter(Boolean))
    for (const m of fs.readFileSync(path.join(root, f), "utf8").matchAll(/add_executable\(\s*([\w-]+)/g)) targets.add(m[1]);
  const tracked = run("git", ["-C", root, "ls-files"]).split("\n").filter(Boolean);
  const copied = [];
  for (const s of stages.values())
    for (const i of s.ins.filter((i) => i.op === "COPY")) {
      const parts = i.rest.split(/\s+/);
      const from = parts.find((p) => p.startsWith("--from="))?.slice(7);
      const srcs = parts.filter((p) => !p.startsWith("--")).slice(0, -1);
      if (from) {
        r.check(stages.has(from), `stage ${s.name}: COPY --from=${from} names no stage`);
        continue;
      }
      for (const src of srcs) {
        copied.push(src);
        if (!r.check(fs.existsSync(path.join(root, src)), `stage ${s.name}: COPY ${src}: not in the repository`)) continue;
        const lost = tracked.filter((f) => (f === src || f.startsWith(`${src}/`)) && ignored(rules, f));
        r.check(!lost.length, `stage ${s.name}: COPY ${src}: Dockerfile.dockerignore leaves out ${lost.slice(0, 3).join(", ")}`);
      }
    }
  const build = stages.get("build");
  const buildRun = build.ins.filter((i) => i.op === "RUN").map((i) => i.rest).join("\n");
  const topLevel = fs.readFileSync(path.join(root, "CMakeLists.txt"), "utf8");
  for (const [, dir] of topLevel.matchAll(/^\s*add_subdirectory\((\w+)\)/gm)) {
    if (dir === "tests" || dir === "bench") continue;
    r.check(copied.includes(dir), `CMakeLists.txt adds ${dir}/, which the build stage does not COPY`);
  }
  r.check(/-DZKINFER_BUILD_TESTS=OFF/.test(buildRun) && /-DZKINFER_BUILD_BENCH=OFF/.test(buildRun), "the build stage must turn tests and benchmarks off (it copies neither)");
  const built = /--target\s+([\w\s-]+?)(\n|&&|$)/.exec(buildRun)?.[1].trim().split(/\s+/) ?? [];
  r.check(built.length, "the build stage builds no --target");
  for (const t of built) r.check(targets.has(t), `--target ${t} is no add_executable of the project`);
  const collected = {};
  for (const [, dest, bins] of buildRun.matchAll(/collect-runtime\.sh\s+(\S+)((?:\s+\/build\/bin\/[\w-]+)+)/g))
    collected[dest] = bins.trim().split(/\s+/).map((b) => path.basename(b));
  for (const b of Object.values(collected).flat()) r.check(built.includes(b), `collect-runtime.sh takes ${b}, which is not built`);

  // Runtime stages.
  const help = {};
  for (const name of ["coordinator", "worker"]) {
    const s = stages.get(name);
    if (!r.check(s, `no runtime stage ${name}`)) continue;
    const stageArgs = { ...args };
    for (const i of s.ins.filter((i) => i.op === "ARG")) {
      const [k, v] = i.rest.split("=");
      if (v !== undefined) stageArgs[k] = v;
    }
    const user = s.ins.filter((i) => i.op === "USER").pop()?.rest.replace(/\$\{(\w+)\}/g, (_, a) => stageArgs[a]);
    r.check(user && /^\d+(:\d+)?$/.test(user) && !/^0(:|$)/.test(user), `stage ${name}: USER ${user} must be a numeric non-root user`);
    const from = s.ins.find((i) => i.op === "COPY" && i.rest.startsWith("--from=build"))?.rest.split(/\s+/)[1]?.replace(/\/$/, "");
    const bins = collected[from] ?? [];
    r.check(bins.length, `stage ${name}: copies no collected binaries`);
    const entry = JSON.parse(s.ins.find((i) => i.op === "ENTRYPOINT")?.rest ?? "[]");
    const exe = path.basename(entry[0] ?? "");
    if (!r.check(bins.includes(exe) && entry[0] === `/opt/zkinfer/bin/${exe}`, `stage ${name}: ENTRYPOINT ${entry[0]} is not a binary it holds`)) continue;
    help[exe] = run(path.join(binDir, exe), ["--help"]);
    for (const f of JSON.parse(s.ins.find((i) => i.op === "CMD")?.rest ?? "[]").filter((a) => a.startsWith("--")))
      r.check(new RegExp(`(^|[\\s,])${f}\\b`, "m").test(help[exe]), `stage ${name}: CMD flag ${f} unknown to ${exe}`);
  }

  // collect-runtime.sh on this build: every library a binary loads outside the C/C++ runtime
  // comes from the collected ones.
  const stageDir = path.join(out, "runtime");
  fs.rmSync(stageDir, { recursive: true, force: true });
  const script = path.join(root, "deploy/docker/collect-runtime.sh");
  for (const [dest, bins] of Object.entries(collected)) {
    const dir = path.join(stageDir, path.basename(dest));
    run(script, [dir, ...bins.map((b) => path.join(binDir, b))]);
    const env = { ...process.env, LD_LIBRARY_PATH: path.join(dir, "lib") };
    for (const b of bins) {
      const exe = path.join(dir, "bin", b);
      const foreign = run("ldd", [exe], { env })
        .split("\n")
        .map((l) => /^\s*(\S+) => (\S+)/.exec(l))
        .filter((m) => m && !/^(ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libstdc\+\+|libgcc_s)\.so/.test(m[1]))
        .filter((m) => !m[2].startsWith(path.join(dir, "lib") + "/"));
      r.check(!foreign.length, `${b}: loads ${foreign.map((m) => m[2]).join(", ")} from outside the collected libraries`);
      r.check(run(exe, ["--help"], { env }).includes("--"), `${b} --help does not run from the collected files`);
    }
  }

  // The copied sources alone configure with the Dockerfile's options (CPU flavor: nvcc is not
  // needed to know the targets) and define every target it builds.
  const ctx = path.join(out, "docker-context");
  fs.rmSync(ctx, { recursive: true, force: true });
  for (const src of copied.filter((s) => !s.startsWith("deploy/") && fs.existsSync(path.join(root, s))))
    fs.cpSync(path.join(root, src), path.join(ctx, src), { recursive: true });
  const ctxBuild = path.join(out, "docker-context-build");
  fs.rmSync(ctxBuild, { recursive: true, force: true });
  try {
    run(cmake, ["-S", ctx, "-B", ctxBuild, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DZKINFER_BUILD_TESTS=OFF",
      "-DZKINFER_BUILD_BENCH=OFF", "-DZKINFER_CUDA=OFF"], { stdio: ["ignore", "pipe", "pipe"] });
    const listed = run(cmake, ["--build", ctxBuild, "--target", "help"]);
    for (const t of built) r.check(new RegExp(`^${t}:`, "m").test(listed), `the Docker build context defines no target ${t}`);
  } catch (e) {
    r.check(false, `the Docker build context does not configure: ${(e.stderr || e.message).slice(-2000)}`);
  }
  r.finish();
});
