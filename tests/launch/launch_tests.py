#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CTest driver for veil-launch (label launch). No SNP hardware is needed.

usage: launch_tests.py CASE BUILD_DIR WORK_DIR QEMU
  check    `check --root` on fake /proc, /sys and /dev trees made here: a healthy
           Milan host (with a stand-in QEMU 10.1 that lists igvm-cfg), a Milan
           host without SNP, a Genoa host on an upstream kernel (no multi-VMPL);
           and the installed Debian QEMU (too old, no IGVM)
  qemu     the printed command line against the option syntax of the installed
           QEMU: every -object type in `-object help` and its properties in
           `-object TYPE,help`, the -machine properties in `-machine q35,help`,
           the CPU model in `-cpu help`. igvm-cfg (QEMU 10.1+ with IGVM) cannot
           be checked by Debian's QEMU 10.0: the test asserts it is absent there
           and reports it.
  libvirt  the domain XML validates with virt-xml-validate (and a broken one does
           not), defines and starts on libvirt's test driver (test:///default)
           through the C API; bad URIs and names fail with one line
"""
import os
import re
import shlex
import stat
import subprocess
import sys

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: {family}
model\t\t: {model}
model name\t: {name}
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr sme sev sev_es{snp}
"""


def fake_root(work, name, family, model, cpu_name, snp, kernel, kvm_snp, dev_sev):
    root = os.path.join(work, name)
    files = {
        "proc/cpuinfo": CPUINFO.format(family=family, model=model, name=cpu_name,
                                       snp=" sev_snp" if snp else ""),
        "proc/sys/kernel/osrelease": kernel + "\n",
        "sys/module/kvm_amd/parameters/sev_snp": kvm_snp + "\n",
    }
    if dev_sev:
        files["dev/sev"] = ""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write(text)
    return root


def fake_qemu(work):
    """A stand-in for a QEMU 10.1 built with IGVM (none is packaged)."""
    path = os.path.join(work, "qemu-10.1-igvm")
    open(path, "w").write("#!/bin/sh\ncase \"$1\" in\n"
                          "--version) echo 'QEMU emulator version 10.1.0';;\n"
                          "-object) printf 'List of user creatable objects:\\n  igvm-cfg\\n"
                          "  memory-backend-memfd\\n  sev-snp-guest\\n';;\nesac\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def check_lines(out):
    return [ln.split(None, 2) for ln in out.splitlines()
            if ln[:4].strip() in ("ok", "FAIL", "?") and not ln.startswith(" ")]


def case_check(env):
    work, launch, qemu = env["work"], env["launch"], env["qemu"]
    stand_in = fake_qemu(work)
    milan = fake_root(work, "milan-ok", 25, 1, "AMD EPYC 7763 64-Core Processor", True,
                      "6.11.0-rc3-svsm", "Y", True)
    r = run([launch, "check", "--root", milan, "--qemu", stand_in])
    lines = check_lines(r.stdout)
    check(r.returncode == 0 and "ready: 0 item(s)" in r.stdout, "healthy Milan: rc %d\n%s" %
          (r.returncode, r.stdout))
    check(all(ln[0] in ("ok", "?") for ln in lines) and len(lines) >= 10,
          "healthy Milan: every line ok or ?:\n" + r.stdout)
    check(re.search(r"^ok\s+cpu\s+.*EPYC Milan", r.stdout, re.M), "Milan recognised")

    nosnp = fake_root(work, "milan-no-snp", 25, 1, "AMD EPYC 7763 64-Core Processor", False,
                      "6.11.0-rc3-svsm", "N", False)
    r = run([launch, "check", "--root", nosnp, "--qemu", stand_in])
    failed = {ln[1] for ln in check_lines(r.stdout) if ln[0] == "FAIL"}
    check(r.returncode == 1 and failed == {"cpu", "kvm_amd", "/dev/sev"} | {"cpu"} and
          "not ready: 3 item(s)" in r.stdout,
          "Milan without SNP: failing %s\n%s" % (sorted(failed), r.stdout))
    for item in ("snp", "sev_snp", "/dev/sev"):
        check(re.search(r"^FAIL .*%s.*\n\s+-> \S" % re.escape(item), r.stdout, re.M),
              "a FAIL line for %s says what to do" % item)

    genoa = fake_root(work, "genoa-upstream", 25, 17, "AMD EPYC 9654 96-Core Processor", True,
                      "6.12.0-amd64", "Y", True)
    r = run([launch, "check", "--root", genoa, "--qemu", stand_in])
    fails = [ln for ln in check_lines(r.stdout) if ln[0] == "FAIL"]
    check(r.returncode == 1 and len(fails) == 1 and fails[0][1] == "kernel" and
          fails[0][2].startswith("multi-VMPL"),
          "Genoa on upstream KVM: only multi-VMPL fails\n" + r.stdout)
    check("EPYC Genoa" in r.stdout and "COCONUT-SVSM" in r.stdout, "Genoa / COCONUT advice")

    r = run([launch, "check", "--root", milan, "--qemu", qemu])
    fails = {" ".join(ln[1:3]) for ln in check_lines(r.stdout) if ln[0] == "FAIL"}
    check(r.returncode == 1 and any(f.startswith("qemu ") for f in fails) and
          any("igvm-cfg" in f for f in fails), "Debian's QEMU is not enough:\n" + r.stdout)
    r = run([launch, "check", "--root", os.path.join(work, "nonexistent")])
    check(r.returncode == 2 and r.stderr.count("\n") == 1, "missing --root: %r" % r.stderr)


def qemu_help(qemu, *args):
    return run([qemu] + list(args)).stdout


def props(text):
    """Property names from QEMU's 'TYPE,help' listing ('  name=<type> ...')."""
    return set(re.findall(r"^\s+([a-z0-9-]+)=", text, re.M))


def case_qemu(env):
    launch, qemu, igvm = env["launch"], env["qemu"], env["igvm_file"]
    r = run([launch, "qemu", "--igvm", igvm])
    check(r.returncode == 0, "veil-launch qemu: " + r.stderr)
    argv = shlex.split(r.stdout.replace("\\\n", " "))
    check(argv[0] == "qemu-system-x86_64", "argv[0] %s" % argv[0])
    opts = []
    i = 1
    while i < len(argv):
        if i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            opts.append((argv[i], argv[i + 1]))
            i += 2
        else:
            opts.append((argv[i], None))
            i += 1
    version = qemu_help(qemu, "--version").splitlines()[0]
    objects = qemu_help(qemu, "-object", "help")
    igvm_cfg_checkable = "igvm-cfg" in objects.split()
    created = []
    check(not igvm_cfg_checkable or "10.1" in version or "11." in version,
          "unexpected: %s lists igvm-cfg" % version)
    for opt, val in opts:
        if opt == "-object":
            typ, rest = val.split(",", 1)
            keys = [kv.split("=")[0] for kv in rest.split(",")]
            if typ == "igvm-cfg" and not igvm_cfg_checkable:
                print("not checkable with %s: -object igvm-cfg (QEMU 10.1+ built with IGVM)" %
                      version)
                check(keys == ["id", "file"] and os.path.isabs(rest.split("file=")[1]),
                      "igvm-cfg takes id and an absolute file")
                continue
            check(typ in objects.split(), "%s: -object %s unknown" % (version, typ))
            created.append(val)
        elif opt == "-machine":
            typ, rest = val.split(",", 1)
            known = props(qemu_help(qemu, "-machine", typ + ",help")) | {"accel"}
            for kv in rest.split(","):
                k = kv.split("=")[0]
                if k == "igvm-cfg" and not igvm_cfg_checkable:
                    print("not checkable with %s: -machine igvm-cfg=" % version)
                    continue
                check(k in known, "%s: -machine %s has no property %s" % (version, typ, k))
        elif opt == "-cpu":
            check(re.search(r"\b%s\b" % re.escape(val), qemu_help(qemu, "-cpu", "help")),
                  "%s: no CPU model %s" % (version, val))
    # Creating the objects checks every property, inherited ones too (`TYPE,help`
    # lists only a class's own): QEMU stops with "Property ... not found" else.
    base = [qemu, "-machine", "none", "-nodefaults", "-display", "none", "-S", "-monitor", "stdio"]
    objs = [a for v in created for a in ("-object", v)]
    r2 = run(base + objs, input="quit\n", timeout=120)
    check(r2.returncode == 0 and len(created) == (3 if igvm_cfg_checkable else 2),
          "%s rejects the objects %s: %s" % (version, created, r2.stderr.strip()))
    r2 = run(base + objs[:-1] + [objs[-1] + ",no-such-property=1"], input="quit\n", timeout=120)
    check(r2.returncode != 0 and "no-such-property" in r2.stderr,
          "control: a wrong property must make QEMU fail: %r" % r2.stderr)
    opts = dict(opts)
    check(opts.get("-m") == "64M" and opts.get("-smp") == "2", "memory and vCPUs from the file")
    check("policy=0x70000" in opts.get("-object", "") or "policy=0x70000" in r.stdout,
          "the file's policy")
    # --run executes exactly the printed command line.
    rec = os.path.join(env["work"], "argv.txt")
    fake = os.path.join(env["work"], "record-argv")
    open(fake, "w").write('#!/bin/sh\nfor a in "$@"; do echo "$a"; done > %s\n' % rec)
    os.chmod(fake, 0o755)
    printed = shlex.split(run([launch, "qemu", "--igvm", igvm, "--qemu", fake]).stdout
                          .replace("\\\n", " "))
    r = run([launch, "qemu", "--igvm", igvm, "--qemu", fake, "--run"])
    check(r.returncode == 0 and open(rec).read().splitlines() == printed[1:],
          "--run runs the printed command line")
    r = run([launch, "qemu", "--igvm", igvm, "--mem", "128"])
    check(r.returncode == 1 and "built for 64 MiB" in r.stderr, "--mem mismatch: %r" % r.stderr)
    r = run([launch, "qemu", "--igvm", "/nonexistent"])
    check(r.returncode == 1 and r.stderr.count("\n") == 1, "missing file: %r" % r.stderr)
    r = run([launch, "qemu"])
    check(r.returncode == 2 and r.stderr.count("\n") == 1, "no --igvm: %r" % r.stderr)


def case_libvirt(env):
    launch, igvm, work = env["launch"], env["igvm_file"], env["work"]
    xml = os.path.join(work, "veil.xml")
    r = run([launch, "libvirt", "--igvm", igvm, "--name", "veil-test", "-o", xml])
    check(r.returncode == 0, "libvirt -o: " + r.stderr)
    text = open(xml).read()
    check("<launchSecurity type='sev-snp'>" in text and "<policy>0x00070000</policy>" in text and
          "igvm-cfg,id=igvm0,file=/" in text, "domain XML content")
    r = run(["virt-xml-validate", xml, "domain"])
    check(r.returncode == 0, "virt-xml-validate: " + r.stdout + r.stderr)
    bad = os.path.join(work, "bad.xml")
    open(bad, "w").write(text.replace("<cbitpos>", "<cbitposition>").replace("</cbitpos>",
                                                                           "</cbitposition>"))
    r = run(["virt-xml-validate", bad, "domain"])
    check(r.returncode != 0, "a broken launchSecurity must not validate")
    r = run([launch, "libvirt", "--igvm", igvm, "--define", "test:///default", "--start"])
    check(r.returncode == 0 and "defined and started on test:///default" in r.stdout,
          "define+start on test:///default: %r %r" % (r.stdout, r.stderr))
    r = run([launch, "libvirt", "--igvm", igvm, "--define", "bogus:///nowhere"])
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "bogus" in r.stderr,
          "bad URI: %r" % r.stderr)
    r = run([launch, "libvirt", "--igvm", igvm, "--name", "a b"])
    check(r.returncode == 2 and r.stderr.count("\n") == 1, "bad name: %r" % r.stderr)


def main():
    case, build, work, qemu = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    launch = os.path.join(build, "tools", "veil-launch")
    env = {"work": work, "launch": launch, "qemu": qemu}
    if case in ("qemu", "libvirt"):
        tools = os.path.join(build, "tools", "veil-igvm")
        testos = os.path.join(build, "guest", "kernel", "veil-testos")
        mon = os.path.join(build, "backends", "snp", "veil-monitor")
        env["igvm_file"] = os.path.join(work, "veil.igvm")
        subprocess.run([tools, "build", "--monitor", mon, "--os", testos, "--vcpus", "2",
                        "--policy", "0x70000", "-o", env["igvm_file"]], check=True)
    {"check": case_check, "qemu": case_qemu, "libvirt": case_libvirt}[case](env)
    print("%s: %s" % (case, "FAILED %d" % len(FAILS) if FAILS else "ok"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
