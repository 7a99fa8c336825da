#!/bin/sh
# SPDX-License-Identifier: MIT
# exec_cli.sh - tests of `veil-emu exec`: the JSON object printed for a run,
# and exit status 2 with a one-line message on stderr for every bad option.
#
# usage: exec_cli.sh VEIL_EMU WORKDIR [PYTHON3]
set -u

EMU=${1:?usage: exec_cli.sh VEIL_EMU WORKDIR [PYTHON3]}
WORK=${2:?usage: exec_cli.sh VEIL_EMU WORKDIR [PYTHON3]}
PY=${3:-python3}

case $EMU in
/*) ;;
*) EMU=$(pwd)/$EMU ;;
esac
if [ ! -x "$EMU" ]; then
	echo "exec_cli.sh: $EMU is not an executable" >&2
	exit 1
fi

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s: %s\n' "$1" "$2"; }

# Raw code, written byte by byte (octal escapes):
#   hlt.bin:   mov eax, 42 ; hlt
#   read.bin:  mov rax, [0x100000] ; hlt
#   cpuid.bin: cpuid ; hlt
#   loop.bin:  jmp $
printf '\270\052\000\000\000\364' >hlt.bin
printf '\110\213\004\045\000\000\020\000\364' >read.bin
printf '\017\242\364' >cpuid.bin
printf '\353\376' >loop.bin
dd if=/dev/zero of=page.bin bs=4096 count=2 2>/dev/null

# check_json NAME KEY=VALUE... : stdout is exactly one JSON object with these
# fields (a VALUE of decimal digits is compared as a number); !KEY = absent.
check_json() {
	name=$1
	shift
	"$PY" - out.txt "$@" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
if len(lines) != 1:
    sys.exit("stdout has %d lines, expected one JSON line" % len(lines))
try:
    d = json.loads(lines[0])
except ValueError as e:
    sys.exit("stdout is not JSON (%s): %s" % (e, lines[0]))
for spec in sys.argv[2:]:
    if spec.startswith("!"):
        if spec[1:] in d:
            sys.exit("field %s present: %s" % (spec[1:], lines[0]))
        continue
    k, v = spec.split("=", 1)
    if k not in d:
        sys.exit("field %s missing: %s" % (k, lines[0]))
    want = int(v, 0) if v[:1].isdigit() and not k.endswith("_hex") else v
    if d[k] != want:
        sys.exit("field %s = %r, expected %r: %s" % (k, d[k], want, lines[0]))
PY
}

# run_ok NAME ARGS... -- KEY=VALUE... : exit 0, empty stderr, JSON fields.
run_ok() {
	name=$1
	shift
	args=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args="$args $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086 # word splitting of the option list is intended
	"$EMU" exec $args >out.txt 2>err.txt
	rc=$?
	if [ $rc -ne 0 ]; then
		bad "$name" "exit status $rc, stderr: $(cat err.txt)"
		return
	fi
	if [ -s err.txt ]; then
		bad "$name" "unexpected stderr: $(cat err.txt)"
		return
	fi
	if msg=$(check_json "$name" "$@" 2>&1); then
		ok "$name"
	else
		bad "$name" "$msg"
	fi
}

# run_bad NAME ARGS... : exit status 2, one stderr line "veil-emu: ...", no stdout.
run_bad() {
	name=$1
	shift
	"$EMU" exec "$@" >out.txt 2>err.txt
	rc=$?
	lines=$(wc -l <err.txt)
	if [ $rc -ne 2 ]; then
		bad "$name" "exit status $rc, expected 2 (stdout: $(cat out.txt); stderr: $(cat err.txt))"
	elif [ "$lines" -ne 1 ]; then
		bad "$name" "stderr has $lines lines, expected 1: $(cat err.txt)"
	elif ! grep -q '^veil-emu: .' err.txt; then
		bad "$name" "stderr is not a 'veil-emu: ' message: $(cat err.txt)"
	elif [ -s out.txt ]; then
		bad "$name" "unexpected stdout: $(cat out.txt)"
	else
		ok "$name"
	fi
}

# --- runs -------------------------------------------------------------------

run_ok hlt_json --load hlt.bin@0x10000 --entry 0x10000 -- \
	exit=hlt rip=65542 rax=42 rbx=0 rcx=0 rdx=0 rflags=2 vmpl=0 cpl=0 vcpu=0 insns=2 \
	!exitinfo1 !exitinfo2 !vector !error_code !reason_set !reason_code

run_ok hlt_json_vmpl2 --load hlt.bin@0x10000 --entry 0x10000 --vmpl 2 -- \
	exit=hlt rip=65542 rax=42 vmpl=2 cpl=0

run_ok hlt_json_hex_and_decimal --load hlt.bin@65536 --entry 0x10000 --mem 4 -- \
	exit=hlt rip=65542

# VMPL1 may only execute (Xs) the data page: the read is a VMPL violation,
# EXITINFO1 = P | RMP | final | ENC | VMPL = 0x1580000001 (reference 4.2).
run_ok npf_json --load read.bin@0x10000 --entry 0x10000 --vmpl 1 \
	--validate 0x100000:0x1000 --perm 0x100000:0x1000:1:s -- \
	exit=npf rip=65536 exitinfo1=92341796865 exitinfo2=1048576 vmpl=1

run_ok perm_read_ok --load read.bin@0x10000 --entry 0x10000 --vmpl 3 \
	--validate 0x100000:0x1000 --perm 0x100000:0x1000:3:r -- \
	exit=hlt rip=65545 rax=0 vmpl=3

run_ok not_validated_json --load read.bin@0x10000 --entry 0x10000 -- \
	exit=exception vector=29 error_code=1028 rip=65536

run_ok cpuid_json --load cpuid.bin@0x10000 --entry 0x10000 -- \
	exit=exception vector=29 error_code=114 rip=65536

run_ok limit_json --load loop.bin@0x10000 --entry 0x10000 --max-insns 500 -- \
	exit=limit insns=500 rip=65536

if "$EMU" exec --help >out.txt 2>err.txt && grep -q -- '--entry' out.txt && [ ! -s err.txt ]; then
	ok help
else
	bad help "exec --help must print the usage on stdout and exit 0"
fi

# --- bad options: exit status 2, one line on stderr -----------------------

run_bad missing_entry --load hlt.bin@0x10000
run_bad missing_load --entry 0x10000
run_bad bad_entry_gpa --load hlt.bin@0x10000 --entry 0x10zz
run_bad bad_load_gpa --load hlt.bin@banana --entry 0x10000
run_bad load_without_gpa --load hlt.bin --entry 0x10000
run_bad bad_perm_letters --load hlt.bin@0x10000 --entry 0x10000 --perm 0x100000:0x1000:1:rx
run_bad bad_perm_vmpl0 --load hlt.bin@0x10000 --entry 0x10000 --perm 0x100000:0x1000:0:r
run_bad bad_perm_unaligned --load hlt.bin@0x10000 --entry 0x10000 --perm 0x100010:0x1000:1:r
run_bad vmpl_4 --load hlt.bin@0x10000 --entry 0x10000 --vmpl 4
run_bad cpl_2 --load hlt.bin@0x10000 --entry 0x10000 --cpl 2
run_bad overlapping_load --load page.bin@0x10000 --load hlt.bin@0x11000 --entry 0x10000
run_bad load_out_of_range --load hlt.bin@0x1000000 --entry 0x1000000 --mem 16
run_bad load_straddles_end --load page.bin@0xFFF000 --entry 0xFFF000 --mem 16
run_bad validate_out_of_range --load hlt.bin@0x10000 --entry 0x10000 --validate 0x1000000:0x1000
run_bad unknown_option --load hlt.bin@0x10000 --entry 0x10000 --bogus 1
run_bad missing_value --load hlt.bin@0x10000 --entry

# --- inputs and outputs: a runtime failure is status 1, one line ------------

# run_fail NAME PATTERN ARGS... : exit status 1, one stderr line matching PATTERN.
run_fail() {
	name=$1
	pattern=$2
	shift 2
	timeout 20 "$EMU" exec "$@" >out.txt 2>err.txt
	rc=$?
	if [ $rc -ne 1 ]; then
		bad "$name" "exit status $rc, expected 1 (stderr: $(cat err.txt))"
	elif [ "$(wc -l <err.txt)" -ne 1 ] || ! grep -Eq "^veil-emu: $pattern" err.txt; then
		bad "$name" "stderr is not one line /veil-emu: $pattern/: $(cat err.txt)"
	else
		ok "$name"
	fi
}

mkfifo fifo.bin
mkdir dir.bin
: >empty.bin
run_fail file_not_found "cannot open 'does-not-exist.bin': No such file" \
	--load does-not-exist.bin@0x10000 --entry 0x10000
run_fail load_fifo "'fifo.bin' is not a regular file" --load fifo.bin@0x10000 --entry 0x10000
run_fail load_directory "'dir.bin' is a directory" --load dir.bin@0x10000 --entry 0x10000
run_fail load_empty "'empty.bin' is empty" --load empty.bin@0x10000 --entry 0x10000
run_fail trace_dev_full "writing '/dev/full' failed: No space left on device" \
	--load hlt.bin@0x10000 --entry 0x10000 --trace /dev/full

# The output may not be an input, however it is spelt: status 2, the input intact.
cp hlt.bin keep.bin
run_bad trace_is_load --load keep.bin@0x10000 --entry 0x10000 --trace ./keep.bin
if cmp -s hlt.bin keep.bin; then ok trace_is_load_intact; else bad trace_is_load_intact "keep.bin changed"; fi
ln -s keep.bin link.bin
run_bad trace_is_load_symlink --load keep.bin@0x10000 --entry 0x10000 --trace link.bin
if cmp -s hlt.bin keep.bin; then ok symlink_intact; else bad symlink_intact "keep.bin changed"; fi

# Decoded exits: the reason in words, numbers also as hex strings.
run_ok npf_reason --load read.bin@0x10000 --entry 0x10000 --vmpl 1 \
	--validate 0x100000:0x1000 --perm 0x100000:0x1000:1:s -- \
	"reason=#NPF: read, VMPL1 lacks R (GPA 0x100000)" exitinfo1_hex=0x1580000001 \
	exitinfo2_hex=0x100000 rip_hex=0x10000
run_ok vc_reason --load read.bin@0x10000 --entry 0x10000 -- \
	"reason=#VC 0x404: page not validated" error_code_hex=0x404
run_ok cpuid_reason --load cpuid.bin@0x10000 --entry 0x10000 -- "reason=#VC 0x72: CPUID"
run_ok hlt_reason --load hlt.bin@0x10000 --entry 0x10000 --vmpl 2 -- \
	"reason=HLT at VMPL2 CPL0" rax_hex=0x2a

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
