# 42-virtio-net.sh - virtio-net on a tap: ping both ways and a 4 MiB transfer each way with matching checksums (pci,
# the default); then ping both ways over pci with INTx and over mmio; over MSI-X through the ITS, a save --stop while
# the NIC is idle and a restore: ping both ways, no interrupt refused.
# Then vhost=on: without /dev/vhost-net one line naming vhost_net and exit 1; with it (modules loaded here) the
# kernel's vhost thread moves the packets, over pci with MSI-X (gicv3-its): ping, 4 MiB each way with checksums, and
# the metrics show both queues' interrupts wired through KVM (irqfd), none raised by lkvm; a save (VM runs on) in the
# middle of a 32 MiB transfer that then completes with its checksum; a save --stop in the middle of another, restore
# (wired again), the transfer retried with its checksum, then a save --stop while idle and a restore: ping both ways.
# Then with no --irqchip (lkvm takes the ITS for a vhost NIC: through KVM), over pci with INTx (--irqchip gicv3:
# interrupts through lkvm) and mmio (through KVM): ping both ways, 4 MiB to the guest.
# (192.168.76.x: L1's own eth0 holds 10.0.2.15 for the bridge to the test machine.)
# timeout: 900
. "$(dirname "$0")/lib.sh"

TAP=lkvmtap0
HOST_IP=192.168.76.1
GUEST_IP=192.168.76.15
if [ ! -c /dev/net/tun ]; then
	mkdir -p /dev/net && mknod /dev/net/tun c 10 200 2>/dev/null
fi

# LKVM_MODE=vhost-boots-N (run-l1.sh --mode vhost-boots-20): only N boots of a vhost=on guest with no --irqchip, as
# the net bench starts it (-m 512): its eth0 up, ping both ways, 4 MiB to the guest, power off; a hunt for rare faults
case ${LKVM_MODE:-} in
vhost-boots-[0-9]*)
	for m in $(cat /lib/modules-l1-vhost/order 2>/dev/null); do
		[ -e /dev/vhost-net ] || insmod "/lib/modules-l1-vhost/$m.ko" >>"$LOG" 2>&1
	done
	mkdir -p "$WORK/www"
	dd if=/dev/urandom of="$WORK/www/h2g" bs=4096 count=1024 2>/dev/null
	want=$(md5sum <"$WORK/www/h2g" | cut -d' ' -f1)
	httpd -p 8001 -h "$WORK/www"
	# vb_fail WHAT: not ok with the console's last 15 lines and lkvm's view of the VM (stat), then kill it
	vb_fail() {
		not_ok "boot $i: $1 [$(guest_tail)]"
		tr -d '\r' <"$OUT" | tail -n 15 | sed 's/^/#   console: /'
		"$LKVM" stat --name vb 2>&1 | sed 's/^/#   stat: /'
		guest_kill
	}
	i=0
	while [ $i -lt "${LKVM_MODE#vhost-boots-}" ]; do
		i=$((i + 1))
		guest_start "vboot-$i" 300 run -c 1 -m 512 --name vb -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet \
			-n "mode=tap,tapif=$TAP,vhost=on"
		if ! wait_for "$OUT" "l2# " 150; then
			vb_fail "no guest shell"
			continue
		fi
		ip addr add $HOST_IP/24 dev $TAP 2>/dev/null
		ip link set $TAP up
		guest_send "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; echo NET-\$((1))-UP"
		if ! wait_for "$OUT" "NET-1-UP" 90; then
			vb_fail "eth0 not up in 90 s"
			continue
		fi
		guest_send "ping -c 2 -W 3 $HOST_IP >/dev/null && wget -q -O /tmp/in http://$HOST_IP:8001/h2g; echo VB-\$((2+2))=\$(md5sum </tmp/in | cut -d' ' -f1)"
		if ! wait_for "$OUT" "VB-4=" 90; then
			vb_fail "no transfer in 90 s"
			continue
		fi
		check "boot $i: eth0 up, the host reached, 4 MiB to the guest, checksums match" has "$OUT" "VB-4=$want"
		guest_send 'poweroff -f'
		guest_wait
		[ "$RC" = 0 ] || not_ok "boot $i: exit $(rc_text "$RC") after poweroff"
	done
	kill $(pidof httpd) 2>/dev/null
	finish
	;;
esac

# a tap that cannot be created: one line before the guest starts
lkvm_run bad-tap 60 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=tap,tapif=this-name-is-far-too-long"
if [ "$RC" != 0 ] && [ "$(grep -c '[^[:space:]]' "$ERR")" = 1 ] && ! booted "$OUT"; then
	ok "impossible tap: one-line error: $(tr -s ' ' <"$ERR")"
else
	not_ok "impossible tap: exit $RC, $(grep -c '[^[:space:]]' "$ERR") lines"
fi

guest_start net 200 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=tap,tapif=$TAP" -p quiet
if ! wait_for "$OUT" "l2# " 100; then
	guest_kill
	not_ok "no guest shell [$(guest_tail)]"
	finish
fi
ip addr add $HOST_IP/24 dev $TAP && ip link set $TAP up
guest_send "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; echo MAC=\$(cat /sys/class/net/eth0/address)"
check "guest has eth0 with lkvm's stable MAC" wait_for "$OUT" "MAC=02:4c:4b" 30
guest_send "ping -c 3 -W 3 $HOST_IP >/dev/null && echo PING-\$((1+1))-OK"
check "guest pings the host" wait_for "$OUT" "PING-2-OK" 40
check "host pings the guest" sh -c "ping -c 2 -W 5 $GUEST_IP >>'$LOG' 2>&1"

# guest -> host: the guest serves a 4 MiB file over HTTP (busybox httpd), the host fetches it
guest_send "mkdir -p /tmp/www; dd if=/dev/urandom of=/tmp/www/blob bs=4096 count=1024 2>/dev/null; httpd -p 8000 -h /tmp/www; echo GSUM-\$((1))=\$(md5sum </tmp/www/blob | cut -d' ' -f1) \$(wc -c </tmp/www/blob)"
wait_for "$OUT" "GSUM-1=" 60
t0=$(now_cs)
wget -q -O "$WORK/g2h.recv" "http://$GUEST_IP:8000/blob" >>"$LOG" 2>&1
t1=$(now_cs)
gsum=$(tr -d '\r' <"$OUT" | sed -n 's/^GSUM-1=\([0-9a-f]*\) 4194304$/\1/p' | head -n 1)
hsum=$(md5sum <"$WORK/g2h.recv" | cut -d' ' -f1)
got=$(wc -c <"$WORK/g2h.recv")
check "4 MiB guest -> host: ${got} bytes in $(cs_fmt $((t1 - t0))) s, checksums match" [ -n "$gsum" -a "$gsum" = "$hsum" -a "$got" -eq 4194304 ]

# host -> guest: the host serves a 4 MiB file, the guest fetches it
mkdir -p "$WORK/www"
dd if=/dev/urandom of="$WORK/www/h2g" bs=4096 count=1024 2>/dev/null
want=$(md5sum <"$WORK/www/h2g" | cut -d' ' -f1)
httpd -p 8001 -h "$WORK/www"
guest_send "wget -q -O /tmp/in http://$HOST_IP:8001/h2g; echo RSUM-\$((3))=\$(md5sum </tmp/in | cut -d' ' -f1) \$(wc -c </tmp/in)"
wait_for "$OUT" "RSUM-3=" 90
check "4 MiB host -> guest: checksums match" has "$OUT" "RSUM-3=$want 4194304"
pkill -f "httpd -p 8001" 2>/dev/null || kill $(pidof httpd) 2>/dev/null
guest_send 'poweroff -f'
guest_wait
check "net guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]

# the same NIC over the other transports: pci with MSI-X (gicv3-its) and mmio; ping both ways
for t in auto intx mmio; do
	case $t in
	auto) args="" want_direct=2 ;; # no --irqchip: a vhost NIC over pci makes lkvm take the ITS (MSI-X, irqfds)
	intx) args="--irqchip gicv3" want_direct=0 ;; # no ITS: INTx is level-triggered, lkvm keeps the ISR: through it
	mmio) args="--virtio-transport mmio" want_direct=2 ;;
	esac
	# shellcheck disable=SC2086
	guest_start "net-$t" 150 run -c 1 -m 256 $args -k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=tap,tapif=$TAP" -p quiet
	if ! wait_for "$OUT" "l2# " 100; then
		guest_kill
		not_ok "$t: no guest shell [$(guest_tail)]"
		continue
	fi
	ip addr add $HOST_IP/24 dev $TAP 2>/dev/null
	ip link set $TAP up
	guest_send "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; ping -c 2 -W 3 $HOST_IP >/dev/null && echo PING-\$((5+5))-OK"
	check "$t: guest pings the host" wait_for "$OUT" "PING-10-OK" 40
	check "$t: host pings the guest" sh -c "ping -c 2 -W 5 $GUEST_IP >>'$LOG' 2>&1"
	guest_send 'poweroff -f'
	guest_wait
	check "$t: net guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
done

# the NIC over MSI-X through the ITS, saved --stop while idle, restored: the first interrupt it raises after the
# restore (a packet on its new tap may come at once) must reach the guest; it was refused while the ITS had not got
# its tables back, and with the used ring's event index the guest never heard from the queue again
guest_start net-its 200 run -c 1 -m 256 --name netits --irqchip gicv3-its -k "$L2_KERNEL" -i "$L2_INITRD" \
	-n "mode=tap,tapif=$TAP" -p quiet
if wait_for "$OUT" "l2# " 100; then
	ip addr add $HOST_IP/24 dev $TAP 2>/dev/null
	ip link set $TAP up
	guest_send "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; ping -c 2 -W 3 $HOST_IP >/dev/null && echo PING-\$((6+6))-OK"
	check "its: guest pings the host" wait_for "$OUT" "PING-12-OK" 40
	mac1=$(cat /sys/class/net/$TAP/address 2>/dev/null)
	sleep 2
	"$LKVM" save --name netits --stop "$WORK/netits.snap" >>"$LOG" 2>&1
	guest_wait
	check "its: save --stop while the NIC is idle: exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	guest_start net-its-r 200 restore "$WORK/netits.snap"
	guest_send "echo NETITS-\$((3+3))"
	wait_for "$OUT" "NETITS-6" 60
	ip addr add $HOST_IP/24 dev $TAP 2>/dev/null
	ip link set $TAP up
	# lkvm made the tap anew, with the MAC it had: the guest's ARP entry for the host still holds, so the guest
	# can speak first
	mac2=$(cat /sys/class/net/$TAP/address 2>/dev/null)
	check "its: the new tap has the old one's MAC, derived from the VM's name ($mac1, then $mac2)" \
		sh -c "[ -n '$mac1' ] && [ '$mac1' = '$mac2' ] && echo '$mac1' | grep -q '^06:4c:4b:'"
	guest_send "ping -c 3 -W 3 $HOST_IP >/dev/null && echo PING-\$((7+7))-OK"
	check "its: restored from an idle save: the guest pings the host" wait_for "$OUT" "PING-14-OK" 40
	check "its: restored from an idle save: the host pings the guest" sh -c "ping -c 2 -W 5 $GUEST_IP >>'$LOG' 2>&1"
	check "its: no interrupt refused after the restore" sh -c "! grep -q 'was not delivered' '$ERR'"
	guest_send 'poweroff -f'
	guest_wait
	check "its: restored net guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
else
	guest_kill
	not_ok "its: no guest shell [$(guest_tail)]"
fi
rm -f "$WORK/netits.snap"

# ---- vhost=on ----
if [ ! -e /dev/vhost-net ]; then
	lkvm_run no-vhost 60 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=tap,tapif=$TAP,vhost=on"
	if [ "$RC" = 1 ] && [ "$(nonempty_lines "$ERR")" = 1 ] && has "$ERR" vhost_net && ! booted "$OUT"; then
		ok "vhost: no /dev/vhost-net: exit 1, one line: $(first_line "$ERR" | tr -s ' ')"
	else
		not_ok "vhost: no /dev/vhost-net: exit $RC, $(nonempty_lines "$ERR") lines: $(first_line "$ERR")"
	fi
	for m in $(cat /lib/modules-l1-vhost/order 2>/dev/null); do
		insmod "/lib/modules-l1-vhost/$m.ko" >>"$LOG" 2>&1
	done
fi
if [ ! -e /dev/vhost-net ]; then
	not_ok "vhost: /dev/vhost-net is missing after loading the vhost_net module"
	finish
fi

# vhost_guest TAG WAIT ARGS...: a vhost=on guest (WAIT: what its console shows when ready), the tap at HOST_IP;
# 1 if it never gets there
vhost_guest() {
	_vt=$1
	_vw=$2
	shift 2
	guest_start "$_vt" 400 "$@"
	[ "$_vw" = "l2# " ] || guest_send "echo $_vw"
	if ! wait_for "$OUT" "$_vw" 100; then
		guest_kill
		not_ok "$_vt: no guest shell [$(guest_tail)]"
		return 1
	fi
	ip addr add $HOST_IP/24 dev $TAP 2>/dev/null
	ip link set $TAP up
	return 0
}
# the kernel thread vhost-net runs for lkvm's process
vhost_thread() { ps -o pid,comm 2>/dev/null | grep -c "vhost-$(pidof lkvm | cut -d' ' -f1)"; }

# irq_paths SOCK: scrape lkvm's metrics; direct = net0's queues whose vhost interrupts go through KVM (irqfd),
# raised = the interrupts lkvm itself raised for net0
irq_paths() {
	"$TOOLS/mscrape" "$1" >"$WORK/irq.prom" 2>>"$LOG"
	direct=$(grep -c '^lkvm_virtio_queue_kernel_interrupts{.*device="net0".* 1$' "$WORK/irq.prom")
	raised=$(grep '^lkvm_virtio_queue_interrupts_total{.*device="net0"' "$WORK/irq.prom" | awk '{ s += $NF } END { print s + 0 }')
}

# MSI-X (the ITS): vhost's call eventfds become irqfds on MSI routes
vhost_guest vhost "l2# " run -c 1 -m 256 --name vh --irqchip gicv3-its --metrics "unix:$WORK/vh.sock" \
	-k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=tap,tapif=$TAP,vhost=1" -p quiet || finish
guest_send "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; ping -c 3 -W 3 $HOST_IP >/dev/null && echo VPING-\$((2+5))-OK"
check "vhost: guest pings the host" wait_for "$OUT" "VPING-7-OK" 40
check "vhost: host pings the guest" sh -c "ping -c 2 -W 5 $GUEST_IP >>'$LOG' 2>&1"
check "vhost: the kernel's vhost thread of lkvm runs ($(vhost_thread))" [ "$(vhost_thread)" -ge 1 ]
guest_send "mkdir -p /tmp/www; dd if=/dev/urandom of=/tmp/www/blob bs=4096 count=1024 2>/dev/null; httpd -p 8000 -h /tmp/www; echo VSUM-\$((1))=\$(md5sum </tmp/www/blob | cut -d' ' -f1)"
wait_for "$OUT" "VSUM-1=" 60
t0=$(now_cs)
wget -q -O "$WORK/vg2h.recv" "http://$GUEST_IP:8000/blob" >>"$LOG" 2>&1
t1=$(now_cs)
gsum=$(tr -d '\r' <"$OUT" | sed -n 's/^VSUM-1=\([0-9a-f]*\)$/\1/p' | head -n 1)
check "vhost: 4 MiB guest -> host in $(cs_fmt $((t1 - t0))) s, checksums match" \
	[ -n "$gsum" -a "$gsum" = "$(md5sum <"$WORK/vg2h.recv" | cut -d' ' -f1)" ]
httpd -p 8001 -h "$WORK/www"
t0=$(now_cs)
guest_send "wget -q -O /tmp/in http://$HOST_IP:8001/h2g; echo VRSUM-\$((3))=\$(md5sum </tmp/in | cut -d' ' -f1)"
wait_for "$OUT" "VRSUM-3=" 90
t1=$(now_cs)
check "vhost: 4 MiB host -> guest (~$(cs_fmt $((t1 - t0))) s with the console round trip), checksums match" has "$OUT" "VRSUM-3=$want"
irq_paths "unix:$WORK/vh.sock"
check "vhost: MSI-X: both queues interrupt the guest through KVM ($direct of 2 wired), lkvm raised $raised of them" \
	[ "$direct" = 2 -a "$raised" = 0 ]

# a save while a 32 MiB transfer runs; the VM runs on (vhost detached for the save, then reattached from its indices)
dd if=/dev/urandom of="$WORK/www/big" bs=65536 count=512 2>/dev/null
big=$(md5sum <"$WORK/www/big" | cut -d' ' -f1)
guest_send "rm -f /tmp/in; (wget -q -O /tmp/big http://$HOST_IP:8001/big; echo BIG1-\$((4+4))=\$(md5sum </tmp/big | cut -d' ' -f1) \$(wc -c </tmp/big)) &"
sleep 1
"$LKVM" save --name vh "$WORK/vh1.snap" >>"$LOG" 2>&1
src=$?
wait_for "$OUT" "BIG1-8=" 240
check "vhost: save (exit $src) in the middle of a 32 MiB host -> guest transfer, the VM ran on: all 32 MiB, checksums match" \
	has "$OUT" "BIG1-8=$big 33554432"
rm -f "$WORK/vh1.snap"

# save --stop in the middle of another, restore (a new tap, a new vhost), then the transfer retried
guest_send "rm -f /tmp/big; (wget -q -O /tmp/big http://$HOST_IP:8001/big; echo BIG2-\$((5+5))=\$(md5sum </tmp/big | cut -d' ' -f1)) &"
sleep 1
"$LKVM" save --name vh --stop "$WORK/vh2.snap" >>"$LOG" 2>&1
guest_wait
check "vhost: save --stop in the middle of a transfer: exit 0 ($(rc_text "$RC")), $(du -k "$WORK/vh2.snap" | cut -f1) KiB" [ "$RC" = 0 ]
vhost_guest vhost-restored "RESTORED-OK" restore --metrics "unix:$WORK/vh-r.sock" "$WORK/vh2.snap" || finish
guest_send "echo PART-\$((6+6))=\$(wc -c </tmp/big)"
wait_for "$OUT" "PART-12=" 60
part=$(tr -d '\r' <"$OUT" | sed -n 's/^PART-12=\([0-9]*\)$/\1/p' | head -n 1)
guest_send "wget -q -O /tmp/big2 http://$HOST_IP:8001/big; echo BIG3-\$((7+7))=\$(md5sum </tmp/big2 | cut -d' ' -f1)"
check "vhost: restored (the first try had ${part:-?} bytes), the transfer retried: 32 MiB, checksums match" \
	wait_for "$OUT" "BIG3-14=$big" 240
check "vhost: the restored lkvm has its own vhost thread ($(vhost_thread))" [ "$(vhost_thread)" -ge 1 ]
irq_paths "unix:$WORK/vh-r.sock"
check "vhost: restored: the MSI routes wired again ($direct of 2 queues), lkvm raised $raised interrupts" \
	[ "$direct" = 2 -a "$raised" = 0 ]
check "vhost: no guest driver error reported" sh -c "! grep -q 'driver error' '$ERR'"
# and saved --stop again, idle (nothing in flight), restored: vhost's first completion must interrupt the guest
sleep 2
"$LKVM" save --name vh --stop "$WORK/vh3.snap" >>"$LOG" 2>&1
guest_wait
check "vhost: save --stop while idle: exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
vhost_guest vhost-idle "RESTORED2-OK" restore "$WORK/vh3.snap" || finish
check "vhost: restored from an idle save: the host pings the guest" sh -c "ping -c 2 -W 5 $GUEST_IP >>'$LOG' 2>&1"
guest_send "ping -c 3 -W 3 $HOST_IP >/dev/null && echo VPING-\$((9+9))-OK"
check "vhost: restored from an idle save: the guest pings the host" wait_for "$OUT" "VPING-18-OK" 40
guest_send 'poweroff -f'
guest_wait
check "vhost: restored guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
rm -f "$WORK/vh2.snap" "$WORK/vh3.snap"

for t in auto intx mmio; do
	case $t in
	auto) args="" want_direct=2 ;; # no --irqchip: a vhost NIC over pci makes lkvm take the ITS (MSI-X, irqfds)
	intx) args="--irqchip gicv3" want_direct=0 ;; # no ITS: INTx is level-triggered, lkvm keeps the ISR: through it
	mmio) args="--virtio-transport mmio" want_direct=2 ;;
	esac
	# shellcheck disable=SC2086
	vhost_guest "vhost-$t" "l2# " run -c 1 -m 256 $args --metrics "unix:$WORK/vh-$t.sock" -k "$L2_KERNEL" \
		-i "$L2_INITRD" -n "mode=tap,tapif=$TAP,vhost=on" -p quiet || continue
	guest_send "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; ping -c 2 -W 3 $HOST_IP >/dev/null && echo VPING-\$((6+5))-OK"
	check "vhost $t: guest pings the host" wait_for "$OUT" "VPING-11-OK" 40
	check "vhost $t: host pings the guest" sh -c "ping -c 2 -W 5 $GUEST_IP >>'$LOG' 2>&1"
	guest_send "wget -q -O /tmp/in http://$HOST_IP:8001/h2g; echo VTSUM-\$((4))=\$(md5sum </tmp/in | cut -d' ' -f1)"
	wait_for "$OUT" "VTSUM-4=" 90
	check "vhost $t: 4 MiB host -> guest, checksums match" has "$OUT" "VTSUM-4=$want"
	irq_paths "unix:$WORK/vh-$t.sock"
	if [ "$want_direct" = 2 ]; then
		check "vhost $t: both queues interrupt the guest through KVM ($direct of 2 wired), lkvm raised $raised" \
			[ "$direct" = 2 -a "$raised" = 0 ]
	else
		check "vhost $t: the interrupts go through lkvm ($direct queues wired to KVM, lkvm raised $raised)" \
			[ "$direct" = 0 -a "$raised" -gt 0 ]
	fi
	guest_send 'poweroff -f'
	guest_wait
	check "vhost $t: powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
done
kill $(pidof httpd) 2>/dev/null
finish
