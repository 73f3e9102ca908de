# 99-bench-net.sh - benchmarks: TCP throughput (MB/s) between the guest and L1 over virtio-net, for -n mode=user
# (passt), mode=tap and mode=tap,vhost=on (tapvhost): L1 -> guest (the guest's wget of 16 MiB from L1's busybox httpd, timed in the guest) and
# guest -> L1 (L1's wget of 16 MiB from the guest's httpd; user mode through a hostfwd port), and a request/response
# rate: 50 sequential HTTP GETs of a 64-byte file by the guest (a new TCP connection each). With make bench REF_VMM=
# the reference (kvmtool) runs the same in its -n mode=user (its own stack; it has no port forwarding, so no guest -> L1
# figure), mode=tap and mode=tap,vhost=1, one guest per VMM and mode, and lkvm/reference ratios follow.
# timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

MB=16
mkdir -p "$WORK/netb"
dd if=/dev/urandom of="$WORK/netb/blob" bs=1M count=$MB 2>>"$LOG"
dd if=/dev/urandom of="$WORK/netb/small" bs=64 count=1 2>>"$LOG"
RR=50
chmod -R a+rX "$WORK/netb"
httpd -p 8090 -h "$WORK/netb"
TAP=lkvmbench0
[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200 2>/dev/null; }

# net_guest lkvm|ref MODE: one guest, BENCH_RUNS transfers each way
net_guest() {
	vmm=$1 mode=$2
	lbl=$(vmm_label "$vmm")
	verb=run tag=netb-$mode
	[ "$vmm" = ref ] && verb=run-net tag=ref-netb-$mode
	case $mode in
	user)
		if [ "$vmm" = ref ]; then
			spec="mode=user" host=192.168.33.1 gport='' gaddr=''
		else
			command -v passt >/dev/null 2>&1 || { missed "user mode (no passt)"; return; }
			spec="mode=user,hostfwd=tcp::2290-:80" host=10.0.2.2 gport=2290 gaddr=127.0.0.1
		fi
		;;
	tap) spec="mode=tap,tapif=$TAP" host=192.168.77.1 gport=80 gaddr=192.168.77.2 ;;
	tapvhost)
		if [ ! -e /dev/vhost-net ]; then
			for m in $(cat /lib/modules-l1-vhost/order 2>/dev/null); do
				insmod "/lib/modules-l1-vhost/$m.ko" >>"$LOG" 2>&1
			done
		fi
		[ -e /dev/vhost-net ] || { missed "tap with vhost (no /dev/vhost-net: module vhost_net)"; return; }
		spec="mode=tap,tapif=$TAP,vhost=on" host=192.168.77.1 gport=80 gaddr=192.168.77.2
		[ "$vmm" = ref ] && spec="mode=tap,tapif=$TAP,vhost=1"
		;;
	esac
	with_vmm "$vmm" guest_start "$tag" 900 $verb -c 1 -m 512 -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet -n "$spec"
	if ! wait_for "$OUT" "l2# " 150; then
		guest_kill
		missed "$lbl $mode: no guest shell"
		return
	fi
	if [ "$mode" = user ]; then
		guest_send "udhcpc -i eth0 -n -q -t 10 -T 3 -s /etc/l2/udhcpc.sh >/dev/null; echo NET-\$((1))-UP"
	else
		ip addr add $host/24 dev $TAP 2>/dev/null
		ip link set $TAP up
		guest_send "ip link set eth0 up; ip addr add $gaddr/24 dev eth0; echo NET-\$((1))-UP"
	fi
	wait_for "$OUT" "NET-1-UP" 90 || { guest_kill; missed "$lbl $mode: no network in the guest"; return; }
	guest_send "mkdir -p /tmp/w; dd if=/dev/urandom of=/tmp/w/blob bs=1M count=$MB 2>/dev/null; httpd -p 80 -h /tmp/w; echo SRV-\$((2))-UP"
	wait_for "$OUT" "SRV-2-UP" 60
	r=1
	while [ $r -le "$BENCH_RUNS" ]; do
		guest_send "a=\$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://$host:8090/blob; b=\$(cut -d' ' -f1 /proc/uptime); echo NETB-\$(($r)) a=\$a b=\$b"
		if wait_for "$OUT" "NETB-$r a=" 300; then
			l=$(tr -d '\r' <"$OUT" | grep -m 1 "^NETB-$r a=")
			a=${l#*a=} a=${a%% *} b=${l##*b=}
			v=$(awk -v a="$a" -v b="$b" -v m=$MB 'BEGIN { if (b > a) printf "%.1f", m * 1.048576 / (b - a) }')
			[ -n "$v" ] && bench_v "$vmm" net_${mode}_l1_to_guest_mbs "$r" "$v" MB/s && diag "$lbl $mode run $r: L1 -> guest $v MB/s"
		else
			missed "$lbl $mode run $r: L1 -> guest"
		fi
		guest_send "a=\$(cut -d' ' -f1 /proc/uptime); i=0; while [ \$i -lt $RR ]; do wget -q -O /dev/null http://$host:8090/small || break; i=\$((i+1)); done; b=\$(cut -d' ' -f1 /proc/uptime); echo NETRR-\$(($r)) n=\$i a=\$a b=\$b"
		if wait_for "$OUT" "NETRR-$r n=" 300; then
			l=$(tr -d '\r' <"$OUT" | grep -m 1 "^NETRR-$r n=")
			n=${l#*n=} n=${n%% *} a=${l#*a=} a=${a%% *} b=${l##*b=}
			v=$(awk -v a="$a" -v b="$b" -v n="$n" -v w=$RR 'BEGIN { if (b > a && n == w) printf "%.1f", n / (b - a) }')
			[ -n "$v" ] && bench_v "$vmm" net_${mode}_rr_per_s "$r" "$v" req/s && diag "$lbl $mode run $r: $v HTTP requests/s"
			[ -n "$v" ] || missed "$lbl $mode run $r: request/response ($n of $RR)"
		else
			missed "$lbl $mode run $r: request/response"
		fi
		if [ -n "$gaddr" ]; then
			t0=$(now_cs)
			wget -q -O /dev/null "http://$gaddr:$gport/blob" 2>>"$LOG"
			t1=$(now_cs)
			v=$(awk -v c=$((t1 - t0)) -v m=$MB 'BEGIN { if (c > 0) printf "%.1f", m * 1.048576 * 100 / c }')
			[ -n "$v" ] && bench_v "$vmm" net_${mode}_guest_to_l1_mbs "$r" "$v" MB/s && diag "$lbl $mode run $r: guest -> L1 $v MB/s"
		fi
		r=$((r + 1))
	done
	guest_send 'poweroff -f'
	guest_wait
	[ "$RC" = 0 ] || missed "$lbl $mode guest did not power off cleanly ($(rc_text "$RC"))"
}

i=1
for mode in user tap tapvhost; do
	for vmm in $(vmm_order $i); do net_guest "$vmm" "$mode"; done
	i=$((i + 1))
done
for mode in user tap tapvhost; do
	for m in l1_to_guest_mbs guest_to_l1_mbs rr_per_s; do bench_ratio net_${mode}_$m net_${mode}_${m}_ratio; done
done
kill $(pidof httpd) 2>/dev/null
bench_finish "$BENCH_RUNS runs each way, user mode, tap and tap with vhost-net, $MB MiB each${REF:+, lkvm and the reference}"
