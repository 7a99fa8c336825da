#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Image-mode tests (CTest label "image") that need more than run_os.sh:
the GDB stub on the monitor's own code, the tracer, and the exception path.

    image_test.py CASE --emu VEIL_EMU --image VEIL_MONITOR --trace-tool VEIL_TRACE
                  [--gdb GDB] --work DIR

Cases:
  gdb-dispatch   break in veil_svsm_dispatch (the monitor's SVSM dispatch, at
                 VMPL0, with the image's symbols) and see a call from VMPL3
                 arrive: the backtrace runs through handle_call, the OS's VMSA
                 holds the RIP after its VMGEXIT, the run then ends normally
  gdb-fault      send the monitor to an unmapped address from the debugger:
                 its #PF handler prints one line and stops the CVM with reason
                 set 2, code 0x20 + 14 (exit status 46)
  gdb-stack-overflow
                 leave the monitor no stack: it runs into its guard page, the
                 #PF is taken on the exception stack (IST), the handler says
                 "stack overflow" and stops the CVM (exit status 46)
  trace          record an image-mode run: RMPADJUST/PVALIDATE come from VMPL0
                 code in the image, the first switch is VMPL0 -> VMPL3, the
                 image's console lines are recorded; replaying to an RMPADJUST
                 stops inside the image with RAX a direct-map address
"""
import argparse
import os
import re
import signal
import struct
import subprocess
import sys

IMAGE_VA = 0xFFFFFFFF80000000
DIRECT_MAP = 0xFFFF888000000000


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def start_stub(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", p.stderr.readline())
    if not m:
        p.kill()
        raise Fail("no port from veil-emu")
    return p, int(m.group(1))


def gdb(port, script):
    lines = ["set pagination off", "set confirm off", "set remotetimeout 30",
             "symbol-file " + A.image, "target remote 127.0.0.1:%d" % port]
    path = os.path.join(A.work, "cmds.gdb")
    with open(path, "w") as f:
        f.write("\n".join(lines + script) + "\n")
    return subprocess.run([A.gdb, "-nx", "-batch", "-x", path], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120).stdout


def t_gdb_dispatch():
    emu, port = start_stub([A.emu, "run", "--monitor", A.image, "--gdb", "0"])
    out = gdb(port, ["info registers rip", "monitor vmpl", "break veil_svsm_dispatch",
                     "continue", "bt 3", "monitor vmpl", "print/x c->rax",
                     "print/x *(unsigned long *)(%#x + vc->os_vmsa + 0x178)" % DIRECT_MAP,
                     "delete", "continue"])
    _, err = emu.communicate(timeout=60)
    check(re.search(r"rip\s+0x%x\s+0x%x <image_start>" % (IMAGE_VA, IMAGE_VA), out),
          "first stop at the image's entry:\n" + out)
    check(re.search(r"Breakpoint 1, veil_svsm_dispatch \(mon=", out),
          "breakpoint in the SVSM dispatch:\n" + out)
    check(re.search(r"#1 .* in handle_call .*core/monitor\.c", out), "backtrace:\n" + out)
    check(out.count("vCPU 0: VMPL0 CPL0 runnable (current)") == 2, "VMPL0 at both stops:\n" + out)
    m = re.findall(r"\$\d+ = 0x([0-9a-f]+)", out)
    check(len(m) == 2, "call registers:\n" + out)
    # The OS's RIP at the call lies in the test OS image (linked at 2 MiB).
    check(0x200000 <= int(m[1], 16) < 0x400000, "VMPL3 RIP of the call: %s" % m[1])
    check("exited normally" in out and emu.returncode == 0, "run to the end:\n" + out + err)


def t_gdb_fault():
    emu, port = start_stub([A.emu, "run", "--monitor", A.image, "--gdb", "0"])
    out = gdb(port, ["break veil_svsm_dispatch", "continue", "delete", "set $pc = 0",
                     "continue"])
    res, err = emu.communicate(timeout=60)
    lines = [l for l in res.splitlines() if l.startswith("veil-monitor: exception")]
    check(len(lines) == 1 and re.match(
        r"veil-monitor: exception 14 \(error code 0x10\) at rip 0x0 on vCPU 0; "
        r"stopping the CVM$", lines[0]), "one exception line:\n" + res)
    check(emu.returncode == 0x20 + 14, "exit status %d, expected 46:\n%s" % (emu.returncode, err))
    check("reason set 2 code 46" in err, "termination reason:\n" + err)


def t_gdb_stack_overflow():
    emu, port = start_stub([A.emu, "run", "--monitor", A.image, "--gdb", "0"])
    # Leave the monitor 8 bytes of stack above its guard page: its next
    # call runs into the guard.
    gdb(port, ["break veil_svsm_dispatch", "continue", "delete",
               "set $rsp = ((unsigned long)$rsp & ~0xffffUL) + 0x2008", "continue"])
    res, err = emu.communicate(timeout=60)
    check("veil-monitor: VMPL0 stack overflow on vCPU 0\n" in res,
          "stack overflow line:\n" + res)
    check(re.search(r"veil-monitor: exception 14 \(error code 0x[0-9a-f]+\) at rip 0x[0-9a-f]+ "
                    r"on vCPU 0; stopping the CVM", res), "exception line:\n" + res)
    check(emu.returncode == 0x20 + 14, "exit status %d, expected 46:\n%s" % (emu.returncode, err))


def records(path):
    p = subprocess.run([A.trace_tool, "list", path], stdout=subprocess.PIPE, text=True)
    check(p.returncode == 0, "veil-trace list failed")
    return p.stdout.splitlines()


def t_trace():
    trc = os.path.join(A.work, "image.trc")
    p = subprocess.run([A.emu, "run", "--monitor", A.image, "--trace", trc],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    check(p.returncode == 0, "run --trace: %d %s" % (p.returncode, p.stderr))
    summ = subprocess.run([A.trace_tool, "summary", trc], stdout=subprocess.PIPE,
                          text=True).stdout
    m = re.search(r"rmpadjust\s+(\d+)", summ)
    check(m and int(m.group(1)) > 0, "RMPADJUST records:\n" + summ)
    check(re.search(r"image: %s \(\d+ bytes, sha256 [0-9a-f]{64}\)" %
                    re.escape(os.path.realpath(A.image)), summ),
          "the monitor image in the trace header:\n" + summ)
    check(re.search(r"VMPL0\s+\d+", summ) and re.search(r"VMPL3\s+\d+", summ),
          "VMPL0 and VMPL3 records:\n" + summ)
    lst = records(trc)
    adj = [l for l in lst if "rmpadjust" in l]
    check(adj and all("by VMPL0" in l or "vmpl 0" in l or "VMPL0" in l for l in adj[:20]),
          "RMPADJUST by VMPL0:\n" + "\n".join(adj[:5]))
    sw = [l for l in lst if "switch" in l]
    check(sw and re.search(r"VMPL0 -> VMPL3|0 -> 3", sw[0]), "first switch:\n" + "\n".join(sw[:3]))
    seq = re.match(r"\s*(\d+)", adj[len(adj) // 2]).group(1)
    r = subprocess.run([A.trace_tool, "replay", trc, "--to", seq], stdout=subprocess.PIPE,
                       text=True, timeout=120).stdout
    rip = re.search(r"rip 0x([0-9a-f]+)", r)
    rax = re.search(r"rax 0x([0-9a-f]+)", r)
    check(rip and int(rip.group(1), 16) >= IMAGE_VA, "replay stops in the image:\n" + r)
    check(rax and int(rax.group(1), 16) >= DIRECT_MAP, "RMPADJUST operand is a VA:\n" + r)
    check("veil-monitor: VMPL0 image" in r, "the image's console line in the replay:\n" + r)


CASES = {"gdb-dispatch": t_gdb_dispatch, "gdb-fault": t_gdb_fault,
         "gdb-stack-overflow": t_gdb_stack_overflow, "trace": t_trace}


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--emu", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--trace-tool", required=True)
    ap.add_argument("--gdb", default="")
    ap.add_argument("--work", required=True)
    A = ap.parse_args()
    os.makedirs(A.work, exist_ok=True)
    try:
        CASES[A.case]()
    except (Fail, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        return 1
    print("PASS %s" % A.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
