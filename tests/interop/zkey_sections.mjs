// Compares two iden3 binary files (.zkey, .ptau) section by section, by type, not by position:
//   node zkey_sections.mjs REFERENCE OTHER
// Exits 0 when every section of REFERENCE is in OTHER with the same bytes and OTHER's extra
// sections are empty (zkinfer's alignment padding); prints one line per section either way.
import { readFileSync } from "node:fs";

function sections(path) {
  const b = readFileSync(path);
  if (b.length < 12) throw new Error(`${path}: too short`);
  const magic = b.subarray(0, 4).toString("latin1");
  const n = b.readUInt32LE(8);
  const out = new Map();
  let pos = 12;
  for (let i = 0; i < n; i++) {
    const type = b.readUInt32LE(pos);
    const size = Number(b.readBigUInt64LE(pos + 4));
    pos += 12;
    if (pos + size > b.length) throw new Error(`${path}: section ${type} runs past the end`);
    if (out.has(type)) throw new Error(`${path}: section ${type} twice`);
    out.set(type, b.subarray(pos, pos + size));
    pos += size;
  }
  return { magic, out };
}

const [refPath, otherPath] = process.argv.slice(2);
if (!refPath || !otherPath) {
  console.error("usage: node zkey_sections.mjs REFERENCE OTHER");
  process.exit(2);
}
const ref = sections(refPath);
const other = sections(otherPath);
let ok = ref.magic === other.magic;
if (!ok) console.log(`magic differs: ${ref.magic} vs ${other.magic}`);
for (const [type, bytes] of [...ref.out].sort((a, b) => a[0] - b[0])) {
  const o = other.out.get(type);
  if (!o) {
    console.log(`section ${type}: missing in ${otherPath}`);
    ok = false;
  } else if (Buffer.compare(bytes, o) !== 0) {
    let i = 0;
    while (i < Math.min(bytes.length, o.length) && bytes[i] === o[i]) i++;
    console.log(`section ${type}: DIFFERS (sizes ${bytes.length} and ${o.length}, first difference at byte ${i})`);
    ok = false;
  } else {
    console.log(`section ${type}: equal (${bytes.length} bytes)`);
  }
}
for (const [type, bytes] of other.out) {
  if (ref.out.has(type)) continue;
  if (bytes.length !== 0) {
    console.log(`section ${type}: only in ${otherPath}, ${bytes.length} bytes`);
    ok = false;
  }
}
console.log(ok ? "sections equal" : "SECTIONS DIFFER");
process.exit(ok ? 0 : 1);
