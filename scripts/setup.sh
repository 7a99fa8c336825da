#!/usr/bin/env bash
# scripts/setup.sh - install what Veil needs to build and test.
#
# Idempotent: when everything is present it only checks and returns.
#  1. Debian packages (checked with dpkg-query). Missing ones are installed
#     with apt-get when running as root; otherwise the exact command to run
#     is printed and the script exits 1.
#  2. Unicorn 2.1 (Debian 12 ships 2.0.1, which ignores page-table
#     translation). The Debian 13 packages libunicorn2t64 and libunicorn-dev
#     are downloaded with apt, using a separate apt configuration and state
#     under .deps/apt, and unpacked with `dpkg -x` into .deps/unicorn. The
#     system's package database is not touched; root is not needed.
#  3. libvirt 10.5+ and QEMU 10 (veil-launch and its tests: Debian 12 ships
#     libvirt 9.0, whose schema has no sev-snp launch security, and QEMU 7.2):
#     Debian's bookworm-backports packages (libvirt 11.x, QEMU 10.0, built for
#     Debian 12), from a backports source this script adds to apt, installed
#     with `apt-get -t bookworm-backports` (root). Runs before step 2.
#  4. The Linux guest's packages (kernel, headers, busybox-static) in
#     .deps/linux, the same way as Unicorn: scripts/setup-linux.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS=$ROOT/.deps
APT_DIR=$DEPS/apt
UC_PREFIX=$DEPS/unicorn
UC_LIBDIR=usr/lib/x86_64-linux-gnu
UC_SERIES=2.1
UC_PACKAGES=(libunicorn2t64 libunicorn-dev)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

PACKAGES=(cmake pkg-config gcc binutils make check libcapstone-dev libbearssl-dev clang-format gdb help2man
	libssl-dev python3 debian-archive-keyring clang libclang-rt-14-dev python3-matplotlib
	zlib1g-dev openssl cpio zstd)

say() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

# --- 1. Debian packages -----------------------------------------------------

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$p")
done

if ((${#missing[@]})); then
	if ((EUID != 0)); then
		printf 'setup: missing Debian packages: %s\n' "${missing[*]}" >&2
		printf 'setup: run as root:\n  apt-get update && apt-get install -y --no-install-recommends %s\n' \
			"${missing[*]}" >&2
		exit 1
	fi
	say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null ||
		die "apt-get install failed for: ${missing[*]}"
else
	say "Debian packages present"
fi

# --- 3. libvirt 10.5+ and QEMU 10 from bookworm-backports --------------------
# (run before step 2, which ends the script when Unicorn is present)

BPO_PACKAGES=(libvirt-dev libvirt-clients libxml2-utils qemu-system-x86)
BPO_SOURCE=/etc/apt/sources.list.d/veil-bookworm-backports.sources
bpo_ok() {
	local v p
	v=$(dpkg-query -W -f='${Version}' libvirt-dev 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge 10.5 || return 1
	v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge 1:10.0 || return 1
	for p in "${BPO_PACKAGES[@]}"; do
		[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || return 1
	done
}
if bpo_ok; then
	say "libvirt $(dpkg-query -W -f='${Version}' libvirt-dev) and QEMU present"
else
	if ((EUID != 0)); then
		printf 'setup: libvirt 10.5+ and QEMU 10 are needed (veil-launch); as root run\n' >&2
		printf '  scripts/setup.sh  (adds bookworm-backports, installs %s)\n' \
			"${BPO_PACKAGES[*]}" >&2
		exit 1
	fi
	[[ -f $BPO_SOURCE ]] || printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
		'Suites: bookworm-backports' 'Components: main' "Signed-By: $KEYRING" >"$BPO_SOURCE"
	say "installing ${BPO_PACKAGES[*]} from bookworm-backports"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends -t bookworm-backports "${BPO_PACKAGES[@]}" \
		</dev/null || die "apt-get install -t bookworm-backports failed"
	bpo_ok || die "libvirt 10.5+ / QEMU 10 still missing after the install"
fi

# --- 2. Unicorn 2.1 in .deps/unicorn -----------------------------------------

[[ $(dpkg --print-architecture) == amd64 ]] ||
	die "Unicorn is fetched for amd64 only (this host is $(dpkg --print-architecture))"

unicorn_ok() {
	local dir=$1
	[[ -f $dir/VERSION && $(<"$dir/VERSION") == "$UC_SERIES".* ]] &&
		[[ -f $dir/usr/include/unicorn/unicorn.h ]] &&
		[[ -e $dir/$UC_LIBDIR/libunicorn.so.2 ]] &&
		[[ -e $dir/$UC_LIBDIR/libunicorn.so ]]
}

mkdir -p "$DEPS"
exec 9>"$DEPS/setup.lock"
flock 9

if unicorn_ok "$UC_PREFIX"; then
	say "Unicorn $(<"$UC_PREFIX/VERSION") present in .deps/unicorn"
	exec "$ROOT/scripts/setup-linux.sh" # 4. the Linux guest's packages
fi

say "fetching Unicorn $UC_SERIES (${UC_PACKAGES[*]}) from Debian 13 with a project-local apt setup"
[[ -r $KEYRING ]] || die "$KEYRING not readable (package debian-archive-keyring)"
mkdir -p "$APT_DIR"/{lists/partial,cache/archives/partial,etc,dl}
echo "deb [signed-by=$KEYRING] http://deb.debian.org/debian trixie main" >"$APT_DIR/etc/sources.list"
apt_opts=(
	-q
	-o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::Cache=$APT_DIR/cache"
	-o Acquire::Languages=none
)
# As root, apt drops to the _apt user to download, which cannot write here.
((EUID != 0)) || apt_opts+=(-o APT::Sandbox::User=root)

apt-get "${apt_opts[@]}" update </dev/null || die "apt-get update (project-local, Debian 13) failed"
rm -f "$APT_DIR"/dl/*.deb
(cd "$APT_DIR/dl" && apt-get "${apt_opts[@]}" download "${UC_PACKAGES[@]}" </dev/null) ||
	die "apt-get download ${UC_PACKAGES[*]} failed"

version=
for p in "${UC_PACKAGES[@]}"; do
	debs=("$APT_DIR/dl/${p}_"*.deb)
	[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "expected one downloaded $p package in $APT_DIR/dl"
	v=$(dpkg-deb -f "${debs[0]}" Version)
	[[ $v == "$UC_SERIES".* ]] || die "$p version is $v, need $UC_SERIES.x"
	[[ -z $version || $v == "$version" ]] || die "version mismatch: $p is $v, expected $version"
	version=$v
done

tmp=$DEPS/unicorn.new
rm -rf "$tmp"
mkdir -p "$tmp"
for p in "${UC_PACKAGES[@]}"; do
	dpkg -x "$APT_DIR/dl/${p}_"*.deb "$tmp"
done
[[ -e $tmp/$UC_LIBDIR/libunicorn.so ]] || ln -s libunicorn.so.2 "$tmp/$UC_LIBDIR/libunicorn.so"
echo "$version" >"$tmp/VERSION"
unicorn_ok "$tmp" || die "unpacked Unicorn in $tmp is incomplete"

# The library must load on this system and report API 2.1 at run time.
python3 - "$tmp/$UC_LIBDIR/libunicorn.so.2" "$UC_SERIES" <<'PY' || die "the fetched libunicorn does not load or is not $UC_SERIES"
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
major, minor = ctypes.c_uint(), ctypes.c_uint()
lib.uc_version(ctypes.byref(major), ctypes.byref(minor))
got = "%d.%d" % (major.value, minor.value)
if got != sys.argv[2]:
    sys.exit("uc_version() reports %s" % got)
PY

rm -rf "$UC_PREFIX"
mv "$tmp" "$UC_PREFIX"
say "Unicorn $version installed in .deps/unicorn"

# --- 4. The Linux guest: kernel, headers, BusyBox in .deps/linux ---------------

exec "$ROOT/scripts/setup-linux.sh"
