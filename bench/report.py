#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Run the benchmarks and write their results as CSV and paper-style plots.

usage: report.py --bench-dir DIR --out DIR [--quick] [--no-fail] [--only NAME,...]

Runs every benchmark program in --bench-dir (or the --only ones), keeps each
one's output in OUT/NAME.txt, collects the RESULT and TARGET lines of the
format of bench/common.h into OUT/results.csv and draws, as PNG and SVG:

  OUT/overhead.*     overhead per service beside the ranges of the VEIL paper
                     (Ahmad et al., ASPLOS 2024: modules 4-6%, logging 1-19%,
                     enclaves 5-69%)
  OUT/throughput.*   emulator throughput, enforced model against bare Unicorn
  OUT/vmpl_switch.*  the cost of a VMPL switch round trip and of an SVSM call

Exit status: 0 ok, 1 a benchmark failed or missed a target (the CSV and the
plots are written all the same), 2 usage error.
"""
import argparse
import csv
import os
import subprocess
import sys

COLUMNS = ["bench", "name", "value", "unit", "min", "median", "max", "runs", "target",
           "result"]
# VEIL (ASPLOS'24), overhead of each protected service on SNP hardware, in %.
PAPER = [("modules", "kci-modules", "kci_modules_overhead", 4, 6),
         ("modules (Linux)", "linux-modules", "linux_modules_overhead", 4, 6),
         ("logging", "log-bench", "log_service_overhead", 1, 19),
         ("enclaves", None, None, 5, 69)]


def fields(line):
    """key=value fields of a RESULT or TARGET line."""
    return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)


def parse(text):
    rows, targets = [], {}
    for line in text.splitlines():
        if line.startswith("RESULT "):
            rows.append(fields(line))
        elif line.startswith("TARGET "):
            f = fields(line)
            targets[(f.get("bench"), f.get("name"))] = f
    for r in rows:
        t = targets.pop((r.get("bench"), r.get("name")), None)
        if t:
            r["target"], r["result"] = t.get("want", ""), t.get("result", "")
    for t in targets.values():  # a target on a figure with no RESULT line of its own
        rows.append(dict(t, target=t.get("want", "")))
    return rows


def run_benches(args):
    names = sorted(f for f in os.listdir(args.bench_dir)
                   if os.path.isfile(os.path.join(args.bench_dir, f)) and
                   os.access(os.path.join(args.bench_dir, f), os.X_OK))
    if args.only:
        wanted = args.only.split(",")
        missing = [n for n in wanted if n not in names]
        if missing:
            sys.exit("report.py: no benchmark %s in %s" % (", ".join(missing), args.bench_dir))
        names = wanted
    rows, failed = [], []
    for n in names:
        cmd = [os.path.join(args.bench_dir, n)] + (["--quick"] if args.quick else []) + \
              (["--no-fail"] if args.no_fail else [])
        print("==> %s" % " ".join(cmd), flush=True)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        sys.stdout.write(p.stdout)
        with open(os.path.join(args.out, n + ".txt"), "w") as f:
            f.write(p.stdout)
        if p.returncode:
            failed.append("%s (status %d)" % (n, p.returncode))
        rows += parse(p.stdout)
    return rows, failed


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})


def find(rows, bench, name):
    for r in rows:
        if r.get("bench") == bench and r.get("name") == name:
            return r
    return None


def spread(r):
    """median, and the distances to min and max (for error bars)."""
    med = float(r["value"])
    lo = float(r.get("min", med))
    hi = float(r.get("max", med))
    return med, med - lo, hi - med


def save(fig, out, stem):
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out, stem + "." + ext), dpi=120, bbox_inches="tight")


def plot_overhead(plt, rows, out):
    fig, ax = plt.subplots(figsize=(7, 3.2))
    left = 0.0
    for y, (label, bench, name, lo, hi) in enumerate(PAPER):
        ax.barh(y, hi - lo, left=lo, height=0.5, color="#cfd8e8", edgecolor="#6a7fa8",
                label="paper (VEIL, ASPLOS'24, SNP hardware)" if y == 0 else None)
        r = find(rows, bench, name) if bench else None
        if r:
            med, dlo, dhi = spread(r)
            left = min(left, (med - dlo) * 1.5)
            ax.errorbar(med, y, xerr=[[dlo], [dhi]], fmt="o", color="#c0392b", capsize=4,
                        label="Veil on the emulator (median, min-max)" if y == 0 else None)
        else:
            ax.text(hi * 1.5, y, "not measured here" if bench else
                    "per call, not per program: see enclave-bench", va="center", fontsize=8)
    ax.set_yticks(range(len(PAPER)))
    ax.set_yticklabels([p[0] for p in PAPER])
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=left)  # 0 in view: the paper's ranges start near it
    ax.set_xlabel("overhead against the unprotected baseline (%)")
    ax.set_title("Overhead per protected service")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    save(fig, out, "overhead")


def plot_throughput(plt, rows, out):
    fig, ax = plt.subplots(figsize=(7, 3.2))
    work = [r["name"][len("enforced_"):] for r in rows
            if r.get("bench") == "emu-throughput" and r.get("name", "").startswith("enforced_")]
    for i, (kind, color) in enumerate((("enforced", "#c0392b"), ("bare", "#7f8c8d"))):
        xs, meds, errs = [], [], [[], []]
        for j, w in enumerate(work):
            r = find(rows, "emu-throughput", "%s_%s" % (kind, w))
            if r:
                med, dlo, dhi = spread(r)
                xs.append(j + (i - 0.5) * 0.38)
                meds.append(med)
                errs[0].append(dlo)
                errs[1].append(dhi)
        ax.bar(xs, meds, width=0.38, yerr=errs, capsize=3, color=color,
               label={"enforced": "SNP model (RMP enforced)", "bare": "bare Unicorn 2.1"}[kind])
    ax.set_xticks(range(len(work)))
    ax.set_xticklabels(work)
    ax.set_yscale("log")
    ax.set_ylabel("guest Minsn/s (median, min-max)")
    ax.set_title("Emulator throughput")
    ax.legend(fontsize=7)
    if not work:
        ax.text(0.5, 0.5, "emu-throughput not run", transform=ax.transAxes, ha="center")
    save(fig, out, "throughput")


def plot_vmpl(plt, rows, out):
    fig, ax = plt.subplots(figsize=(6, 3))
    items = [("VMPL3 -> VMPL1 -> VMPL3\n(GHCB MSR protocol)", "emu-throughput", "vmpl_roundtrip"),
             ("SVSM call\nOS -> monitor -> OS", "svsm-call", "svsm_call")]
    for x, (label, bench, name) in enumerate(items):
        r = find(rows, bench, name)
        if r:
            med, dlo, dhi = spread(r)
            ax.bar(x, med, yerr=[[dlo], [dhi]], capsize=4, color="#2e86c1", width=0.5)
        else:
            ax.text(x, 0, "not run", ha="center", va="bottom")
    t = find(rows, "svsm-call", "svsm_call")
    if t and t.get("target", "").startswith("<"):
        ax.axhline(float(t["target"][1:]), color="#c0392b", ls="--", lw=1,
                   label="target for an SVSM call (%s us)" % t["target"])
        ax.legend(fontsize=7)
    ax.set_xlim(-0.6, len(items) - 0.4)
    ax.set_xticks(range(len(items)))
    ax.set_xticklabels([i[0] for i in items], fontsize=8)
    ax.set_ylabel("us per round trip (median, min-max)")
    ax.set_title("VMPL switch cost")
    save(fig, out, "vmpl_switch")


def main():
    ap = argparse.ArgumentParser(description="Run the Veil benchmarks; write CSV and plots.")
    ap.add_argument("--bench-dir", required=True, help="the benchmark programs (build/bench)")
    ap.add_argument("--out", required=True, help="folder for results.csv, the plots, outputs")
    ap.add_argument("-q", "--quick", action="store_true", help="run the benchmarks with --quick")
    ap.add_argument("--no-fail", action="store_true", help="pass --no-fail to the benchmarks")
    ap.add_argument("--only", help="comma-separated benchmark names")
    args = ap.parse_args()
    if not os.path.isdir(args.bench_dir):
        ap.error("%s is not a folder" % args.bench_dir)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("report.py: matplotlib is missing (Debian package python3-matplotlib, "
                 "installed by scripts/setup.sh)")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        sys.exit("report.py: cannot create %s: %s" % (args.out, e.strerror))
    rows, failed = run_benches(args)
    write_csv(rows, os.path.join(args.out, "results.csv"))
    plot_overhead(plt, rows, args.out)
    plot_throughput(plt, rows, args.out)
    plot_vmpl(plt, rows, args.out)
    print("==> results: %s/results.csv, plots: %s/{overhead,throughput,vmpl_switch}.{png,svg}"
          % (args.out, args.out))
    if failed:
        print("report.py: failed: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
