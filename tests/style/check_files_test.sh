#!/usr/bin/env bash
# tests/style/check_files_test.sh CHECK - scripts/check-files.sh fails on a
# file over 600 lines in backends/emu and on comments naming files that do
# not exist: plant both in a scratch tree, and require a failure naming every
# planted line (file:line), and none of the decoys (names that exist by path,
# relative path, tail or basename, another project's files, system headers,
# placeholders, names in strings, a 600-line file).
. "$(dirname "$0")/scratch.sh"
mkdir -p "$tmp/backends/emu/machine" "$tmp/backends/emu/hv" "$tmp/core" "$tmp/tools" "$tmp/docs"

# A file of 601 lines and one of exactly 600.
{
	echo '/* big.c */'
	for ((i = 2; i <= 601; i++)); do echo "int v$i;"; done
} >"$tmp/backends/emu/machine/big.c"
{
	echo '/* fits.c */'
	for ((i = 2; i <= 600; i++)); do echo "int w$i;"; done
} >"$tmp/backends/emu/hv/fits.c"
touch "$tmp/backends/emu/machine/run.c" "$tmp/backends/emu/hv/snp.c" "$tmp/docs/trace-format.md"

cat >"$tmp/core/planted.c" <<'C'
/* The loop is in backends/emu/machine/loop.c. */
/* Delivery: x86.c; the trace format: docs/trace.md. */
// the old home: hv/ghcb_old.c
/* decoys: backends/emu/machine/run.c, machine/run.c, snp.c, docs/trace-format.md,
 * ../backends/emu/hv/fits.c, Linux's arch/x86/kvm/svm/sev.c, <stdint.h>,
 * each PROG.S, and QEMU's loader
 * (backends/igvm.c), and Linux include/uapi/linux/psp-sev.h */
static const char *s = "gone.c in a string is no comment";
C
cat >"$tmp/tools/planted.py" <<'P'
# reads the records of trace_gone.c
x = "not_a_comment.c"  # but this names missing.h
P

run_check "planted problems"
reported backends/emu/machine/big.c:601 core/planted.c:1 core/planted.c:2 core/planted.c:3 \
	tools/planted.py:1 tools/planted.py:2
for name in x86.c docs/trace.md; do
	grep -q "^core/planted.c:2: .*names $name," <<<"$out" || { echo "FAIL: $name not named"; fail=1; }
done
not_reported "it exists, is another project's, or is no comment" backends/emu/hv/fits.c \
	core/planted.c:4 core/planted.c:5 core/planted.c:6 core/planted.c:7 core/planted.c:8
verdict "every planted problem reported, no decoy"
