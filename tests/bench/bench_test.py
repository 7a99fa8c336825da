#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tests of the benchmark programs' command line and of bench/report.py (label "bench").

usage: bench_test.py cli|report --report REPORT_PY --driver SCRIPTS_VEIL --bench-dir DIR
                     --work DIR PROGRAM...

cli:    every benchmark: -h/--help print the usage on stdout and exit 0 without
        running anything, --version prints the Veil version, an unknown option
        is one line on stderr and status 2; `scripts/veil bench` refuses bad
        options the same way (before setting up or building anything).
report: report.py --quick --no-fail on every benchmark writes results.csv with
        the expected columns and figures and non-empty PNG and SVG plots.
No timing is asserted: only formats, files and exit statuses.
"""
import argparse
import csv
import os
import re
import shutil
import subprocess
import sys

COLUMNS = ["bench", "name", "value", "unit", "min", "median", "max", "runs", "target",
           "result"]
A = None


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def run(cmd, timeout=60):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def t_cli():
    for prog in A.programs:
        name = os.path.basename(prog)
        helps = []
        for opt in ("--help", "-h"):
            p = run([prog, opt])
            check(p.returncode == 0 and p.stderr == "", "%s %s: status %d, stderr %r"
                  % (name, opt, p.returncode, p.stderr))
            check(p.stdout.startswith("usage: %s " % name), "%s %s usage:\n%s"
                  % (name, opt, p.stdout))
            check(not re.search(r"^(RESULT|TARGET) ", p.stdout, re.M),
                  "%s %s ran the benchmark" % (name, opt))
            helps.append(p.stdout)
        check(helps[0] == helps[1], "%s: -h and --help differ" % name)
        for opt in ("--quick", "--no-fail", "--version", "RESULT", "TARGET", "Exit status"):
            check(opt in helps[0], "%s --help does not mention %s" % (name, opt))
        p = run([prog, "--version"])
        check(p.returncode == 0 and re.fullmatch(r"%s \(Veil\) \S+\n" % re.escape(name),
                                                 p.stdout), "%s --version: %r" % (name, p.stdout))
        for bad in (["--frobnicate"], ["-x"], ["--quick", "extra"]):
            p = run([prog] + bad)
            check(p.returncode == 2 and p.stdout == "", "%s %s: status %d" %
                  (name, " ".join(bad), p.returncode))
            check(re.fullmatch(r"%s: unknown option '%s' \(try --help\)\n"
                               % (re.escape(name), re.escape(bad[-1])), p.stderr),
                  "%s %s: stderr %r" % (name, " ".join(bad), p.stderr))


    for bad, msg in ((["--frobnicate"], "unknown option: --frobnicate"),
                     (["--report"], "--report needs a folder"),
                     (["--quick", "-x"], "unknown option: -x")):
        p = run([A.driver, "bench"] + bad)
        check(p.returncode == 2 and msg in p.stderr and "==>" not in p.stdout,
              "scripts/veil bench %s: status %d, %r" % (" ".join(bad), p.returncode, p.stderr))
    p = run([A.driver, "help"])
    check("bench [-q|--quick] [--no-fail] [--report DIR]" in p.stdout, "driver usage")


def t_report():
    out = os.path.join(A.work, "report")
    only = ",".join(os.path.basename(p) for p in A.programs)
    p = run([sys.executable, A.report, "--bench-dir", A.bench_dir, "--out", out, "--quick",
             "--no-fail", "--only", only], timeout=540)
    check(p.returncode == 0, "report.py status %d:\n%s%s" % (p.returncode, p.stdout[-3000:],
                                                            p.stderr))
    with open(os.path.join(out, "results.csv"), newline="") as f:
        r = csv.reader(f)
        check(next(r) == COLUMNS, "CSV columns")
        rows = [dict(zip(COLUMNS, row)) for row in r]
    figs = {(x["bench"], x["name"]): x for x in rows}
    for key in [("svsm-call", "svsm_call"), ("emu-throughput", "vmpl_roundtrip"),
                ("emu-throughput", "enforced_alu"), ("emu-throughput", "bare_alu"),
                ("emu-throughput", "geomean_ratio"), ("kci-modules", "kci_modules_overhead"),
                ("log-bench", "log_service_overhead"),
                ("trace-overhead", "trace_overhead_alu_insns_slowdown")]:
        check(key in figs, "no %s/%s in results.csv" % key)
    for x in rows:
        check(len(x) == len(COLUMNS) and x["unit"] and x["runs"].isdigit(), "row %r" % x)
        float(x["value"])
        if int(x["runs"]) > 1:
            lo, med, hi = float(x["min"]), float(x["median"]), float(x["max"])
            check(lo <= med <= hi and float(x["value"]) == med, "spread of %r" % x)
        else:
            check(x["min"] == x["median"] == x["max"] == "", "single figure with spread %r" % x)
    names = [os.path.basename(p) for p in A.programs]
    for prog, key in [("linux-boot", ("linux-boot", "linux_boot_image_vs_native_1cpu")),
                      ("linux-modules", ("linux-modules", "linux_modules_overhead"))]:
        check(prog not in names or key in figs, "no %s/%s in results.csv" % key)
    for key, want in [(("svsm-call", "svsm_call"), "<5"),
                      (("emu-throughput", "geomean_ratio"), ">=0.9")]:
        check(figs[key]["target"] == want and figs[key]["result"] in ("pass", "fail"),
              "target of %s/%s: %r" % (key + (figs[key],)))
    for stem in ("overhead", "throughput", "vmpl_switch"):
        png = open(os.path.join(out, stem + ".png"), "rb").read()
        check(len(png) > 1000 and png[:8] == b"\x89PNG\r\n\x1a\n", stem + ".png")
        svg = open(os.path.join(out, stem + ".svg")).read()
        check("<svg" in svg and len(svg) > 1000, stem + ".svg")
    for prog in A.programs:
        check(os.path.getsize(os.path.join(out, os.path.basename(prog) + ".txt")) > 0,
              "output of %s kept" % prog)
    p = run([sys.executable, A.report, "--bench-dir", os.path.join(A.work, "nope"), "--out", out])
    check(p.returncode == 2 and "is not a folder" in p.stderr, "bad --bench-dir: %r" % p.stderr)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("test")
    ap.add_argument("--report", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("programs", nargs="+")
    A = ap.parse_args()
    A.programs = [p for p in A.programs if p]  # absent Linux benches
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(A.work)
    fn = globals().get("t_" + A.test)
    if not fn:
        print("unknown test %s" % A.test)
        return 2
    try:
        fn()
    except (Fail, subprocess.TimeoutExpired, OSError, KeyError, ValueError, StopIteration) as e:
        print("FAIL bench.%s: %s: %s" % (A.test, type(e).__name__, e))
        return 1
    print("ok bench.%s" % A.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
