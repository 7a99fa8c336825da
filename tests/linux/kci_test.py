#!/usr/bin/env python3
"""Kernel code integrity for Linux (guest/linux/veil_kci.c, services/kci), label linux.

Each case is one boot of Debian's kernel under the Veil monitor whose script
loads veil.ko (which locks the kernel's text and read-only data with the
monitor) and then attacks as root. An attack must be refused by the RMP, not
by Linux: the monitor records the violation and stops the CVM (status 4),
and the script's next line never runs.

  kci          After the lock: the monitor says how many text pages it locked,
               veilctl status says "kci locked"; a BusyBox session goes on
               (commands, a sleep on the timer); veil_attack.ko (mode=none)
               loads, runs, unloads and loads again, its text made
               executable by the monitor each time; root's /dev/mem write to
               kernel text is refused by Linux itself (CONFIG_STRICT_DEVMEM),
               so the log is dumped (COM2) and must verify and hold the
               monitor's records of the code it made executable (veil.ko,
               the pre-lock code, each veil_attack load, with SHA-256) and
               given back (init text, unload). Last, veil_attack.ko
               mode=text writes one byte of kernel text through a second,
               writable mapping Linux gave it: the monitor stops the CVM for
               a write at exactly that GPA, inside the locked text range.
  kci-monitor  veil.ko declaring its text 2 MiB away from where the measured
               boot parameters put it is refused (veilctl: unlocked); loaded
               again it locks. Then veil_attack.ko mode=monitor reads the first page of the
               monitor's memory (the top e820 reserved range) through an
               encrypted mapping: the monitor stops the CVM for a read at
               exactly that GPA.
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import boot, fail, main, verified_records, write_script  # noqa: E402

VIOLATION = (r"^veil: RMP violation: vcpu 0 rip ([0-9a-f]+) gpa ([0-9a-f]+) exitinfo1 [0-9a-f]+ "
             r"\((read|write|fetch)\); stopping the CVM$")

# Markers go to the kernel log (/dev/kmsg), which printk writes to the serial
# port at once: the tty's output may still be queued when the CVM stops.
SCRIPT_KCI = r"""set -e
say() {{ echo "kci-test: $*" >/dev/kmsg; }}
insmod /veil.ko
veilctl status | while read -r l; do say "$l"; done
ls / >/dev/null; cat /proc/version >/dev/null; sleep 1
say "session goes on"
insmod /veil_attack.ko
rmmod veil_attack
insmod /veil_attack.ko
rmmod veil_attack
say "modules loaded twice"
if devmem {text:#x} 8 0x90 2>/dev/null; then say "devmem wrote text"; else say "devmem refused by Linux"; fi
veilctl log-dump --com2
say "attack text"
insmod /veil_attack.ko mode=text
say "the attack went on"
"""

SCRIPT_MONITOR = r"""set -e
say() {{ echo "kci-test: $*" >/dev/kmsg; }}
insmod /veil.ko kci_skew=0x200000
veilctl status | while read -r l; do say "$l"; done
rmmod veil
insmod /veil.ko
base=$(dmesg | sed -n 's/.*BIOS-e820: \[mem 0x\([0-9a-f]*\)-0x[0-9a-f]*\] reserved.*/\1/p' | tail -1)
say "monitor at 0x$base"
insmod /veil_attack.ko mode=monitor addr=0x$base
say "the attack went on"
"""


def boot_script(args, d, script, com2=None):
    """One boot running `script`; its console (stdout and stderr) as one text."""
    argv = ["--initrd", args.initrd, "--init-script", write_script(d, script)]
    rc, out, err = boot(args.emu, argv + (["--com2", com2] if com2 else []))
    return rc, out + err


def stopped_for(out, rc, kind):
    """The one violation the monitor recorded: (rip, gpa); the run ended by it."""
    v = re.findall(VIOLATION, out, re.M)
    if rc != 4 or len(v) != 1 or "reason set 2 code 4" not in out:
        fail("want one RMP violation ending the run with status 4, got status %d, %d "
             "violations\n%s" % (rc, len(v), out[-3000:]))
    if v[0][2] != kind:
        fail("the violation is a %s, want a %s: %r" % (v[0][2], kind, v[0]))
    if "kci-test: the attack went on" in out or "went through" in out:
        fail("the attack went on after the violation")
    return int(v[0][0], 16), int(v[0][1], 16)


def lock_line(out):
    m = re.search(r"veil: kernel text ([0-9a-f]+)\+([0-9a-f]+) rodata ([0-9a-f]+)\+([0-9a-f]+): "
                  r"locked \(0\)", out)
    n = re.search(r"veil: kernel code locked: (\d+) text pages, 0 exports", out)
    if not m or not n:
        fail("veil.ko did not lock the kernel\n" + out[-3000:])
    text, tlen = int(m[1], 16), int(m[2], 16)
    if int(n[1]) != tlen // 4096:
        fail("the monitor locked %s text pages, veil.ko declared %#x bytes" % (n[1], tlen))
    return text, tlen


def check_kci_records(recs):
    kci = [r["payload"] for r in recs if r["payload"].startswith("kci: ")]
    if [r for r in recs if r["payload"].startswith("kci: ") and r["origin"] != "monitor"]:
        fail("a kci record not from the monitor: %r" % recs)
    added = r"kci: text added %s: \d+ pages from gpa [0-9a-f]+ sha256 [0-9a-f]{64}$"
    want = [(added % "veil", 1), (added % "pre-lock code", 1), (added % "veil_attack", 4),
            (r"kci: text dropped veil_attack: \d+ pages from gpa [0-9a-f]+$", 4)]
    for pat, n in want:
        got = [k for k in kci if re.match(pat, k)]
        if len(got) < n:
            fail("%d records match %r, want at least %d: %r" % (len(got), pat, n, kci))
    return len(kci)


def case_kci(args):
    with tempfile.TemporaryDirectory() as d:
        dump = os.path.join(d, "log.bin")
        # The kernel's load address (nokaslr: its pref_address, 16 MiB) is text.
        rc, out = boot_script(args, d, SCRIPT_KCI.format(text=0x1000000), dump)
        text, tlen = lock_line(out)
        if not re.search(r"kci-test: kci locked, %d text pages" % (tlen // 4096), out):
            fail("veilctl status does not say the kernel is locked\n" + out[-3000:])
        for line in ("kci-test: session goes on", "kci-test: modules loaded twice",
                     "kci-test: devmem refused by Linux", "kci-test: attack text"):
            if line not in out:
                fail("%r not on the console\n%s" % (line, out[-3000:]))
        n = check_kci_records(verified_records(args.log, dump)[1])
    m = re.search(r"veil-attack: text: writing kernel text at gpa 0x([0-9a-f]+)", out)
    if not m:
        fail("the text attack did not start\n" + out[-3000:])
    target = int(m[1], 16)
    rip, gpa = stopped_for(out, rc, "write")
    if gpa != target or not text <= gpa < text + tlen:
        fail("violation at gpa %#x, want %#x in the locked text %#x+%#x" % (gpa, target, text, tlen))
    print("text %#x+%#x locked; %d kci records; the write to %#x stopped the CVM" %
          (text, tlen, n, gpa))


def case_kci_monitor(args):
    with tempfile.TemporaryDirectory() as d:
        rc, out = boot_script(args, d, SCRIPT_MONITOR.format())
    # First veil.ko declares its text 2 MiB off (kci_skew): not where the
    # measured boot parameters put the kernel, so the monitor refuses.
    if not re.search(r"veil: kernel text [0-9a-f]+\+[0-9a-f]+ rodata [0-9a-f]+\+[0-9a-f]+: "
                     r"the monitor refused the lock \(-\d+\)", out) or \
            "kci-test: kci unlocked" not in out:
        fail("a skewed declaration was not refused\n" + out[-3000:])
    lock_line(out)
    m = re.search(r"kci-test: monitor at 0x([0-9a-f]+)", out)
    r = re.search(r"veil-attack: monitor: reading gpa 0x([0-9a-f]+)", out)
    if not m or not r or int(m[1], 16) != int(r[1], 16):
        fail("the monitor-read attack did not start\n" + out[-3000:])
    target = int(r[1], 16)
    rip, gpa = stopped_for(out, rc, "read")
    if gpa != target:
        fail("violation at gpa %#x, want %#x" % (gpa, target))
    print("the read of the monitor's page %#x stopped the CVM" % gpa)


if __name__ == "__main__":
    main(__doc__, {"kci": case_kci, "kci-monitor": case_kci_monitor},
         required=["emu", "log", "initrd"])
