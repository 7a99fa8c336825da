#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""veil-emu's GDB stub against real gdb in batch mode (ctest label "gdb").

usage: gdb_test.py TEST --emu VEIL_EMU --snippets DIR [--os ELF] --gdb GDB --work DIR

TEST: sysregs (CR0-CR4/EFER in the target description, read-only), segments
(selector writes refused, other writes applied), nowait (--gdb-nowait: attach
to a running machine, detach, attach again), gone (a GDB killed while the
machine runs leaves no breakpoint behind), threads (every vCPU a thread
from the start), monitor (argument checks, unknown commands, phys bounds).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

A = None


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def snippet(ext):
    return os.path.join(A.snippets, "gdb_loop." + ext)


def symbols():
    out = subprocess.run(["nm", snippet("elf")], capture_output=True, text=True).stdout
    return dict((l.split()[2], int(l.split()[0], 16)) for l in out.splitlines()
                if len(l.split()) == 3)


def exec_cmd(*extra):
    return [A.emu, "exec", "--load", snippet("bin") + "@0x10000", "--entry", "0x10000",
            "--validate", "0x2000:0x1000"] + list(extra)


def start_stub(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        raise Fail("no port from veil-emu: %r" % line)
    return p, int(m.group(1)), line


def gdb(port, script, name="cmds"):
    lines = ["set pagination off", "set confirm off", "set remotetimeout 30",
             "symbol-file " + snippet("elf"), "target remote 127.0.0.1:%d" % port]
    path = os.path.join(A.work, name + ".gdb")
    with open(path, "w") as f:
        f.write("\n".join(lines + script) + "\n")
    p = subprocess.run([A.gdb, "-nx", "-batch", "-x", path], capture_output=True, text=True,
                       timeout=60)
    return p.stdout + p.stderr


def tryc(cmd):
    """A gdb command whose error is printed ("ERROR: ...") instead of ending the batch."""
    return ("python\ntry:\n    gdb.execute(%r)\nexcept gdb.error as e:\n"
            "    print('ERROR: %%s' %% e)\nend" % cmd)


def reg(out, name):
    m = re.search(r"^%s\s+0x([0-9a-f]+)" % name, out, re.M)
    check(m, "register %s not shown:\n%s" % (name, out))
    return int(m.group(1), 16)


def finish(emu):
    out, err = emu.communicate(timeout=60)
    return out, err


# ---- tests ---------------------------------------------------------------------------

def t_sysregs():
    emu, port, _ = start_stub(exec_cmd("--gdb", "0"))
    out = gdb(port, ["info registers cr0 cr2 cr3 cr4 cr8 efer", "info registers rip",
                     tryc("set $cr3 = 0x1000"), "echo AFTER-CR3\\n", "info registers cr3",
                     "maint packet P40=0000000000000000", "echo AFTER-EFER\\n", tryc("set $cr0 = $cr0"),
                     "echo SAME-CR0\\n", "maint print xml-tdesc", "kill"])
    finish(emu)
    cr0, cr3, cr4, efer = reg(out, "cr0"), reg(out, "cr3"), reg(out, "cr4"), reg(out, "efer")
    # 64-bit paging (AMD APM vol. 2, 5.3): CR0.PG|PE, CR4.PAE, EFER.LME|LMA.
    check(cr0 & 0x80000001 == 0x80000001, "CR0.PG/PE: %#x\n%s" % (cr0, out))
    check(cr4 & 0x20, "CR4.PAE: %#x" % cr4)
    check(efer & 0x500 == 0x500, "EFER.LME/LMA: %#x" % efer)
    check(cr3 and cr3 & 0xfff == 0, "CR3 a page-aligned root: %#x" % cr3)
    check(re.search(r"cr0\s+0x[0-9a-f]+\s+\[ .*PG.*\]", out), "CR0 flags decoded:\n" + out)
    check(re.search(r"efer\s+0x[0-9a-f]+\s+\[ .*LMA.*\]", out), "EFER flags decoded:\n" + out)
    # Writes that would change a control register are refused (E01), not ignored.
    m = re.search(r"AFTER-CR3\n(?:.*\n)*?cr3\s+0x([0-9a-f]+)", out)
    check(m and int(m.group(1), 16) == cr3, "CR3 unchanged after a refused write:\n" + out)
    check("Could not write register \"cr3\"" in out, "CR3 write refused:\n" + out)
    # EFER (register 0x40) has a flags type gdb will not assign from a number.
    check(re.search(r'received: "E01"\nAFTER-EFER', out), "EFER write refused:\n" + out)
    check("SAME-CR0" in out and "Could not write register \"cr0\"" not in out,
          "writing CR0's own value is accepted:\n" + out)
    check('<feature name="org.gnu.gdb.i386.sys">' in out, "sys feature in tdesc:\n" + out)


def t_segments():
    emu, port, _ = start_stub(exec_cmd("--gdb", "0"))
    out = gdb(port, ["info registers cs ds", tryc("set $cs = 0x33"), "echo AFTER-CS\\n",
                     "info registers cs", tryc("set $ds = $ds"), "echo SAME-DS\\n",
                     "set $fs_base = 0x123000", "set $rax = 0x5a5a", "stepi",
                     "info registers fs_base rax rip", "kill"])
    finish(emu)
    cs = reg(out, "cs")
    check("Could not write register \"cs\"" in out, "CS write refused with an error:\n" + out)
    m = re.search(r"AFTER-CS\n(?:.*\n)*?cs\s+0x([0-9a-f]+)", out)
    check(m and int(m.group(1), 16) == cs, "CS unchanged:\n" + out)
    check("SAME-DS" in out and "Could not write register \"ds\"" not in out,
          "DS written with its own value accepted:\n" + out)
    check(reg(out, "fs_base") == 0x123000, "fs_base write applied:\n" + out)
    # `mov $0x1234, %rax` ran after the write: rax is the snippet's, rip moved on.
    check(reg(out, "rax") == 0x1234 and reg(out, "rip") > 0x10000, "stepi after writes:\n" + out)


def t_nowait():
    syms = symbols()
    emu, port, line = start_stub(exec_cmd("--gdb-nowait", "0", "--max-insns", "4000000000"))
    check("attach at any time" in line, "--gdb-nowait announces a running machine: " + line)
    time.sleep(1.0)  # the machine runs without GDB
    first = gdb(port, ["info registers rip rdx", "monitor vmpl", "detach"], "first")
    time.sleep(0.5)  # runs again after the detach
    second = gdb(port, ["info registers rip rdx", "set $pc = done", "continue"], "second")
    out, err = finish(emu)
    for s in (first, second):
        rip = reg(s, "rip")
        check(syms["spin"] <= rip < syms["done"], "stopped in the spin loop: %#x\n%s" % (rip, s))
    check("vCPU 0: VMPL0 CPL0 runnable (current)" in first, "monitor after attach:\n" + first)
    check(reg(second, "rdx") > reg(first, "rdx"), "the machine ran between the sessions:\n"
          + first + second)
    check("exited normally" in second, "continue to the end:\n" + second)
    x = json.loads(out)
    check(x["exit"] == "hlt" and x["rip"] == syms["done"] + 1, "exit state: %s %s" % (out, err))


def t_gone():
    """GDB killed while the machine runs: its watchpoints and breakpoints go with it."""
    syms = symbols()
    emu, port, _ = start_stub(exec_cmd("--gdb-nowait", "0", "--max-insns", "4000000000"))
    path = os.path.join(A.work, "gone.gdb")
    with open(path, "w") as f:
        f.write("\n".join(["set pagination off", "symbol-file " + snippet("elf"),
                           "target remote 127.0.0.1:%d" % port, "watch *(long *)0x2008",
                           "echo CONTINUING\\n", "continue"]) + "\n")
    g = subprocess.Popen([A.gdb, "-nx", "-batch", "-x", path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    out = ""
    while "CONTINUING" not in out:
        c = g.stdout.read(1)
        if not c:
            break
        out += c
    check("Hardware watchpoint 1: *(long *)0x2008" in out, "watchpoint set:\n" + out)
    time.sleep(0.5)
    g.kill()  # no detach: the stub sees the connection end while the machine runs
    g.communicate(timeout=30)
    time.sleep(0.5)
    # Run the stores at `target` again: a watchpoint left behind would stop there
    # (GDB would resume silently from a stop it does not know: look at the packets).
    second = gdb(port, ["set debug remote 1", "set $pc = target", "break spin", "continue", "set $pc = done",
                        "continue"], "second")
    out, err = finish(emu)
    check(re.search(r"Breakpoint 1, (0x0*%x in )?spin \(\)" % syms["spin"], second) and
          "watch:" not in second and "exited normally" in second,
          "the dead session's watchpoint was removed:\n" + second)
    x = json.loads(out)
    check(x["exit"] == "hlt" and x["rip"] == syms["done"] + 1, "exit state: %s %s" % (out, err))


def t_threads():
    check(A.os and os.path.exists(A.os), "no OS image (--os)")
    native = ["--native"] if A.mode == "native" else []
    emu, port, _ = start_stub([A.emu, "run"] + native +
                              ["--kernel", A.os, "--vcpus", "3", "--gdb", "0"])
    out = gdb(port, ["info threads", "thread 3", "echo THREAD3\\n", tryc("thread 4"),
                     "echo NO-THREAD4\\n", "thread 1", "continue"])
    _, err = finish(emu)
    # The first stop: the OS's first instruction (the native monitor ran as
    # host code before), or the monitor image's first one at VMPL0.
    check(re.search(r"Thread 1 \(vCPU 0 VMPL%d runnable\)" % (3 if native else 0), out),
          "vCPU 0 thread:\n" + out)
    check(re.search(r"Thread 2 \(vCPU 1 not started\)", out) and
          re.search(r"Thread 3 \(vCPU 2 not started\)", out),
          "not-yet-started vCPUs are threads, shown as such:\n" + out)
    check(re.search(r"Switching to thread 3", out), "thread 3 selectable:\n" + out)
    check(re.search(r"(Invalid thread ID: 4|Unknown thread 4)", out), "no thread 4:\n" + out)
    check("exited normally" in out and emu.returncode == 0, "run to the end:\n" + out + err)


def t_monitor():
    blob = open(snippet("bin"), "rb").read()
    emu, port, _ = start_stub(exec_cmd("--gdb", "0"))
    mem = 16 << 20  # exec's default --mem
    out = gdb(port, ["monitor frobnicate", "monitor vmpl now", "monitor domains x",
                     "monitor rmp", "monitor rmp 0x10000 0x20000", "monitor rmp zz",
                     "monitor phys", "monitor phys 0x10000 4", "monitor phys 0x10000 0",
                     "monitor phys 0x10000 2000", "monitor phys 0x%x 4" % (mem - 4),
                     "monitor phys 0x%x 8" % (mem - 4), "monitor phys 0x%x" % mem,
                     "monitor phys 0x10000 4 5", "monitor help", "monitor rmp 0x10000", "kill"])
    finish(emu)
    check("unknown command 'frobnicate' (monitor help lists the commands)" in out,
          "unknown command:\n" + out)
    check("vmpl: takes no arguments" in out and "domains: takes no arguments" in out,
          "argument-less commands refuse arguments:\n" + out)
    check(out.count("rmp: usage: monitor rmp ADDR") == 2, "rmp argument count:\n" + out)
    check("rmp: zz is not a guest physical address" in out, "rmp bad address:\n" + out)
    check(out.count("phys: usage: monitor phys ADDR [LEN]") == 2, "phys argument count:\n" + out)
    check(" ".join("%02x" % b for b in blob[:4]) + "\n" in out, "phys bytes of the snippet:\n" + out)
    check("phys: bad length '0'" in out and "phys: bad length '2000'" in out, "phys lengths:\n" + out)
    check(re.search(r"^00 00 00 00$", out, re.M), "last 4 bytes of guest memory readable:\n" + out)
    check(out.count("is outside guest memory (0-0xffffff)") == 2,
          "phys stops at the end of guest memory (the monitor's memory is beyond):\n" + out)
    check("phys ADDR [LEN]" in out and "rmp ADDR" in out, "monitor help:\n" + out)
    check("rmp 0x10000: assigned 1 validated 1" in out, "a good command still works:\n" + out)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("test")
    ap.add_argument("--emu", required=True)
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
    except (Fail, subprocess.TimeoutExpired, KeyError, ValueError) as e:
        print("FAIL gdb.%s: %s: %s" % (A.test, type(e).__name__, e))
        return 1
    print("ok gdb.%s" % A.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
