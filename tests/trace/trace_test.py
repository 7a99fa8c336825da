#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of veil-emu --trace/--gdb and veil-trace (ctest label "trace").

usage: trace_test.py TEST --emu VEIL_EMU --tool VEIL_TRACE --snippets DIR
                     [--os ELF] [--gdb GDB] --work DIR

Every record of every trace made here is decoded by this script's own reader,
written from docs/trace-format.md, so the format document is tested too.
"""
import argparse
import json
import os
import pty
import re
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import time

MAGIC = b"VEILTRC\0"
TYPES = {1: "insn", 2: "vmgexit", 3: "vmgexit-ret", 4: "switch", 5: "rmp", 6: "rmpadjust",
         7: "pvalidate", 8: "vc", 9: "npf", 10: "exception", 11: "mcall", 12: "mcall-ret",
         13: "mfault", 14: "console", 15: "end", 16: "mevent"}
PAYLOAD_MIN = {1: 16, 2: 40, 3: 32, 4: 24, 5: 40, 6: 64, 7: 64, 8: 32, 9: 24, 10: 32,
               11: 32, 12: 32, 13: 32, 14: 8, 15: 200, 16: 32}
REGS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags", "cr0", "cr2", "cr3", "cr4"]
A = None


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd, **kw)


# ---- an independent reader of the format ------------------------------------------

def read_str(b, off):
    n, = struct.unpack_from("<H", b, off)
    return b[off + 2:off + 2 + n].decode(), off + 2 + n


def decode(path):
    b = open(path, "rb").read()
    check(b[:8] == MAGIC, "magic")
    ver, fixed, hsize, flags, mode, nvcpu, _, mem = struct.unpack_from("<HHIIBBHQ", b, 8)
    check(ver in (1, 2) and fixed == 32 and hsize % 8 == 0, "header fields")
    hdr = {"version": ver, "flags": flags, "mode": mode, "vcpus": nvcpu, "mem": mem}
    off = 32
    hdr["cwd"], off = read_str(b, off)
    argc, = struct.unpack_from("<H", b, off)
    off += 2
    hdr["argv"] = []
    for _ in range(argc):
        s, off = read_str(b, off)
        hdr["argv"].append(s)
    nimg, = struct.unpack_from("<H", b, off)
    off += 2
    hdr["images"] = []
    for _ in range(nimg):
        p, off = read_str(b, off)
        size, = struct.unpack_from("<Q", b, off)
        sha = b[off + 8:off + 40].hex()
        off += 40
        hdr["images"].append((p, size, sha))
    check(off <= hsize, "variable header inside hdr_size")
    recs, off = [], hsize
    while off < len(b):
        t, fl, size, vcpu, vmpl, cpl, _, seq, icount, rip = struct.unpack_from(
            "<BBHBBBBQQQ", b, off)
        check(t in TYPES, "record %d: type %d" % (len(recs), t))
        regs = 176 if fl & 1 else 0
        check(size >= 32 + PAYLOAD_MIN[t] + regs and size % 8 == 0,
              "record %d: size %d" % (len(recs), size))
        check(off + size <= len(b), "record %d truncated" % len(recs))
        check(seq == len(recs), "record %d numbered %d" % (len(recs), seq))
        pl = b[off + 32:off + size - regs]
        r = {"type": TYPES[t], "vcpu": vcpu, "vmpl": vmpl, "cpl": cpl, "seq": seq,
             "icount": icount, "rip": rip, "payload": pl}
        if regs:
            r["regs"] = dict(zip(REGS, struct.unpack_from("<22Q", b, off + size - regs)))
        if t == 14:
            src, n = struct.unpack_from("<HH", pl, 0)
            check(8 + n <= len(pl), "console length")
            r["text"] = pl[8:8 + n].decode("latin-1")
        if t == 4:
            r["from"], r["to"], r["reason"], r["result"] = struct.unpack_from("<IIQi", pl, 0)
        if t == 11:
            r["rax"], = struct.unpack_from("<Q", pl, 8)
        if t in (11, 12):
            check((len(pl) >= 40) == (ver >= 2), "record %d: %s of %d bytes in version %d"
                  % (len(recs), TYPES[t], len(pl), ver))
            if ver >= 2:  # version 2 appended R8 (docs/trace-format.md)
                r["r8"], = struct.unpack_from("<Q", pl, 32)
        recs.append(r)
        off += size
    return hdr, recs


# ---- helpers ----------------------------------------------------------------------

def snippet(name):
    return os.path.join(A.snippets, name + ".bin")


def exec_cmd(name, *extra):
    return [A.emu, "exec", "--load", snippet(name) + "@0x10000", "--entry", "0x10000",
            "--validate", "0x2000:0x1000"] + list(extra)


def record_exec(name="events", insns=True):
    trc = os.path.join(A.work, name + ".trc")
    cmd = exec_cmd(name, "--trace", trc) + (["--trace-insns"] if insns else [])
    p = run(cmd)
    check(p.returncode == 0, "exec --trace failed: %s" % p.stderr)
    return trc, json.loads(p.stdout)


def os_image():
    if A.os and os.path.exists(A.os):
        return A.os
    raise Fail("no OS image to boot (--os)")


IMAGE_VA = 0xFFFFFFFF80000000  # where the monitor image is linked (backends/snp/image.h)


def run_cmd(*args):
    """`veil-emu run` in the mode under test (--mode: image, the default, or native)."""
    return [A.emu, "run"] + (["--native"] if A.mode == "native" else []) + list(args)


def record_run(insns=False):
    trc = os.path.join(A.work, "run.trc")
    cmd = run_cmd("--kernel", os_image(), "--trace", trc)
    p = run(cmd + (["--trace-insns"] if insns else []))
    check(p.returncode == 0, "run --trace: status %d: %s" % (p.returncode, p.stderr[-300:]))
    return trc, p


def tool(*args, ok=True):
    p = run([A.tool] + list(args))
    if ok:
        check(p.returncode == 0, "veil-trace %s: status %d: %s" % (
            " ".join(args), p.returncode, p.stderr))
    return p


# ---- tests ------------------------------------------------------------------------

def t_roundtrip_exec():
    trc, out = record_exec()
    hdr, recs = decode(trc)
    check(hdr["mode"] == 0 and hdr["flags"] & 1 and hdr["flags"] & 2, "header flags/mode")
    check(hdr["argv"][0] == "--load" and hdr["argv"][1].endswith("events.bin@0x10000"),
          "recorded options: %s" % hdr["argv"])
    check(len(hdr["images"]) == 1 and hdr["images"][0][1] == os.path.getsize(snippet("events")),
          "image list")
    kinds = [r["type"] for r in recs]
    for k in ("rmp", "insn", "pvalidate", "rmpadjust", "vmgexit", "vmgexit-ret", "vc", "end"):
        check(k in kinds, "no %s record in %s" % (k, sorted(set(kinds))))
    insns = [r for r in recs if r["type"] == "insn"]
    check(len(insns) == out["insns"] + 1, "%d insn records for %d instructions (+ the faulting "
          "CPUID)" % (len(insns), out["insns"]))
    check([r["icount"] for r in insns] == list(range(len(insns))), "icount of insn records")
    check(recs[-1]["type"] == "end" and "regs" in recs[-1], "last record: end with registers")
    check(recs[-1]["regs"]["rip"] == out["rip"], "end record rip = exit rip")
    vc = [r for r in recs if r["type"] == "vc"][0]
    check(vc["regs"]["rip"] == out["rip"] and vc["vmpl"] == 0, "vc record")
    summ = tool("summary", trc).stdout
    check("vmgexit" in summ and "end: record" in summ and "sha256" in summ, "summary")
    for r in recs:
        s = tool("show", trc, str(r["seq"])).stdout
        check(("type:   %s" % r["type"]) in s, "show %d" % r["seq"])
    s = tool("show", trc, str(insns[0]["seq"])).stdout
    check("instruction 0x10000: mov rax, 0x20000" in s, "disassembly in show:\n" + s)
    s = tool("list", trc, "--type", "insn").stdout
    check("f2 0f 01 ff" in s and "pvalidate" in s and "vmgexit" in s, "SNP instructions named")
    s = tool("show", trc, str(vc["seq"])).stdout
    check("last instruction 0x" in s and "cpuid" in s and "registers:" in s, "show vc:\n" + s)
    s = tool("rmp", trc, "0x20000").stdout
    check("pvalidate" in s and "rmpadjust" in s and "vmpl1 rw " in s, "rmp history:\n" + s)


def t_roundtrip_run():
    trc, p = record_run()
    hdr, recs = decode(trc)
    check(hdr["mode"] == 1 and hdr["images"][0][0] == os.path.realpath(os_image()), "header")
    kinds = set(r["type"] for r in recs)
    for k in ("switch", "mcall", "mcall-ret", "console", "vmgexit", "vc", "rmpadjust", "end"):
        check(k in kinds, "no %s record" % k)
    text = "".join(r["text"] for r in recs if r["type"] == "console")
    check(text in p.stdout and len(text) > 20, "console records = console output")
    sw = [r for r in recs if r["type"] == "switch"]
    check(sw[0]["from"] == 0 and sw[0]["to"] == 3, "first switch: VMPL0 -> VMPL3")
    calls = [r for r in recs if r["type"] == "mcall"]
    summ = tool("summary", trc).stdout
    m = re.search(r"protocol 0\s+core\s+(\d+) switches, (\d+) calls", summ)
    ncore = sum(1 for c in calls if c["rax"] >> 32 == 0)
    check(m and int(m.group(2)) == ncore, "summary core calls:\n" + summ)
    check("VMPL3" in summ and "by vCPU" in summ, "summary sections")
    # Version 2: each call's R8, as the file holds it, is what list shows.
    check(hdr["version"] == 2, "a new trace is version 2")
    lst = tool("list", trc, "--type", "mcall").stdout
    shown = [int(x, 0) for x in re.findall(r"SVSM call protocol .* r8 (\S+)$", lst, re.M)]
    check(shown == [c["r8"] for c in calls] and shown, "R8 of the calls: %r" % shown[:5])


def t_version1():
    """A version 1 trace (monitor records without R8) is still read; a newer
    version is refused."""
    trc, _ = record_run()
    b = bytearray(open(trc, "rb").read())
    hsize, = struct.unpack_from("<I", b, 12)
    out, off, nmon = bytearray(b[:hsize]), hsize, 0
    struct.pack_into("<H", out, 8, 1)
    while off < len(b):
        t, fl, size = struct.unpack_from("<BBH", b, off)
        rec = bytearray(b[off:off + size])
        if t in (11, 12, 13, 16) and not fl & 1:  # drop d: the version 1 layout
            rec = rec[:32 + 32]
            struct.pack_into("<H", rec, 2, 64)
            nmon += 1
        out += rec
        off += size
    v1 = os.path.join(A.work, "v1.trc")
    open(v1, "wb").write(out)
    hdr, recs = decode(v1)
    check(hdr["version"] == 1 and nmon > 0, "a version 1 trace")
    a, b2 = tool("list", trc).stdout, tool("list", v1).stdout
    check(len(a.splitlines()) == len(b2.splitlines()), "the same records")
    check(" r8 " in a and " r8 " not in b2, "R8 only in version 2")
    check(re.sub(r" r8 \S+", "", a) == b2, "otherwise the same listing")
    struct.pack_into("<H", out, 8, 3)
    open(v1, "wb").write(out)
    p = tool("list", v1, ok=False)
    check(p.returncode == 1 and "unsupported trace version 3" in p.stderr, p.stderr)


def t_filters():
    trc, _ = record_run()
    _, recs = decode(trc)

    def lst(*f):
        out = tool("list", trc, *f).stdout.splitlines()
        return [int(line.split()[0]) for line in out]
    check(lst() == [r["seq"] for r in recs], "unfiltered list")
    check(lst("--type", "switch") == [r["seq"] for r in recs if r["type"] == "switch"], "--type")
    check(lst("--type", "mcall,mcall-ret") ==
          [r["seq"] for r in recs if r["type"] in ("mcall", "mcall-ret")], "--type a,b")
    check(lst("--vmpl", "3") == [r["seq"] for r in recs if r["vmpl"] == 3], "--vmpl")
    check(lst("--vcpu", "0", "--from", "100", "--to", "200") == list(range(100, 201)),
          "--vcpu --from --to")
    check(lst("--vcpu", "1") == [], "--vcpu 1")
    p = tool("list", trc, "--type", "bogus", ok=False)
    check(p.returncode == 2 and "unknown record type" in p.stderr, "bad --type")


def t_chrome():
    trc, _ = record_run()
    _, recs = decode(trc)
    out = os.path.join(A.work, "run.json")
    tool("export", trc, "--chrome", out)
    d = json.load(open(out))
    ev = d["traceEvents"]
    check(isinstance(ev, list) and ev, "traceEvents array")
    # One unit (here: one record, instructions were not counted) is 1 ns.
    check(d["displayTimeUnit"] == "ns" and d["otherData"]["clock"].startswith("record number"),
          "time unit: %s %s" % (d["displayTimeUnit"], d["otherData"]))
    dom = [e for e in ev if e["ph"] == "X" and e["cat"] == "domain"]
    calls = [e for e in ev if e["ph"] == "X" and e["cat"] == "svsm"]
    inst = [e for e in ev if e["ph"] == "i"]
    names = [e for e in ev if e["ph"] == "M" and e["name"] == "thread_name"]
    check(names and names[0]["args"]["name"] == "vCPU 0", "a named track per vCPU")
    check(all(e["tid"] == 0 and e["dur"] >= 0 for e in dom + calls), "slices on the vCPU track")
    vm = set(e["name"] for e in dom)
    check({"VMPL0", "VMPL3"} <= vm, "domain slices: %s" % vm)
    nsw = sum(1 for r in recs if r["type"] == "switch" and r["result"] == 0)
    check(len(dom) == nsw + 1, "one slice per stay: %d slices, %d switches" % (len(dom), nsw))
    ends = sorted((e["ts"], e["ts"] + e["dur"]) for e in dom)
    check(all(a[1] <= b[0] + 1e-9 for a, b in zip(ends, ends[1:])), "domain slices overlap")
    # SVSM calls: a slice each, named by protocol and call, inside a VMPL0 stay.
    ncalls = sum(1 for r in recs if r["type"] == "mcall")
    check(ncalls and len(calls) == ncalls, "%d call slices for %d calls" % (len(calls), ncalls))
    cn = set(e["name"] for e in calls)
    check({"kci LOCK", "core PVALIDATE"} <= cn, "call names: %s" % cn)
    vmpl0 = [(e["ts"], e["ts"] + e["dur"]) for e in dom if e["name"] == "VMPL0"]
    for c in calls:
        check(any(a <= c["ts"] + 1e-9 and c["ts"] + c["dur"] <= b + 1e-9 for a, b in vmpl0),
              "call slice outside a VMPL0 stay: %s" % c)
    first = [r for r in recs if r["type"] == "mcall"][0]["seq"]
    check(abs(calls[0]["ts"] - first / 1000.0) < 1e-9 and calls[0]["args"]["first_record"] == first,
          "call timestamp %s for record %d" % (calls[0]["ts"], first))
    cats = set(e["cat"] for e in inst)
    check({"fault", "end"} <= cats, "instant events: %s" % cats)
    check(any(e["name"] == "vc" for e in inst), "no #VC instants to filter")
    # --no-vc drops the #VC instants and nothing else.
    out2 = os.path.join(A.work, "run-novc.json")
    tool("export", trc, "--chrome", out2, "--no-vc")
    ev2 = json.load(open(out2))["traceEvents"]
    check(not any(e["ph"] == "i" and e["name"] == "vc" for e in ev2), "--no-vc kept #VC")
    check(len(ev2) == len(ev) - sum(1 for e in inst if e["name"] == "vc"),
          "--no-vc dropped more than the #VC instants")


def t_step():
    trc, _ = record_exec()
    _, recs = decode(trc)
    first_vc = [r["seq"] for r in recs if r["type"] == "vc"][0]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(A.tool, [A.tool, "step", trc])
    out = b""

    def wait_for(pat, t=10):
        nonlocal out
        end = time.time() + t
        while time.time() < end:
            if re.search(pat, out.decode("latin-1"), re.S):
                return out.decode("latin-1")
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        raise Fail("step: no %r in output:\n%s" % (pat, out.decode("latin-1")))

    def cmd(c, pat):
        nonlocal out
        out = b""
        os.write(fd, (c + "\n").encode())
        return wait_for(pat)
    wait_for(r"step> ")
    cmd("n", r"\[1/\d+\]\s+1 .*rmp .*step> ")
    cmd("", r"\[2/\d+\]\s+2 .*step> ")
    cmd("p", r"\[1/\d+\]\s+1 .*step> ")
    cmd("g 3", r"\[3/\d+\]\s+3 .*step> ")
    cmd("f vc", r"\[%d/\d+\]\s+%d .*#VC error code 0x72.*step> " % (first_vc, first_vc))
    cmd("g 1", r"\[1/\d+\].*step> ")
    cmd("f wrmsr", r"insn .*wrmsr.*step> ")
    cmd("s", r"type:   insn.*step> ")
    cmd("g 99999", r"goto wants a record number.*step> ")
    cmd("bogus", r"unknown command 'bogus' \(help or \? lists the commands\).*step> ")
    os.write(fd, b"q\n")
    _, st = os.waitpid(pid, 0)
    check(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, "step exit status")


def pty_session(argv, env=None):
    """A program on a pseudo-terminal: (send(cmd, pattern) -> output, close() -> status)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env or os.environ)
    buf = [b""]

    def wait_for(pat, t=20):
        end = time.time() + t
        while time.time() < end:
            if re.search(pat, buf[0].decode("latin-1"), re.S):
                return buf[0].decode("latin-1")
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    buf[0] += os.read(fd, 65536)
                except OSError:
                    break
        raise Fail("no %r in output:\n%s" % (pat, buf[0].decode("latin-1")[-3000:]))

    def send(c, pat):
        buf[0] = b""
        if c is not None:
            os.write(fd, (c + "\n").encode())
        return wait_for(pat)

    def close():
        _, st = os.waitpid(pid, 0)
        os.close(fd)
        return os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
    return send, close


def t_step_run():
    """Console lines, the vCPU filter, reverse search, history and help."""
    trc = os.path.join(A.work, "smp.trc")
    p = run(run_cmd("--kernel", os_image(), "--vcpus", "2", "--trace", trc))
    check(p.returncode == 0, "run --vcpus 2 --trace: %s" % p.stderr[-300:])
    _, recs = decode(trc)
    cons = [r for r in recs if r["type"] == "console"]
    # Console output is recorded a line per record, as the guest printed it.
    check(cons and all(r["text"].endswith("\n") and r["text"].count("\n") == 1 for r in cons),
          "console records are not lines: %r" % [r["text"] for r in cons[:5]])
    passes = [r for r in cons if r["text"].startswith("PASS ")]
    check(len(passes) > 3, "PASS lines in the console records")
    listed = tool("list", trc, "--type", "console").stdout
    check('guest "%s\\n"' % passes[0]["text"][:-1] in listed, "list shows whole lines")
    ap = [r["seq"] for r in recs if r["vcpu"] == 1]
    check(ap, "no records of vCPU 1")
    send, close = pty_session([A.tool, "step", trc])
    send(None, r"step> ")
    send("f PASS", r"\[%d/\d+\]\s+%d .*console .*\"PASS .*step> " % (passes[0]["seq"], passes[0]["seq"]))
    send("", r"\[%d/\d+\].*PASS .*step> " % passes[1]["seq"])  # empty line: find again
    send("F PASS", r"\[%d/\d+\].*PASS .*step> " % passes[0]["seq"])
    send("F no-such-text-anywhere", r"not found before record %d.*step> " % passes[0]["seq"])
    send("g 0", r"\[0/\d+\].*step> ")
    send("v 1", r"stopping only at records of vCPU 1.*step> ")
    send("n", r"\[%d/\d+\]\s+%d\s+vcpu 1 .*step> " % (ap[0], ap[0]))
    send("n 2", r"\[%d/\d+\]\s+%d\s+vcpu 1 .*step> " % (ap[2], ap[2]))
    send("p", r"\[%d/\d+\]\s+%d\s+vcpu 1 .*step> " % (ap[1], ap[1]))
    send("v all", r"every vCPU.*step> ")
    send("history", r"1  f PASS\s+2  F PASS\s+3  F no-such-text-anywhere\s+4  g 0\s+5  v 1\s+"
                    r"6  n\s+7  n 2\s+8  p\s+9  v all\s.*step> ")
    send("!4", r"g 0\s+\[0/\d+\].*step> ")
    send("!!", r"g 0\s+\[0/\d+\].*step> ")
    send("!99", r"no command !99 in the history.*step> ")
    out = send("help", r"q, quit.*step> ")
    for c in ("next", "prev", "goto", "find", "rfind", "vcpu", "show", "history", "!N", "help"):
        check(c in out, "help screen lacks %s:\n%s" % (c, out))
    send("q", r"")
    check(close() == 0, "step exit status")


def t_rewrite():
    """A trace rewritten or cut while a reader has it open: never SIGBUS."""
    trc, _ = record_exec()
    data = open(trc, "rb").read()
    copy = os.path.join(A.work, "rewritten.trc")
    open(copy, "wb").write(data)
    send, close = pty_session([A.tool, "step", copy])
    send(None, r"step> ")
    open(copy, "wb").close()  # truncated in place under the reader
    send("g 5", r"\[5/\d+\].*step> ")
    send("s", r"type: .*step> ")
    send("g %d" % (len(data) // 64), r"(\[\d+/\d+\]|goto wants).*step> ")
    send("q", r"")
    st = close()
    check(st == 0, "step on a trace cut under it: status %d" % st)
    # A reader started while the file is being cut gets a one-line error, not a signal.
    open(copy, "wb").write(data[: len(data) // 2 + 3])
    p = tool("list", copy, ok=False)
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and "truncated" in p.stderr,
          "list on a half-written trace: %d %r" % (p.returncode, p.stderr))
    # export onto its own input: refused, the input intact.
    p = tool("export", trc, "--chrome", trc, ok=False)
    check(p.returncode == 1 and "is the trace itself" in p.stderr, "export onto itself: %r" % p.stderr)
    check(open(trc, "rb").read() == data, "the trace changed")
    # A failed export leaves no partial file, and a FIFO is refused.
    p = tool("export", trc, "--chrome", "/dev/full", ok=False)
    check(p.returncode == 1 and "No space left" in p.stderr, "export to /dev/full: %r" % p.stderr)
    # A write that fails half-way (a full disk: a file-size limit) leaves the
    # previous export in place and no temporary file behind.
    prev = os.path.join(A.work, "prev.json")
    open(prev, "w").write("previous export")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))
    check(len(tool("export", trc, "--chrome", "/dev/stdout").stdout) > 512, "export too small")
    p = subprocess.run([A.tool, "export", trc, "--chrome", prev], capture_output=True, text=True,
                       preexec_fn=limit, timeout=60)
    check(p.returncode == 1 and "File too large" in p.stderr and p.stderr.count("\n") == 1,
          "export on a full disk: %d %r" % (p.returncode, p.stderr))
    check(open(prev).read() == "previous export", "a failed export replaced the old file")
    check(not [f for f in os.listdir(A.work) if f.startswith(".prev.json.")], "temporary file left")
    fifo = os.path.join(A.work, "fifo.trc")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    p = tool("summary", fifo, ok=False)
    check(p.returncode == 1 and "not a regular file" in p.stderr, "summary FIFO: %r" % p.stderr)
    p = tool("list", A.work, ok=False)
    check(p.returncode == 1 and "is a directory" in p.stderr, "list DIR: %r" % p.stderr)


def t_insns_size():
    """--trace-insns: a warning past VEIL_TRACE_WARN_MIB, the size at the end;
    progress only on a terminal."""
    trc = os.path.join(A.work, "big.trc")
    env = dict(os.environ, VEIL_TRACE_WARN_MIB="1")
    cmd = exec_cmd("events", "--trace", trc, "--trace-insns")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    check(p.returncode == 0, "exec --trace-insns: %s" % p.stderr)
    size = os.path.getsize(trc)
    check(re.search(r"^veil-emu: trace '%s': \d+ records, %d bytes$" % (re.escape(trc), size),
                    p.stderr, re.M), "no size report: %r" % p.stderr)
    if size > (1 << 20):
        check("has grown past 1 MiB" in p.stderr, "no size warning: %r" % p.stderr)
    else:
        check("grown past" not in p.stderr, "a warning below the size: %r" % p.stderr)
    check("\r" not in p.stderr, "progress in a pipe: %r" % p.stderr)
    # The test OS with every instruction: past 1 MiB, and long enough for
    # progress lines on a terminal. The native monitor: what is checked is
    # the recorder's, and with the image every instruction of its ECDSA
    # checks is recorded too (2.6 GB instead of 0.6 GB).
    big = os.path.join(A.work, "run-insns.trc")
    send, close = pty_session([A.emu, "run", "--native", "--kernel", os_image(), "--trace", big,
                               "--trace-insns"], env)
    out = send(None, r"veil-emu: trace '.*': \d+ records, \d+ bytes")
    close()
    check(os.path.getsize(big) > (1 << 20), "the run trace is only %d bytes" % os.path.getsize(big))
    check(out.count("has grown past 1 MiB (--trace-insns records every instruction)") == 1,
          "no single size warning:\n%s" % out[-2000:])
    check(re.search(r"\rveil-emu: tracing to '.*': \d+ records, \d+ MiB", out),
          "no progress line on a terminal:\n%s" % out[-2000:])


def t_json():
    """list --json and summary --json agree with the records."""
    trc, _ = record_run()
    _, recs = decode(trc)
    lines = tool("list", trc, "--json").stdout.splitlines()
    check(len(lines) == len(recs), "%d JSON lines for %d records" % (len(lines), len(recs)))
    for line, r in zip(lines, recs):
        j = json.loads(line)
        check(j["seq"] == r["seq"] and j["vcpu"] == r["vcpu"] and j["vmpl"] == r["vmpl"]
              and j["type"] == r["type"] and int(j["rip"], 16) == r["rip"],
              "record %d: %s" % (r["seq"], line))
        if r["type"] == "console":
            check(j["text"] == r["text"], "console text %r vs %r" % (j["text"], r["text"]))
    cons = [json.loads(x) for x in tool("list", trc, "--json", "--type", "console").stdout.splitlines()]
    check(cons and all(c["type"] == "console" for c in cons), "--type with --json")
    sm = json.loads(tool("summary", "--json", trc).stdout)
    check(sm["records"] == len(recs) and sm["mode"] == "run", "summary: %s" % sm)
    for t in set(r["type"] for r in recs):
        check(sm["by_type"][t] == sum(1 for r in recs if r["type"] == t), "by_type %s" % t)
    check(sum(p["calls"] for p in sm["protocols"]) == sum(1 for r in recs if r["type"] == "mcall"),
          "calls per protocol: %s" % sm["protocols"])
    check({"kci", "core"} <= set(p["name"] for p in sm["protocols"]), "protocol names")
    check(sm["end"] and "terminate" in sm["end"], "end: %s" % sm["end"])
    p = tool("list", trc, "--frob", ok=False)
    check(p.returncode == 2 and "unknown option '--frob'" in p.stderr, "list --frob: %r" % p.stderr)


def parse_state(text):
    regs = dict((k, int(v, 16)) for k, v in re.findall(r"\b(r\w+|cr\d) (0x[0-9a-f]+)", text))
    m = re.search(r"icount (\d+)", text)
    return regs, int(m.group(1)) if m else None


def t_replay():
    trc, out = record_exec()
    _, recs = decode(trc)
    # to the end record: the state is the exit state of the recorded run
    end = recs[-1]["seq"]
    p = tool("replay", trc, "--to", str(end))
    regs, icount = parse_state(p.stdout)
    check("stopped after record %d" % end in p.stdout, "replay stop line:\n" + p.stdout)
    for k in ("rip", "rax", "rbx", "rcx", "rdx"):
        check(regs[k] == out[k], "replayed %s %#x, recorded run %#x" % (k, regs[k], out[k]))
    check(icount == out["insns"], "replayed icount %s, recorded %d" % (icount, out["insns"]))
    # to the VMGEXIT: registers equal those the record carries
    vg = [r for r in recs if r["type"] == "vmgexit"][0]
    p = tool("replay", trc, "--to", str(vg["seq"]))
    regs, icount = parse_state(p.stdout)
    for k in REGS[:17]:
        check(regs[k] == vg["regs"][k], "%s differs from the record" % k)
    check(icount == vg["icount"], "icount at the vmgexit")
    # an instruction record in the middle
    mid = [r for r in recs if r["type"] == "insn"][5]
    p = tool("replay", trc, "--to", str(mid["seq"]))
    regs, icount = parse_state(p.stdout)
    check(regs["rip"] == mid["rip"] and icount == mid["icount"], "replay to an insn record")
    # beyond the end, a changed image
    p = tool("replay", trc, "--to", str(len(recs)), ok=False)
    check(p.returncode == 1 and "no record" in p.stderr, "replay past the end")
    img = os.path.join(A.work, "copy.bin")
    shutil.copy(snippet("events"), img)
    t2 = os.path.join(A.work, "copy.trc")
    run([A.emu, "exec", "--load", img + "@0x10000", "--entry", "0x10000", "--trace", t2])
    with open(img, "ab") as f:
        f.write(b"\x90")
    p = tool("replay", t2, "--to", "1", ok=False)
    check(p.returncode != 0 and "changed since the recording" in p.stderr,
          "replay with a changed image: %s" % p.stderr)


def t_replay_run():
    trc, _ = record_run()
    _, recs = decode(trc)
    vcs = [r for r in recs if r["type"] == "vc"]
    r = vcs[len(vcs) // 2]
    p = tool("replay", trc, "--to", str(r["seq"]))
    regs, _ = parse_state(p.stdout)
    for k in REGS[:17]:
        check(regs[k] == r["regs"][k], "%s differs from the record after replay" % k)
    m = [x for x in recs if x["type"] == "mcall"][3]
    p = tool("replay", trc, "--to", str(m["seq"]))
    if A.mode == "native":
        check("(native monitor at VMPL0" in p.stdout and "SVSM call" in p.stdout,
              "stop in the monitor")
        return
    # The image: the stop is its trace point, VMPL0 code in the image, with
    # the call's RAX (protocol 0 call 1 here) in RSI.
    rip = re.search(r"^rip 0x([0-9a-f]+)", p.stdout, re.M)
    rsi = re.search(r"\brsi 0x([0-9a-f]+)", p.stdout)
    check("(mcall): SVSM call" in p.stdout and "vcpu 0 vmpl 0 cpl 0" in p.stdout and rip and
          int(rip.group(1), 16) >= IMAGE_VA, "stop in the monitor image:\n" + p.stdout)
    check(rsi and int(rsi.group(1), 16) == m["rax"], "the call's RAX at the stop:\n" + p.stdout)


def t_errors():
    trc, _ = record_exec()
    data = open(trc, "rb").read()
    cases = {
        "empty": (b"", "empty"),
        "magic": (b"NOTATRACE" + data[9:], "bad magic"),
        "version": (data[:8] + b"\x07\x00" + data[10:], "unsupported trace version 7"),
        "header": (data[:20], "truncated trace header"),
        "record": (data[:-5], "truncated record"),
    }
    for name, (content, msg) in cases.items():
        path = os.path.join(A.work, "bad-%s.trc" % name)
        open(path, "wb").write(content)
        for sub in (["summary", path], ["list", path], ["show", path, "0"],
                    ["export", path, "--chrome", path + ".json"], ["rmp", path, "0x1000"],
                    ["replay", path, "--to", "0"]):
            p = tool(*sub, ok=False)
            check(p.returncode == 1, "%s on %s: status %d" % (sub[0], name, p.returncode))
            lines = p.stderr.strip().splitlines()
            check(len(lines) == 1 and msg in lines[0], "%s on %s: %r" % (sub[0], name, p.stderr))
    p = tool("list", "/nonexistent/x.trc", ok=False)
    check(p.returncode == 1 and "cannot open" in p.stderr, "missing file")
    for sub in ("summary", "list", "show", "step", "rmp", "export", "replay"):
        p = tool(sub, "--help")
        check(p.stdout.startswith("usage: veil-trace " + sub), "%s --help" % sub)
    for args in (["frob"], ["show", trc], ["show", trc, "x"], ["list", trc, "--vcpu"],
                 ["export", trc], ["replay", trc], ["rmp", trc]):
        p = tool(*args, ok=False)
        check(p.returncode == 2 and p.stderr.count("\n") == 1, "bad usage %s: %r" % (args, p.stderr))
    p = run(exec_cmd("events", "--gdb", "99999"))
    check(p.returncode == 2 and "--gdb" in p.stderr, "bad --gdb port")
    p = run(exec_cmd("events", "--trace", "/nonexistent/dir/t.trc"))
    check(p.returncode == 1 and re.match(r"veil-emu: cannot create a file beside '/nonexistent/dir/t\.trc': No such file", p.stderr)
          and p.stderr.count("\n") == 1, "unwritable trace: %r" % p.stderr)


# ---- GDB ---------------------------------------------------------------------------

def start_stub(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        raise Fail("no port from veil-emu: %r" % line)
    return p, int(m.group(1))


def gdb_session(port, script, interrupt_after=None, elf=None):
    lines = ["set pagination off", "set confirm off", "set remotetimeout 30"]
    if elf:
        lines.append("symbol-file " + elf)
    lines.append("target remote 127.0.0.1:%d" % port)
    path = os.path.join(A.work, "cmds.gdb")
    open(path, "w").write("\n".join(lines + script) + "\n")
    g = subprocess.Popen([A.gdb, "-nx", "-batch", "-x", path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    out = ""
    if interrupt_after:
        # SIGINT reaches gdb while it waits in `continue`: it sends Ctrl-C (0x03).
        while interrupt_after not in out:
            c = g.stdout.read(1)
            if not c:
                break
            out += c
        time.sleep(0.5)
        g.send_signal(signal.SIGINT)
    rest, _ = g.communicate(timeout=60)
    return out + rest


def t_gdb():
    elf = os.path.join(A.snippets, "gdb_loop.elf")
    syms = dict((l.split()[2], int(l.split()[0], 16))
                for l in run(["nm", elf]).stdout.splitlines() if len(l.split()) == 3)
    emu, port = start_stub(exec_cmd("gdb_loop", "--gdb", "0"))
    out = gdb_session(port, [
        "info registers rip", "break target", "continue", "info registers rip", "stepi",
        "stepi", "info registers rip rax", "x/4gx 0x2000", "monitor rmp 0x10000",
        "monitor vmpl", "monitor domains", "info threads", "watch *(long *)0x2008",
        "continue", "echo WATCHED\\n", "info registers rip", "delete", "echo SPINNING\\n",
        "continue", "info registers rip", "set $pc = done", "continue"],
        interrupt_after="SPINNING", elf=elf)
    res, err = emu.communicate(timeout=30)
    check("rip            0x10000" in out, "paused before the first instruction:\n" + out)
    check(re.search(r"Breakpoint 1, (0x0*%x in )?target \(\)" % syms["target"], out) and
          re.search(r"rip\s+0x%x\s+0x%x <target>" % (syms["target"], syms["target"]), out),
          "breakpoint hit:\n" + out)
    check(re.search(r"rip\s+0x1001d\s", out) and re.search(r"rax\s+0x1244\s", out),
          "stepi x2 / registers:\n" + out)
    check("0x2000:\t0x0000000000001244\t0x0000000000000000" in out, "x/4gx:\n" + out)
    check("rmp 0x10000: assigned 1 validated 1" in out and "perms vmpl0 rwus" in out,
          "monitor rmp:\n" + out)
    check("vCPU 0: VMPL0 CPL0 runnable (current)" in out, "monitor vmpl:\n" + out)
    check("VMPL0 VMSA" in out, "monitor domains:\n" + out)
    check("Thread 1 (vCPU 0 VMPL0" in out, "threads:\n" + out)
    check(re.search(r"New value = 16\n(?:.*\n)*?WATCHED\nrip\s+0x%x\s" % (syms["spin"] - 3), out),
          "watchpoint stop after the write (at inc %rcx):\n" + out)
    m = re.search(r"SIGINT, Interrupt\.\n.*spin \(\).*\n(?:.*\n)*?rip\s+0x([0-9a-f]+)", out)
    check(m and syms["spin"] <= int(m.group(1), 16) < syms["done"], "Ctrl-C in spin:\n" + out)
    check("exited normally" in out, "continue to the end:\n" + out)
    x = json.loads(res)
    check(x["exit"] == "hlt" and x["rip"] == syms["done"] + 1 and x["rax"] == 0x1244,
          "exit state after the session: %s" % res)


def t_gdb_run():
    emu, port = start_stub(run_cmd("--kernel", os_image(), "--gdb", "0"))
    out = gdb_session(port, ["info registers rip", "monitor vmpl", "monitor domains",
                             "stepi", "info registers rip", "continue"])
    res, err = emu.communicate(timeout=60)
    if A.mode == "native":  # the OS's first instruction: the monitor ran natively before
        check("vCPU 0: VMPL3 CPL0 runnable (current)" in out, "VMPL3 at the first stop:\n" + out)
        check("VMPL0 native monitor" in out and "VMPL3 VMSA" in out, "domains:\n" + out)
    else:  # the image's first instruction, from the launch VMSA
        check("vCPU 0: VMPL0 CPL0 runnable (current)" in out and
              re.search(r"rip\s+0x%x\s" % IMAGE_VA, out), "VMPL0 at the image's entry:\n" + out)
        check("VMPL0 VMSA" in out and "native" not in out, "domains:\n" + out)
    check("exited normally" in out and emu.returncode == 0, "run to the end:\n" + out + err)


def t_replay_gdb():
    trc, out = record_exec()
    _, recs = decode(trc)
    vg = [r for r in recs if r["type"] == "vmgexit"][0]
    p = subprocess.Popen([A.tool, "replay", trc, "--to", str(vg["seq"]), "--gdb", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = re.search(r"127\.0\.0\.1:(\d+)", p.stderr.readline())
    check(m, "replay --gdb port")
    g = gdb_session(int(m.group(1)), ["info registers rip rax", "stepi", "info registers rip",
                                      "continue"])
    p.communicate(timeout=30)
    check(re.search(r"rip\s+0x%x\s" % vg["regs"]["rip"], g) and
          re.search(r"rax\s+0x%x\s" % vg["regs"]["rax"], g), "registers at the replay stop:\n" + g)
    rips = re.findall(r"rip\s+0x([0-9a-f]+)\s", g)
    check(len(rips) == 2 and int(rips[1], 16) > int(rips[0], 16), "stepi from the replay stop:\n" + g)
    check(p.returncode == 0, "replay --gdb status %d" % p.returncode)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("test")
    ap.add_argument("--emu", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--snippets", required=True)
    ap.add_argument("--os", default="")
    ap.add_argument("--gdb", default="gdb")
    ap.add_argument("--work", required=True)
    ap.add_argument("--mode", choices=("image", "native"), default="image")
    A = ap.parse_args()
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(A.work)
    fn = globals().get("t_" + A.test)
    if not fn:
        print("unknown test %s" % A.test)
        return 2
    try:
        fn()
    except (Fail, subprocess.TimeoutExpired, KeyError, IndexError, ValueError) as e:
        print("FAIL trace.%s: %s: %s" % (A.test, type(e).__name__, e))
        return 1
    print("ok trace.%s" % A.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
