"""What the Linux test scripts (label linux) share: their command line (where
veil-emu, the kernel, the initramfs and the tools are), running a program
with a timeout, a boot of `veil-emu run --linux`, an init script written to
a file, the records of a dumped log, and the check of bad inputs (one line
on stderr and the status the README's conventions give).

Each script imports it from its own directory (tests/linux).
"""
import argparse
import json
import os
import re
import subprocess
import sys

TIMEOUT = 240


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(cmd, stdin_data=None, **kw):
    """(status, stdout, stderr) of cmd. Without input, stdin is empty: a boot
    without --init-script ends in a shell that the end of its input (Ctrl-D)
    makes exit."""
    if stdin_data is None:
        kw["stdin"] = subprocess.DEVNULL
    else:
        kw["input"] = stdin_data.encode()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT, **kw)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def boot(emu, argv=(), stdin_data=None):
    """One `veil-emu run --linux ARGV`: (status, stdout, stderr); a crash of
    veil-emu (a signal) fails the test."""
    rc, out, err = run([emu, "run", "--linux", *argv], stdin_data)
    if rc < 0:
        fail("veil-emu died from signal %d\n%s" % (-rc, err))
    return rc, out, err


def gdb_batch(gdb, emu, script):
    """Real gdb in batch mode running `script` (one command each) against the
    stub of the veil-emu process `emu`; its output (stdout and stderr). Then
    `emu` is reaped: gdb's kill ends it, and a run gdb left is killed. The
    script should raise remotetimeout: a loaded machine (ASan, parallel
    tests) answers later than gdb's 2 s default."""
    try:
        p = subprocess.run([gdb, "-nx", "-batch"] + [a for c in script for a in ("-ex", c)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=TIMEOUT)
        return p.stdout
    finally:
        try:
            emu.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emu.kill()
            emu.wait()


def write_script(d, text, name="script.sh"):
    """An init script (--init-script) with `text`, in the directory d."""
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def release(linux_dir):
    """The fetched kernel's release (the first word of its VERSION file)."""
    with open(os.path.join(linux_dir, "VERSION")) as f:
        return f.read().split()[0]


def verify(log, path):
    """`veil-log verify` of a dumped log: (status, stdout, stderr)."""
    return run([log, "verify", path])


def records(log, path):
    """The records of a dumped log (`veil-log --json show`)."""
    rc, out, err = run([log, "--json", "show", path])
    if rc:
        fail("veil-log show: " + err)
    return json.loads(out)["records"]


def verified_records(log, path):
    """A dumped log that `veil-log verify` accepts: (its output, the records)."""
    rc, out, err = verify(log, path)
    if rc:
        fail("veil-log verify refused the dump: %s %s" % (out, err))
    return out, records(log, path)


def in_order(out, patterns, err=""):
    """Each regular expression (multi-line: ^ and $ match at lines) found in
    out after the previous one's match, else the test fails."""
    pos = 0
    for m in patterns:
        r = re.compile(m, re.M).search(out, pos)
        if not r:
            fail("%r not on the console (in order)\n%s\n%s" % (m, out[-3000:], err))
        pos = r.end()


def check_bad_inputs(prog, cases):
    """Each (argv, text[, status]): prog ARGV exits with status (by default 2,
    a usage error; a missing input is 1: README, "Conventions shared by every
    program") and says one line on stderr containing text."""
    for argv, want, *status in cases:
        status = status[0] if status else 2
        rc, out, err = run([prog, *argv])
        lines = err.strip().splitlines()
        if rc != status or len(lines) != 1 or want not in lines[0]:
            fail("%r: status %d, stderr %r (want status %d and one line with %r)"
                 % (argv, rc, err, status, want))


# Where the scripts find what they run (CMakeLists.txt passes them).
OPTIONS = {
    "emu": {"help": "veil-emu"},
    "log": {"help": "veil-log"},
    "trace-tool": {"help": "veil-trace"},
    "veilctl": {"help": "veilctl, built for the host"},
    "gdb": {"help": "gdb, for the entry case"},
    "kernel": {"help": "the Linux bzImage (scripts/setup.sh fetches it)"},
    "linux-dir": {"help": "where the fetched Linux package is (its VERSION file)"},
    "initrd": {"help": "the initramfs to boot"},
    "native": {"action": "store_true",
               "help": "boot under the native monitor instead of the VMPL0 image"},
}


def main(doc, cases, required=(), optional=()):
    """Parse the command line (the OPTIONS named, then the case, one of
    `cases`' keys), run the case and say PASS. With --linux-dir, args.release
    is the kernel's release."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in required:
        ap.add_argument("--" + name, required=True, **OPTIONS[name])
    for name in optional:
        ap.add_argument("--" + name, **OPTIONS[name])
    ap.add_argument("case", choices=list(cases))
    args = ap.parse_args()
    if getattr(args, "linux_dir", None):
        args.release = release(args.linux_dir)
    cases[args.case](args)
    print("PASS")
