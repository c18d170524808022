// Runs a generated Solidity Groth16 verifier on a real EVM: compiles it with solc, starts anvil
// on 127.0.0.1 (a free port), deploys it, and calls verifyProof.
//
//   node solidity_test.mjs VERIFIER.sol PROOF.json PUBLIC.json [PROOF.json PUBLIC.json ...]
//
// Every given proof must verify (true). For the first one, tampered versions must give false
// without reverting: pi_a negated, pi_c replaced by pi_a, a public signal changed by one, a
// public signal shifted by r (same value mod r, but >= r), a coordinate >= q, a point off the
// curve. Prints the gas of each verifyProof call as a transaction pays it (gasUsed of a mined
// transaction: the 21000 base and the calldata included), one `GAS ...` line per proof.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

import { ethers } from "ethers";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = path.dirname(fileURLToPath(import.meta.url));

const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

function fail(msg) {
  console.error(`solidity_test: FAIL: ${msg}`);
  process.exitCode = 1;
}

function compile(file) {
  const input = {
    language: "Solidity",
    sources: { [path.basename(file)]: { content: fs.readFileSync(file, "utf8") } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = out.errors ?? [];
  for (const e of diagnostics) console.error(e.formattedMessage);
  if (diagnostics.some((e) => e.severity === "error")) throw new Error(`solc could not compile ${file}`);
  if (diagnostics.length) throw new Error(`solc warns about ${file}; the generated contract must compile cleanly`);
  const contracts = out.contracts[path.basename(file)];
  const names = Object.keys(contracts);
  if (names.length !== 1) throw new Error(`expected one contract in ${file}, found ${names.join(", ")}`);
  const c = contracts[names[0]];
  console.log(`solc ${solc.version()}: ${names[0]}, ${c.evm.bytecode.object.length / 2} bytes of init code`);
  return { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Starts anvil and waits until it answers; returns { child, provider }.
async function startAnvil() {
  const bin = path.join(here, "node_modules", "@foundry-rs", "anvil", "bin.mjs");
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "--host", "127.0.0.1", "--port", String(port), "--silent"], {
      stdio: ["ignore", "ignore", "pipe"],
      detached: true, // its own process group: the npm wrapper runs the real binary as a child
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    let exited = false;
    child.once("exit", () => (exited = true));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30000;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        });
        const { result } = await res.json();
        const network = ethers.Network.from(Number(result));
        return { child, provider: new ethers.JsonRpcProvider(url, network, { staticNetwork: network }) };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await stopAnvil(child);
    console.error(`anvil on port ${port} did not start (attempt ${attempt + 1}): ${stderr.trim()}`);
  }
  throw new Error("could not start anvil");
}

// Ends anvil's process group (the wrapper and the binary), SIGKILL if SIGTERM is not enough.
async function stopAnvil(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {}
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
  signal("SIGKILL"); // any straggler in the group
}

// snarkjs proof.json / public.json -> verifyProof's arguments (G2: imaginary part first).
function callArgs(proof, pub) {
  const a = [BigInt(proof.pi_a[0]), BigInt(proof.pi_a[1])];
  const b = [
    [BigInt(proof.pi_b[0][1]), BigInt(proof.pi_b[0][0])],
    [BigInt(proof.pi_b[1][1]), BigInt(proof.pi_b[1][0])],
  ];
  const c = [BigInt(proof.pi_c[0]), BigInt(proof.pi_c[1])];
  return [a, b, c, pub.map((s) => BigInt(s))];
}

async function expectResult(contract, label, args, want) {
  let got;
  try {
    got = await contract.verifyProof(...args);
  } catch (e) {
    fail(`${label}: verifyProof reverted (${e.shortMessage ?? e.message}); it must return ${want}`);
    return;
  }
  // Gas as a transaction pays it. Not eth_estimateGas: it searches for the least gas limit with
  // which the call does not revert, and a precompile starved of gas makes verifyProof return
  // false rather than revert, so the estimate comes out far below what a valid proof costs.
  const tx = await contract.verifyProof.send(...args, { gasLimit: 5_000_000 });
  const gas = (await tx.wait()).gasUsed;
  console.log(`${got === want ? "ok  " : "FAIL"} ${label}: ${got} (gas ${gas})`);
  if (got !== want) fail(`${label}: verifyProof returned ${got}, expected ${want}`);
  return gas;
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.length < 3 || argv.length % 2 !== 1) {
    console.error("usage: node solidity_test.mjs VERIFIER.sol PROOF.json PUBLIC.json [PROOF.json PUBLIC.json ...]");
    process.exit(2);
  }
  const { abi, bytecode } = compile(argv[0]);
  const cases = [];
  for (let i = 1; i < argv.length; i += 2) {
    cases.push({
      label: path.basename(argv[i]),
      proof: JSON.parse(fs.readFileSync(argv[i], "utf8")),
      pub: JSON.parse(fs.readFileSync(argv[i + 1], "utf8")),
    });
  }

  const { child, provider } = await startAnvil();
  try {
    const signer = await provider.getSigner(0);
    const factory = new ethers.ContractFactory(abi, bytecode, signer);
    const contract = await factory.deploy();
    await contract.waitForDeployment();
    const receipt = await contract.deploymentTransaction().wait();
    console.log(`deployed at ${await contract.getAddress()} (deployment gas ${receipt.gasUsed})`);

    for (const { label, proof, pub } of cases) {
      const gas = await expectResult(contract, `valid proof ${label}`, callArgs(proof, pub), true);
      if (gas !== undefined) console.log(`GAS verifyProof ${label} n_public=${pub.length}: ${gas}`);
    }

    const [a, b, c, pub] = callArgs(cases[0].proof, cases[0].pub);
    const tampered = [
      ["pi_a negated", [[a[0], a[1] === 0n ? 0n : Q - a[1]], b, c, pub]],
      ["pi_c replaced by pi_a", [a, b, a, pub]],
      ["pi_b x coordinates swapped (real part first)", [a, [[b[0][1], b[0][0]], b[1]], c, pub]],
      ["public signal 0 plus one", [a, b, c, [(pub[0] + 1n) % R, ...pub.slice(1)]]],
      ["public signal 0 plus r (>= r, same residue)", [a, b, c, [pub[0] + R, ...pub.slice(1)]]],
      ["pi_a x plus q (>= q, same residue)", [[a[0] + Q, a[1]], b, c, pub]],
      ["pi_a off the curve", [[a[0], (a[1] + 1n) % Q], b, c, pub]],
    ];
    if (pub.length > 1) {
      const last = pub.length - 1;
      tampered.push(["last public signal plus one", [a, b, c, [...pub.slice(0, last), (pub[last] + 1n) % R]]]);
    }
    for (const [label, args] of tampered) await expectResult(contract, `tampered: ${label}`, args, false);
  } finally {
    provider.destroy();
    await stopAnvil(child);
  }
}

main().catch((e) => {
  console.error(`solidity_test: ${e.stack ?? e}`);
  process.exit(1);
});
