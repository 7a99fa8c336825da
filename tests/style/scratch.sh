# tests/style/scratch.sh - sourced by the style checks' tests (CHECK as $1):
# a scratch tree $tmp to plant problems in (removed at exit), running CHECK
# on it, and the verdict: CHECK must fail (status 1) naming every planted
# line and none of the decoys. `fail` is 1 once anything was missed.
set -euo pipefail
check=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# run_check WHAT: CHECK on the scratch tree, its output in $out (and shown).
run_check() {
	local rc
	set +e
	out=$("$check" "$tmp" 2>&1)
	rc=$?
	set -e
	echo "$out"
	if ((rc != 1)); then
		echo "FAIL: the check exited $rc on $1 (want 1)"
		fail=1
	fi
}

# reported FILE:LINE...: each is named at the start of a line of the output.
reported() {
	local want
	for want; do
		grep -q "^$want: " <<<"$out" || { echo "FAIL: $want not reported"; fail=1; }
	done
}

# not_reported WHY FILE[:LINE]...: none of them is.
not_reported() {
	local why=$1 decoy
	shift
	for decoy; do
		if grep -q "^$decoy:" <<<"$out"; then
			echo "FAIL: $decoy reported ($why)"
			fail=1
		fi
	done
}

# verdict WHAT: PASS and status 0 when nothing was missed, else status 1.
verdict() {
	((fail == 0)) && echo "PASS: $1"
	exit "$fail"
}
