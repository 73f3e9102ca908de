#!/bin/bash
# prepare.sh [OUTDIR] - fetch the Debian arm64 kernel (L1 and L2 Image + modules), a static arm64 busybox and passt.
# Outputs: OUTDIR/Image, OUTDIR/kernel/ (extracted package), OUTDIR/busybox, OUTDIR/passt/ (passt + libc6 unpacked),
# OUTDIR/debs/. Steps whose outputs
# exist are skipped; delete OUTDIR (or OUTDIR/Image) to pick up a newer kernel.
set -eu

OUT=${1:-build/testbed}
mkdir -p "$OUT/debs"
OUT=$(cd "$OUT" && pwd)
APT_OPTS="-q -o APT::Sandbox::User=root"

say() { echo "prepare: $*" >&2; }
die() { echo "prepare: error: $*" >&2; exit 1; }

# download PKG into OUT/debs unless a matching .deb is already there; prints the .deb path
download() {
	local pkg=$1 name=${1%%:*} deb
	deb=$(ls "$OUT/debs/${name}_"*_arm64.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		say "downloading $pkg"
		# shellcheck disable=SC2086
		(cd "$OUT/debs" && apt-get download $APT_OPTS "$pkg" >&2) ||
			die "apt-get download $pkg failed (run tests/testbed/setup-host.sh first: it adds arm64 and runs apt-get update)"
		deb=$(ls "$OUT/debs/${name}_"*_arm64.deb | tail -n 1)
	fi
	echo "$deb"
}

# --- kernel ---
if [ -s "$OUT/Image" ] && [ -d "$OUT/kernel/lib/modules" ]; then
	say "kernel present: $(cat "$OUT/kernel.pkg" 2>/dev/null || echo '?')"
else
	kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: *\(linux-image-[0-9][^: ]*\).*/\1/p' | head -n 1)
	[ -n "$kpkg" ] || die "cannot resolve linux-image-arm64:arm64 (no arm64 package lists? run setup-host.sh)"
	say "kernel package: $kpkg"
	deb=$(download "$kpkg:arm64")
	rm -rf "$OUT/kernel"
	mkdir -p "$OUT/kernel"
	dpkg -x "$deb" "$OUT/kernel"
	img=$(ls "$OUT"/kernel/boot/vmlinuz-* | head -n 1)
	# The Debian arm64 vmlinuz is an uncompressed Image: check the arm64 magic "ARM\x64" at 0x38
	magic=$(od -A n -t x1 -j 56 -N 4 "$img" | tr -d ' \n')
	[ "$magic" = 41524d64 ] || die "$img is not an uncompressed arm64 Image (magic at 0x38: $magic)"
	cp "$img" "$OUT/Image.tmp" && mv "$OUT/Image.tmp" "$OUT/Image"
	echo "$kpkg" > "$OUT/kernel.pkg"
fi

# --- busybox (static, arm64; extracted, never installed: it would replace the host's busybox) ---
if [ -x "$OUT/busybox" ]; then
	say "busybox present"
else
	deb=$(download busybox-static:arm64)
	rm -rf "$OUT/busybox-pkg"
	dpkg -x "$deb" "$OUT/busybox-pkg"
	cp "$OUT/busybox-pkg/bin/busybox" "$OUT/busybox"
	chmod 755 "$OUT/busybox"
	rm -rf "$OUT/busybox-pkg"
fi
# --- passt (lkvm -n mode=user) and the glibc it links: unpacked into OUT/passt, shipped into L1 by mkl1initrd.sh ---
if [ -x "$OUT/passt/usr/bin/passt" ] && [ -e "$OUT/passt/lib/aarch64-linux-gnu/libc.so.6" ]; then
	say "passt present"
else
	rm -rf "$OUT/passt" "$OUT/passt-pkg"
	mkdir -p "$OUT/passt-pkg" "$OUT/passt/usr/bin" "$OUT/passt/lib/aarch64-linux-gnu"
	for pkg in passt libc6; do
		deb=$(download "$pkg:arm64")
		dpkg -x "$deb" "$OUT/passt-pkg"
	done
	# only what L1 needs (the whole libc6 tree holds directories named *.d, which the Makefile's -include would see)
	cp "$OUT/passt-pkg/usr/bin/passt" "$OUT/passt/usr/bin/" || die "the passt package has no usr/bin/passt"
	for f in ld-linux-aarch64.so.1 libc.so.6; do
		cp -L "$OUT/passt-pkg/lib/aarch64-linux-gnu/$f" "$OUT/passt/lib/aarch64-linux-gnu/" ||
			die "the libc6 package has no lib/aarch64-linux-gnu/$f"
	done
	rm -rf "$OUT/passt-pkg"
fi
say "ready: $OUT/Image ($(cat "$OUT/kernel.pkg")), $OUT/busybox"
