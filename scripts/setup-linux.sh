#!/usr/bin/env bash
# scripts/setup-linux.sh - the Linux guest's packages, called by setup.sh.
#
# Fetches Debian's 6.12 cloud kernel (CONFIG_AMD_MEM_ENCRYPT=y, SVSM guest
# support built in), its matching headers (for the out-of-tree Veil module)
# and busybox-static (for the test initramfs) from bookworm-backports, with a
# project-local apt configuration and state under .deps/apt-linux, and
# unpacks them with `dpkg -x` into .deps/linux. bookworm-backports rather
# than Debian 13: its linux-kbuild tools are linked for Debian 12.
#
# .deps/linux/VERSION records "<kernel release> <package version>
# busybox <version>"; when it and the files exist, this only checks.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS=$ROOT/.deps
APT_DIR=$DEPS/apt-linux
LX_PREFIX=$DEPS/linux
LX_SERIES=6.12
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

linux_ok() {
	local dir=$1 rel
	[[ -f $dir/VERSION ]] || return 1
	read -r rel _ <"$dir/VERSION"
	[[ $rel == "$LX_SERIES".* ]] &&
		[[ -f $dir/boot/vmlinuz-$rel && -f $dir/boot/System.map-$rel ]] &&
		[[ -d $dir/usr/src/linux-headers-$rel ]] &&
		[[ -x $dir/bin/busybox ]]
}

mkdir -p "$DEPS"
if linux_ok "$LX_PREFIX"; then
	say "Linux $(cut -d' ' -f1 "$LX_PREFIX/VERSION") and BusyBox present in .deps/linux"
	exit 0
fi

say "fetching Debian's $LX_SERIES cloud kernel, headers and busybox-static from bookworm-backports"
[[ -r $KEYRING ]] || die "$KEYRING not readable (package debian-archive-keyring)"
mkdir -p "$APT_DIR"/{lists/partial,cache/archives/partial,etc,dl}
cat >"$APT_DIR/etc/sources.list" <<EOF
deb [signed-by=$KEYRING] http://deb.debian.org/debian bookworm main
deb [signed-by=$KEYRING] http://deb.debian.org/debian bookworm-backports main
EOF
apt_opts=(
	-q
	-o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::Cache=$APT_DIR/cache"
	-o Dir::State::Status=/dev/null
	-o Acquire::Languages=none
)
((EUID != 0)) || apt_opts+=(-o APT::Sandbox::User=root)

apt-get "${apt_opts[@]}" update </dev/null || die "apt-get update (project-local, bookworm-backports) failed"

# The metapackage names the current kernel ABI; take the $LX_SERIES one.
meta_dep() {
	apt-cache "${apt_opts[@]}" show "$1" </dev/null |
		awk -v s="$LX_SERIES" '/^Version:/ { v = $2 } /^Depends:/ && index(v, s ".") == 1 { print $2; exit }'
}
image=$(meta_dep linux-image-cloud-amd64)
headers=$(meta_dep linux-headers-cloud-amd64)
[[ $image == linux-image-"$LX_SERIES".*-cloud-amd64 ]] || die "no $LX_SERIES cloud kernel in bookworm-backports"
release=${image#linux-image-}
[[ $headers == "linux-headers-$release" ]] || die "headers $headers do not match $image"
abi=${release%-cloud-amd64}
packages=("$image" "$headers" "linux-headers-$abi-common" "linux-kbuild-$abi" busybox-static)

rm -f "$APT_DIR"/dl/*.deb
(cd "$APT_DIR/dl" && apt-get "${apt_opts[@]}" download "${packages[@]}" </dev/null) ||
	die "apt-get download ${packages[*]} failed"

tmp=$DEPS/linux.new
rm -rf "$tmp"
mkdir -p "$tmp"
for p in "${packages[@]}"; do
	debs=("$APT_DIR/dl/${p}_"*.deb)
	[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "expected one downloaded $p package in $APT_DIR/dl"
	dpkg -x "${debs[0]}" "$tmp"
done
kver=$(dpkg-deb -f "$APT_DIR/dl/${image}_"*.deb Version)
bver=$(dpkg-deb -f "$APT_DIR/dl/busybox-static_"*.deb Version)
echo "$release $kver busybox $bver" >"$tmp/VERSION"
linux_ok "$tmp" || die "unpacked Linux packages in $tmp are incomplete"
grep -q '^CONFIG_AMD_MEM_ENCRYPT=y' "$tmp/boot/config-$release" ||
	die "$image lacks CONFIG_AMD_MEM_ENCRYPT=y"
rm -f "$APT_DIR"/dl/*.deb

rm -rf "$LX_PREFIX"
mv "$tmp" "$LX_PREFIX"
say "Linux $release ($kver) and BusyBox $bver installed in .deps/linux"
