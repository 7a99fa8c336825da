#!/usr/bin/env bash
# mkinitramfs.sh BUSYBOX INIT OUT [PROG.S | FILE=/DEST ...] - the BusyBox
# initramfs for `veil-emu run --linux`: a newc cpio archive (uncompressed: the
# model then spends no guest time inflating it) with /init, /bin/busybox, a
# /bin/PROG assembled from each PROG.S (static, no libc) and each FILE copied
# to /DEST (guest/linux adds veil.ko and veilctl this way). The kernel's
# built-in initramfs already provides /dev/console. Reproducible: fixed order,
# owner and timestamps.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: mkinitramfs.sh BUSYBOX INIT OUT [PROG.S | FILE=/DEST ...]" >&2; exit 2; }
busybox=$1 init=$2 out=$3
shift 3
[[ -x $busybox ]] || { echo "mkinitramfs: $busybox is not an executable (run scripts/setup.sh)" >&2; exit 1; }
for t in cpio as ld; do
	command -v $t >/dev/null || { echo "mkinitramfs: $t not found (run scripts/setup.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys"
for src in "$@"; do
	if [[ $src == *=/* ]]; then
		file=${src%%=/*} dest=${src#*=}
		[[ -f $file ]] || { echo "mkinitramfs: $file: no such file" >&2; exit 1; }
		mkdir -p "$tmp/root$(dirname "$dest")"
		install -m 0755 "$file" "$tmp/root$dest"
		continue
	fi
	prog=$(basename "$src" .S)
	as --64 -o "$tmp/$prog.o" "$src"
	ld -static -s --build-id=none -o "$tmp/root/bin/$prog" "$tmp/$prog.o"
done
install -m 0755 "$busybox" "$tmp/root/bin/busybox"
install -m 0755 "$init" "$tmp/root/init"
find "$tmp/root" -exec touch -h -d @0 {} +
(cd "$tmp/root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.new"
mv "$out.new" "$out"
