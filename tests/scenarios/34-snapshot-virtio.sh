# 34-snapshot-virtio.sh - save/restore with virtio devices: data fsynced before the save is in the image after the
# restore, a write after the restore lands too; a missing disk on restore is one line, -d points to its new place.
# timeout: 300
. "$(dirname "$0")/lib.sh"

D=$WORK/vdisk.img
SNAP=$WORK/virtio.snap
dd if=/dev/zero of="$D" bs=1024 count=8192 2>/dev/null
sector() { dd if="$1" bs=512 skip="$2" count=1 2>/dev/null | tr -d '\000'; }

guest_start vsrc 150 run -c 1 -m 256 --name vblk -d "$D" --rng -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
wait_for "$OUT" "l2# " 100 || { guest_kill; not_ok "no guest shell"; finish; }
guest_send 'echo BEFORE-SAVE | dd of=/dev/vda bs=512 seek=2 conv=sync,fsync 2>/dev/null; echo W1-$((1))-DONE'
wait_for "$OUT" "W1-1-DONE" 30
"$LKVM" save --name vblk --stop "$SNAP" >>"$LOG" 2>&1
guest_wait
check "save with virtio-blk + virtio-rng: source exited 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "data fsynced before the save is in the image" sh -c "dd if='$D' bs=512 skip=2 count=1 2>/dev/null | grep -q BEFORE-SAVE"

guest_start vdst 120 restore "$SNAP"
sleep 2
guest_send 'echo R-$((1))=$(dd if=/dev/vda bs=512 skip=2 count=1 2>/dev/null | head -c 11)'
check "restored guest reads the pre-save data through virtio-blk" wait_for "$OUT" "R-1=BEFORE-SAVE" 60
guest_send 'echo AFTER-RESTORE | dd of=/dev/vda bs=512 seek=3 conv=sync,fsync 2>/dev/null; echo W2-$((2))-DONE'
check "restored guest writes to its disk" wait_for "$OUT" "W2-2-DONE" 30
guest_send 'echo RNG-$((3))=$(dd if=/dev/hwrng bs=8 count=1 2>/dev/null | od -An -tx1 | tr -d " ")'
check "restored guest still gets entropy from virtio-rng" wait_for "$OUT" "RNG-3=" 30
guest_send 'poweroff -f'
guest_wait
check "restored guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "the write after the restore landed in the image" sh -c "dd if='$D' bs=512 skip=3 count=1 2>/dev/null | grep -q AFTER-RESTORE"

# the disk moved: restore names it in one line; -d gives its new place
mv "$D" "$WORK/moved.img"
lkvm_run vmissing 60 restore "$SNAP"
check "missing disk on restore: exit $RC, one line: $(tr -s ' ' <"$ERR")" \
	[ "$RC" != 0 -a "$RC" -lt 124 -a "$(grep -c '[^[:space:]]' "$ERR")" = 1 ]
guest_start vmoved 90 restore -d "$WORK/moved.img" "$SNAP"
sleep 2
guest_send 'echo R-$((4))=$(dd if=/dev/vda bs=512 skip=2 count=1 2>/dev/null | head -c 11)'
check "restore -d NEWPATH: the guest reads its disk at the new place" wait_for "$OUT" "R-4=BEFORE-SAVE" 60
guest_send 'poweroff -f'
guest_wait
finish
