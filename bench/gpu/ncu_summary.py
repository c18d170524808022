#!/usr/bin/env python3
"""One line per kernel launch from Nsight Compute's details page in CSV (ncu --csv --page
details, as bench/gpu/profile.sh writes it): duration, SM and memory throughput, achieved and
theoretical occupancy, registers, issue activity and warp cycles per issued instruction, under
the name of the profiled call that launched it (the "profiled: ..." lines the benchmarks print
are not in the CSV, so launches are listed in order, numbered as ncu numbered them).

    ncu_summary.py ncu-bench_gpu_msm.csv [more.csv ...]

A metric a section did not report shows as "-". Exit status 1 when a file has no launches.
"""
import csv
import re
import sys

# (column title, metric name in the details page, width)
COLUMNS = [
    ("us", "Duration", 9),
    ("SM%", "Compute (SM) Throughput", 6),
    ("mem%", "Memory Throughput", 6),
    ("dram%", "DRAM Throughput", 6),
    ("occ%", "Achieved Occupancy", 6),
    ("th.occ%", "Theoretical Occupancy", 8),
    ("regs", "Registers Per Thread", 5),
    ("issue%", "Issue Slots Busy", 7),
    ("noelig%", "No Eligible", 8),
    ("cyc/inst", "Warp Cycles Per Issued Instruction", 9),
]


def short_name(full):
    """A readable kernel name: the step of step_kernel<...> (with its curve), else the function."""
    name = full.strip()
    if "G2Curve" in name or "Fq2" in name:
        curve = " G2"
    elif "G1CurveSquare" in name:  # the dedicated-square experiment (msm_steps.h) apart from G1's own
        curve = " G1square"
    else:
        curve = " G1" if "G1Curve" in name else ""
    step = re.search(r"step_kernel<[\w:]*?(\w+)(?:<|>)", name)
    if step:
        return step.group(1) + curve
    # Nsight Compute 2025 writes the bool template arguments as 0 and 1 (2026-11-28, H200).
    ntt = re.search(r"ntt_pass_kernel<(true|false|0|1)>", name)
    if ntt:  # the instances of NttDriverConfig::radix4 (ntt.cu)
        return "ntt_pass_kernel radix4" if ntt.group(1) in ("true", "1") else "ntt_pass_kernel"
    base = re.sub(r"^void\s+", "", name).replace("(anonymous namespace)::", "")
    base = re.split(r"[<(]", base, maxsplit=1)[0]
    return base.split("::")[-1] + curve


def to_microseconds(value, unit):
    # Older Nsight Compute spells units out ("usecond"), newer abbreviates them ("us").
    scale = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6,
             "s": 1e6}.get(unit)
    try:
        v = float(value.replace(",", ""))
    except ValueError:
        return value
    return f"{v * scale:.1f}" if scale is not None else value


def summarise(path):
    launches = {}  # ID -> (name, grid, block, {metric: text})
    order = []
    with open(path, newline="") as f:
        lines = [line for line in f if line.startswith('"')]  # ncu's own ==PROF== lines are not CSV
    for row in csv.DictReader(lines):
        lid = row.get("ID")
        if lid is None or row.get("Metric Name") is None:
            continue
        if lid not in launches:
            launches[lid] = (short_name(row.get("Kernel Name", "?")), row.get("Grid Size", ""),
                             row.get("Block Size", ""), {})
            order.append(lid)
        metric, unit, value = row["Metric Name"], row.get("Metric Unit", ""), row.get("Metric Value", "")
        # A name can recur in a later section in other units ("Memory Throughput": % in Speed Of
        # Light, byte/s in Memory Workload Analysis): the first, the percentage, is the column's.
        if metric in launches[lid][3]:
            continue
        launches[lid][3][metric] = to_microseconds(value, unit) if metric == "Duration" else value
    print(f"== {path}: {len(order)} kernel launches")
    header = f"{'id':>4} {'kernel':<30} {'grid':>16} {'block':>13}"
    for title, _, width in COLUMNS:
        header += f" {title:>{width}}"
    print(header)
    for lid in order:
        name, grid, block, metrics = launches[lid]
        line = f"{lid:>4} {name[:30]:<30} {grid:>16} {block:>13}"
        for _, metric, width in COLUMNS:
            line += f" {metrics.get(metric, '-'):>{width}}"
        print(line)
    return len(order)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ok = True
    for path in argv[1:]:
        if summarise(path) == 0:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
