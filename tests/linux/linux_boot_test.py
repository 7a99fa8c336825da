#!/usr/bin/env python3
"""Linux boot tests of `veil-emu run --linux` (label linux).

Issue 15: Debian's unmodified 6.12 cloud kernel, entered at VMPL3 under the
Veil monitor with the x86 64-bit boot protocol, boots to BusyBox. The monitor
is the VMPL0 image veil-monitor (the default), or with --native the monitor
compiled into veil-emu (`veil-emu run --linux --native`). Cases:

  first-line  The decompressor's first line on the serial console is its own
              (it parsed earlyprintk=serial and drove the 8250 through IOIO
              #VCs), and the first line of the kernel proper, the first
              printk of start_kernel, is "Linux version <release>" of the
              fetched package, followed by the command line we gave.
  userspace   The boot in order: the e820 map the loader built read back by
              the kernel, the early console, the initrd, the KVM clock and its
              TSC frequency, x2APIC mode, then BusyBox's /init reporting
              through /dev/kmsg, and its ACPI power-off ending the run with
              status 0 (with --native in 2112 MiB: the initrd goes below
              2 GiB, the kernel's initrd_addr_max). The monitor that ran is the one asked for: the VMPL0
              image announces itself before Linux starts, the native monitor
              does not.
  timer       Timer interrupts arrive: over init's 'sleep 1' the uptime
              advances by a second (an idle HLT, woken by the TSC-deadline
              timer) and /proc/interrupts counts local timer interrupts.
  svsm        In a trace of the boot, the SVSM core protocol calls Linux
              makes reach the monitor with parameters the specification
              (SVSM spec 58019) allows, checked by check_core_calls: only
              REMAP_CA and PVALIDATE on one vCPU (page-aligned calling area,
              8-byte aligned request), and they succeed; Linux accepts the
              REMAP_CA (it goes on to register its GHCB), and it took every
              #VC at VMPL3 (the only other ones are the VMPL0 image's own,
              in its code, for CPUID).
  deterministic  Two traced boots record the same events (RDRAND and the
              clock are deterministic in the model).
  rdrand      RDRAND/RDSEED, which Linux's decompressor needs, on the bare
              model: CF = 1, 16-bit results keep the register's upper bits,
              32-bit ones zero-extend, successive values differ, and a run
              gives the same numbers every time.
  script      --init-script: a script that prints a marker (on stdout and
              stderr, with a value computed in the guest) and exits 0 ends
              the run with status 0 and its lines on the console, in order,
              before the power-off. They come through Linux's tty on ttyS0
              (no printk timestamp: the 8250 driver polls the port with IRQ
              0), not through the kernel log.
  script-status  A script that exits 3 ends the run with status 3 (latched
              at the model's exit-status port, delivered at the power-off).
  smp         --vcpus 4, traced, driven through the interactive shell: the
              APs start (CREATE_VCPU, then the GHCB AP creation of a real-mode
              VMSA) and come online while the boot processor busy-waits for
              them, which only works if the model switches vCPUs without an
              exit (time slices). Commands piped into veil-emu's stdin reach
              the shell on ttyS0 through the UART's receive side (echoed by
              the guest's tty): it sees nproc 4 and CPUs 0-3 online, runs a
              process pinned to each CPU (each reports the CPU it ran on from
              /proc/self/stat), Linux's IPIs (rescheduling, function call)
              arrived on the APs; then CPU hotplug: CPU 2 goes offline, comes
              back online and runs a pinned process. In the trace, every core
              protocol call is checked as in svsm, with CREATE_VCPU (RCX =
              VMSA, RDX = CAA, R8 = APIC ID) and DELETE_VCPU (RCX = a VMSA
              created before), and the online step is CREATE_VCPU of a new
              VMSA for APIC ID 2 followed by DELETE_VCPU of the old one. The
              shell's exit status (nproc) ends the run. (The other boots have
              an empty stdin: their shell gets Ctrl-D and exits 0.)
  errors      Bad inputs give one line on stderr and status 2 (a missing
              input, --init-script's too, status 1).
  entry       Under GDB (--gdb; image only): the run starts in the VMPL0 image at its
              entry, and a breakpoint at the kernel's 64-bit entry
              (pref_address + 0x200) stops vCPU 0 at VMPL3 CPL0 in the boot
              protocol's state: RSI = boot_params (0x100000, whose header
              says "HdrS"), CS = __BOOT_CS (0x10), DS = SS = __BOOT_DS (0x18),
              CR3 = the loader's identity page tables (0x106000).
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import check_bad_inputs, fail, gdb_batch, in_order, run, write_script  # noqa: E402

VEIL_IMAGE_VA = 0xFFFFFFFF80000000


def boot(args, extra=(), stdin_data=None):
    return common.boot(args.emu, (["--native"] if args.native else []) + list(extra), stdin_data)


def case_first_line(args):
    append = "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr"
    rc, out, err = boot(args, ["--append", append])
    lines = [l.rstrip("\r") for l in out.splitlines()]
    text = [l for l in lines if l.strip() and not l.startswith(("veil:", "veil-monitor:"))]
    if not text:
        fail("no console output from the guest\n" + err)
    if text[0] != "KASLR disabled: 'nokaslr' on cmdline.":
        fail("the decompressor's first line is %r" % text[0])
    kernel = [l for l in lines if re.match(r"^\[\s*\d+\.\d+\] ", l)]
    if not kernel:
        fail("the kernel proper printed nothing\n" + out[-2000:] + err)
    first = re.sub(r"^\[\s*\d+\.\d+\] ", "", kernel[0])
    want = "Linux version " + args.release + " "
    if not first.startswith(want):
        fail("the kernel's first line is %r, want it to start with %r" % (first, want))
    second = re.sub(r"^\[\s*\d+\.\d+\] ", "", kernel[1]) if len(kernel) > 1 else ""
    if second != "Command line: " + append:
        fail("the kernel's second line is %r" % second)
    print("first console line of the kernel: " + first)


def case_userspace(args):
    # The native case boots with 2112 MiB: RAM above 2 GiB, the initrd still
    # below the kernel's initrd_addr_max (2 GiB) at the top of what it can use.
    mem = 2112 if args.native else 256
    mon_base = (mem - 8) << 20
    rc, out, err = boot(args, ["--mem", str(mem)] if args.native else [])
    image = re.search(r"^veil-monitor: VMPL0 image at 0x[0-9a-f]+, ", out, re.M)
    if bool(image) == args.native:
        fail("the %s monitor did not run:\n%s" % ("native" if args.native else "image",
                                                  out[:1000]))
    milestones = [
        r"BIOS-e820: \[mem 0x000000000009f000-0x00000000001effff\] reserved",
        r"BIOS-e820: \[mem 0x0000000000200000-0x%016x\] usable" % (mon_base - 1),
        r"printk: legacy bootconsole \[earlyser0\] enabled",
        r"kvm-clock: Using msrs 4b564d01 and 4b564d00",
        r"tsc: Detected 1000\.000 MHz processor",
        r"x2apic: enabled by BIOS, switching to x2apic ops",
        r"RAMDISK: \[mem 0x[0-9a-f]+-0x0*%x\]" % (min(mon_base, 1 << 31) - 1),
        r"Run /init as init process",
        r"veil-linux: init running on " + re.escape(args.release),
        r"veil-linux: cpus online 0\r?\n",
        r"veil-linux: powering off",
        r"reboot: Power down",
    ]
    in_order(out, milestones, err)
    if rc != 0:
        fail("the ACPI power-off did not end the run with status 0 (%d): %s" % (rc, err))
    print("BusyBox init ran and powered off")


def case_timer(args):
    rc, out, err = boot(args)
    up = [float(x) for x in re.findall(r"veil-linux: uptime (\d+\.\d+)", out)]
    loc = re.search(r"veil-linux: timer interrupts LOC: (\d+) ", out)
    if len(up) != 2 or not loc:
        fail("init did not report uptime twice and the timer count\n" + out[-2000:] + err)
    if up[1] - up[0] < 1.0:
        fail("uptime did not advance over 'sleep 1': %r" % up)
    if int(loc.group(1)) < 1:
        fail("no local timer interrupt arrived")
    print("uptime %.2f -> %.2f, %s local timer interrupts" % (up[0], up[1], loc.group(1)))


MCALL_RE = re.compile(r"^\s*\d+\s+vcpu (\d+) VMPL0 .* mcall +SVSM call protocol (\d+) call (\d+) "
                      r"rcx (\S+) rdx (\S+) r8 (\S+)$")
MRET_RE = re.compile(r"^\s*\d+\s+vcpu (\d+) VMPL0 .* mcall-ret +SVSM call result rax (\S+) ")
GUEST_TOP = 0xf800000  # 256 MiB - the monitor's 8 MiB (veil/boot.h), the default --mem


def svsm_calls(listing):
    """The monitor's SVSM calls in a `veil-trace list`, in order, each with its
    result: (vcpu, protocol, call, rcx, rdx, r8, rax). A call and its result
    are paired per vCPU (calls of several vCPUs may interleave)."""
    calls, pending = [], {}
    for line in listing.splitlines():
        m = MCALL_RE.match(line)
        if m:
            v = int(m.group(1))
            if v in pending:
                fail("vCPU %d: a call before the result of its last one" % v)
            pending[v] = len(calls)
            calls.append([v] + [int(x, 0) for x in m.group(2, 3, 4, 5, 6)] + [None])
            continue
        m = MRET_RE.match(line)
        if m:
            v = int(m.group(1))
            if v not in pending:
                fail("vCPU %d: a call result without a call" % v)
            calls[pending.pop(v)][6] = int(m.group(2), 0)
    if pending or not calls:
        fail("%d SVSM calls, %d without a result" % (len(calls), len(pending)))
    return [tuple(c) for c in calls]


def page_of_guest(gpa):
    return gpa % 4096 == 0 and 0 < gpa < GUEST_TOP


def check_core_calls(calls, nr_vcpus):
    """The SVSM core protocol calls Linux makes, checked against SVSM spec
    58019 (core protocol, protocol 0): only calls 0 REMAP_CA (RCX = GPA of the
    new calling area), 1 PVALIDATE (RCX = GPA of the request, 8-byte aligned,
    its 8-byte header in one page), 2 CREATE_VCPU (RCX = GPA of the VMSA page,
    RDX = GPA of the new vCPU's calling area, R8 = APIC ID) and 3 DELETE_VCPU
    (RCX = GPA of a VMSA created before); all in the guest's memory below the
    monitor (the top e820 reserved range). Every call succeeds, except a 2 MiB
    PVALIDATE of a range the RMP holds as 4K entries (FAIL_SIZEMISMATCH,
    0x8000_1006), which Linux retries in 4K steps. Returns the CREATE and
    DELETE calls in order."""
    other = [c for c in calls if c[1] != 0 or c[2] not in (0, 1, 2, 3)]
    if other:
        fail("SVSM calls Linux does not make: %r" % other[:5])
    live = {}  # VMSA GPA -> APIC ID, what CREATE_VCPU made and DELETE_VCPU did not end
    vcpu_calls = []
    for v, _, call, rcx, rdx, r8, rax in calls:
        ok = rax == 0 or (call == 1 and rax == 0x80001006)
        if not ok:
            fail("core call %d (rcx %#x rdx %#x r8 %#x) from vCPU %d failed: %#x"
                 % (call, rcx, rdx, r8, v, rax))
        if call == 0 and not page_of_guest(rcx):
            fail("REMAP_CA to %#x: not a 4 KiB-aligned GPA of the guest" % rcx)
        if call == 1 and (rcx % 8 or rcx % 4096 > 4096 - 8 or rcx >= GUEST_TOP):
            fail("PVALIDATE request at %#x: not 8-byte aligned in one page of the guest" % rcx)
        if call == 2:
            if not page_of_guest(rcx) or not page_of_guest(rdx) or rcx == rdx:
                fail("CREATE_VCPU VMSA %#x CAA %#x: not two 4 KiB pages of the guest"
                     % (rcx, rdx))
            if not 0 < r8 < nr_vcpus or r8 == v:
                fail("CREATE_VCPU for APIC ID %d from vCPU %d (%d vCPUs)" % (r8, v, nr_vcpus))
            if rcx in live:
                fail("CREATE_VCPU of VMSA %#x, already a VMSA" % rcx)
            live[rcx] = r8
            vcpu_calls.append(("create", rcx, rdx, r8))
        if call == 3:
            if rcx not in live:
                fail("DELETE_VCPU of %#x, not a VMSA CREATE_VCPU made" % rcx)
            vcpu_calls.append(("delete", rcx, live.pop(rcx)))
    if nr_vcpus == 1 and vcpu_calls:
        fail("CREATE_VCPU/DELETE_VCPU on one vCPU: %r" % vcpu_calls)
    return vcpu_calls


def traced_boot(args, extra=(), stdin_data=None):
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "linux.trace")
        brc, bout, berr = boot(args, ["--trace", trace, *extra], stdin_data)
        rc, out, err = run([args.trace_tool, "list", trace])
        if rc:
            fail("veil-trace list failed: " + err)
    return brc, bout, berr, out


def case_svsm(args):
    _, _, _, out = traced_boot(args)
    calls = svsm_calls(out)
    check_core_calls(calls, 1)
    remap = [c for c in calls if c[2] == 0]
    pval = [c for c in calls if c[2] == 1]
    if not remap or not pval:
        fail("Linux made no REMAP_CA or no PVALIDATE call: %r" % (calls[:5],))
    # Linux took REMAP_CA as done (it reads call_pending back in the old
    # calling area): it went on to register its GHCB.
    after = out[out.rfind("SVSM call protocol 0 call 0 "):]
    if not re.search(r"VMPL3 .* vmgexit +MSR protocol \S+: GHCB GPA registration", after):
        fail("Linux did not go on after its REMAP_CA")
    vcs = re.findall(r"^\s*\d+\s+vcpu \d+ VMPL(\d) CPL\d .* rip (0x[0-9a-f]+) +vc +(.*)$",
                     out, re.M)
    if not any(v == "3" for v, _, _ in vcs):
        fail("Linux took no #VC at VMPL3")
    # The image's own #VCs (it reads CPUID at boot) are at VMPL0 in its code
    # (linked at VEIL_IMAGE_VA, guest/include/veil/launch.h); the native
    # monitor takes none.
    other = [c for c in vcs if c[0] != "3" and (args.native or c[0] != "0" or
                                                 int(c[1], 16) < VEIL_IMAGE_VA or
                                                 "(CPUID)" not in c[2])]
    if other:
        fail("#VC taken outside Linux and the image's CPUID reads: %r" % other[:5])
    print("SVSM calls: %d (REMAP_CA %d, PVALIDATE %d), all successful"
          % (len(calls), len(remap), len(pval)))


def case_deterministic(args):
    lists = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(2):
            trace = os.path.join(d, "t%d" % i)
            boot(args, ["--trace", trace])
            rc, out, err = run([args.trace_tool, "list", trace])
            if rc:
                fail("veil-trace list failed: " + err)
            lists.append(out)
    if lists[0] != lists[1]:
        a, b = lists[0].splitlines(), lists[1].splitlines()
        diff = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        fail("the two boots differ from record line %d:\n%s\n%s"
             % (diff, a[diff] if diff < len(a) else "<end>", b[diff] if diff < len(b) else "<end>"))
    print("%d trace records, identical" % len(lists[0].splitlines()))


RDRAND_SNIPPET = """
    mov $-1, %rcx
    mov $-1, %rdx
    xor %ebx, %ebx
    rdrand %ecx
    rdseed %dx
    rdrand %r8
    rdrand %rax
    setc %bl
    cmp %rax, %r8
    setne %bh
    hlt
"""


def case_rdrand(args):
    with tempfile.TemporaryDirectory() as d:
        src, obj, binf = (os.path.join(d, n) for n in ("r.S", "r.o", "r.bin"))
        with open(src, "w") as f:
            f.write(RDRAND_SNIPPET)
        for cmd in (["as", "--64", src, "-o", obj], ["objcopy", "-O", "binary", obj, binf]):
            rc, out, err = run(cmd)
            if rc:
                fail("%s failed: %s" % (cmd[0], err))
        runs = []
        for i in range(2):
            rc, out, err = run([args.emu, "exec", "--load", binf + "@0x1000", "--entry", "0x1000"])
            if rc:
                fail("veil-emu exec: status %d: %s" % (rc, err))
            runs.append(json.loads(out))
    r = runs[0]
    if r["exit"] != "hlt" or not r["rbx"] & 1 or not r["rflags"] & 1:
        fail("RDRAND/RDSEED did not report success (CF): %r" % r)
    if r["rcx"] >> 32:
        fail("a 32-bit RDRAND did not zero-extend: %#x" % r["rcx"])
    if r["rdx"] >> 16 != 0xFFFFFFFFFFFF:
        fail("a 16-bit RDSEED changed the upper bits: %#x" % r["rdx"])
    if not r["rbx"] & 0x100:
        fail("two successive RDRANDs gave the same value: %r" % r)
    if runs[0] != runs[1]:
        fail("two runs gave different numbers: %r %r" % (runs[0], runs[1]))


def script_boot(args, text):
    with tempfile.TemporaryDirectory() as d:
        return boot(args, ["--init-script", write_script(d, text)])


def case_script(args):
    # The guest computes 6 * 7: the marker cannot come from the script's text.
    rc, out, err = script_boot(args, 'echo "veil-script-marker $((6 * 7))"\n'
                                     'echo "veil-script-stderr" >&2\n')
    in_order(out, [r"^veil-linux: console on ttyS0, polled\r?$",
                   r"^veil-linux: running the init script\r?$", r"^veil-script-marker 42\r?$",
                   r"^veil-script-stderr\r?$",
                   r"^veil-linux: init script exited with status 0\r?$", r"reboot: Power down"],
             err)
    if rc != 0:
        fail("a script exiting 0 ended the run with status %d: %s" % (rc, err))
    print("the script's lines reached the console; status 0")


def case_script_status(args):
    rc, out, err = script_boot(args, "echo about to exit 3\nexit 3\necho not reached\n")
    if "not reached" in out or not re.search(r"^about to exit 3\r?$", out, re.M):
        fail("the script went on after exit")
    if rc != 3 or "reason set 2 code 3" not in err:
        fail("a script exiting 3 ended the run with status %d: %s\n%s" % (rc, err, out[-1500:]))
    print("status 3 delivered at the power-off")


# One command a line (typed into an interactive shell: no tabs, which
# would complete, no continuation lines).
SMP_SCRIPT = r'''n=$(nproc)
echo "smp-online $(cat /sys/devices/system/cpu/online) nproc $n"
for c in 0 1 2 3; do taskset -c $c sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo "smp-ran-on $(cut -d" " -f39 /proc/self/stat)"' & done; wait
grep -E "^ *(RES|CAL|TLB):" /proc/interrupts | tr -s ' ' | sed 's/^ */smp-irq /'
echo 0 > /sys/devices/system/cpu/cpu2/online
echo "hotplug-offline $(cat /sys/devices/system/cpu/online)"
echo 1 > /sys/devices/system/cpu/cpu2/online
echo "hotplug-online $(cat /sys/devices/system/cpu/online)"
taskset -c 2 sh -c 'echo "hotplug-ran-on $(cut -d" " -f39 /proc/self/stat)"'
exit $n
'''


def check_hotplug_calls(vcpu_calls):
    """Linux's CREATE_VCPU/DELETE_VCPU on 4 vCPUs: at boot one CREATE_VCPU
    for each AP (APIC IDs 1-3); bringing CPU 2 back online, a CREATE_VCPU of
    a new VMSA for APIC ID 2, then the DELETE_VCPU of its old one (SVSM spec
    58019: a VMSA that exists for the APIC ID is replaced; DELETE_VCPU names
    the VMSA by its GPA); in the end one VMSA for each AP."""
    creates = [c for c in vcpu_calls if c[0] == "create"]
    boot = sorted(c[3] for c in creates[:3])
    if boot != [1, 2, 3]:
        fail("the boot's CREATE_VCPUs were for APIC IDs %r, not 1-3" % boot)
    rest = vcpu_calls[3:]
    old = next(c[1] for c in creates[:3] if c[3] == 2)
    if len(rest) != 2 or rest[0][0] != "create" or rest[0][3] != 2 or \
            rest[1] != ("delete", old, 2) or rest[0][1] == old:
        fail("CPU 2's online step was %r, want CREATE_VCPU of a new VMSA for APIC ID 2, "
             "then DELETE_VCPU of its old one %#x" % (rest, old))
    return rest[0][1], old


def case_smp(args):
    rc, out, err, listing = traced_boot(args, ["--vcpus", "4"], stdin_data=SMP_SCRIPT)
    if "veil-linux: shell on ttyS0" not in out:
        fail("no shell on the console\n%s\n%s" % (out[-3000:], err))
    if not re.search(r"smp: Brought up 1 node, 4 CPUs", out):
        fail("the APs did not come up\n%s\n%s" % (out[-3000:], err))
    # The kernel's console messages (CPU 2 going offline and back) can land in
    # the middle of a line the script prints: match the script's lines with
    # them cut out, and Linux's own messages in the console as it is.
    script_out = re.sub(r"\[ *\d+\.\d+\] [^\r\n]*\r?\n", "", out)
    if not re.search(r"^smp-online 0-3 nproc 4\r?$", script_out, re.M):
        fail("the script did not see 4 CPUs online\n%s" % out[-3000:])
    ran = sorted(set(re.findall(r"^smp-ran-on (\d+)\r?$", script_out, re.M)))
    if ran != ["0", "1", "2", "3"]:
        fail("pinned processes ran on CPUs %s, not 0-3\n%s" % (ran, out[-3000:]))
    irqs = {}
    for m in re.finditer(r"^smp-irq (\w+): ([\d ]+?) [A-Z]", script_out, re.M):
        irqs[m.group(1)] = [int(x) for x in m.group(2).split()]
    # The APs must have taken IPIs: rescheduling and function-call interrupts
    # are sent by other CPUs through the x2APIC ICR.
    for name in ("RES", "CAL"):
        counts = irqs.get(name)
        if not counts or len(counts) != 4 or sum(counts[1:]) == 0:
            fail("no %s IPIs on the APs: %s\n%s" % (name, counts, out[-3000:]))
    # CPU hotplug: CPU 2 goes offline, comes back and runs a pinned process.
    for m in (r"^hotplug-offline 0-1,3\r?$", r"^hotplug-online 0-3\r?$",
              r"^hotplug-ran-on 2\r?$"):
        if not re.search(m, script_out, re.M):
            fail("CPU hotplug: %r not on the console\n%s" % (m, out[-3000:]))
    if re.search(r"do_boot_cpu failed|VMSA page failed|leaking page", out):
        fail("Linux reported a failed VMSA call\n%s" % out[-3000:])
    new, old = check_hotplug_calls(check_core_calls(svsm_calls(listing), 4))
    if rc != 4 or "reason set 2 code 4" not in err:
        fail("the shell's status (nproc = 4) did not end the run: %d %s" % (rc, err))
    print("4 CPUs online, user processes on each, IPIs %s; CPU 2 offline and back "
          "(VMSA %#x replaced by %#x); status 4" % (irqs, old, new))


def case_errors(args):
    with tempfile.TemporaryDirectory() as d:
        junk = os.path.join(d, "junk")
        with open(junk, "wb") as f:
            f.write(b"\0" * 8192)
        with open(args.kernel, "rb") as f:
            image = bytearray(f.read())
        bad_images = {
            "no64": (0x236, b"\0\0", "no 64-bit entry point"),    # xloadflags
            "pref": (0x258, b"\0\0\xe0\xff\xff\xff\xff\xff",    # pref_address
                     "pref_address is not usable"),
            "short": (None, None, "setup header out of the file"),
        }
        kernels = {}
        for name, (off, val, _) in bad_images.items():
            img = bytearray(image[:0x2000]) if off is None else bytearray(image)
            if off is not None:
                img[off:off + len(val)] = val
            kernels[name] = os.path.join(d, name)
            with open(kernels[name], "wb") as f:
                f.write(img)
        cases = [(["run", "--linux", "--kernel", kernels[n]], bad_images[n][2])
                 for n in bad_images]
        cases += [
            (["run", "--append", "x"], "need --linux"),
            (["run", "--initrd", junk], "need --linux"),
            (["run", "--init-script", junk], "need --linux"),
            (["run", "--linux", "--init-script"], "needs a value"),
            (["run", "--linux", "--init-script", os.path.join(d, "missing")],
             "--init-script: cannot open", 1),
            (["run", "--linux", "--init-script", d], "--init-script: ", 1),
            (["run", "--linux", "--cmdline", "x"], "give Linux --append"),
            (["run", "--linux", "--igvm", junk], "does not go with --igvm"),
            (["run", "--linux", "--native", "--monitor", junk], "exclude each other"),
            (["run", "--linux", "--monitor", junk], "not an ELF64 x86-64 executable", 1),
            (["run", "--linux", "--kernel", junk], "not a Linux bzImage"),
            (["run", "--linux", "--kernel", os.path.join(d, "missing")], "cannot open", 1),
            (["run", "--linux", "--initrd", os.path.join(d, "missing")], "cannot open", 1),
            (["run", "--linux", "--mem", "32"], "do not fit"),
            (["run", "--linux", "--append", "x" * 3000], "limited to 2047"),
            (["run", "--linux", "--append"], "needs a value"),
        ]
        # A missing input is a failure (1), a bad option or image a usage error (2):
        # README, "Conventions shared by every program".
        check_bad_inputs(args.emu, cases)


def reg(out, name):
    m = re.search(r"^%s\s+0x([0-9a-f]+)" % name, out, re.M)
    if not m:
        fail("gdb did not show %s:\n%s" % (name, out))
    return int(m.group(1), 16)


def case_entry(args):
    if not args.gdb or args.native:
        fail("the entry case needs --gdb and is for the image (not --native)")
    with open(args.kernel, "rb") as f:
        entry = struct.unpack_from("<Q", f.read(0x260), 0x258)[0] + 0x200  # pref_address
    emu = subprocess.Popen([args.emu, "run", "--linux", "--gdb", "0"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        m = None
        for line in emu.stderr:  # the kernel symbols' line comes first
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m or "kernel symbols" not in line:
                break
        if not m:
            fail("no GDB port from veil-emu")
        # A loaded machine (ASan, parallel tests) answers later than gdb's 2 s default.
        script = ["set pagination off", "set confirm off", "set remotetimeout 30",
                  "set architecture i386:x86-64",
                  "target remote 127.0.0.1:" + m.group(1), "info registers rip",
                  "monitor vmpl", "echo AT-ENTRY\n", "break *%#x" % entry, "continue",
                  "info registers rip rsi cs ds ss cr3", "monitor vmpl",
                  "monitor phys 0x100202 4", "kill"]
        out = gdb_batch(args.gdb, emu, script)
    except BaseException:
        emu.kill()
        raise
    first, _, at = out.partition("AT-ENTRY")
    if reg(first, "rip") < VEIL_IMAGE_VA or not re.search(r"vCPU 0\D+VMPL0", first):
        fail("the run did not start in the VMPL0 image:\n" + first)
    want = {"rip": entry, "rsi": 0x100000, "cs": 0x10, "ds": 0x18, "ss": 0x18}
    got = {r: reg(at, r) for r in want}
    if got != want or reg(at, "cr3") & ~0xFFF != 0x106000:
        fail("Linux's entry state %r, want %r and CR3 0x106000:\n%s" % (got, want, at))
    if not re.search(r"vCPU 0\D+VMPL3 CPL0", at) or "48 64 72 53" not in at.lower():
        fail("not at VMPL3 CPL0, or boot_params without HdrS:\n" + at)
    print("Linux entered at %#x with RSI = boot_params, __BOOT_CS/DS, CR3 0x106000" % entry)


if __name__ == "__main__":
    common.main(__doc__, {"first-line": case_first_line, "userspace": case_userspace,
                          "timer": case_timer, "svsm": case_svsm,
                          "deterministic": case_deterministic, "rdrand": case_rdrand,
                          "script": case_script, "script-status": case_script_status,
                          "smp": case_smp, "errors": case_errors, "entry": case_entry},
                required=["emu", "trace-tool", "linux-dir", "kernel"],
                optional=["gdb", "native"])
