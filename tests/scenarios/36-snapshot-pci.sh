# 36-snapshot-pci.sh - save/restore of a PCI + ITS guest in the middle of disk I/O: the restored guest's I/O loop
# carries on without an error, MSI-X vectors keep firing through the restored ITS, and its writes reach the host file.
# Then the same I/O-loop save/restore over virtio-mmio.
# timeout: 500
. "$(dirname "$0")/lib.sh"

D=$WORK/pcisnap.img
SNAP=$WORK/pci.snap
num() { tr -d '\r' <"$OUT" | sed -n "s/^$1=\([0-9]*\)$/\1/p" | tail -n 1; }

# one_case TAG ARGS...: boot with ARGS, start the I/O loop, save --stop, restore, check the loop carries on
one_case() {
	t=$1
	shift
	dd if=/dev/zero of="$D" bs=1024 count=8192 2>/dev/null
	rm -f "$SNAP"
	guest_start "src-$t" 150 run -c 2 -m 256 "$@" --name pcisnap -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
	wait_for "$OUT" "l2# " 100 || { guest_kill; not_ok "$t: no guest shell"; return; }
	# the I/O loop: write a numbered sector, fsync, read it back; any failure prints IOERR/IOBAD
	guest_send 'i=0; (while :; do i=$((i+1)); s=$((i % 64 + 16)); echo "IO-$i" | dd of=/dev/vda bs=512 seek=$s conv=sync,fsync 2>/dev/null || echo IOERR-$i; dd if=/dev/vda bs=512 skip=$s count=1 2>/dev/null | grep -q "^IO-$i\$" || echo IOBAD-$i; echo $i >/tmp/n; done) &'
	# (markers are built with $((..)) so the echo of the typed command never matches them)
	k=0
	while [ $k -lt 10 ]; do
		k=$((k + 1))
		sleep 2
		guest_send "echo N1=\$(cat /tmp/n 2>/dev/null || echo 0); echo Q1=\$(awk '/MSI/ && /req/ {s += \$2 + \$3} END {print s + 0}' /proc/interrupts); echo S-\$((100 + $k))-DONE"
		wait_for "$OUT" "S-$((100 + k))-DONE" 30
		[ "$(num N1)" -gt 0 ] 2>/dev/null && break
	done
	n1=$(num N1)
	q1=$(num Q1)
	check "$t: guest does disk I/O (${n1:-0} rounds)" [ "${n1:-0}" -gt 0 ]
	"$LKVM" save --name pcisnap --stop "$SNAP" >>"$LOG" 2>&1
	rc=$?
	guest_wait
	check "$t: save in the middle of I/O: exit $rc, source exited ($(rc_text "$RC"))" [ "$rc" = 0 -a "$RC" = 0 ]

	guest_start "dst-$t" 150 restore "$SNAP"
	sleep 4
	guest_send 'echo N2=$(cat /tmp/n); echo R-$((200 + 1))-DONE'
	wait_for "$OUT" "R-201-DONE" 60
	sleep 3
	guest_send 'echo N3=$(cat /tmp/n); echo Q3=$(awk "/MSI/ && /req/ {s += \$2 + \$3} END {print s + 0}" /proc/interrupts); echo ERRS=$(dmesg | grep -ci "i/o error"); echo R-$((200 + 2))-DONE'
	wait_for "$OUT" "R-202-DONE" 60
	n2=$(num N2)
	n3=$(num N3)
	check "$t: restored guest's I/O loop carries on (round ${n1:-?} before the save, ${n2:-?} then ${n3:-?} after)" \
		[ "${n3:-0}" -gt "${n2:-0}" -a "${n2:-0}" -ge "${n1:-0}" ]
	if [ "$t" = pci-its ]; then
		check "$t: the queue's MSI-X vector keeps firing after the restore (count ${q1:-?} before the save, $(num Q3) after)" \
			[ "$(num Q3)" -gt "${q1:-0}" -a "${q1:-0}" -gt 0 ]
	fi
	# (the guest echoes the typed loop, so only numbered markers count)
	check "$t: no I/O errors and no bad reads in the guest" \
		sh -c "! grep -q -e 'IOERR-[0-9]' -e 'IOBAD-[0-9]' '$WORK/src-$t.out' '$OUT' && grep -q 'ERRS=0' '$OUT'"
	guest_send 'kill %1 2>/dev/null; sleep 1; echo AFTER-RESTORE-PCI | dd of=/dev/vda bs=512 seek=2 conv=sync,fsync 2>/dev/null; echo W-$((7))-DONE'
	check "$t: restored guest writes a marker" wait_for "$OUT" "W-7-DONE" 30
	guest_send 'poweroff -f'
	guest_wait
	check "$t: restored guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check "$t: the write after the restore is in the host file" sh -c "dd if='$D' bs=512 skip=2 count=1 2>/dev/null | grep -q AFTER-RESTORE-PCI"
}
one_case pci-its --irqchip gicv3-its
one_case mmio --virtio-transport mmio
finish
