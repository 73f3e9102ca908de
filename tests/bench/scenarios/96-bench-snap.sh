# 96-bench-snap.sh - benchmarks: save time, restore-to-running time and snapshot size of a 256 MiB, 1-vCPU guest
# (Debian kernel, busybox counting in a loop), and the size relative to the guest memory it has touched.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

cs() { uptime_s; echo $((${UP%.*} * 100 + ${UP#*.})); }
# guest RAM resident in lkvm (the memfd mapping in smaps), KiB: the pages the guest has touched
touched_kib() { awk '/^[0-9a-f]+-[0-9a-f]+ /{m = ($0 ~ /memfd:/)} $1 == "Rss:" && m {k += $2} END {print k + 0}' /proc/"$1"/smaps; }
vm_pid() { "$LKVM" stat --name "$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p'; }

# bg TAG ARGS...: lkvm ARGS in the background, console to $WORK/TAG.out; sets OUT, BGPID
bg() {
	OUT=$WORK/$1.out
	shift
	: >"$OUT"
	log "$LKVM $*"
	"$LKVM" "$@" </dev/null >"$OUT" 2>>"$LOG" &
	BGPID=$!
}
stop_vm() {
	"$LKVM" stop --name "$1" >>"$LOG" 2>&1
	wait "$BGPID" 2>/dev/null
}

i=1
while [ $i -le "$BENCH_RUNS" ]; do
	name=snapb$i
	snap=$WORK/bench-$i.snap
	bg "snapb-$i" run -c 1 -m 256 --name "$name" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
	if ! wait_for "$OUT" "COUNT 3 " 100; then
		kill "$BGPID" 2>/dev/null
		wait "$BGPID" 2>/dev/null
		missed "snapshot run $i: guest never counted"
		i=$((i + 1))
		continue
	fi
	touched=$(touched_kib "$(vm_pid "$name")")
	t0=$(cs)
	"$LKVM" save --name "$name" "$snap" >>"$LOG" 2>&1
	src=$?
	t1=$(cs)
	stop_vm "$name"
	if [ "$src" != 0 ] || [ ! -s "$snap" ]; then
		missed "snapshot run $i: save failed"
		i=$((i + 1))
		continue
	fi
	size=$(wc -c <"$snap")
	# restore-to-running: until the restored VM answers on its control socket (it listens as the vCPUs start)
	t2=$(cs)
	bg "snapr-$i" restore "$snap"
	while ! "$LKVM" stat --name "$name" >/dev/null 2>&1; do
		kill -0 "$BGPID" 2>/dev/null || break
		sleep 0.05
	done
	t3=$(cs)
	ran=no
	n=$(tr -d '\r' <"$WORK/snapb-$i.out" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | tail -n 1)
	wait_for "$OUT" "COUNT $((n + 1)) " 30 && ran=yes
	stop_vm "$name"
	if [ "$ran" = yes ]; then
		bench snap_save_s $i "$(fdiv $((t1 - t0)) 100 %.2f)" s
		bench snap_restore_s $i "$(fdiv $((t3 - t2)) 100 %.2f)" s
		bench snap_size_mib $i "$(fdiv "$size" 1048576 %.2f)" MiB
		bench snap_touched_mib $i "$(fdiv "$touched" 1024 %.1f)" MiB
		bench snap_ratio $i "$(fdiv "$size" $((touched * 1024)) %.3f)" ratio
		diag "run $i: save $(fdiv $((t1 - t0)) 100 %.2f) s, restore $(fdiv $((t3 - t2)) 100 %.2f) s, $size bytes, touched $touched KiB"
	else
		missed "snapshot run $i: restored guest did not continue"
	fi
	rm -f "$snap"
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS save/restore cycles"
