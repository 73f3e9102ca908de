# 40-virtio-blk.sh - virtio-blk: the guest reads a disk with known content, writes a pattern that the host then
# finds in the image; a ,ro disk refuses writes and stays unchanged; bad disk paths fail before the guest starts.
# timeout: 200
. "$(dirname "$0")/lib.sh"

D=$WORK/disk.img
R=$WORK/ro.img
dd if=/dev/zero of="$D" bs=1024 count=8192 2>/dev/null
printf LKVM-DISK-MARKER | dd of="$D" conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$R" bs=1024 count=1024 2>/dev/null
ro_sum=$(md5sum <"$R")

lkvm_run blk 120 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -d "$D" -d "$R,ro" -p "quiet l2.run=blk"
check "guest ran with two disks, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "vda: 8 MiB (16384 sectors), vdb read-only" has "$OUT" "SIZE=16384 SERIAL="
check "vdb is read-only in the guest" has "$OUT" "RO=1"
check "guest read the known content (LKVM-DISK-MARKER)" has "$OUT" "MARKER=LKVM-DISK-MARKER"
check "guest write + fsync succeeded" has "$OUT" "WRITE-RC=0"
check "host finds the guest's pattern in the image after lkvm exits" \
	sh -c "dd if='$D' bs=512 skip=1 count=1 2>/dev/null | grep -q GUEST-WROTE-THIS"
if has "$OUT" "RO-WRITE-RC=0"; then not_ok "write to the ,ro disk succeeded"; else ok "write to the ,ro disk failed in the guest"; fi
check "the ,ro image is unchanged on the host" [ "$(md5sum <"$R")" = "$ro_sum" ]
want=$(md5sum <"$R" | cut -d' ' -f1)
check "guest reads the ,ro disk correctly (md5 matches the host's)" has "$OUT" "VDB-MD5=$want"

# bad input: one line, non-zero, no guest
bad() {
	lkvm_run "$1" 60 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" "$@"
}
for case in missing chardev; do
	case $case in
	missing) arg=/nonexistent/disk.img ;;
	chardev) arg=/dev/null ;; # (a directory is no longer an error: -d DIR is the 9p root, see 45-9p)
	esac
	lkvm_run "bad-$case" 60 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -d "$arg"
	lines=$(grep -c '[^[:space:]]' "$ERR")
	if [ "$RC" != 0 ] && [ "$RC" -lt 124 ] && [ "$lines" = 1 ] && ! booted "$OUT"; then
		ok "disk $case ($arg): one-line error: $(cat "$ERR" | tr -s ' ')"
	else
		not_ok "disk $case ($arg): exit $RC, $lines lines, booted: $(booted "$OUT" && echo yes || echo no)"
	fi
done
finish
