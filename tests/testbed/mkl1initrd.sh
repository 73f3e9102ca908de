#!/bin/bash
# mkl1initrd.sh [LKVM [OUTDIR]] - build OUTDIR/l1.cpio, the L1 VM's initramfs: busybox, l1-init, lkvm, the L2 guest,
# the scenarios and the helpers from build/tools and build/guest/*.bin. LKVM defaults to ./lkvm, OUTDIR to build/testbed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(dirname "$HERE")
REPO=$(dirname "$TESTS")
LKVM=${1:-./lkvm}
OUT=${2:-build/testbed}

die() { echo "mkl1initrd: error: $*" >&2; exit 1; }

[ -d "$OUT" ] || die "$OUT missing (run prepare.sh)"
OUT=$(cd "$OUT" && pwd)
[ -f "$LKVM" ] || die "lkvm binary $LKVM not found (build it: make lkvm)"
for f in busybox Image l2.cpio; do
	[ -f "$OUT/$f" ] || die "$OUT/$f missing (run prepare.sh and mkl2initrd.sh)"
done
# is LKVM a static aarch64 ELF? (no `file` on a bare machine: read the ELF header with od)
# u LEN OFFSET: little-endian unsigned integer from the file
u() { od -A n -t "u$1" -j "$2" -N "$1" --endian=little "$LKVM" | tr -d ' '; }
hdr=$(od -A n -t x1 -N 20 "$LKVM" | tr -d ' \n')
if [ "${hdr:0:12}" != 7f454c460201 ] || [ "${hdr:36:4}" != b700 ]; then
	echo "mkl1initrd: warning: $LKVM is not an aarch64 ELF (fine for a stand-in script)" >&2
else
	# a program header of type PT_INTERP (3) means a dynamic binary
	phoff=$(u 8 32) phentsize=$(u 2 54) phnum=$(u 2 56)
	for ((k = 0; k < phnum; k++)); do
		if [ "$(u 4 $((phoff + k * phentsize)))" = 3 ]; then
			echo "mkl1initrd: warning: $LKVM is dynamically linked; L1 has no libc" >&2
			break
		fi
	done
fi

root="$OUT/l1root"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,guest,scenarios,tools,root}
cp "$OUT/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$HERE/l1-init" "$root/init"
cp "$LKVM" "$root/lkvm"
chmod 755 "$root/init" "$root/lkvm"
# hard links where possible: the Image is 32 MB
ln "$OUT/Image" "$root/guest/Image" 2>/dev/null || cp "$OUT/Image" "$root/guest/Image"
ln "$OUT/l2.cpio" "$root/guest/l2.cpio" 2>/dev/null || cp "$OUT/l2.cpio" "$root/guest/l2.cpio"
cp "$TESTS"/scenarios/*.sh "$root/scenarios/"
tools=""
for f in "$REPO"/build/tools/* "$REPO"/build/guest/*.bin; do
	[ -f "$f" ] || continue
	case $f in *.d) continue ;; esac
	cp "$f" "$root/tools/"
	tools="$tools $(basename "$f")"
done
# L1's own modules: tun for the virtio-net tap scenarios, brd (/dev/ram*: block devices for ,direct)
mkdir -p "$root/lib/modules-l1"
for m in tun brd; do
	f=$(find "$OUT"/kernel/lib/modules -name "$m.ko" 2>/dev/null | head -n 1)
	[ -n "$f" ] && cp "$f" "$root/lib/modules-l1/"
done
# vhost-net and what it needs, in load order: not loaded at boot (42-virtio-net first checks lkvm's message when
# /dev/vhost-net is missing, then loads them)
mkdir -p "$root/lib/modules-l1-vhost"
: >"$root/lib/modules-l1-vhost/order"
for m in vhost_iotlb vhost tap vhost_net; do
	f=$(find "$OUT"/kernel/lib/modules -path '*/drivers/*' -name "$m.ko" 2>/dev/null | head -n 1)
	[ -n "$f" ] || continue
	cp "$f" "$root/lib/modules-l1-vhost/$m.ko"
	echo "$m" >>"$root/lib/modules-l1-vhost/order"
done
# eth0's driver (the bridge to the test machine, run-l1.sh), loaded by l1-init in this order
mkdir -p "$root/lib/modules-l1-net"
for m in failover net_failover virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_net; do
	f=$(find "$OUT"/kernel/lib/modules \( -name "$m.ko" -o -name "${m//_/-}.ko" \) 2>/dev/null | head -n 1)
	[ -n "$f" ] || continue
	cp "$f" "$root/lib/modules-l1-net/$m.ko"
	echo "$m" >>"$root/lib/modules-l1-net/order"
done
# users: root, nobody (passt drops to it) and an unprivileged user for scenarios that run lkvm as one
mkdir -p "$root/etc" "$root/home/lkvmuser"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
	'lkvmuser:x:1000:1000:lkvm test user:/home/lkvmuser:/bin/sh' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'kvm:x:36:lkvmuser' 'nogroup:x:65534:' 'lkvmuser:x:1000:' >"$root/etc/group"
# The host-kernel tree 'lkvm run' (no -k) reads: /lib/modules/REL with the 9p and virtio modules the L2 initrd also
# carries (already dependency-resolved by mkl2initrd.sh) and modules.builtin. The scenario adds /boot itself.
kdir=$(ls -d "$OUT"/kernel/lib/modules/*/ 2>/dev/null | head -n 1)
if [ -n "$kdir" ] && [ -d "$OUT/l2root/lib/modules-lkvm" ]; then
	rel=$(basename "$kdir")
	mkdir -p "$root/lib/modules/$rel"
	cp "$kdir/modules.builtin" "$root/lib/modules/$rel/" 2>/dev/null || true
	for f in "$OUT"/l2root/lib/modules-lkvm/*.ko; do
		m=$(basename "$f" .ko)
		src=$(find "$kdir/kernel" \( -name "$m.ko" -o -name "${m//_/-}.ko" \) | head -n 1)
		[ -n "$src" ] || continue
		mkdir -p "$root/lib/modules/$rel/$(dirname "${src#"$kdir"}")"
		cp "$src" "$root/lib/modules/$rel/${src#"$kdir"}"
	done
	# 'lkvm run -- CMD' also needs overlay (the copy-on-write root); dummy is the module its --kdir test loads
	for m in overlay dummy; do
		src=$(find "$kdir/kernel" -name "$m.ko" | head -n 1)
		[ -n "$src" ] || continue
		mkdir -p "$root/lib/modules/$rel/$(dirname "${src#"$kdir"}")"
		cp "$src" "$root/lib/modules/$rel/${src#"$kdir"}"
	done
fi
printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf" # QEMU user networking's DNS: passt forwards to it
# passt (lkvm -n mode=user), dynamically linked: the binary, the loader and libc from the Debian packages
if [ -x "$OUT/passt/usr/bin/passt" ]; then
	mkdir -p "$root/usr/bin" "$root/lib/aarch64-linux-gnu"
	cp "$OUT/passt/usr/bin/passt" "$root/usr/bin/passt"
	for f in ld-linux-aarch64.so.1 libc.so.6; do
		cp -L "$OUT/passt/lib/aarch64-linux-gnu/$f" "$root/lib/aarch64-linux-gnu/$f"
	done
	ln -sf aarch64-linux-gnu/ld-linux-aarch64.so.1 "$root/lib/ld-linux-aarch64.so.1"
else
	echo "mkl1initrd: warning: no passt in $OUT/passt (prepare.sh fetches it): mode=user scenarios will skip" >&2
fi
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT/l1.cpio.tmp"
mv "$OUT/l1.cpio.tmp" "$OUT/l1.cpio"
echo "mkl1initrd: $OUT/l1.cpio ($(du -k "$OUT/l1.cpio" | cut -f1) KiB; lkvm=$LKVM; tools:${tools:- none})" >&2
