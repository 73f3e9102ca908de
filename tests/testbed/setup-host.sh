#!/bin/bash
# setup-host.sh - idempotently install the Debian 12 (x86_64) host packages the nested lkvm test bed needs.
#
# Note: Debian 12's libfdt-dev is not Multi-Arch co-installable: libfdt-dev (amd64) and libfdt-dev:arm64
# conflict. The cross build of lkvm needs the arm64 one (static libfdt.a), so that is what gets installed; its
# headers live in /usr/include and serve the host build too, which links the host runtime libfdt1
# (-l:libfdt.so.1). If the host libfdt-dev is already installed it is left alone and the arm64 package is
# extracted into $LKVM_SYSROOT (default /opt/lkvm-arm64-sysroot) instead: the cross build then needs
# -L$LKVM_SYSROOT/usr/lib/aarch64-linux-gnu.
set -eu

NATIVE=$(dpkg --print-architecture)
# multi-arch "same" packages installed for two architectures are named with their architecture
PKGS="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross libfdt-dev:arm64 zlib1g-dev:arm64 zlib1g-dev:$NATIVE
libfdt1:$NATIVE cpio device-tree-compiler qemu-user-static"
# groff-base: make check renders the man page (tests/check-manpage.sh)
PKGS="$PKGS groff-base"
# clang-14 + libclang-rt-14-dev: make fuzz (libFuzzer targets with ASan/UBSan, also run by make check)
PKGS="$PKGS clang-14 libclang-rt-14-dev"
# gdb-multiarch and promtool (package prometheus): the scenarios' real clients of lkvm's gdb stub and metrics
# endpoint run on this machine (tests/testbed/host-agent.sh)
PKGS="$PKGS gdb-multiarch prometheus"
SYSROOT=${LKVM_SYSROOT:-/opt/lkvm-arm64-sysroot}

say() { echo "setup-host: $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "setup-host: must run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

host_fdt=0
if is_installed "libfdt-dev:$NATIVE"; then
	if ! is_installed libfdt-dev:arm64; then
		host_fdt=1
		PKGS=$(echo "$PKGS" | tr ' ' '\n' | grep -v '^libfdt-dev:arm64$' | tr '\n' ' ')
	fi
fi

missing=""
for p in $PKGS; do
	is_installed "$p" || missing="$missing $p"
done
if [ $host_fdt = 1 ] && [ ! -f "$SYSROOT/usr/lib/aarch64-linux-gnu/libfdt.a" ]; then
	need_sysroot=1
else
	need_sysroot=0
fi

if [ -z "$missing" ] && [ $need_sysroot = 0 ]; then
	say "all packages present"
	exit 0
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	say "adding arm64 architecture"
	dpkg --add-architecture arm64
fi
say "apt-get update"
apt-get update -q
if [ -n "$missing" ]; then
	say "installing:$missing"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
if [ $need_sysroot = 1 ]; then
	say "host libfdt-dev installed (conflicts with libfdt-dev:arm64): extracting libfdt-dev:arm64 into $SYSROOT"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q libfdt-dev:arm64 libfdt1:arm64)
	mkdir -p "$SYSROOT"
	for d in "$tmp"/*.deb; do dpkg -x "$d" "$SYSROOT"; done
	rm -rf "$tmp"
fi
say "done"
