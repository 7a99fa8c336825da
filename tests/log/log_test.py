#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Secure log tests (CTest label "log"): boot veil-testos scenarios in veil-emu,
check the exit status and console lines, verify the COM2 dump with veil-log,
tamper with good dumps, and check veil-log's own errors.

    log_test.py --emu VEIL_EMU --log VEIL_LOG --work DIR CASE

CASE is scenario:NAME, tamper:KIND or tool:NAME (see the tables below). Exit 0 =
the case passed; every failure says what was expected and what came.
"""
import argparse
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tamper  # noqa: E402

OK, TEST_FAILED, VIOLATION = 0, 1, 4

# The refusal scenarios of guest/kernel/logdump.c, in order (README.md).
REFUSALS = [
    "attack-log-append-oversized", "attack-log-append-len-high", "attack-log-append-zero",
    "attack-log-append-wrap", "attack-log-append-monitor", "attack-log-append-beyond",
    "attack-log-append-straddle", "attack-log-append-shared", "attack-log-append-unowned",
    "attack-log-head-unaligned", "attack-log-head-monitor", "attack-log-head-beyond",
    "attack-log-head-wrap", "attack-log-head-straddle", "attack-log-read-unaligned",
    "attack-log-read-zero-len", "attack-log-read-monitor", "attack-log-read-beyond",
    "attack-log-read-wrap", "attack-log-read-straddle", "log-read-no-seq",
    "log-read-no-seq-max", "log-read-at-end", "log-unknown-call", "log-append-max", "log-query",
]


class Failed(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Failed(what)


class Ctx:
    def __init__(self, a):
        self.emu, self.log, self.work = a.emu, a.log, a.work
        os.makedirs(self.work, exist_ok=True)

    def path(self, name):
        return os.path.join(self.work, name)

    def boot(self, cmdline, dump=None, vcpus=1, log_size=None, expect=OK):
        """One run; returns the console. The exit status must be `expect`."""
        cmd = [self.emu, "run", "--vcpus", str(vcpus), "--cmdline", cmdline]
        if dump:
            cmd += ["--com2", dump]
        if log_size:
            cmd += ["--log-size", str(log_size)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        out = p.stdout + p.stderr
        if p.returncode != expect:
            sys.stdout.write(out)
            raise Failed(f"{' '.join(cmd)}: exit {p.returncode}, expected {expect}")
        return out

    def veil_log(self, *args):
        p = subprocess.run([self.log, *args], capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr


def passes(out, names):
    for n in names:
        need(re.search(rf"^PASS {re.escape(n)}$", out, re.M), f"no 'PASS {n}' line")
    need(not re.search(r"^FAIL ", out, re.M), "a FAIL line")
    need(re.search(r"veil-testos: \d+ passed, 0 failed", out), "no summary with 0 failed")


def parse(dump):
    """Header fields and the records (seq, tsc, vcpu, payload) of a dump file."""
    data = open(dump, "rb").read()
    need(len(data) >= tamper.HDR.size, f"{dump}: {len(data)} bytes, no header")
    magic, version, sections, count, drops, capacity, used, head = tamper.HDR.unpack_from(data)
    recs = []
    for start, _ in tamper.records(data):
        s, t, v, n, _h = tamper.REC.unpack_from(data, start)
        recs.append((s, t, v, data[start + tamper.REC.size : start + tamper.REC.size + n]))
    hdr = dict(magic=magic, version=version, sections=sections, count=count, drops=drops,
               capacity=capacity, used=used)
    return hdr, recs


def verified(ctx, dump, count=None):
    """veil-log verify passes; returns the parsed dump."""
    rc, out, err = ctx.veil_log("verify", dump)
    need(rc == 0, f"veil-log verify {dump}: exit {rc}: {out}{err}")
    hdr, recs = parse(dump)
    need(hdr["sections"] == 0 and hdr["version"] == 1, f"header {hdr}")
    need(re.match(rf"ok: {hdr['count']} records, {hdr['drops']} dropped, head [0-9a-f]{{64}}$",
                  out.strip()), f"verify said {out!r}")
    if count is not None:
        need(hdr["count"] == count, f"{hdr['count']} records, expected {count}")
    tscs = [t for _, t, _, _ in recs]
    need(tscs == sorted(tscs), "record timestamps go backwards")
    return hdr, recs


# ---- scenarios -------------------------------------------------------------

def sc_dump(ctx):
    d = ctx.path("dump.bin")
    passes(ctx.boot("test=log-dump", d), ["log-append", "log-head", "log-dump"])
    _, recs = verified(ctx, d, 5)
    for i, (s, _, v, p) in enumerate(recs):
        need(s == i and v == 0 and p == f"log-dump: record {i + 1} of 5 from cpu 0".encode(),
             f"record {i}: {s} {v} {p!r}")


def audit_records(recs):
    """The kernel-integrity event of the boot lock, then the user loop's
    syscalls: SYS_NOP(i) for i < 16, then SYS_EXIT(0)."""
    need(recs and re.fullmatch(rb"kci: status rc=0x0 locked=1 text-pages=\d+ exports=\d+",
                               recs[0][3]), f"no kernel-integrity event first: {recs[:1]}")
    want = [(0, i) for i in range(16)] + [(1, 0)]
    got = []
    for _, _, v, p in recs[1:]:
        m = re.fullmatch(rb"syscall nr=(\d+) a0=0x([0-9a-f]+) a1=0x0 rip=0x8000000[0-9a-f]{3} cpu=0",
                         p)
        need(m and v == 0, f"not an audit record: {p!r}")
        got.append((int(m[1]), int(m[2], 16)))
    need(got == want, f"audited syscalls {got}, expected {want}")


def sc_audit_on(ctx):
    d = ctx.path("audit.bin")
    out = ctx.boot("test=log-audit audit=on", d)
    passes(out, ["user-syscalls", "log-audit-records", "log-dump"])
    need("17 records in the log, 0 in the ring" in out, "the log did not get 17 records")
    audit_records(verified(ctx, d, 18)[1])


def sc_audit_ring(ctx):
    d = ctx.path("ring.bin")
    out = ctx.boot("test=log-audit audit=ring", d)
    passes(out, ["user-syscalls", "log-audit-records"])
    need("0 records in the log, 17 in the ring" in out, "the ring did not get 17 records")
    verified(ctx, d, 0)


def sc_audit_off(ctx):
    d = ctx.path("off.bin")
    out = ctx.boot("test=log-audit", d)
    passes(out, ["user-syscalls", "log-audit-records"])
    need("0 records in the log, 0 in the ring" in out, "auditing was not off")
    verified(ctx, d, 0)


def sc_refusals(ctx):
    out = ctx.boot("test=log-refusals")
    passes(out, REFUSALS + ["log-refusals-unchanged"])
    listed = re.findall(r"^test ((?:attack-)?log-\S+)$", ctx.boot("test=list"), re.M)
    need(set(REFUSALS) <= set(listed), f"test=list lacks {set(REFUSALS) - set(listed)}")


def sc_refusals_alone(ctx):
    for name in REFUSALS:
        passes(ctx.boot(f"test={name}"), [name])


def sc_full(ctx):
    d = ctx.path("full.bin")
    out = ctx.boot("test=log-full", d, log_size=8192)
    passes(out, ["log-full-refused", "log-full-stays-full", "log-full-drops", "log-full-count",
                 "log-full-intact", "log-dump"])
    hdr, recs = verified(ctx, d)
    need(hdr["capacity"] == 8192 - 1024 and hdr["drops"] == 4, f"header {hdr}")  # 1 KiB kept for the monitor
    need(hdr["count"] > 0 and hdr["used"] <= hdr["capacity"], f"header {hdr}")
    # Nothing was overwritten: the first records are still the first appended.
    for i, (s, _, _, p) in enumerate(recs):
        need(s == i and p == f"log-full record {i}".encode(), f"record {i}: {p!r}")
    # Full means full: the next record (56 + 24 bytes) would not fit.
    need(hdr["capacity"] - hdr["used"] < 80, f"{hdr['capacity'] - hdr['used']} bytes left")


def sc_smp(ctx, vcpus=4, k=50):
    d = ctx.path("smp.bin")
    out = ctx.boot("test=log-smp", d, vcpus=vcpus)
    passes(out, ["log-smp-aps", "log-smp-count", "log-smp-records", "log-smp-interleaved",
                 "log-dump"])
    _, recs = verified(ctx, d, vcpus * k)
    nxt = [0] * vcpus
    for s, _, v, p in recs:
        need(v < vcpus and p == f"log-smp vcpu {v} record {nxt[v]}".encode(),
             f"record {s}: vcpu {v} {p!r}")
        nxt[v] += 1
    need(nxt == [k] * vcpus, f"records per vCPU {nxt}")


# Offsets into the monitor range: its first page, the log's state page, the
# store's first page, the default target, the store's last qword (default
# layout); the run must end the same way wherever the monitor's pages are.
ATTACK_OFFSETS = [0x0, 0x14000, 0x15000, 0x20000, 0x54FF8]


def attack(ctx, kind):
    for off in ATTACK_OFFSETS:
        out = ctx.boot(f"test=attack-log-{kind} log-at={off:#x}", expect=VIOLATION)
        m = re.search(rf"attack-log-{kind}: \w+ 0x([0-9a-f]+); the monitor must stop", out)
        need(m, "the scenario did not start")
        target = int(m[1], 16)
        need(re.search(rf"^veil: RMP violation: vcpu 0 rip [0-9a-f]+ gpa {target:x} "
                       rf"exitinfo1 [0-9a-f]+ \({kind}\); stopping the CVM$", out, re.M),
             f"no violation recorded for {kind} at {target:#x}")
        need("went through" not in out and "passed" not in out, "the OS went on")
        need("terminated by vCPU 0 at VMPL0: reason set 2 code 4" in out,
             "not terminated by the monitor")


def sc_attack_write(ctx):
    attack(ctx, "write")


def sc_attack_read(ctx):
    attack(ctx, "read")


SCENARIOS = {
    "dump": sc_dump, "audit-on": sc_audit_on, "audit-ring": sc_audit_ring,
    "audit-off": sc_audit_off, "refusals": sc_refusals, "refusals-alone": sc_refusals_alone,
    "full": sc_full, "smp": sc_smp, "attack-write": sc_attack_write,
    "attack-read": sc_attack_read,
}


# ---- tampering -------------------------------------------------------------

def good_dump(ctx):
    d = ctx.path("good.bin")
    ctx.boot("test=log-dump", d)
    verified(ctx, d, 5)
    return d


def tamper_case(ctx, kind):
    data, expect = tamper.tamper(kind, open(good_dump(ctx), "rb").read())
    bad = ctx.path(f"tampered-{kind}.bin")
    open(bad, "wb").write(data)
    rc, out, err = ctx.veil_log("verify", bad)
    need(rc == 1, f"veil-log verify of a dump with '{kind}': exit {rc}, expected 1: {out}{err}")
    need(re.search(expect, out + err), f"'{kind}': expected /{expect}/, got {out}{err}")


# ---- veil-log's own errors -------------------------------------------------

def tool_case(ctx, name):
    good = open(good_dump(ctx), "rb").read() if name in ("magic", "version") else b""
    f = ctx.path(f"tool-{name}.bin")
    if name == "magic":
        open(f, "wb").write(b"VEILLOG2" + good[8:])
    elif name == "version":
        open(f, "wb").write(good[:8] + struct.pack("<I", 2) + good[12:])
    elif name == "empty":
        open(f, "wb").close()
    cases = {
        "missing": (["verify", ctx.path("no-such-file.bin")], 2, r"cannot open"),
        "magic": (["verify", f], 1, r"not a Veil log dump \(bad magic\)"),
        "version": (["verify", f], 1, r"dump version 2, this tool reads 1"),
        "empty": (["verify", f], 1, r"bad magic"),
        "help": (["--help"], 0, r"usage: veil-log verify FILE"),
        "no-args": ([], 2, r"usage: veil-log verify FILE"),
        "bad-command": (["check", f], 2, r"usage: veil-log verify FILE"),
    }
    args, want_rc, want = cases[name]
    rc, out, err = ctx.veil_log(*args)
    need(rc == want_rc, f"veil-log {' '.join(args)}: exit {rc}, expected {want_rc}")
    need(re.search(want, out + err), f"veil-log {' '.join(args)}: expected /{want}/: {out}{err}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--emu", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case")
    a = ap.parse_args()
    ctx = Ctx(a)
    kind, _, name = a.case.partition(":")
    try:
        if kind == "scenario":
            SCENARIOS[name](ctx)
        elif kind == "tamper":
            tamper_case(ctx, name)
        elif kind == "tool":
            tool_case(ctx, name)
        else:
            raise Failed(f"unknown case {a.case}")
    except Failed as e:
        print(f"FAILED {a.case}: {e}")
        return 1
    print(f"ok {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
