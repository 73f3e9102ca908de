# 42-virtio-net.sh - virtio-net on a tap: ping both ways and a 4 MiB transfer each way with matching checksums (pci,
# the default); then ping both ways over pci with MSI-X (gicv3-its) and over mmio.
# (192.168.76.x: L1's own eth0 holds 10.0.2.15 for the bridge to the test machine.)
# timeout: 420
. "$(dirname "$0")/lib.sh"

TAP=lkvmtap0
HOST_IP=192.168.76.1
GUEST_IP=192.168.76.15
if [ ! -c /dev/net/tun ]; then
	mkdir -p /dev/net && mknod /dev/net/tun c 10 200 2>/dev/null
fi

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
	not_ok "no guest shell"
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
for t in pci-its mmio; do
	case $t in
	pci-its) args="--irqchip gicv3-its" ;;
	mmio) args="--virtio-transport mmio" ;;
	esac
	# shellcheck disable=SC2086
	guest_start "net-$t" 150 run -c 1 -m 256 $args -k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=tap,tapif=$TAP" -p quiet
	if ! wait_for "$OUT" "l2# " 100; then
		guest_kill
		not_ok "$t: no guest shell"
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
finish
