#!/usr/bin/env bash
# scripts/check-freestanding.sh - check that core/ and services/ build freestanding.
#
# DESIGN.md section 3: the monitor and the services never call libc and build
# with -ffreestanding -nostdlib. This compiles every *.c under core/ and
# services/ with
#   gcc -std=c11 -ffreestanding -nostdlib -fno-builtin -Wall -Wextra -Werror
#       -Iinclude -Icore/include -Iguest/include -c
# links the objects into one relocatable object (gcc -nostdlib -r) and
# requires that every undefined symbol is defined by another object of the
# set or by BearSSL (the crypto library the services use, linked from Debian's
# libbearssl.a). memcpy/memset/memmove/memcmp, which the compiler may emit
# calls to, and the fortify/stack-protector entry points BearSSL's objects
# call, must therefore come from core itself. Set CC to use another compiler.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CC=${CC:-gcc}
BEARSSL=${BEARSSL:-/usr/lib/x86_64-linux-gnu/libbearssl.a}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CFLAGS=(-std=c11 -ffreestanding -nostdlib -fno-builtin -Wall -Wextra -Werror
	-Iinclude -Icore/include -Iguest/include -Iservices -I"$tmp")
# The module signing key the services embed (generated at build time).
if [[ -d services ]]; then
	cmake -DIN=tests/keys/test-only-module.pub -DOUT="$tmp/module_key.h" -P cmake/embed_key.cmake
	# The log domain's image (built by the veil-logd target): any bytes do here.
	printf '\0' >"$tmp/logd.bin"
	cmake -DIN="$tmp/logd.bin" -DOUT="$tmp/logd_blob.h" -DNAME=veil_logd_image \
		-P cmake/embed_blob.cmake
fi

srcs=()
dirs=()
for d in core services; do [[ -d $d ]] && dirs+=("$d"); done
if ((${#dirs[@]})); then
	while IFS= read -r -d '' f; do
		srcs+=("$f")
	# services/log/domain is the log domain's own program, linked on its own
	# (-nostdlib -static, target veil-logd), not part of the monitor.
	done < <(find "${dirs[@]}" -type f -name '*.c' -not -path 'services/log/domain/*' -print0 |
		sort -z)
fi
if ((${#srcs[@]} == 0)); then
	echo "check-freestanding: no core sources yet"
	exit 0
fi

objs=()
failed=0
for src in "${srcs[@]}"; do
	obj=$tmp/${src//\//__}.o
	if "$CC" "${CFLAGS[@]}" -c "$src" -o "$obj"; then
		objs+=("$obj")
	else
		echo "check-freestanding: $src does not compile freestanding" >&2
		failed=1
	fi
done
((failed == 0)) || exit 1

libs=()
[[ -f $BEARSSL ]] && libs+=("$BEARSSL")
if ! "$CC" -nostdlib -r -o "$tmp/all.o" "${objs[@]}" "${libs[@]}"; then
	echo "check-freestanding: the objects do not link together (duplicate symbols?)" >&2
	exit 1
fi

# _GLOBAL_OFFSET_TABLE_ is provided by the final link, not by a library.
mapfile -t undef < <(nm -u "$tmp/all.o" | awk '{print $NF}' | grep -vx '_GLOBAL_OFFSET_TABLE_' | sort -u || true)
if ((${#undef[@]})); then
	echo "check-freestanding: ${#undef[@]} symbols used by core/services but defined by none of them:" >&2
	for s in "${undef[@]}"; do
		users=()
		for i in "${!objs[@]}"; do
			if nm -u "${objs[$i]}" | awk '{print $NF}' | grep -qx -- "$s"; then
				users+=("${srcs[$i]}")
			fi
		done
		echo "  $s (used by ${users[*]})" >&2
	done
	exit 1
fi
echo "check-freestanding: ${#srcs[@]} sources build freestanding, no external symbols"
