# 42-virtio-net.sh - virtio-net on a tap: ping both ways and a 4 MiB transfer each way with matching checksums.
# timeout: 240
. "$(dirname "$0")/lib.sh"

TAP=lkvmtap0
HOST_IP=10.0.2.1
GUEST_IP=10.0.2.15
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

# guest -> host
dd if=/dev/urandom of="$WORK/h2g" bs=1024 count=4096 2>/dev/null
nc -l -p 5000 >"$WORK/g2h.recv" &
NCPID=$!
sleep 1
guest_send "dd if=/dev/urandom of=/tmp/blob bs=4096 count=1024 2>/dev/null; echo GSUM-\$((1))=\$(md5sum </tmp/blob | cut -d' ' -f1) \$(wc -c </tmp/blob)"
wait_for "$OUT" "GSUM-1=" 60
guest_send "nc -w 3 $HOST_IP 5000 </tmp/blob; echo SENT-\$((1))"
wait_for "$OUT" "SENT-1" 90
# the guest's nc returns once its socket buffer holds the data; the host's ends at the guest's FIN
i=0
while kill -0 "$NCPID" 2>/dev/null && [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
kill "$NCPID" 2>/dev/null
wait "$NCPID" 2>/dev/null
gsum=$(tr -d '\r' <"$OUT" | sed -n 's/^GSUM-1=\([0-9a-f]*\) 4194304$/\1/p' | head -n 1)
hsum=$(md5sum <"$WORK/g2h.recv" | cut -d' ' -f1)
check "4 MiB guest -> host: checksums match ($(wc -c <"$WORK/g2h.recv") bytes, $hsum)" [ -n "$gsum" -a "$gsum" = "$hsum" -a "$(wc -c <"$WORK/g2h.recv")" -eq 4194304 ]

# host -> guest
guest_send "nc -l -p 5001 >/tmp/in & echo LISTEN-\$((2))"
wait_for "$OUT" "LISTEN-2" 30
sleep 1
nc -w 3 $GUEST_IP 5001 <"$WORK/h2g" >>"$LOG" 2>&1
want=$(md5sum <"$WORK/h2g" | cut -d' ' -f1)
guest_send "sleep 2; echo RSUM-\$((3))=\$(md5sum </tmp/in | cut -d' ' -f1) \$(wc -c </tmp/in)"
wait_for "$OUT" "RSUM-3=" 60
check "4 MiB host -> guest: checksums match" has "$OUT" "RSUM-3=$want"
guest_send 'poweroff -f'
guest_wait
check "net guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
