// Small JSON steps of the interop tests (run_interop.sh), on snarkjs's file layouts.
//
//   node json_tool.mjs tamper-proof IN OUT        pi_a negated: still a curve point, wrong proof
//   node json_tool.mjs tamper-public IN OUT       public signal 0 plus one (mod r)
//   node json_tool.mjs tamper-vk-alpha IN OUT     vk_alpha_1 negated
//   node json_tool.mjs tamper-vk-ic IN OUT        the last IC point negated
//   node json_tool.mjs same-json A B              exit 0 when A and B hold the same JSON value
//                                                 (object key order ignored), else print the
//                                                 differing paths and exit 1
//   node json_tool.mjs public-from-witness WTNS.json N OUT
//                                                 public.json from `snarkjs wtns export json`
//                                                 output: signals 1 .. N
import fs from "node:fs";

const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const write = (f, v) => fs.writeFileSync(f, JSON.stringify(v, null, 1) + "\n");
const negY = (y) => (BigInt(y) === 0n ? 0n : Q - BigInt(y)).toString();

function diff(a, b, path, out) {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  } else if (Array.isArray(a)) {
    if (a.length !== b.length) out.push(`${path}: length ${a.length} vs ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); ++i) diff(a[i], b[i], `${path}[${i}]`, out);
  } else if (a !== null && typeof a === "object") {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in a)) out.push(`${path}.${k}: missing in the first`);
      else if (!(k in b)) out.push(`${path}.${k}: missing in the second`);
      else diff(a[k], b[k], `${path}.${k}`, out);
    }
  } else if (a !== b) {
    out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  return out;
}

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
  case "tamper-proof": {
    const p = read(args[0]);
    p.pi_a[1] = negY(p.pi_a[1]);
    write(args[1], p);
    break;
  }
  case "tamper-public": {
    const s = read(args[0]);
    s[0] = ((BigInt(s[0]) + 1n) % R).toString();
    write(args[1], s);
    break;
  }
  case "tamper-vk-alpha": {
    const vk = read(args[0]);
    vk.vk_alpha_1[1] = negY(vk.vk_alpha_1[1]);
    write(args[1], vk);
    break;
  }
  case "tamper-vk-ic": {
    const vk = read(args[0]);
    const last = vk.IC[vk.IC.length - 1];
    last[1] = negY(last[1]);
    write(args[1], vk);
    break;
  }
  case "same-json": {
    const d = diff(read(args[0]), read(args[1]), "$", []);
    if (d.length) {
      console.error(`${args[0]} and ${args[1]} differ:\n  ${d.slice(0, 20).join("\n  ")}`);
      process.exit(1);
    }
    break;
  }
  case "public-from-witness": {
    const w = read(args[0]);
    const n = Number(args[1]);
    write(args[2], w.slice(1, n + 1));
    break;
  }
  default:
    console.error(`json_tool: unknown command ${cmd}`);
    process.exit(2);
}
