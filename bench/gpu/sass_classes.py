#!/usr/bin/env python3
"""SASS instruction classes per kernel of an sm_90 cubin, for machines without cuobjdump.

    nvcc ... -arch=sm_90 -cubin kernel.cu -o kernel.cubin
    bench/gpu/sass_classes.py kernel.cubin [NAME_SUBSTRING]

Why: the build machines of this project have nvcc and ptxas but no cuobjdump or nvdisasm, and
PTX counts do not show what ptxas fuses (a mad.lo/madc.hi pair of one product becomes one
IMAD.WIDE) or which pipe an instruction goes to. An sm_90 instruction is 16 bytes and its low
12 bits are the opcode with the operand form (register, immediate, constant bank); this counts
them per kernel (.text.<kernel> section of the ELF). Only the classes this project's arithmetic
uses are named; the rest print as their opcode number. The names follow the public
reverse-engineered encoding tables, checked against kernels whose counts are known: a Montgomery
product has 64 limb products as IMAD.WIDE, a square 36, a Karatsuba product 48
(bench/results/gpu-compile-2026-11-26-sm90-no-gpu.md, session 18). Where cuobjdump exists
(`cuobjdump -sass`), use it instead.
"""
import collections
import shutil
import struct
import subprocess
import sys

# opcode (low 12 bits) -> class; the high nibble of the 12 bits is the operand form.
CLASSES = {
    0x224: "IMAD", 0x824: "IMAD", 0xA24: "IMAD", 0xC24: "IMAD",
    0x225: "IMAD.WIDE", 0x825: "IMAD.WIDE", 0xA25: "IMAD.WIDE", 0xC25: "IMAD.WIDE",
    0x227: "IMAD.HI", 0x827: "IMAD.HI", 0xA27: "IMAD.HI", 0xC27: "IMAD.HI",
    0x210: "IADD3", 0x810: "IADD3", 0xC10: "IADD3",
    0x212: "LOP3", 0x812: "LOP3", 0xC12: "LOP3",
    0x202: "MOV", 0x802: "MOV", 0xC02: "MOV",
    0x207: "SEL", 0x807: "SEL", 0xC07: "SEL",
    0x219: "SHF", 0x819: "SHF", 0xC19: "SHF",
    0x20C: "ISETP", 0x80C: "ISETP", 0xC0C: "ISETP",
    0x918: "NOP", 0x94D: "EXIT", 0x947: "BRA",
}


def sections(data):
    """(name, offset, size) of every section of a 64-bit little-endian ELF file."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise SystemExit("not a 64-bit ELF file (a cubin from nvcc -cubin)")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    entsize, count, strndx = struct.unpack_from("<HHH", data, 0x3A)
    heads = [struct.unpack_from("<IIQQQQ", data, shoff + i * entsize) for i in range(count)]
    names_at = heads[strndx][4]

    def name(off):
        end = data.index(b"\0", names_at + off)
        return data[names_at + off:end].decode()

    return [(name(h[0]), h[4], h[5]) for h in heads]


def demangle(names):
    if not shutil.which("c++filt"):
        return names
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout
    return out.splitlines() if out else names


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__.strip().split("\n\n")[1])
    data = open(sys.argv[1], "rb").read()
    want = sys.argv[2] if len(sys.argv) == 3 else ""
    kernels = [(n[len(".text."):], off, size) for n, off, size in sections(data) if n.startswith(".text.")]
    pretty = demangle([k[0] for k in kernels])
    for (mangled, off, size), name in zip(kernels, pretty):
        if want not in name and want not in mangled:
            continue
        counts = collections.Counter()
        for at in range(off, off + size, 16):
            op = struct.unpack_from("<Q", data, at)[0] & 0xFFF
            counts[CLASSES.get(op, "op_%03x" % op)] += 1
        counts.pop("NOP", None)  # alignment padding
        total = sum(counts.values())
        print(f"{name}\n  {total} instructions: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main()
