#!/usr/bin/env bash
# scripts/check-files.sh - the parts of the tree stay small and the comments
# name files that exist (issue 11, item 7). Fails, naming file:line, when
#   - a .c or .h file under backends/emu is over LIMIT (600) lines: split it by
#     responsibility instead (the exception list below is empty and should
#     stay so; an entry needs a comment saying why);
#   - a comment in a C, assembly, Python or shell source under backends core
#     services guest tools names a repository file that does not exist
#     (`foo/bar.c`, `bar.h`, `docs/x.md`): a file renamed, split or removed
#     leaves such names behind.
# A name counts as existing when it is a repository path, a path relative to
# the commenting file's folder, the tail of a repository path (`veil/abi.h`,
# `machine/run.c`) or, written alone, the name of a file anywhere in the tree.
# Not checked: a path whose first folder is no folder of the repository
# (another project's file, `arch/x86/kvm/svm/sev.c`); a name on a comment line that, or whose previous
# line, names another project (`QEMU's loader (backends/igvm.c)`); a system
# header in angle brackets (`<stdint.h>`); a placeholder (`PROG.S`).
#
# Usage: scripts/check-files.sh [ROOT]   (default: the repository)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root=${1:-$here}

python3 - "$root" <<'EOF'
import os
import re
import subprocess
import sys

root = sys.argv[1]
LIMIT = 600
LIMIT_DIR = "backends/emu/"
# Files allowed over LIMIT, each with the reason. Keep it empty.
LIMIT_EXCEPTIONS = {}
DIRS = ["backends", "core", "services", "guest", "tools"]
EXTS = (".c", ".h", ".S", ".s", ".inc", ".py", ".sh")
# A file name: word characters, dots and dashes, optionally after folders;
# extensions of the sources and documents a comment would point to.
NAME = re.compile(r"(?<![\w./+-])((?:\.\.?/)*(?:[\w.+-]+/)*[\w+-][\w.+-]*\.(?:c|h|S|py|sh|md|ld|lds))(?![\w/-])")
# Another project's file named alone: its basename need not exist here.
OTHER = re.compile(r"\b(?:Linux|linux|QEMU|qemu|KVM|kvm|Unicorn|unicorn|OVMF|EDK2|edk2|SVSM|Coconut|"
                   r"coconut|BusyBox|busybox|glibc|musl|OpenSSL|openssl|Capstone|capstone|GDB|gdb|"
                   r"igvm crate|Microsoft|AMD's)\b")
PLACEHOLDER = re.compile(r"^(?:FILE|PROG|NAME|DIR|X|N)\.")


def tracked():
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (subprocess.CalledProcessError, FileNotFoundError):
        names = []
    if not names:
        for dp, dns, fs in os.walk(root):
            dns[:] = [d for d in dns if not d.startswith((".git", ".deps", "build"))]
            names += [os.path.relpath(os.path.join(dp, f), root) for f in fs]
    return sorted(n for n in names if os.path.exists(os.path.join(root, n)))


def comments(text, name):
    """(line number, comment text) for every comment line of a source."""
    out = []
    if name.endswith((".py", ".sh")):
        for no, line in enumerate(text.split("\n"), 1):
            m = re.search(r"(?:^|\s)#(?![!{])(.*)", line)
            if m:
                out.append((no, m.group(1)))
        return out
    for m in re.finditer(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", text, re.S):
        s = m.group(0)
        if s[0] in "\"'":
            continue
        no = text.count("\n", 0, m.start()) + 1
        for i, line in enumerate(s.split("\n")):
            out.append((no + i, line))
    return out


files = tracked()
paths = set(files)
dirs = {os.path.dirname(f) for f in files}
for d in list(dirs):
    while d:
        d = os.path.dirname(d)
        dirs.add(d)
top = {f.split("/")[0] for f in files if "/" in f}
dirnames = {os.path.basename(d) for d in dirs if d}
bases = {os.path.basename(f) for f in files}
tails = set()
for f in files:
    parts = f.split("/")
    for i in range(1, len(parts)):
        tails.add("/".join(parts[i:]))

bad = 0
for name in files:
    path = os.path.join(root, name)
    if name.startswith(LIMIT_DIR) and name.endswith((".c", ".h")) and name not in LIMIT_EXCEPTIONS:
        with open(path, errors="replace") as f:
            n = f.read().count("\n")
        if n > LIMIT:
            print("%s:%d: %d lines, over the %d-line limit of %s: split it by responsibility" %
                  (name, LIMIT + 1, n, LIMIT, LIMIT_DIR))
            bad += 1
    if name.split("/")[0] not in DIRS or not name.endswith(EXTS):
        continue
    with open(path, errors="replace") as f:
        text = f.read()
    here_dir = os.path.dirname(name)
    prev = (0, "")
    for no, line in comments(text, name):
        other = OTHER.search(line) or (prev[0] == no - 1 and OTHER.search(prev[1]))
        prev = (no, line)
        for m in NAME.finditer(line):
            ref = m.group(1)
            rel = os.path.normpath(os.path.join(here_dir, ref))
            if ref in paths or rel in paths or ref in tails or other or PLACEHOLDER.match(ref):
                continue
            if line[m.start() - 1:m.start()] == "<" and line[m.end():m.end() + 1] == ">":
                continue  # a system header
            first = ref.split("/")[0]
            if "/" in ref:
                local = os.path.normpath(os.path.join(here_dir, first))
                if first not in dirnames and local not in dirs and first not in ("..", "."):
                    continue  # another project's path
            elif ref in bases:
                continue
            print("%s:%d: the comment names %s, which is not a file of the repository" %
                  (name, no, ref))
            bad += 1
if bad:
    print("check-files: %d problem(s): split files over %d lines in %s, and make comments name "
          "files that exist" % (bad, LIMIT, LIMIT_DIR), file=sys.stderr)
    sys.exit(1)
print("check-files: every .c/.h file in %s is at most %d lines; comments name existing files" %
      (LIMIT_DIR, LIMIT))
EOF
