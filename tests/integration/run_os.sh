#!/bin/sh
# SPDX-License-Identifier: MIT
# run_os.sh - boot the test OS in veil-emu and check how the run ended.
#
# usage: run_os.sh VEIL_EMU VCPUS CMDLINE STATUS [CHECK]...
#
#   STATUS          the exit status veil-emu must end with (its termination code:
#                   0 ok, 1 self-test failed, 4 violation, 5 monitor failure)
#   clean           the OS's summary line says 0 failed, and no FAIL/PANIC line
#   aps             "ap N up" for every AP (1 .. VCPUS-1)
#   pass=NAME       the OS printed "PASS NAME"
#   line=REGEX      some console line matches the extended REGEX
#   violation=KIND  the monitor stopped the CVM for a KIND (read, write, fetch)
#                   access at CPL0: exactly one "veil: RMP violation: ..." line
#                   (the text it also records in the secure log) with the RMP
#                   bit and the access bits in EXITINFO1, a termination by
#                   VMPL0 with reason set 2 code 4, the faulting GPA equal to
#                   the "target gpa" the OS announced (if it announced one), and
#                   no OS summary line (the OS never got to finish)
#
# Exit 0 when every check holds; otherwise each failed check is printed, then
# the console. POSIX sh and grep only: ctest starts one of these per scenario.
set -u

EMU=${1:?usage: run_os.sh VEIL_EMU VCPUS CMDLINE STATUS [CHECK]...}
VCPUS=${2:?}
CMDLINE=${3?}
STATUS=${4:?}
shift 4

OUT=$(mktemp) && ERR=$(mktemp) || exit 1
trap 'rm -f "$OUT" "$ERR"' EXIT
"$EMU" run --vcpus "$VCPUS" --cmdline "$CMDLINE" >"$OUT" 2>"$ERR"
rc=$?

fails=0
fail() {
	fails=$((fails + 1))
	echo "FAIL: $*"
}

SUMMARY='^veil-testos: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'
VIOL='^veil: RMP violation: vcpu [0-9]+ rip [0-9a-f]+ gpa [0-9a-f]+ exitinfo1 [0-9a-f]+ \((read|write|fetch)( at CPL3)?\); stopping the CVM$'

check_violation() {
	kind=$1
	n=$(grep -Ec "$VIOL" "$OUT")
	if [ "$n" -ne 1 ]; then
		fail "expected one 'veil: RMP violation' line, got $n"
		return
	fi
	v=$(grep -E "$VIOL" "$OUT")
	gpa=$(echo "$v" | sed -E 's/.* gpa ([0-9a-f]+) .*/\1/')
	info1=$(echo "$v" | sed -E 's/.* exitinfo1 ([0-9a-f]+) .*/\1/')
	got=$(echo "$v" | sed -E 's/.*\(([a-z]+)( at CPL3)?\);.*/\1\2/')
	[ "$got" = "$kind" ] || fail "violation of kind '$got', expected '$kind' at CPL0"
	# EXITINFO1: bit 31 RMP, bit 1 write, bit 2 user, bit 4 instruction fetch.
	case $kind in
	read) want=$((1 << 31)) ;;
	write) want=$(((1 << 31) | 2)) ;;
	fetch) want=$(((1 << 31) | 16)) ;;
	esac
	if [ $((0x$info1 & want)) -ne "$want" ] || [ $((0x$info1 & 4)) -ne 0 ]; then
		fail "exitinfo1 0x$info1 lacks bits $want or has the user bit"
	fi
	target=$(grep -o 'target gpa 0x[0-9a-f]*' "$OUT" | tail -n 1 | sed 's/.*0x//')
	if [ -n "$target" ] && [ $((0x$target)) -ne $((0x$gpa)) ]; then
		fail "faulting gpa $gpa is not the announced target 0x$target"
	fi
	grep -Eq 'terminated by vCPU [0-9]+ at VMPL0: reason set 2 code 4' "$ERR" ||
		fail "not terminated by the monitor (VMPL0, reason set 2 code 4)"
	! grep -Eq "$SUMMARY" "$OUT" || fail "the OS reached its summary line: the run was not stopped"
}

[ "$rc" -eq "$STATUS" ] || fail "exit status $rc, expected $STATUS"
for c in "$@"; do
	case $c in
	clean)
		[ "$(grep -Ec "$SUMMARY" "$OUT")" -eq 1 ] &&
			grep -Eq '^veil-testos: [0-9]+ passed, 0 failed' "$OUT" ||
			fail "no summary line with 0 failed"
		! grep -Eq '^(FAIL|PANIC)' "$OUT" || fail "failures: $(grep -E '^(FAIL|PANIC)' "$OUT" | head -n 5)"
		;;
	aps)
		i=1
		while [ "$i" -lt "$VCPUS" ]; do
			grep -qx "ap $i up" "$OUT" || fail "no 'ap $i up'"
			i=$((i + 1))
		done
		;;
	pass=*) grep -qxF "PASS ${c#pass=}" "$OUT" || fail "no 'PASS ${c#pass=}'" ;;
	line=*) grep -Eq "${c#line=}" "$OUT" || fail "no line matching /${c#line=}/" ;;
	violation=*) check_violation "${c#violation=}" ;;
	*) fail "unknown check '$c'" ;;
	esac
done

if [ "$fails" -eq 0 ]; then
	echo "ok: run --vcpus $VCPUS --cmdline '$CMDLINE' ($(wc -l <"$OUT") lines)"
	exit 0
fi
echo "command: $EMU run --vcpus $VCPUS --cmdline '$CMDLINE'"
echo "---- console ----"
cat "$OUT"
echo "---- stderr ----"
cat "$ERR"
exit 1
