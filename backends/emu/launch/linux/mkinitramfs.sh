#!/usr/bin/env bash
# mkinitramfs.sh BUSYBOX INIT VEIL_EXIT_S OUT - the BusyBox initramfs for
# `veil-emu run --linux`: a newc cpio archive (uncompressed: the model then
# spends no guest time inflating it) with /init, /bin/busybox and
# /bin/veil-exit (assembled from VEIL_EXIT_S). The kernel's built-in
# initramfs already provides /dev/console. Reproducible: fixed order, owner
# and timestamps.
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: mkinitramfs.sh BUSYBOX INIT VEIL_EXIT_S OUT" >&2; exit 2; }
busybox=$1 init=$2 exit_s=$3 out=$4
[[ -x $busybox ]] || { echo "mkinitramfs: $busybox is not an executable (run scripts/setup.sh)" >&2; exit 1; }
for t in cpio as ld; do
	command -v $t >/dev/null || { echo "mkinitramfs: $t not found (run scripts/setup.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys"
as --64 -o "$tmp/veil-exit.o" "$exit_s"
ld -static -s --build-id=none -o "$tmp/root/bin/veil-exit" "$tmp/veil-exit.o"
install -m 0755 "$busybox" "$tmp/root/bin/busybox"
install -m 0755 "$init" "$tmp/root/init"
find "$tmp/root" -exec touch -h -d @0 {} +
(cd "$tmp/root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.new"
mv "$out.new" "$out"
