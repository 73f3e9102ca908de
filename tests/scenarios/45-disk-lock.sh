# 45-disk-lock.sh - disk image locks: a second lkvm on a writable image in use is refused in one line naming the
# holder while the first VM keeps running and writing; readers share a read-only image; -d FILE,direct (O_DIRECT)
# boots on a block device and the data is intact; ,direct where the file system has none is one line.
# timeout: 500
. "$(dirname "$0")/lib.sh"

D=$WORK/lock.img
R=$WORK/lock-ro.img
dd if=/dev/zero of="$D" bs=1024 count=8192 2>/dev/null
dd if=/dev/urandom of="$R" bs=1024 count=1024 2>/dev/null
pid_of() { "$LKVM" stat --name "$1" 2>>"$LOG" | tr ' ' '\n' | sed -n 's/^pid=//p' | head -n 1; }

guest_start lockA 200 run -c 1 -m 256 --name lockA -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
if ! wait_for "$OUT" "l2# " 100; then
	guest_kill
	not_ok "first VM gave no shell ($(rc_text "$RC")) [$(guest_tail)]"
	finish
fi
A_OUT=$OUT
A=$(pid_of lockA)
lkvm_run second 60 run -c 1 -m 256 -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
check "second lkvm on the writable image: refused (exit $RC), one line naming pid $A: $(first_line "$ERR")" \
	sh -c "[ $RC != 0 ] && [ $RC != 124 ] && [ $(nonempty_lines "$ERR") = 1 ] && grep -q 'locked by another process (pid $A, lkvm)' '$ERR'"
check "the refused lkvm started no guest" sh -c "! grep -q L2-INIT-OK '$OUT'"
lkvm_run second-ro 60 run -c 1 -m 256 -d "$D,ro" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
check "a read-only opener of the image a VM writes: refused too (exit $RC), one line: $(first_line "$ERR")" \
	sh -c "[ $RC != 0 ] && [ $RC != 124 ] && [ $(nonempty_lines "$ERR") = 1 ] && grep -q 'locked by another process' '$ERR'"
# the first VM is unharmed: its disk still works both ways
OUT=$A_OUT
guest_send 'echo AFTER-REFUSAL | dd of=/dev/vda bs=512 seek=2 conv=sync,fsync 2>/dev/null; echo 3 >/proc/sys/vm/drop_caches; echo "READ-$((1+1))=$(dd if=/dev/vda bs=512 skip=2 count=1 2>/dev/null | head -c 13)"'
check "the first VM keeps running and its disk still writes and reads" wait_for "$OUT" "READ-2=AFTER-REFUSAL" 60
guest_send 'poweroff -f'
guest_wait
check "the first VM powers off cleanly ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "the host finds the first VM's write in the image" \
	sh -c "dd if='$D' bs=512 skip=2 count=1 2>/dev/null | grep -q AFTER-REFUSAL"
lkvm_run after 90 run -c 1 -m 256 -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
check "once the first VM is gone the image is free: a new lkvm boots on it ($(rc_text "$RC"))" \
	sh -c "[ $RC = 0 ] && grep -q L2-RUN-DONE '$OUT'"

# hand-over: a live migration on this host moves the lock with the guest (the source lets go when it pauses for
# the last pass, the destination takes it before its acknowledgement), and the moved guest writes the disk
guest_start hdst 200 restore --incoming "unix:$WORK/hov.sock"
DST_OUT=$OUT DST_ERR=$ERR
( timeout -k 5 200 "$LKVM" run -c 1 -m 256 --name hov -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" \
	-p "quiet l2.run=counter" </dev/null >"$WORK/hsrc.out" 2>"$WORK/hsrc.err"; echo $? >"$WORK/hsrc.rc" ) &
if wait_for "$WORK/hsrc.out" "COUNT 3 " 100 && [ -S "$WORK/hov.sock" ]; then
	"$LKVM" migrate --name hov "unix:$WORK/hov.sock" >>"$LOG" 2>&1
	mrc=$?
	n=0
	while [ ! -s "$WORK/hsrc.rc" ] && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
	check "migration with a locked disk: migrate exit $mrc, the source ended ($(cat "$WORK/hsrc.rc" 2>/dev/null))" \
		sh -c "[ $mrc = 0 ] && [ \"\$(cat '$WORK/hsrc.rc')\" = 0 ]"
	check "the moved guest keeps counting on the destination" \
		wait_for "$DST_OUT" "COUNT $(($(sed -n 's/^COUNT \([0-9]*\) .*/\1/p' "$WORK/hsrc.out" | tail -n 1) + 2)) " 30
	H=$(pid_of hov)
	lkvm_run third 60 run -c 1 -m 256 -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
	check "after the move the destination holds the lock: a third lkvm is refused naming pid $H: $(first_line "$ERR")" \
		sh -c "[ $RC = 1 ] && grep -q 'locked by another process (pid $H, lkvm)' '$ERR'"
	"$LKVM" stop --name hov >>"$LOG" 2>&1
else
	not_ok "the migration source never ran (or the destination did not listen) [$(guest_tail)]"
fi
OUT=$DST_OUT ERR=$DST_ERR
guest_kill

# readers share: two VMs on one read-only image
guest_start lockB 200 run -c 1 -m 256 --name lockB -d "$R,ro" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
if wait_for "$OUT" "l2# " 100; then
	B_OUT=$OUT B_ERR=$ERR
	lkvm_run ro2 90 run -c 1 -m 256 -d "$R,ro" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
	check "a second VM on the same read-only image boots beside the first ($(rc_text "$RC"))" \
		sh -c "[ $RC = 0 ] && grep -q L2-RUN-DONE '$OUT'"
	lkvm_run rw2 60 run -c 1 -m 256 -d "$R" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
	check "a writer on an image readers hold: refused (exit $RC), one line: $(first_line "$ERR")" \
		sh -c "[ $RC != 0 ] && [ $RC != 124 ] && [ $(nonempty_lines "$ERR") = 1 ] && grep -q 'locked by another process' '$ERR'"
	OUT=$B_OUT ERR=$B_ERR
	guest_send 'poweroff -f'
	guest_wait
else
	guest_kill
	not_ok "the read-only VM gave no shell [$(guest_tail)]"
fi

# ,direct: O_DIRECT on brd block devices (L1's tmpfs has no O_DIRECT before Linux 6.6)
lkvm_run direct-tmpfs 60 run -c 1 -m 256 -d "$D,direct" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff"
if [ "$RC" = 0 ]; then
	ok ",direct on $WORK's file system: it supports O_DIRECT, the guest ran"
else
	check ",direct where the file system has no O_DIRECT: one line (exit $RC): $(first_line "$ERR")" \
		sh -c "[ $(nonempty_lines "$ERR") = 1 ] && grep -q 'direct I/O' '$ERR'"
fi
if [ -b /dev/ram0 ] && [ -b /dev/ram1 ]; then
	dd if=/dev/zero of=/dev/ram0 bs=1M count=4 2>/dev/null
	printf LKVM-DISK-MARKER | dd of=/dev/ram0 conv=notrunc 2>/dev/null
	dd if=/dev/urandom of=/dev/ram1 bs=1M count=4 2>/dev/null
	want=$(md5sum </dev/ram1 | cut -d' ' -f1)
	lkvm_run direct 120 run -c 1 -m 256 -d /dev/ram0,direct -d /dev/ram1,ro,direct -k "$L2_KERNEL" -i "$L2_INITRD" \
		-p "quiet l2.run=blk"
	check ",direct: the guest ran on two O_DIRECT block devices ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check ",direct: the guest read the known content" has "$OUT" "MARKER=LKVM-DISK-MARKER"
	check ",direct: the guest's write + fsync succeeded" has "$OUT" "WRITE-RC=0"
	check ",direct: the host finds the guest's write on the device" \
		sh -c "dd if=/dev/ram0 bs=512 skip=1 count=1 2>/dev/null | grep -q GUEST-WROTE-THIS"
	check ",direct: the guest reads all 4 MiB of the read-only device intact (md5 $want)" has "$OUT" "VDB-MD5=$want"
else
	not_ok ",direct: no /dev/ram0 and /dev/ram1 in L1 (brd module missing)"
fi
finish
