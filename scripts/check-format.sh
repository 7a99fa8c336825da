#!/usr/bin/env bash
# scripts/check-format.sh - check that the C sources follow .clang-format.
#
# Runs `clang-format --dry-run --Werror` (clang-format 14) on every tracked
# *.c and *.h file under core/ services/ backends/ guest/ tests/ bench/.
# Fix a file with `clang-format -i FILE`. Set CLANG_FORMAT to use another
# binary. Exit status: 0 when all files are formatted (or there are none).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
DIRS=(include core services backends guest tests bench)

command -v "$CLANG_FORMAT" >/dev/null ||
	{ echo "check-format: $CLANG_FORMAT not found (run scripts/setup.sh)" >&2; exit 1; }

files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	while IFS= read -r -d '' f; do
		[[ $f == *.[ch] && -f $f ]] && files+=("$f")
	done < <(git ls-files -z -- "${DIRS[@]}")
else
	existing=()
	for d in "${DIRS[@]}"; do [[ -d $d ]] && existing+=("$d"); done
	if ((${#existing[@]})); then
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "${existing[@]}" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
	fi
fi

if ((${#files[@]} == 0)); then
	echo "check-format: no C sources to check"
	exit 0
fi

bad=()
for f in "${files[@]}"; do
	if ! "$CLANG_FORMAT" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done

if ((${#bad[@]})); then
	echo "check-format: ${#bad[@]} of ${#files[@]} files are not formatted:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	echo "check-format: fix with: $CLANG_FORMAT -i ${bad[*]}" >&2
	echo "check-format: first differences:" >&2
	{ "$CLANG_FORMAT" --style=file --dry-run "${bad[0]}" 2>&1 || true; } | head -n 20 >&2 || true
	exit 1
fi
echo "check-format: ${#files[@]} files OK"
