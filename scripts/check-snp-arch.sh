#!/usr/bin/env bash
# scripts/check-snp-arch.sh - the SEV-SNP architecture is defined once.
#
# include/snp/arch.h holds the VMSA and GHCB layouts, the SVM exit codes and
# VMGEXIT events, the GHCB MSR protocol and the RMP permissions and return
# codes. This check fails, naming file:line, when a C, assembly or Python
# source under core services backends guest tools tests bench examples
# spells one of them again outside comments:
#   - a VMSA/GHCB offset used as one (`g + 0x1F8`, `[rdi + 0x3B0]`, `p[0x178]`)
#     or defined under a name (`#define VMSA_OFF_RIP 0x178`, `G_RAX = 0x1F8`,
#     `.set V_RAX, 0x1F8`);
#   - a VMGEXIT event code (0x8000_0010-0x8000_0018, 0x8000_FFFD-F);
#   - an exit code as a case label, an intercept bit or a #define;
#   - a GHCB MSR protocol code as a case label or or-ed into a request, or
#     the GHCB and SEV_STATUS MSR numbers;
#   - RMP permission bits or PVALIDATE/RMPADJUST return codes #defined again.
# It also compiles the header alone, freestanding, as C11 and as assembly.
# A line that must keep such a number for another reason says why with the
# marker `snp-arch: not SNP` in a comment on that line.
#
# Usage: scripts/check-snp-arch.sh [ROOT]   (default: the repository)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root=${1:-$here}
CC=${CC:-gcc}

hdr=$here/include/snp/arch.h
for lang in c assembler-with-cpp; do
	if ! echo '#include <snp/arch.h>' |
		"$CC" -std=c11 -ffreestanding -Wall -Wextra -Werror -I"$here/include" \
			-x "$lang" -c -o /dev/null -; then
		echo "check-snp-arch: $hdr does not compile alone as $lang" >&2
		exit 1
	fi
done

python3 - "$root" <<'EOF'
import os
import re
import subprocess
import sys

root = sys.argv[1]
DIRS = ["core", "services", "backends", "guest", "tools", "tests", "bench", "examples"]
EXTS = (".c", ".h", ".S", ".s", ".inc", ".py")
HEADER = os.path.join("include", "snp", "arch.h")
MARK = "snp-arch: not SNP"

OFF = r"0x0*(?:CA|CB|D0|148|150|158|170|178|1D8|1F8|308|310|318|328|330|338|340|390|398|3A0|3A8|3B0|3C0|3E8|3F0|408|40C|410|470|FFA|FFC)\b"
EXIT = r"0x0*(?:27|37|6E|6F|72|75|76|77|78|7B|7C|81|87|89|8A|8B|8D|400|403|404)\b"
# As case labels only the codes that are no common opcode or MSR number too.
EXIT_CASE = r"0x0*(?:27|37|72|76|77|78|7B|7C|81|87|89|400|403|404)\b"
# GHCB MSR protocol codes are written with three digits (0x012), as in the spec.
MSRP = r"0x(?:0(?:01|02|04|05|06|07|10|11|12|13|14|15|16|17|80|81)|100)\b"
RULES = [
    ("VMSA/GHCB offset", re.compile(r"(?:[+\[]\s*)" + OFF, re.I)),
    ("VMSA/GHCB offset defined", re.compile(
        r"(?:#\s*define\s+|\.set\s+|^\s*)(?:VMSA|GHCB|V|G)_[A-Z0-9_]+\s*[,=]?\s*0x0*[0-9A-F]{1,3}\b",
        re.I)),
    ("VMGEXIT event code", re.compile(r"\b0x8000(?:001[0-8]|FFF[D-F])\b", re.I)),
    ("exit code", re.compile(r"(?:ICPT\(|#\s*define\s+\w*EXIT\w*\s+)" + EXIT + r"|\bcase\s+" + EXIT_CASE,
                             re.I)),
    ("GHCB MSR protocol code", re.compile(
        r"(?:\bcase\s+" + MSRP + r"|\|\s*" + MSRP + r"|" + MSRP + r"\s*\||(?:eax|rax),\s*" + MSRP +
        r"|\$" + MSRP + r"|#\s*define\s+\w*GHCB\w*\s+" + MSRP + r")", re.I)),
    ("GHCB/SEV_STATUS MSR number", re.compile(r"\b0xC001013[01]\b", re.I)),
    ("RMP permission or return code defined", re.compile(
        r"#\s*define\s+\w*(?:PERM_(?:R|W|XU|XS|ALL)|RMP_(?:SUCCESS|FAIL)\w*|FAIL_(?:INPUT|PERMISSION|INUSE|OVERLAP|SIZEMISMATCH))\s+(?:0x)?[0-9A-F]+\b",
        re.I)),
]


def files():
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--"] + DIRS,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (subprocess.CalledProcessError, FileNotFoundError):
        names = []
    if not names:
        for d in DIRS:
            for dp, _, fs in os.walk(os.path.join(root, d)):
                names += [os.path.relpath(os.path.join(dp, f), root) for f in fs]
    return sorted(n for n in names if n.endswith(EXTS) and n != HEADER)


def strip_comments(text, py):
    """Blank out comments, keeping line numbers (strings stay: asm lives there)."""
    if py:
        return re.sub(r"#[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"(?<![:\"'])//[^\n]*", "", text)


bad = 0
for name in files():
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        continue
    with open(path, errors="replace") as f:
        raw = f.read()
    lines = raw.split("\n")
    for no, line in enumerate(strip_comments(raw, name.endswith(".py")).split("\n"), 1):
        if MARK in lines[no - 1]:
            continue
        for what, rx in RULES:
            if rx.search(line):
                print("%s:%d: %s outside include/snp/arch.h: %s" % (name, no, what, lines[no - 1].strip()))
                bad += 1
                break
if bad:
    print("check-snp-arch: %d line(s) spell the SNP architecture again; use the names of "
          "include/snp/arch.h" % bad, file=sys.stderr)
    sys.exit(1)
print("check-snp-arch: no copy of the SNP architecture outside include/snp/arch.h")
EOF
