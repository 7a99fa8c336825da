#!/usr/bin/env python3
"""The Veil module for Linux (guest/linux: veil.ko, /dev/veil, veilctl), label linux.

Cases:

  veil    One Linux boot under the Veil monitor whose script loads veil.ko,
          appends records through veilctl (ioctl) and write(2), turns kernel
          auditing on with a rule for openat/unlink, creates and removes a
          marker file, sends an AUDIT_USER message, appends a record forged
          to look like the monitor's own "violation:" record, and dumps the
          log to COM2 (veil-emu --com2). Then, as root, it writes the log's
          store through /dev/mem (devmem). Checked:
          - the dump verifies (`veil-log verify`) and holds, in order, the
            module's load record, both appended records, the audit records
            the kernel emitted for the marker file (SYSCALL openat + PATH
            naming it) and the AUDIT_USER message, all with origin "os";
          - the forged record is there with origin "os" (never "monitor"),
            and relabelling it "monitor" in the dump, or editing its text,
            makes `veil-log verify` fail;
          - the /dev/mem write to the store (its GPA from the monitor's
            start-up line) is refused: the monitor records an RMP
            violation at exactly that GPA and stops the CVM (status 4), and
            the script's next line never runs.
  veilctl-errors  veilctl's bad inputs on the host: one line on stderr and
          status 2 (usage) or 1 (no /dev/veil).
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (boot, check_bad_inputs, fail, main, verified_records, verify,  # noqa: E402
                    write_script)

MARKER = "/veil-audit-marker"

SCRIPT = r"""set -e
insmod /veil.ko
veilctl status
veilctl log-append "veil-test: hello from $(uname -r)"
echo "veil-test: a record through write(2)" >/dev/veil
veilctl audit-enable
veilctl audit-rule 257 87
touch {marker}
rm {marker}
veilctl audit-user "veil-test: user message marker"
veilctl log-append "violation: vcpu 0 rip ffffffff81000000 gpa {store:x} exitinfo1 7 (write)"
veilctl status
veilctl log-dump --com2
echo "veil-test: dumped"
echo "veil-test: attack: devmem write to {store:#x}" >/dev/kmsg
devmem {store:#x} 64 0x4141414141414141
echo "veil-test: the write went through" >/dev/kmsg
"""


def store_gpa(args):
    """The log store's GPA, from the monitor's start-up line. The VMPL0 image
    prints it after its own boot, whose length in instructions depends on
    the build (a Debug image takes several times a release one's), so the
    pre-run is read line by line and stopped at that line."""
    pat = re.compile(r"^veil: log domain: .* store \d+ KiB at gpa ([0-9a-f]+)$")
    p = subprocess.Popen([args.emu, "run", "--linux", "--initrd", args.initrd],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, errors="replace")
    seen = []
    try:
        for line in p.stdout:
            seen.append(line)
            m = pat.match(line.rstrip("\n"))
            if m:
                return int(m.group(1), 16)
            if len(seen) > 50:
                break
    finally:
        p.kill()
        p.wait()
    fail("no log store line from the monitor\n" + "".join(seen))


def check_records(recs, release):
    # The monitor's own records: the code veil.ko's kernel code integrity
    # lock made executable (kci_test.py checks them).
    recs = [r for r in recs if not (r["origin"] == "monitor" and r["payload"].startswith("kci: "))]
    texts = [r["payload"] for r in recs]
    if [r for r in recs if r["origin"] != "os"]:
        fail("a record not from the OS: %r" % [r for r in recs if r["origin"] != "os"])
    want = [r"^veil: module loaded on " + re.escape(release) + r" x86_64, audit stream on$",
            r"^veil-test: hello from " + re.escape(release) + "$",
            r"^veil-test: a record through write\(2\)\n$",
            r"^audit type=1300 audit\([0-9.:]+\): arch=c000003e syscall=257 success=yes ",
            r"^audit type=1302 audit\([0-9.:]+\): item=1 name=\"" + re.escape(MARKER) + "\"",
            r"^audit type=1300 audit\([0-9.:]+\): arch=c000003e syscall=87 success=yes ",
            r"^audit type=1005 audit\([0-9.:]+\): .*msg='veil-test: user message marker'",
            r"^violation: vcpu 0 "]
    pos = 0
    for w in want:
        i = next((i for i in range(pos, len(texts)) if re.search(w, texts[i])), None)
        if i is None:
            fail("no record matching %r (in order) among\n%s" % (w, "\n".join(texts)))
        pos = i + 1
    return next(i for i, t in enumerate(texts) if t.startswith("violation: "))


def tamper(args, dump, recs, idx, what):
    """Copy the dump, change the forged record (origin or text): must not verify."""
    with open(dump, "rb") as f:
        data = bytearray(f.read())
    off = 80  # struct veil_log_dump_hdr
    for r in recs[:idx]:
        off += 64 + ((r["len"] + 7) & ~7)
    if what == "origin":
        data[off + 24] = 2  # VEIL_LOG_ORIGIN_MONITOR
    else:
        data[off + 64] ^= 0x20  # 'v' -> 'V'
    path = dump + "." + what
    with open(path, "wb") as f:
        f.write(data)
    rc, out, err = verify(args.log, path)
    if rc != 1:
        fail("the forged record relabelled (%s) verified: %d %s %s" % (what, rc, out, err))
    return err.strip().splitlines()[0] if err.strip() else out.strip()


def case_veil(args):
    store = store_gpa(args)
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, SCRIPT.format(marker=MARKER, store=store), "veil.sh")
        dump = os.path.join(d, "log.dump")
        rc, out, err = boot(args.emu, ["--initrd", args.initrd, "--init-script", script,
                                       "--com2", dump])
        for m in [r"veil: /dev/veil ready \(VMPL3\)", r"veil-test: attack: devmem write to"]:
            if not re.search(m, out):
                fail("%r not on the console (status %d)\n%s\n%s" % (m, rc, out[-3000:], err))
        if "the write went through" in out:
            fail("root's /dev/mem write to the log store went through")
        v = re.search(r"^veil: RMP violation: vcpu 0 rip [0-9a-f]+ gpa ([0-9a-f]+) exitinfo1 "
                      r"[0-9a-f]+ \(write at CPL3\); stopping the CVM", out, re.M)
        if not v or int(v.group(1), 16) != store:
            fail("no RMP violation at the store %#x\n%s" % (store, out[-2000:]))
        if rc != 4:
            fail("the violation ended the run with status %d, want 4\n%s" % (rc, err))
        vout, recs = verified_records(args.log, dump)
        forged = check_records(recs, args.release)
        why_o = tamper(args, dump, recs, forged, "origin")
        why_t = tamper(args, dump, recs, forged, "text")
    print(vout.strip().splitlines()[0])
    print("%d records; the forged record is the OS's; relabelled: %s; edited: %s"
          % (len(recs), why_o, why_t))
    print("/dev/mem write to the store at %#x: RMP violation, CVM stopped" % store)


def case_veilctl_errors(args):
    cases = [([], "usage", 2), (["bogus"], "usage", 2), (["audit-rule", "x"], "bad syscall", 2),
             (["audit-rule"], "needs syscall", 2), (["log-append"], "/dev/veil", 1),
             (["status", "extra"], "/dev/veil", 1),
             (["bench-insmod", "/x.ko", "0"], "bad count", 2),
             (["bench-insmod", "/x", "3"], "not a NAME.ko", 2),
             (["bench-insmod", "/nonexistent/x.ko", "3"], "No such file", 1),
             (["bench-insmod", "/x.ko"], "usage", 2)]
    check_bad_inputs(args.veilctl, cases)
    print("%d bad inputs: one line each" % len(cases))


if __name__ == "__main__":
    main(__doc__, {"veil": case_veil, "veilctl-errors": case_veilctl_errors},
         optional=["emu", "log", "veilctl", "initrd", "linux-dir"])
