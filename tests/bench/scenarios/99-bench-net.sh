# 99-bench-net.sh - benchmarks: TCP throughput (MB/s) between the guest and L1 over virtio-net, for -n mode=user
# (passt), mode=tap and mode=tap,vhost=on (tapvhost): L1 -> guest (the guest's wget of 16 MiB from L1's busybox httpd,
# timed in the guest) and guest -> L1 (L1's wget of 16 MiB from the guest's httpd; user mode through a hostfwd port),
# and a request/response rate: 50 sequential HTTP GETs of a 64-byte file by the guest (a new TCP connection each).
# With make bench REF_VMM= the reference (kvmtool) runs the same in its -n mode=user (its own stack; it has no port
# forwarding, so no guest -> L1 figure), mode=tap and mode=tap,vhost=1, and lkvm/reference ratios follow. For
# each mode, lkvm's guest and the reference's are up together (tap modes: lkvm's on lkvmbench0, 192.168.77.0/24, the
# reference's on lkvmbench1, 192.168.78.0/24) and the runs interleave: run r of one VMM right after run r of the other
# (lkvm first on odd runs), so that each ratio pairs two runs taken seconds apart, not minutes (this machine's speed
# drifts). Without a reference, one lkvm guest per mode does all the runs. Each L1 -> guest run also prints the CPU
# time each thread of the VMM (and its vhost worker) used meanwhile: where a VMM spends what the guest does not.
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
[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200 2>/dev/null; }

# Two guests at once: lib.sh keeps one interactive guest in globals ($OUT, $GUEST_PID, ...) with its console input on
# fd 3. Here each VMM's guest keeps them as lkvm_OUT, ref_OUT, ... and its input is parked on fd 4 (lkvm) or 5 (the
# reference); g_use VMM makes that guest lib.sh's current one (for wait_for and guest_send).
GVARS="OUT ERR GUEST_PID GUEST_TAG GUEST_T0 GUEST_T"
g_fd() { if [ "$1" = ref ]; then echo 5; else echo 4; fi; }
g_save() { for _v in $GVARS; do eval "${1}_$_v=\$$_v"; done; }
g_use() {
	for _v in $GVARS; do eval "$_v=\$${1}_$_v"; done
	[ -z "$GUEST_PID" ] || eval "exec 3>&$(g_fd "$1")"
}
# g_start VMM TAG TIMEOUT_S ARGS...: guest_start with VMM's binary, then its input parked
g_start() {
	_g=$1
	shift
	with_vmm "$_g" guest_start "$@"
	g_save "$_g"
	eval "exec $(g_fd "$_g")>&3 3>&-"
}
# g_stop VMM [kill]: end VMM's guest if it runs: poweroff -f and up to 180 s to exit, else (or with "kill") killed;
# RC as from guest_wait / guest_kill
g_stop() {
	g_use "$1"
	[ -n "$GUEST_PID" ] || return 0
	eval "exec $(g_fd "$1")>&-"
	if [ "${2:-}" != kill ]; then
		guest_send 'poweroff -f'
		exec 3>&- # its input ends too, as guest_wait does (a VMM under ptyrun may wait for that)
		_k=0
		while kill -0 "$GUEST_PID" 2>/dev/null && [ $_k -lt 900 ]; do
			sleep 0.2
			_k=$((_k + 1))
		done
	fi
	if kill -0 "$GUEST_PID" 2>/dev/null; then guest_kill; else guest_wait; fi
	g_save "$1"
}
trap 'g_stop ref kill; g_stop lkvm kill' EXIT
trap 'g_stop ref kill; g_stop lkvm kill; exit 143' TERM INT

# net_addr VMM MODE: host (L1 as VMM's guest sees it), gaddr:gport (the guest's httpd as L1 reaches it; gaddr empty:
# it cannot) and tap (the guest's tap in the tap modes)
net_addr() {
	n=77 tap=lkvmbench0
	[ "$1" = ref ] && n=78 tap=lkvmbench1
	case $1-$2 in
	lkvm-user) host=10.0.2.2 gaddr=127.0.0.1 gport=2290 ;;
	ref-user) host=192.168.33.1 gaddr='' gport='' ;;
	*) host=192.168.$n.1 gaddr=192.168.$n.2 gport=80 ;;
	esac
}

# net_up VMM MODE: boot VMM's guest for MODE with its network up and its httpd serving $MB MiB; fails (the guest
# stopped, the miss noted) otherwise
net_up() {
	vmm=$1 mode=$2
	lbl=$(vmm_label "$vmm")
	net_addr "$vmm" "$mode"
	verb=run tag=netb-$mode
	[ "$vmm" = ref ] && verb=run-net tag=ref-netb-$mode
	case $vmm-$mode in
	lkvm-user) spec="mode=user,hostfwd=tcp::$gport-:80" ;;
	ref-user) spec="mode=user" ;;
	*-tap) spec="mode=tap,tapif=$tap" ;;
	lkvm-tapvhost) spec="mode=tap,tapif=$tap,vhost=on" ;;
	ref-tapvhost) spec="mode=tap,tapif=$tap,vhost=1" ;;
	esac
	g_start "$vmm" "$tag" 900 "$verb" -c 1 -m 512 -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet -n "$spec"
	g_use "$vmm"
	if ! wait_for "$OUT" "l2# " 150; then
		g_stop "$vmm" kill
		missed "$lbl $mode: no guest shell [$(guest_tail)]"
		return 1
	fi
	if [ "$mode" = user ]; then
		guest_send "udhcpc -i eth0 -n -q -t 10 -T 3 -s /etc/l2/udhcpc.sh >/dev/null; echo NET-\$((1))-UP"
	else
		ip addr add "$host/24" dev $tap 2>/dev/null
		ip link set $tap up
		guest_send "ip link set eth0 up; ip addr add $gaddr/24 dev eth0; echo NET-\$((1))-UP"
	fi
	if ! wait_for "$OUT" "NET-1-UP" 90; then
		g_stop "$vmm" kill
		missed "$lbl $mode: no network in the guest [$(guest_tail)]"
		return 1
	fi
	guest_send "mkdir -p /tmp/w; dd if=/dev/urandom of=/tmp/w/blob bs=1M count=$MB 2>/dev/null; httpd -p 80 -h /tmp/w; echo SRV-\$((2))-UP"
	wait_for "$OUT" "SRV-2-UP" 60
	return 0
}

# vmm_pid: the VMM process under $GUEST_PID (timeout -> [wrapper -> ptyrun ->] lkvm or kvmtool's lkvm-static): the
# first one named lkvm* (not passt, lkvm's child)
vmm_pid() {
	_p=$GUEST_PID
	while :; do
		case $(cat /proc/$_p/comm 2>/dev/null) in lkvm*) break ;; esac
		_c=$(cat /proc/$_p/task/*/children 2>/dev/null | awk '{ print $1; exit }')
		[ -n "$_c" ] || break
		_p=$_c
	done
	echo "$_p"
}
# cpu_snap PID FILE: CPU ticks (user + system) of each thread of PID and of its vhost worker ("TID NAME TICKS")
cpu_snap() {
	for _t in /proc/$1/task/*; do
		awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$_t/stat" 2>/dev/null | sed "s|^|${_t##*/} $(cat "$_t/comm" 2>/dev/null | tr ' ' _) |"
	done >"$2"
	for _d in /proc/[0-9]*; do
		[ "$(cat "$_d/comm" 2>/dev/null)" = "vhost-$1" ] || continue
		awk '{ sub(/^.*\) /, ""); print "vhost vhost-worker", $12 + $13 }' "$_d/stat"
	done >>"$2"
}
# cpu_delta BEFORE AFTER: "NAME=MS ..." for the threads that ran (ticks are 10 ms), largest first
cpu_delta() {
	awk 'NR == FNR { b[$1] = $3; next } { d = $3 - b[$1]; if (d > 0) t[$2] += d * 10 }
		END { for (n in t) print t[n], n }' "$1" "$2" | sort -rn | awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }'
}

# net_run VMM MODE R: run R in VMM's guest (up): L1 -> guest, request/response, guest -> L1
net_run() {
	vmm=$1 mode=$2 r=$3
	lbl=$(vmm_label "$vmm")
	net_addr "$vmm" "$mode"
	g_use "$vmm"
	vp=$(vmm_pid)
	cpu_snap "$vp" "$WORK/cpu0"
	guest_send "a=\$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://$host:8090/blob; b=\$(cut -d' ' -f1 /proc/uptime); echo NETB-\$(($r)) a=\$a b=\$b"
	if wait_for "$OUT" "NETB-$r a=" 300; then
		cpu_snap "$vp" "$WORK/cpu1"
		diag "$lbl $mode run $r: L1 -> guest, CPU ms by thread (pid $vp): $(cpu_delta "$WORK/cpu0" "$WORK/cpu1")"
		l=$(tr -d '\r' <"$OUT" | grep -m 1 "^NETB-$r a=")
		a=${l#*a=} a=${a%% *} b=${l##*b=}
		v=$(awk -v a="$a" -v b="$b" -v m=$MB 'BEGIN { if (b > a) printf "%.1f", m * 1.048576 / (b - a) }')
		[ -n "$v" ] && bench_v "$vmm" "net_${mode}_l1_to_guest_mbs" "$r" "$v" MB/s && diag "$lbl $mode run $r: L1 -> guest $v MB/s"
	else
		missed "$lbl $mode run $r: L1 -> guest"
	fi
	guest_send "a=\$(cut -d' ' -f1 /proc/uptime); i=0; while [ \$i -lt $RR ]; do wget -q -O /dev/null http://$host:8090/small || break; i=\$((i+1)); done; b=\$(cut -d' ' -f1 /proc/uptime); echo NETRR-\$(($r)) n=\$i a=\$a b=\$b"
	if wait_for "$OUT" "NETRR-$r n=" 300; then
		l=$(tr -d '\r' <"$OUT" | grep -m 1 "^NETRR-$r n=")
		n=${l#*n=} n=${n%% *} a=${l#*a=} a=${a%% *} b=${l##*b=}
		v=$(awk -v a="$a" -v b="$b" -v n="$n" -v w=$RR 'BEGIN { if (b > a && n == w) printf "%.1f", n / (b - a) }')
		[ -n "$v" ] && bench_v "$vmm" "net_${mode}_rr_per_s" "$r" "$v" req/s && diag "$lbl $mode run $r: $v HTTP requests/s"
		[ -n "$v" ] || missed "$lbl $mode run $r: request/response ($n of $RR)"
	else
		missed "$lbl $mode run $r: request/response"
	fi
	if [ -n "$gaddr" ]; then
		t0=$(now_cs)
		wget -q -O /dev/null "http://$gaddr:$gport/blob" 2>>"$LOG"
		t1=$(now_cs)
		v=$(awk -v c=$((t1 - t0)) -v m=$MB 'BEGIN { if (c > 0) printf "%.1f", m * 1.048576 * 100 / c }')
		[ -n "$v" ] && bench_v "$vmm" "net_${mode}_guest_to_l1_mbs" "$r" "$v" MB/s && diag "$lbl $mode run $r: guest -> L1 $v MB/s"
	fi
	return 0
}

# net_mode MODE: the guests of lkvm and of the reference (if any) up together, BENCH_RUNS runs each, interleaved
net_mode() {
	mode=$1
	if [ "$mode" = tapvhost ] && [ ! -e /dev/vhost-net ]; then
		for m in $(cat /lib/modules-l1-vhost/order 2>/dev/null); do
			insmod "/lib/modules-l1-vhost/$m.ko" >>"$LOG" 2>&1
		done
		[ -e /dev/vhost-net ] || { missed "tap with vhost (no /dev/vhost-net: module vhost_net)"; return; }
	fi
	up=
	for vmm in $(vmm_order 1); do
		if [ "$vmm-$mode" = lkvm-user ] && ! command -v passt >/dev/null 2>&1; then
			missed "user mode (no passt)"
		elif net_up "$vmm" "$mode"; then
			up="$up $vmm"
		fi
	done
	run=1
	while [ $run -le "$BENCH_RUNS" ]; do
		for vmm in $(vmm_order $run); do
			case "$up " in *" $vmm "*) net_run "$vmm" "$mode" $run ;; esac
		done
		run=$((run + 1))
	done
	for vmm in $up; do
		g_stop "$vmm"
		[ "$RC" = 0 ] && continue
		# lkvm's exit is part of what is tested; the reference's is not (kvmtool b48735e in mode=user, with lkvm's
		# guest and passt up beside it, does not exit within 180 s of its poweroff -f; its runs were measured all the same)
		if [ "$vmm" = lkvm ]; then
			missed "lkvm $mode guest did not power off cleanly ($(rc_text "$RC"))"
		else
			diag "the reference's $mode guest did not exit after poweroff within 180 s ($(rc_text "$RC")); its figures stand"
		fi
	done
}

for mode in user tap tapvhost; do net_mode $mode; done
for mode in user tap tapvhost; do
	for m in l1_to_guest_mbs guest_to_l1_mbs rr_per_s; do bench_ratio net_${mode}_$m net_${mode}_${m}_ratio; done
done
kill $(pidof httpd) 2>/dev/null
bench_finish "$BENCH_RUNS runs each way, user mode, tap and tap with vhost-net, $MB MiB each${REF:+, lkvm and the reference}"
