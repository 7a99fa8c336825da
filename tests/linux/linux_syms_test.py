#!/usr/bin/env python3
"""Linux kernel symbols for traces and the GDB stub (label linux, issue 15 item 3).

Debian's kernel package has no real System.map and no vmlinux: the build
reads the symbols out of the bzImage's kallsyms tables with
tools/linux-kallsyms.py into build/linux/System.map and build/linux/vmlinux.sym
(an ELF of symbols for gdb). Cases:

  map       The generated map is the running kernel's own symbol table: a boot
            with an init script prints the MD5 of /proc/kallsyms (kptr_restrict
            0, no modules loaded), which must equal the MD5 of the map, byte
            for byte (same symbols, types, addresses and order; the boot is
            nokaslr, the default). Also, without booting: _text is the kernel's
            link address, __START_KERNEL_map + the bzImage's pref_address, and
            start_kernel is text after it.
  gdb       Real gdb attached to `veil-emu run --linux --gdb 0` loads the symbol
            file veil-emu names on stderr, breaks at start_kernel by name, and
            there `info symbol $pc` and `bt` name start_kernel, called from
            x86_64_start_reservations, at VMPL3 CPL0.
  trace     `veil-trace list --symbols` on a traced boot names every VMPL3 record
            whose RIP is in the kernel's image ([_text, _end]) and no other
            (the decompressor runs at physical addresses, outside the map); the
            kernel's first GHCB GPA registration is made in a function named
            *register_ghcb*, and its GHCB-protocol VMGEXITs are made in
            *ghcb_hv_call* (Linux's hypervisor call through the GHCB), but
            its run-VMPL ones (SVSM calls) in a function named *svsm*.
            `--json` carries the same name.
  errors    The tool and veil-trace refuse bad input with one line: a missing
            file, a file that is no bzImage, a bzImage whose payload is cut, a
            bad map (status 1/2, never a traceback).
"""
import argparse
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, gdb_batch, run  # noqa: E402

START_KERNEL_MAP = 0xFFFFFFFF80000000  # Linux arch/x86/include/asm/page_64_types.h


def read_map(path):
    syms = {}
    with open(path) as f:
        for line in f:
            a, t, n = line.split()
            syms.setdefault(n, (int(a, 16), t))
    return syms


def case_map(args):
    syms = read_map(args.map)
    with open(args.kernel, "rb") as f:
        pref = struct.unpack_from("<Q", f.read(0x260), 0x258)[0]
    text = syms.get("_text")
    if text != (START_KERNEL_MAP + pref, "T"):
        fail("_text %r, want T at %#x (pref_address %#x)" % (text, START_KERNEL_MAP + pref, pref))
    sk = syms.get("start_kernel")
    if not sk or sk[1] not in "Tt" or sk[0] <= text[0] or sk[0] >= syms["_end"][0]:
        fail("start_kernel %r is not text inside the kernel" % (sk,))
    with open(args.map, "rb") as f:
        want = hashlib.md5(f.read()).hexdigest()
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "kallsyms.sh")
        with open(script, "w") as f:
            f.write("echo 0 > /proc/sys/kernel/kptr_restrict\n"
                    "echo kallsyms-lines $(wc -l < /proc/kallsyms)\n"
                    "md5sum /proc/kallsyms\n")
        rc, out, err = run([args.emu, "run", "--linux", "--init-script", script])
    m = re.search(r"^([0-9a-f]{32})  /proc/kallsyms\r?$", out, re.M)
    n = re.search(r"^kallsyms-lines (\d+)", out, re.M)
    if rc or not m or not n:
        fail("the guest did not report /proc/kallsyms (status %d):\n%s\n%s"
             % (rc, out[-1500:], err))
    lines = sum(1 for _ in open(args.map))
    if m.group(1) != want:
        fail("the map (%d lines, md5 %s) is not the running kernel's /proc/kallsyms "
             "(%s lines, md5 %s)" % (lines, want, n.group(1), m.group(1)))
    print("System.map = the running kernel's /proc/kallsyms: %d symbols, md5 %s; "
          "_text %#x, start_kernel %#x" % (lines, want, text[0], sk[0]))


def case_gdb(args):
    emu = subprocess.Popen([args.emu, "run", "--linux", "--gdb", "0"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        s = re.search(r"kernel symbols for gdb: symbol-file (\S+)$", emu.stderr.readline())
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", emu.stderr.readline())
        if not m or not s:
            fail("veil-emu named no GDB port or no kernel symbol file")
        if os.path.realpath(s.group(1)) != os.path.realpath(args.elf):
            fail("veil-emu names %s, the build made %s" % (s.group(1), args.elf))
        script = ["set pagination off", "set confirm off", "set remotetimeout 30",
                  "symbol-file " + s.group(1), "target remote 127.0.0.1:" + m.group(1),
                  "break start_kernel", "continue", "echo AT-BREAK\n", "info symbol $pc",
                  "bt 2", "monitor vmpl", "kill"]
        out = gdb_batch(args.gdb, emu, script)
    except BaseException:
        emu.kill()
        raise
    at = out.partition("AT-BREAK")[2]
    sk = read_map(args.map)["start_kernel"][0]
    if not re.search(r"^start_kernel in section \S+", at, re.M):
        fail("info symbol $pc does not name start_kernel:\n" + out)
    if not re.search(r"^#0 +0x0*%x in start_kernel \(\)" % sk, at, re.M) or \
            not re.search(r"^#1 .* in x86_64_start_reservations \(\)", at, re.M):
        fail("bt does not show start_kernel at %#x called by x86_64_start_reservations:\n%s"
             % (sk, out))
    if not re.search(r"vCPU 0\D+VMPL3 CPL0", at):
        fail("not stopped at VMPL3 CPL0:\n" + out)
    print("gdb stopped at start_kernel (%#x) by name, bt names its caller" % sk)


def case_trace(args):
    syms = read_map(args.map)
    lo, hi = syms["_text"][0], syms["_end"][0]
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "linux.trace")
        rc, out, err = run([args.emu, "run", "--linux", "--trace", trace])
        if rc:
            fail("the traced boot ended with status %d: %s" % (rc, err[-800:]))
        rc, out, err = run([args.trace_tool, "list", trace, "--vmpl", "3", "--symbols",
                            args.map])
        if rc:
            fail("veil-trace list --symbols failed: " + err)
        rc, js, err = run([args.trace_tool, "list", trace, "--vmpl", "3", "--type", "vmgexit",
                           "--json", "--symbols", args.map])
        if rc:
            fail("veil-trace list --json --symbols failed: " + err)
    recs = re.findall(r"^\s*\d+\s+vcpu \d+ VMPL3 CPL\d\s+icount \d+\s+rip (0x[0-9a-f]+)"
                      r"( <[^>]+>)? +(\S+) +(.*)$", out, re.M)
    if not recs:
        fail("no VMPL3 records listed:\n" + out[:1000])
    wrong = [r for r in recs if (lo <= int(r[0], 16) <= hi) != bool(r[1])]
    if wrong:
        fail("named outside the kernel or unnamed inside it: %r" % wrong[:5])
    regs = [r for r in recs if r[2] == "vmgexit" and "GHCB GPA registration" in r[3] and r[1]]
    if not regs or not re.match(r" <\w*register_ghcb\w*\+0x[0-9a-f]+>$", regs[0][1]):
        fail("the kernel's first GHCB registration is not in *register_ghcb*: %r" % regs[:1])
    # A GHCB-protocol VMGEXIT is Linux's hypervisor call (*ghcb_hv_call*),
    # but the run-VMPL one, its SVSM call (*svsm_perform_ghcb_protocol*).
    ghcb = [r for r in recs if r[2] == "vmgexit" and r[3].startswith("GHCB ") and r[1]]
    want = [("svsm" if "(run VMPL)" in r[3] else "ghcb_hv_call", r) for r in ghcb]
    if not ghcb or not any(w == "svsm" for w, _ in want) or \
            any(w not in r[1] for w, r in want):
        fail("GHCB VMGEXITs not in *ghcb_hv_call* (SVSM calls: *svsm*): %r"
             % [r for w, r in want if w not in r[1]][:5])
    named = [json.loads(line) for line in js.splitlines()]
    first = next((j for j in named if "GHCB GPA registration" in j["detail"] and "sym" in j),
                 None)
    if not first or "register_ghcb" not in first["sym"] or \
            int(first["rip"], 16) != syms[first["sym"]][0] + first["sym_off"]:
        fail("--json does not name the registration consistently with the map: %r" % first)
    print("%d VMPL3 records, %d named; first GHCB registration in %s; %d GHCB VMGEXITs in %s"
          % (len(recs), sum(1 for r in recs if r[1]), regs[0][1].strip(), len(ghcb),
             sorted({r[1].split("+")[0].strip(" <") for r in ghcb})))


def one_line(rc, out, err, status, what):
    lines = err.strip().splitlines()
    if rc != status or len(lines) != 1 or "Traceback" in err:
        fail("%s: status %d, stderr %r (want status %d and one line)" % (what, rc, err, status))


def case_errors(args):
    py = [sys.executable, args.tool]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "System.map")
        junk = os.path.join(d, "junk")
        with open(junk, "wb") as f:
            f.write(b"\x7fELF" + b"\0" * 4096)
        with open(args.kernel, "rb") as f:
            img = f.read()
        cut = os.path.join(d, "cut")
        with open(cut, "wb") as f:
            f.write(img[:len(img) // 2])
        short = os.path.join(d, "short")  # payload intact but its tail garbled
        sects = img[0x1F1] or 4
        poff, plen = struct.unpack_from("<II", img, 0x248)
        tail = (sects + 1) * 512 + poff + plen - 64
        with open(short, "wb") as f:
            f.write(img[:tail] + b"\0" * 64 + img[tail + 64:])
        for argv, status in ((py + [os.path.join(d, "none"), "-o", out], 1),
                             (py + [junk, "-o", out], 1), (py + [cut, "-o", out], 1),
                             (py + [short, "-o", out], 1), (py + [args.kernel], 2),
                             (py + [args.kernel, "-o", os.path.join(d, "no", "dir")], 1)):
            one_line(*run(argv), status, " ".join(argv[1:]))
        if os.path.exists(out):
            fail("a refused input left a map behind")
        badmap = os.path.join(d, "bad.map")
        with open(badmap, "w") as f:
            f.write("ffffffff81000000 T _text\nnot a map line\n")
        empty = os.path.join(d, "abs.map")
        with open(empty, "w") as f:
            f.write("0000000000000000 A only_absolute\n")
        wide = os.path.join(d, "wide.map")  # an address of more than 64 bits
        with open(wide, "w") as f:
            f.write("1ffffffff81000000 T _text\n")
        trace = os.path.join(d, "t.trc")  # any trace: the map is refused before it is read
        with open(trace, "wb") as f:
            f.write(b"x")
        for argv, status, want in (
                ([args.trace_tool, "list", trace, "--symbols", badmap], 1, "line 2"),
                ([args.trace_tool, "list", trace, "--symbols", empty], 1, "no symbols"),
                ([args.trace_tool, "list", trace, "--symbols", wide], 1, "line 1"),
                ([args.trace_tool, "list", trace, "--symbols", os.path.join(d, "none")], 1, ""),
                ([args.trace_tool, "list", trace, "--symbols"], 2, "needs a MAP"),
                ([args.trace_tool, "summary", trace, "--symbols", args.map], 2, "list, show")):
            rc, o, e = run(argv)
            one_line(rc, o, e, status, " ".join(argv[1:]))
            if want not in e:
                fail("%s: %r does not say %r" % (" ".join(argv[1:]), e, want))
    print("bad kernels and maps refused with one line")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--emu", required=True)
    ap.add_argument("--trace-tool", required=True)
    ap.add_argument("--tool", required=True, help="tools/linux-kallsyms.py")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--map", required=True, help="the build's System.map")
    ap.add_argument("--elf", required=True, help="the build's ELF symbol file")
    ap.add_argument("--gdb", help="gdb, for the gdb case")
    ap.add_argument("case", choices=["map", "gdb", "trace", "errors"])
    args = ap.parse_args()
    if args.case == "gdb" and not args.gdb:
        fail("the gdb case needs --gdb")
    {"map": case_map, "gdb": case_gdb, "trace": case_trace, "errors": case_errors}[args.case](args)
    print("PASS")


if __name__ == "__main__":
    main()
