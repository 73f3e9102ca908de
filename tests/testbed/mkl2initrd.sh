#!/bin/bash
# mkl2initrd.sh [OUTDIR] - build OUTDIR/l2.cpio, the L2 test guest's initramfs (busybox, virtio modules, l2-init).
# Needs OUTDIR/busybox and OUTDIR/kernel from prepare.sh. Uncompressed newc cpio: cheaper to unpack under emulation.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(dirname "$HERE")
OUT=${1:-build/testbed}
OUT=$(cd "$OUT" && pwd)
# modules wanted in the guest (module names as the kernel knows them: '-' and '_' are equivalent)
MODULES=${L2_MODULES:-"virtio_mmio virtio_pci virtio_blk virtio_net virtio_console virtio_rng 9p 9pnet_virtio"}

die() { echo "mkl2initrd: error: $*" >&2; exit 1; }

[ -x "$OUT/busybox" ] || die "$OUT/busybox missing (run prepare.sh)"
kdir=$(ls -d "$OUT"/kernel/lib/modules/*/ 2>/dev/null | head -n 1)
[ -n "$kdir" ] || die "$OUT/kernel/lib/modules missing (run prepare.sh)"

root="$OUT/l2root"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc/l2,lib/modules-lkvm,root}
cp "$OUT/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$HERE/l2-init" "$root/init"
chmod 755 "$root/init"
cp "$TESTS"/guest-scripts/*.sh "$root/etc/l2/"
# an initial console for PID 1 before devtmpfs is mounted (we run as root; skipped otherwise)
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# --- modules: resolve dependencies from each .ko's .modinfo section, write them deps-first ---
declare -A path=() done_=()
while IFS=' ' read -r b f; do
	b=${b%.ko}
	path[${b//-/_}]=$f
done < <(find "$kdir/kernel" -name '*.ko' -printf '%f %p\n')

order=()
add() {
	local m=${1//-/_} d deps
	[ -n "${done_[$m]:-}" ] && return 0
	done_[$m]=1
	[ -n "${path[$m]:-}" ] || { echo "mkl2initrd: warning: module $m not found, skipped" >&2; return 0; }
	deps=$(tr '\0' '\n' < "${path[$m]}" | sed -n 's/^depends=//p' | head -n 1)
	for d in ${deps//,/ }; do add "$d"; done
	order+=("$m")
}
for m in $MODULES; do add "$m"; done
for m in "${order[@]}"; do
	cp "${path[$m]}" "$root/lib/modules-lkvm/$m.ko"
	echo "$m" >> "$root/lib/modules-lkvm/order"
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT/l2.cpio.tmp"
mv "$OUT/l2.cpio.tmp" "$OUT/l2.cpio"
echo "mkl2initrd: $OUT/l2.cpio ($(du -k "$OUT/l2.cpio" | cut -f1) KiB; modules: ${order[*]})" >&2
