#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The programs as a user meets them (CTest label "cli"): conventions shared by
veil-emu, veil-trace, veil-log and veil-sign, and the input and output rules
(no crash, no lost or partial file, no hang on any input).

    cli_test.py --bin NAME=PATH... --work DIR [--module OBJ] [--version V] CASE

Each CASE is one function below (cli.CASE in CTest); it exits 0 when the
behaviour it names holds and says what came instead when it does not.
"""
import argparse
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys

PROGRAMS = ["veil-emu", "veil-trace", "veil-log", "veil-sign", "veil-igvm", "veil-launch",
            "veil-attest"]


class Failed(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Failed(what)


class Ctx:
    def __init__(self, a):
        self.bin = dict(b.split("=", 1) for b in a.bin)
        self.work = a.work
        self.module = a.module
        self.version = a.version
        self.readme = a.readme
        os.makedirs(self.work, exist_ok=True)

    def path(self, name):
        return os.path.join(self.work, name)

    def fresh(self, name):
        p = self.path(name)
        if os.path.lexists(p):
            os.remove(p)
        return p

    def run(self, prog, *args, fsize=None, timeout=60, stdin=subprocess.DEVNULL):
        """(status, stdout, stderr). fsize: a file-size limit, so that writes
        past it fail with EFBIG (SIGXFSZ ignored), as on a full disk."""
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

        p = subprocess.run([self.bin[prog], *args], capture_output=True, text=True,
                           timeout=timeout, preexec_fn=limit if fsize else None, stdin=stdin,
                           errors="replace")
        return p.returncode, p.stdout, p.stderr


def one_line_error(rc, out, err, want_rc, pattern, what):
    need(rc == want_rc, f"{what}: exit {rc}, expected {want_rc}: {out}{err}")
    lines = err.strip().splitlines()
    need(len(lines) == 1, f"{what}: expected one line on stderr, got {err!r}")
    need(re.search(pattern, lines[0]), f"{what}: expected /{pattern}/ on stderr, got {err!r}")


# ---- conventions, for every program ------------------------------------------

def conventions(ctx):
    """--help/-h on stdout, exit 0; --version; unknown option = exit 2, one line."""
    for prog in PROGRAMS:
        for flag in ("--help", "-h"):
            rc, out, err = ctx.run(prog, flag)
            need(rc == 0 and out.startswith("usage: ") and not err,
                 f"{prog} {flag}: exit {rc}, stdout {out[:80]!r}, stderr {err!r}")
            need("Exit status" in out or "exit status" in out.lower(),
                 f"{prog} {flag} does not document the exit status")
        rc, out, err = ctx.run(prog, "--version")
        need(rc == 0 and out == f"{prog} (Veil) {ctx.version}\n" and not err,
             f"{prog} --version: exit {rc}: {out!r} {err!r}")
        rc, out, err = ctx.run(prog, "--no-such-option")
        one_line_error(rc, out, err, 2, r"unknown option '--no-such-option'", f"{prog} --no-such-option")
        need(not out, f"{prog}: an error on stdout: {out!r}")


def man_pages(ctx):
    """A man page per program, generated from its --help (help2man)."""
    mandir = os.path.join(os.path.dirname(os.path.dirname(ctx.bin["veil-log"])), "man")
    for prog in PROGRAMS:
        page = os.path.join(mandir, f"{prog}.1")
        need(os.path.exists(page), f"no man page {page}")
        text = open(page).read()
        need(f".TH {prog.upper()} \"1\"" in text and ctx.version in text,
             f"{page} is not a help2man page of version {ctx.version}")
        rc, out, _ = ctx.run(prog, "--help")
        first_option = re.search(r"^\s+(--[a-z][a-z-]+)", out, re.M)
        need(first_option and first_option[1].replace("-", r"\-") in text,
             f"{page} lacks {first_option and first_option[1]} from --help")


def readme_agrees(ctx):
    """Every option that a --help lists is documented in README.md, and every
    veil-emu/veil-trace option the README's synopses list exists in a --help."""
    readme = open(ctx.readme).read()
    helps = {
        "veil-emu": [["exec", "--help"], ["run", "--help"]],
        "veil-trace": [[c, "--help"] for c in
                       ("summary", "list", "show", "step", "rmp", "export", "replay")] + [["--help"]],
        "veil-log": [["--help"]],
        "veil-sign": [["--help"]],
    }
    listed = set()
    for prog, calls in helps.items():
        for args in calls:
            rc, out, err = ctx.run(prog, *args)
            need(rc == 0, f"{prog} {' '.join(args)}: exit {rc}")
            opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out))
            listed |= opts
            missing = sorted(o for o in opts if f"`{o}" not in readme and f" {o}" not in readme)
            need(not missing, f"{prog} {' '.join(args)}: {missing} not in README.md")
    synopses = "\n".join(re.findall(r"```\n((?:veil-emu|veil-trace|veil-log|veil-sign) .*?)```",
                                    readme, re.S))
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", synopses))
    need(documented, "no synopses found in README.md")
    stale = sorted(documented - listed)
    need(not stale, f"README.md synopses name options no --help has: {stale}")


# ---- veil-sign --------------------------------------------------------------

def keygen(ctx):
    """The private key is 0600, the public 0644 (umask 022); no silent overwrite."""
    priv, pub = ctx.fresh("k.key"), ctx.fresh("k.pub")
    old = os.umask(0o022)
    try:
        rc, out, err = ctx.run("veil-sign", "keygen", priv, pub)
    finally:
        os.umask(old)
    need(rc == 0 and not err, f"keygen: exit {rc}: {err}")
    need(stat.S_IMODE(os.stat(priv).st_mode) == 0o600, f"private key mode {oct(os.stat(priv).st_mode)}")
    need(stat.S_IMODE(os.stat(pub).st_mode) == 0o644, f"public key mode {oct(os.stat(pub).st_mode)}")
    before = open(priv, "rb").read(), open(pub, "rb").read()
    rc, out, err = ctx.run("veil-sign", "keygen", priv, pub)
    one_line_error(rc, out, err, 1, r"'.*k\.key' already exists \(use --force", "second keygen")
    need((open(priv, "rb").read(), open(pub, "rb").read()) == before, "the key pair changed")
    # Only the public one exists: still refused, and no private key appears.
    os.remove(priv)
    rc, out, err = ctx.run("veil-sign", "keygen", priv, pub)
    one_line_error(rc, out, err, 1, r"k\.pub' already exists", "keygen over a public key")
    need(not os.path.exists(priv), "a private key was written anyway")
    rc, out, err = ctx.run("veil-sign", "keygen", "--force", priv, pub)
    need(rc == 0 and open(pub, "rb").read() != before[1], f"--force: exit {rc}: {err}")
    need(stat.S_IMODE(os.stat(priv).st_mode) == 0o600, "--force: private key not 0600")


def sign_inputs(ctx):
    """sign takes only an ELF64 relocatable object; empty/FIFO/dir refused."""
    priv, pub = ctx.fresh("s.key"), ctx.fresh("s.pub")
    need(ctx.run("veil-sign", "keygen", priv, pub)[0] == 0, "keygen")
    text = ctx.path("text.txt")
    open(text, "w").write("not a module\n")
    empty = ctx.fresh("empty.o")
    open(empty, "w").close()
    fifo = ctx.fresh("fifo.o")
    os.mkfifo(fifo)
    cases = [
        (text, r"'.*text\.txt' is not an ELF file"),
        (ctx.bin["veil-log"], r"is not a relocatable object \(ET_REL\)"),
        (empty, r"'.*empty\.o' is empty"),
        (fifo, r"'.*fifo\.o' is not a regular file"),
        (ctx.work, r"is a directory"),
        (ctx.path("missing.o"), r"cannot open '.*missing\.o': No such file"),
    ]
    for src, pattern in cases:
        out = ctx.fresh("out.ko")
        rc, o, e = ctx.run("veil-sign", "sign", priv, src, out, timeout=20)
        one_line_error(rc, o, e, 1, pattern, f"sign {os.path.basename(src)}")
        need(not os.path.exists(out), f"sign {src}: an output was written")
    out = ctx.fresh("good.ko")
    rc, o, e = ctx.run("veil-sign", "sign", priv, ctx.module, out)
    need(rc == 0, f"sign a real module: exit {rc}: {e}")
    rc, o, e = ctx.run("veil-sign", "verify", pub, out)
    need(rc == 0 and o.endswith(": good signature\n"), f"verify: {rc} {o}{e}")
    bad = bytearray(open(out, "rb").read())
    bad[100] ^= 1
    open(ctx.path("bad.ko"), "wb").write(bad)
    rc, o, e = ctx.run("veil-sign", "verify", pub, ctx.path("bad.ko"))
    need(rc == 1 and "BAD signature" in o, f"verify tampered: {rc} {o}{e}")


def sign_output(ctx):
    """OUT = IN refused (IN intact); a failed write leaves no partial file and
    an existing OUT as it was; /dev/full fails."""
    priv, pub = ctx.fresh("o.key"), ctx.fresh("o.pub")
    need(ctx.run("veil-sign", "keygen", priv, pub)[0] == 0, "keygen")
    mod = ctx.path("m.o")
    data = open(ctx.module, "rb").read()
    open(mod, "wb").write(data)
    rc, o, e = ctx.run("veil-sign", "sign", priv, mod, mod)
    one_line_error(rc, o, e, 1, r"OUT must be a different file", "sign IN IN")
    rc, o, e = ctx.run("veil-sign", "sign", priv, mod, os.path.join(ctx.work, ".", "m.o"))
    one_line_error(rc, o, e, 1, r"OUT must be a different file", "sign IN ./IN")
    need(open(mod, "rb").read() == data, "IN changed")
    out = ctx.path("prev.ko")
    open(out, "wb").write(b"previous contents")
    rc, o, e = ctx.run("veil-sign", "sign", priv, mod, out, fsize=len(data) // 2)
    one_line_error(rc, o, e, 1, r"writing '.*prev\.ko' failed: File too large", "sign, disk full")
    need(open(out, "rb").read() == b"previous contents", "a failed write replaced OUT")
    left = [f for f in os.listdir(ctx.work) if f.startswith(".prev.ko.")]
    need(not left, f"temporary files left behind: {left}")
    rc, o, e = ctx.run("veil-sign", "sign", priv, mod, "/dev/full")
    one_line_error(rc, o, e, 1, r"writing '/dev/full' failed: No space left", "sign to /dev/full")


def usage_errors(ctx):
    """Bad command lines: exit 2 and one line, for veil-sign and veil-log."""
    for prog, args, pattern in [
        ("veil-sign", [], r"missing command"),
        ("veil-sign", ["frob"], r"unknown command 'frob'"),
        ("veil-sign", ["sign", "a"], r"wrong number of arguments for 'sign'"),
        ("veil-sign", ["--force", "verify", "a", "b"], r"--force only applies to keygen"),
        ("veil-log", ["verify"], r"verify needs FILE"),
        ("veil-log", ["show", "a", "b"], r"too many arguments"),
    ]:
        rc, o, e = ctx.run(prog, *args)
        one_line_error(rc, o, e, 2, pattern, f"{prog} {' '.join(args)}")
        need(not o, f"{prog}: an error on stdout")


# ---- veil-emu run -------------------------------------------------------------

def run_paths(ctx):
    """run: an unusable --kernel is one line and status 1; no output may be an
    input or the other output; a failed --com2 write is reported."""
    fifo = ctx.fresh("k.fifo")
    os.mkfifo(fifo)
    empty = ctx.fresh("k.empty")
    open(empty, "w").close()
    for kernel, pattern in [(fifo, r"is not a regular file"), (empty, r"is empty"),
                            (ctx.work, r"is a directory"),
                            (ctx.path("nope"), r"cannot open .*No such file")]:
        rc, o, e = ctx.run("veil-emu", "run", "--kernel", kernel, timeout=30)
        one_line_error(rc, o, e, 1, pattern, f"run --kernel {os.path.basename(kernel)}")
    same = ctx.fresh("same.out")
    rc, o, e = ctx.run("veil-emu", "run", "--com2", same, "--trace", same)
    one_line_error(rc, o, e, 2, r"--trace '.*same\.out' is the same file as --com2", "--com2 = --trace")
    need(not os.path.exists(same), "an output was created")
    kernel = ctx.path("os.elf")
    open(kernel, "wb").write(open(ctx.bin["testos"], "rb").read())
    rc, o, e = ctx.run("veil-emu", "run", "--kernel", kernel, "--com2", os.path.join(ctx.work, "os.elf"))
    one_line_error(rc, o, e, 2, r"--com2 '.*os\.elf' is the same file as --kernel", "--com2 = --kernel")
    need(open(kernel, "rb").read() == open(ctx.bin["testos"], "rb").read(), "the kernel changed")
    rc, o, e = ctx.run("veil-emu", "run", "--cmdline", "test=log-dump", "--com2", "/dev/full")
    need(rc == 1 and re.search(r"^veil-emu: --com2: writing '/dev/full' failed: No space left", e, re.M),
         f"--com2 /dev/full: exit {rc}: {e}")


def run_mem(ctx):
    """run --mem: the whole documented range boots; beyond it, one line that
    says why. The native monitor (--native): 16 and 6912 MiB, and 3072 MiB
    with 64 vCPUs and the largest log. The monitor image (the default) also
    keeps its segments and every AP's stacks in the monitor's region: the
    limit it names for 1 vCPU, and for 64 vCPUs with the largest log, boots."""
    for args, pattern in [
        (["--mem", "6914"], r"--mem must be an even number of MiB from 16 to 6912"),
        (["--mem", "14"], r"--mem must be an even number of MiB from 16 to 6912"),
        (["--native", "--mem", "4000", "--log-size", "4194304"],
         r"--mem 4000 does not fit the monitor's 8 MiB region with a 4096 KiB log .*at most 3072 MiB"),
    ]:
        rc, o, e = ctx.run("veil-emu", "run", *args)
        one_line_error(rc, o, e, 2, pattern, f"run {' '.join(args)}")
    boots = [["--mem", "16"], ["--native", "--mem", "6912"],
             ["--native", "--mem", "3072", "--vcpus", "64", "--log-size", "4194304"]]
    for extra, n in (([], 1), (["--vcpus", "64", "--log-size", "4194304"], 64)):
        args = ["--mem", "6912"] + extra
        rc, o, e = ctx.run("veil-emu", "run", *args)
        pattern = (r"--mem 6912 does not fit the monitor's 8 MiB region with a \d+ KiB log, "
                   r"the monitor image and its stacks \(\d+ KiB, %d vCPUs\) .*at most (\d+) MiB" % n)
        one_line_error(rc, o, e, 2, pattern, f"run {' '.join(args)}")
        most = int(re.search(pattern, e).group(1))
        need(16 <= most < 6912, f"image limit {most} MiB")
        boots.append(["--mem", str(most)] + extra)
    for args in boots:
        rc, o, e = ctx.run("veil-emu", "run", *args, timeout=900)
        need(rc == 0 and re.search(r"veil-testos: \d+ passed, 0 failed", o),
             f"run {' '.join(args)}: exit {rc}: {o[-500:]}{e[-500:]}")


def progress(ctx):
    """A long run shows a progress line on a terminal (stderr), none in a pipe,
    and the JSON on stdout is untouched."""
    loop = ctx.path("loop.bin")
    open(loop, "wb").write(b"\xeb\xfe")  # jmp $
    args = [ctx.bin["veil-emu"], "exec", "--load", loop + "@0x1000", "--entry", "0x1000",
            "--max-insns", "2000000000"]
    master, slave = os.openpty()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read().decode()
    rc = p.wait()
    os.close(master)
    text = err.decode("latin-1")
    need(rc == 0 and json.loads(out)["exit"] == "limit", f"exec: exit {rc}: {out} {text}")
    need(re.search(r"\rveil-emu: running the snippet, \d+ s ", text),
         f"no progress on a terminal (the run took too little?): {text!r}")
    need(text.endswith("\r\033[K"), f"the progress line is not cleared: {text[-40:]!r}")
    # As long a run again (a minute or more under the sanitizers).
    rc, out, err = ctx.run("veil-emu", *args[1:], timeout=600)
    need(rc == 0 and not err, f"progress in a pipe: {err!r}")


CASES = {f.__name__.replace("_", "-"): f for f in (
    conventions, man_pages, readme_agrees, keygen, sign_inputs, sign_output, usage_errors, run_paths, run_mem, progress)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", action="append", default=[])
    ap.add_argument("--work", required=True)
    ap.add_argument("--module")
    ap.add_argument("--version")
    ap.add_argument("--readme")
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    try:
        CASES[a.case](Ctx(a))
    except Failed as e:
        print(f"FAILED {a.case}: {e}")
        return 1
    print(f"ok {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
