#!/usr/bin/env python3
"""bench/gpu/profile.sh and bench/gpu/ncu_summary.py without a GPU: the summary of a details-page
CSV in the layout ncu writes (ncu-details-sample.csv), and the script's exit statuses and files
with a stand-in ncu that runs the program and writes that CSV, reports unreadable counters, or
fails.

    test_gpu_profile.py PROJECT_ROOT
"""
import os
import stat
import subprocess
import sys
import tempfile
import unittest

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "ncu-details-sample.csv")
SUMMARY = os.path.join(ROOT, "bench", "gpu", "ncu_summary.py")
PROFILE = os.path.join(ROOT, "bench", "gpu", "profile.sh")


def write_exe(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


class Summary(unittest.TestCase):
    def test_one_line_per_launch_with_its_metrics(self):
        out = subprocess.run([sys.executable, SUMMARY, SAMPLE], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertIn("3 kernel launches", lines[0])
        rows = {l.split()[0]: l for l in lines[2:]}
        self.assertEqual(sorted(rows), ["0", "1", "2"])
        # Names: the step of step_kernel<...> with its curve; CUB's kernel by its function name.
        self.assertIn("AccumulateStep G1", rows["0"])
        self.assertIn("DeviceRadixSortOnesweepKernel", rows["1"])
        self.assertIn("ReduceStep G2", rows["2"])
        # Durations in microseconds whatever unit ncu used; metrics a section lacked are "-".
        self.assertEqual(rows["0"].split()[-10:], ["3710.0", "71.20", "-", "-", "18.75", "-", "168", "-", "-", "-"])
        self.assertIn(" 120.5 ", rows["1"])
        self.assertIn(" 1.3 ", rows["2"])
        self.assertTrue(rows["2"].endswith("22.31"))

    def test_short_unit_names_convert_too(self):
        # Older Nsight Compute writes "usecond", newer "us"; both must land in microseconds.
        sys.path.insert(0, os.path.dirname(SUMMARY))
        import ncu_summary

        for unit, value, want in [("ns", "812", 0.812), ("us", "3.5", 3.5), ("ms", "1.52", 1520.0),
                                  ("s", "0.002", 2000.0), ("nsecond", "1,300", 1.3), ("msecond", "3.71", 3710.0)]:
            self.assertAlmostEqual(float(ncu_summary.to_microseconds(value, unit)), want, places=1, msg=unit)

    def test_experiments_are_named_apart_from_g1(self):
        sys.path.insert(0, os.path.dirname(SUMMARY))
        import ncu_summary

        kernel = "void zkinfer::gpu::msm_detail::step_kernel<zkinfer::gpu::msm::AccumulateStep<{0}, " \
                 "zkinfer::gpu::msm::PointSource<{0}>>>(T1, unsigned long)"
        self.assertEqual(ncu_summary.short_name(kernel.format("zkinfer::G1Curve")), "AccumulateStep G1")
        self.assertEqual(ncu_summary.short_name(kernel.format("zkinfer::gpu::msm::G1CurveSquare")),
                         "AccumulateStep G1square")
        ntt = "void zkinfer::gpu::(anonymous namespace)::ntt_pass_kernel<{0}>(zkinfer::gpu::ntt::PassArgs)"
        self.assertEqual(ncu_summary.short_name(ntt.format("false")), "ntt_pass_kernel")
        self.assertEqual(ncu_summary.short_name(ntt.format("true")), "ntt_pass_kernel radix4")
        # As Nsight Compute 2025 writes them: bools as 0/1, the anonymous namespace cut short.
        ntt_2025 = "void <unnamed>::ntt_pass_kernel<{0}>(PassArgs)"
        self.assertEqual(ncu_summary.short_name(ntt_2025.format("0")), "ntt_pass_kernel")
        self.assertEqual(ncu_summary.short_name(ntt_2025.format("1")), "ntt_pass_kernel radix4")

    def test_a_metric_named_again_in_later_sections_keeps_its_first_value(self):
        # Memory Throughput is a percentage in Speed Of Light and bytes per second in Memory
        # Workload Analysis (seen on an H200, 2026-11-28): the column is the percentage.
        head = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size",'
                '"Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"\n')
        row = '"0","1","b","h","void <unnamed>::ntt_pass_kernel<0>(PassArgs)","1","7","(256, 1, 1)",' \
              '"(8192, 1, 1)","0","9.0","{0}","Memory Throughput","{1}","{2}"\n'
        with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
            f.write(head + row.format("GPU Speed Of Light Throughput", "%", "27.94") +
                    row.format("Memory Workload Analysis", "byte/s", "1,101,129,065,175.92"))
            f.flush()
            out = subprocess.run([sys.executable, SUMMARY, f.name], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        line = out.stdout.splitlines()[2]
        self.assertIn("ntt_pass_kernel", line)
        self.assertIn(" 27.94 ", line)
        self.assertNotIn("1,101", line)

    def test_a_file_without_launches_fails(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
            f.write("==PROF== Disconnected from process 1\n")
            f.flush()
            out = subprocess.run([sys.executable, SUMMARY, f.name], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)


class ProfileScript(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.bin = os.path.join(self.tmp.name, "bin")
        self.out = os.path.join(self.tmp.name, "out")
        os.mkdir(self.bin)
        # Stand-ins for the benchmarks: they record their arguments.
        for prog in ("bench_gpu_msm", "bench_gpu_ntt"):
            write_exe(os.path.join(self.bin, prog),
                      f'#!/bin/sh\necho "{prog} $*" >> "{self.tmp.name}/calls"\necho "profiled: {prog}"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def ncu(self, body):
        """A stand-in ncu: skips options (with their values), runs the program, then `body`."""
        path = os.path.join(self.tmp.name, "ncu")
        write_exe(path, """#!/bin/bash
while [[ $# -gt 0 ]]; do
  case $1 in
    --log-file) log=$2; shift 2 ;;
    --section|--page|--profile-from-start|--clock-control) shift 2 ;;
    --*) shift ;;
    *) break ;;
  esac
done
"$@" || exit 7
""" + body)
        return path

    def run_script(self, ncu):
        env = dict(os.environ, ZKINFER_NCU=ncu)
        return subprocess.run(["bash", PROFILE, self.bin, self.out], capture_output=True, text=True, env=env)

    def test_profiles_both_programs_and_summarises(self):
        r = self.run_script(self.ncu(f'cp "{SAMPLE}" "$log"\n'))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(self.tmp.name, "calls")) as f:
            self.assertEqual(f.read().split("\n")[:2], ["bench_gpu_msm --profile", "bench_gpu_ntt --profile"])
        for name in ("ncu-bench_gpu_msm.csv", "ncu-bench_gpu_ntt.csv", "ncu-bench_gpu_msm.log", "ncu-summary.txt"):
            self.assertTrue(os.path.isfile(os.path.join(self.out, name)), name)
        with open(os.path.join(self.out, "ncu-summary.txt")) as f:
            summary = f.read()
        self.assertEqual(summary.count("3 kernel launches"), 2)
        self.assertIn("AccumulateStep G1", r.stdout)

    def test_no_ncu_is_status_3(self):
        r = self.run_script(os.path.join(self.tmp.name, "no-such-ncu"))
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("no ncu", r.stdout)

    def test_unreadable_counters_are_status_3(self):
        r = self.run_script(self.ncu('echo "==ERROR== Failed to initialize the profiler: LibraryNotLoaded" > "$log"\nexit 1\n'))
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("cannot read the counters", r.stdout)

    def test_a_failing_run_is_status_1(self):
        r = self.run_script(self.ncu("exit 5\n"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("exited 5", r.stdout)

    def test_a_failing_program_is_status_1_with_its_profile_summarised(self):
        r = self.run_script(self.ncu(f'cp "{SAMPLE}" "$log"\nexit 1\n'))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("exited 1", r.stdout)
        with open(os.path.join(self.out, "ncu-summary.txt")) as f:
            self.assertEqual(f.read().count("3 kernel launches"), 2)

    def test_a_missing_program_is_status_1(self):
        os.remove(os.path.join(self.bin, "bench_gpu_ntt"))
        r = self.run_script(self.ncu(f'cp "{SAMPLE}" "$log"\n'))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("bench_gpu_ntt not built", r.stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
