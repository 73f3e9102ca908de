# 63-net-user-probe.sh - why user mode's L1 -> guest rate is erratic: passt started by hand with -d (its debug log),
# lkvm connected with socket=PATH; PROBE_N (10) timed 16 MiB wgets by the guest from L1's httpd, and per run the passt
# log lines that appeared (frames dropped for a short send, retransmits); then as many with the passt lkvm starts
# (its socket's buffers sized by lkvm), rates only.
# manual: a diagnosis, not a test (run-l1.sh --scenarios net-user-probe)
# timeout: 1500
. "$(dirname "$0")/lib.sh"
command -v passt >/dev/null 2>&1 || { ok "# SKIP no passt"; finish; }
ip link set lo up 2>/dev/null
MB=16
mkdir -p "$WORK/np"
dd if=/dev/urandom of="$WORK/np/blob" bs=1M count=$MB 2>/dev/null
chmod -R a+rX "$WORK/np"
httpd -p 8091 -h "$WORK/np"
SOCK=$WORK/probe-passt.sock
PLOG=$WORK/probe-passt.log
chmod 777 "$WORK"
passt -f -1 -d -s "$SOCK" -l "$PLOG" --runas 65534:65534 ${PROBE_PASST_ARGS:-} >"$WORK/passt.out" 2>&1 &
PPID_=$!
wait_for "$WORK/passt.out" "" 1
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
check "passt made its socket" [ -S "$SOCK" ]
# probe TAG NSPEC: a guest with -n NSPEC, a lease, then PROBE_N timed fetches; with $PLOG set, passt's log per run
probe() {
	guest_start "$1" 900 run -c 1 -m 512 --name "$1" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet -n "$2"
	wait_for "$OUT" "l2# " 150 || { not_ok "$1: no guest shell [$(guest_tail)]"; return; }
	guest_send "udhcpc -i eth0 -n -q -t 10 -T 3 -s /etc/l2/udhcpc.sh >/dev/null; echo NET-\$((1))-UP"
	wait_for "$OUT" "NET-1-UP" 90 || { not_ok "$1: no lease [$(guest_tail)]"; guest_kill; return; }
	r=1
	while [ $r -le "${PROBE_N:-10}" ]; do
		l0=$(wc -l <"${PLOG:-/dev/null}" 2>/dev/null || echo 0)
		guest_send "a=\$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://10.0.2.2:8091/blob; b=\$(cut -d' ' -f1 /proc/uptime); echo NETB-\$(($r)) a=\$a b=\$b"
		if wait_for "$OUT" "NETB-$r a=" 300; then
			l=$(tr -d '\r' <"$OUT" | grep -m 1 "^NETB-$r a=")
			a=${l#*a=} a=${a%% *} b=${l##*b=}
			v=$(awk -v a="$a" -v b="$b" -v m=$MB 'BEGIN { if (b > a) printf "%.1f", m * 1.048576 / (b - a) }')
			if [ -n "${PLOG:-}" ]; then
				fails=$(tail -n +$((l0 + 1)) "$PLOG" | grep -c 'due to short send')
				ok "$1 run $r: $v MB/s, passt: $fails batches cut short"
				tail -n +$((l0 + 1)) "$PLOG" | sed 's/^[0-9.]* *//' | sort | uniq -c | sort -rn | head -n 6 |
					while read -r x; do diag "$1 run $r passt: $x"; done
			else
				ok "$1 run $r: $v MB/s"
			fi
		else
			not_ok "$1 run $r: no answer [$(guest_tail)]"
		fi
		r=$((r + 1))
	done
	guest_send 'poweroff -f'
	guest_wait
}
probe hand "mode=user,socket=$SOCK"
kill $PPID_ 2>/dev/null
PLOG=
probe own mode=user
finish
