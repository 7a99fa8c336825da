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
import json
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

    def boot(self, cmdline, dump=None, vcpus=1, log_size=None, expect=OK, extra=()):
        """One run; returns the console. The exit status must be `expect`."""
        cmd = [self.emu, "run", "--vcpus", str(vcpus), "--cmdline", cmdline, *extra]
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
        s, t, v, n, o, _r, _h = tamper.REC.unpack_from(data, start)
        need(o == tamper.ORIGIN_OS, f"record {s}: origin {o}, expected the OS")
        recs.append((s, t, v, data[start + tamper.REC.size : start + tamper.REC.size + n]))
    hdr = dict(magic=magic, version=version, sections=sections, count=count, drops=drops,
               capacity=capacity, used=used)
    return hdr, recs


def verified(ctx, dump, count=None):
    """veil-log verify passes; returns the parsed dump."""
    rc, out, err = ctx.veil_log("verify", dump)
    need(rc == 0, f"veil-log verify {dump}: exit {rc}: {out}{err}")
    hdr, recs = parse(dump)
    need(hdr["sections"] == 0 and hdr["version"] == 2, f"header {hdr}")
    need(re.match(rf"ok: {hdr['count']} records \({hdr['count']} from the OS, 0 from the monitor\), "
                  rf"{hdr['used']} bytes, head [0-9a-f]{{64}}\n"
                  rf"unauthenticated: drops {hdr['drops']}, capacity {hdr['capacity']} \(", out),
         f"verify said {out!r}")
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
    # Full means full: the next record (header + 24 bytes) would not fit.
    need(hdr["capacity"] - hdr["used"] < tamper.REC.size + 24, f"{hdr['capacity'] - hdr['used']} bytes left")


def sc_smp(ctx, vcpus=4, k=50, extra=()):
    d = ctx.path("smp.bin")
    out = ctx.boot(f"test=log-smp k={k}", d, vcpus=vcpus, extra=extra)
    passes(out, ["log-smp-aps", "log-smp-count", "log-smp-records", "log-smp-interleaved",
                 "log-dump"])
    _, recs = verified(ctx, d, vcpus * k)
    nxt = [0] * vcpus
    for s, _, v, p in recs:
        need(v < vcpus and p == f"log-smp vcpu {v} record {nxt[v]}".encode(),
             f"record {s}: vcpu {v} {p!r}")
        nxt[v] += 1
    need(nxt == [k] * vcpus, f"records per vCPU {nxt}")


DOMAIN_LINE = (r"^veil: log domain: VMPL1 ring 3, (\d+) pages at gpa ([0-9a-f]+), "
               r"store (\d+) KiB at gpa ([0-9a-f]+)$")


def domain_layout(ctx, extra=()):
    """(monitor base, the log domain's first page, its page count, store, store
    bytes) from the console of a short boot."""
    out = ctx.boot("test=log-forge", extra=extra)
    base = re.search(r"memory 0x([0-9a-f]+)-0x[0-9a-f]+ monitor", out)
    m = re.search(DOMAIN_LINE, out, re.M)
    need(base and m, f"no monitor range or log domain line: {out}")
    return int(base[1], 16), int(m[2], 16), int(m[1]), int(m[4], 16), int(m[3]) * 1024


def attack_offsets(ctx):
    """Offsets into the monitor range: its first page, the log domain's page
    table root, its code, its mailbox page (the one the monitor writes), the
    store's first page and last qword, and the old default target; the run
    must end the same way wherever the pages are."""
    base, first, n, store, size = domain_layout(ctx)
    mail = store - 0x1000  # the page before the store (log_domain.c build order)
    return [0x0, first - base, first + 0x8000 - base, mail - base, store - base,
            store + size - 8 - base, 0x20000]


def attack(ctx, kind):
    for off in attack_offsets(ctx):
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


def sc_forge(ctx):
    """An OS record that imitates the monitor's violation record is shown,
    and counted, as the OS's: the origin is set by the monitor and hashed."""
    d = ctx.path("forge.bin")
    out = ctx.boot("test=log-forge", d)
    passes(out, ["log-forge-appended", "log-dump"])
    verified(ctx, d)
    rc, show, err = ctx.veil_log("show", d)
    need(rc == 0, f"veil-log show: exit {rc}: {err}")
    need(re.search(r"^\s+\d+  os       vcpu 0  tsc \d+  \d+ bytes  violation: vcpu 0 rip ", show, re.M),
         f"the forged record is not shown as the OS's: {show}")
    need(not re.search(r"^\s+\d+  monitor", show, re.M), f"a record shown as the monitor's: {show}")
    hdr, recs = parse(d)
    need(show.startswith(f"dump version 2: {hdr['count']} records, {hdr['drops']} dropped, "
                         f"{hdr['used']} of {hdr['capacity']} bytes used, 0 sections\nhead "),
         f"show does not print the header first: {show[:200]}")
    rc, js, err = ctx.veil_log("--json", "show", d)
    recs = json.loads(js)["records"]
    forged = [r for r in recs if r["payload"].startswith("violation:")]
    need(rc == 0 and len(forged) == 1 and forged[0]["origin"] == "os", f"--json show: {js}")
    # Relabelling it as the monitor's breaks the chain.
    data = bytearray(open(d, "rb").read())
    start = tamper.records(bytes(data))[forged[0]["seq"]][0]
    struct.pack_into("<I", data, start + tamper.OFF_REC_ORIGIN, tamper.ORIGIN_MONITOR)
    bad = ctx.path("forge-relabelled.bin")
    open(bad, "wb").write(data)
    rc, out, _ = ctx.veil_log("verify", bad)
    need(rc == 1 and f"record {forged[0]['seq']} at byte" in out and "hash chain broken" in out,
         f"relabelled record: exit {rc}: {out}")


def sc_smp_64_full(ctx):
    """64 vCPUs append at once (each needs its own VMSA for the log domain)
    with the largest --mem a 4 MiB log leaves: the monitor region still has
    room for all of them."""
    # The largest --mem is what veil-emu names when asked for too much (it
    # depends on the mode: the image also keeps its stacks in the region).
    probe = ctx.boot("test=log-smp", vcpus=64, expect=2,
                     extra=("--mem", "6912", "--log-size", "4194304"))
    m = re.search(r"at most (\d+) MiB", probe)
    need(m, f"no --mem limit named: {probe!r}")
    sc_smp(ctx, 64, 2, ("--mem", m.group(1), "--log-size", "4194304"))


def sc_dump_in_monitor(ctx):
    """--log-domain off (the benchmark's baseline): the same records, the same
    dump, no log domain."""
    d = ctx.path("dump-off.bin")
    out = ctx.boot("test=log-dump", d, extra=("--log-domain", "off"))
    passes(out, ["log-append", "log-head", "log-dump"])
    need("log domain:" not in out, "a log domain with --log-domain off")
    verified(ctx, d, 5)


# target=N of the test OS's log-domain-fault (guest/kernel/logdump.c).
FAULT_TARGETS = {"wild": 0, "monitor": 1, "kernel-text": 2, "enclave": 3, "own-table": 4}


def domain_fault(ctx, what):
    """A bug in the log's code (the TEST-ONLY fault call) writes outside its
    pages: stopped by its page table (a wild pointer: #PF, vector 0xe) or by
    the RMP (a mapping it should not have: #NPF on the target); recorded; the
    log closes; the OS and the monitor go on."""
    extra = ("--log-domain", "fault-test")
    cmd = f"test=log-domain-fault target={FAULT_TARGETS[what]}"
    if what == "own-table":
        cmd += f" gpa={domain_layout(ctx, extra)[1]:#x}"
    out = ctx.boot(cmd, extra=extra)
    passes(out, ["log-fault-before", "log-fault-closed", "log-fault-append-closed",
                 "log-fault-head-closed", "log-fault-text-intact", "log-fault-monitor-answers"])
    m = re.search(r"the log's code writes gpa 0x([0-9a-f]+)", out)
    need(m, "the scenario did not start")
    if what == "wild":
        want = r"exception 10e rip 4000[0-9a-f]{4} gpa 0"
    else:  # a write (bit 1), at CPL3 (bit 2), present (bit 0), to the target
        want = rf"rmp exitinfo1 [0-9a-f]*7 rip 4000[0-9a-f]{{4}} gpa {int(m[1], 16):x}"
    need(re.search(rf"^veil: log domain fault: vcpu 0 {want}; the log is closed$", out, re.M),
         f"no contained fault recorded for {what}: {out}")


def sc_domain_fault_off(ctx):
    """Without --log-domain fault-test the fault call does not exist."""
    out = ctx.boot("test=log-domain-fault target=0", expect=TEST_FAILED)
    need(re.search(r"^FAIL log-fault-closed: got 0x80000002$", out, re.M),
         f"the call was not refused as unsupported: {out}")
    need(re.search(r"^FAIL log-fault-append-closed: got 0x0$", out, re.M),
         f"the log did not stay open: {out}")
    need("log domain fault" not in out, "the log domain faulted")


SCENARIOS = {
    "dump": sc_dump, "audit-on": sc_audit_on, "audit-ring": sc_audit_ring,
    "audit-off": sc_audit_off, "refusals": sc_refusals, "refusals-alone": sc_refusals_alone,
    "full": sc_full, "smp": sc_smp, "attack-write": sc_attack_write,
    "attack-read": sc_attack_read, "forge": sc_forge, "dump-in-monitor": sc_dump_in_monitor,
    "smp-64-full": sc_smp_64_full,
    "domain-fault-refused": sc_domain_fault_off,
}
for _w in FAULT_TARGETS:
    SCENARIOS[f"domain-fault-{_w}"] = lambda ctx, w=_w: domain_fault(ctx, w)


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


def unauth_case(ctx, kind):
    """A change outside the chain: verify still says ok but names the value."""
    data, expect = tamper.UNAUTHENTICATED[kind](open(good_dump(ctx), "rb").read())
    f = ctx.path(f"unauth-{kind}.bin")
    open(f, "wb").write(data)
    rc, out, err = ctx.veil_log("verify", f)
    need(rc == 0 and re.search(expect, out, re.M), f"'{kind}': exit {rc}, expected /{expect}/: {out}{err}")
    rc, out, err = ctx.veil_log("--json", "verify", f)
    j = json.loads(out)
    need(rc == 0 and j["ok"] and "unauthenticated" in j, f"--json verify: {out}{err}")
    if kind == "drops":
        need(j["unauthenticated"]["drops"] == 777, f"--json: {j}")
    else:
        need(j["unauthenticated"]["sections"] == [{"type": 1, "len": 5}], f"--json: {j}")


# ---- veil-log's own errors -------------------------------------------------

def tool_case(ctx, name):
    good = open(good_dump(ctx), "rb").read() if name in ("magic", "version", "json-fault") else b""
    f = ctx.path(f"tool-{name}.bin")
    if os.path.lexists(f):
        os.remove(f)
    if name == "magic":
        open(f, "wb").write(b"VEILLOG2" + good[8:])
    elif name == "version":
        open(f, "wb").write(good[:8] + struct.pack("<I", 3) + good[12:])
    elif name == "json-fault":
        open(f, "wb").write(tamper.tamper("payload", good)[0])
    elif name == "empty":
        open(f, "wb").close()
    elif name == "fifo":
        os.mkfifo(f)
    elif name == "directory":
        f = ctx.work
    cases = {
        "missing": (["verify", ctx.path("no-such-file.bin")], 1, r"^veil-log: cannot open .*No such file"),
        "magic": (["verify", f], 1, r"not a Veil log dump \(bad magic\)"),
        "version": (["verify", f], 1, r"dump version 3, this tool reads 2"),
        "empty": (["verify", f], 1, r"^veil-log: '.*' is empty$"),
        "fifo": (["show", f], 1, r"^veil-log: '.*' is not a regular file"),
        "directory": (["verify", f], 1, r"^veil-log: '.*' is a directory$"),
        "json-fault": (["--json", "verify", f], 1, r'^\{"ok":false,"error":"record 2 at byte \d+: hash chain broken'),
        "help": (["--help"], 0, r"^usage: veil-log \[--json\] verify FILE"),
        "short-help": (["-h"], 0, r"^usage: veil-log \[--json\] verify FILE"),
        "version-flag": (["--version"], 0, r"^veil-log \(Veil\) \d+\.\d+\.\d+$"),
        "unknown-option": (["--frobnicate", "verify", "x"], 2, r"^veil-log: unknown option '--frobnicate'"),
        "no-args": ([], 2, r"^veil-log: missing command \(see veil-log --help\)$"),
        "bad-command": (["check", "x"], 2, r"^veil-log: unknown command 'check'"),
    }
    args, want_rc, want = cases[name]
    rc, out, err = ctx.veil_log(*args)
    need(rc == want_rc, f"veil-log {' '.join(args)}: exit {rc}, expected {want_rc}: {out}{err}")
    need(re.search(want, out + err, re.M), f"veil-log {' '.join(args)}: expected /{want}/: {out}{err}")
    if want_rc == 0:
        need(not err, f"veil-log {' '.join(args)} wrote to stderr: {err}")
    if name == "json-fault":
        need(json.loads(out)["ok"] is False, "not JSON")


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
        elif kind == "unauth":
            unauth_case(ctx, name)
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
