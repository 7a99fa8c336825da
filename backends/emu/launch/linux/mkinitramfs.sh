#!/usr/bin/env bash
# mkinitramfs.sh BUSYBOX INIT OUT - the BusyBox initramfs for
# `veil-emu run --linux`: a newc cpio archive (uncompressed: the model then
# spends no guest time inflating it) with /init and /bin/busybox. The kernel's
# built-in initramfs already provides /dev/console. Reproducible: fixed
# order, owner and timestamps.
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: mkinitramfs.sh BUSYBOX INIT OUT" >&2; exit 2; }
busybox=$1 init=$2 out=$3
[[ -x $busybox ]] || { echo "mkinitramfs: $busybox is not an executable (run scripts/setup.sh)" >&2; exit 1; }
command -v cpio >/dev/null || { echo "mkinitramfs: cpio not found (run scripts/setup.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/dev" "$tmp/proc" "$tmp/sys"
install -m 0755 "$busybox" "$tmp/bin/busybox"
install -m 0755 "$init" "$tmp/init"
find "$tmp" -exec touch -h -d @0 {} +
(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.new"
mv "$out.new" "$out"
