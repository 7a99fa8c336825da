#!/usr/bin/env bash
# tests/fuzz/run.sh [BUILD_DIR] - configure and build the libFuzzer targets
# with clang in their own tree (default build-fuzz/, -DVEIL_FUZZ=ON), then run
# each for VEIL_FUZZ_TIME seconds (default 20) on a copy of its seed corpus
# (tests/fuzz/corpus/<target>) in BUILD_DIR/corpus/<target>. Crash inputs go
# to BUILD_DIR/artifacts/<target>/. Fails if a target crashes, trips a
# sanitizer or breaks an invariant. Run by `scripts/veil test` (step "fuzz").
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
DIR=${1:-build-fuzz}
TIME=${VEIL_FUZZ_TIME:-20}
TARGETS=(svsm module logdump igvm)

cmake -S . -B "$DIR" -DVEIL_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null || {
	echo "fuzz: cmake configure of $DIR/ failed" >&2
	exit 1
}
cmake --build "$DIR" -j"${VEIL_JOBS:-2}" >/dev/null || {
	echo "fuzz: build of $DIR/ failed" >&2
	exit 1
}

failed=()
for t in "${TARGETS[@]}"; do
	corpus=$DIR/corpus/$t
	art=$DIR/artifacts/$t
	mkdir -p "$corpus" "$art"
	cp -n tests/fuzz/corpus/"$t"/* "$corpus"/
	log=$DIR/fuzz_$t.log
	if "$DIR/tests/fuzz/fuzz_$t" -max_total_time="$TIME" -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1; then
		printf 'fuzz: %-8s ok: %s\n' "$t" \
			"$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed 's/^#\([0-9]*\).*cov: \([0-9]*\).*exec\/s: \([0-9]*\).*/\1 runs, cov \2, \3 exec\/s/')"
	else
		echo "fuzz: $t FAILED (log $log, crash inputs in $art/):" >&2
		grep -E "invariant violated|ERROR:|runtime error|SUMMARY|Test unit written" "$log" |
			head -20 >&2
		failed+=("$t")
	fi
done
((${#failed[@]} == 0)) || {
	echo "fuzz: failed: ${failed[*]}" >&2
	exit 1
}
