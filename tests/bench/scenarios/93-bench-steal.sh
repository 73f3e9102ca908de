# 93-bench-steal.sh - benchmarks: stolen-time accuracy. A 1-vCPU guest (--pvtime) keeps its vCPU busy while a busy
# loop is pinned to the same L1 CPU as the vCPU thread; per interval: (PV-time record delta) / (host run-delay delta
# of that thread), both read by one `lkvm stat --steal`, plus the steal the guest kernel accounted.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

PIN_CPU=1
INTERVAL=5
NAME=bench-steal
HOG=
hog_start() { taskset -c $PIN_CPU sh -c 'while :; do :; done' & HOG=$!; }
hog_stop() { [ -n "$HOG" ] && kill "$HOG" 2>/dev/null; [ -n "$HOG" ] && wait "$HOG" 2>/dev/null; HOG=; }
trap 'hog_stop; guest_kill' EXIT
trap 'hog_stop; guest_kill; exit 143' TERM INT

# stat_sample -> "stolen_ns elapsed_ns run_delay_ns" of vCPU 0
stat_sample() {
	"$LKVM" stat --name "$NAME" --steal 2>>"$LOG" | tee -a "$LOG" | awk '$1 == "0" { print $2, $4, $5 }'
}
vcpu_tid() {
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-vcpu-0 ] && { basename "$t"; return; }
	done
}

if ! l2_bench_initrd; then
	missed "stolen time (no L2 bench overlay $BENCH_DIR/l2-extra.cpio)"
	bench_finish ""
fi
tmo=$((60 + BENCH_RUNS * INTERVAL + 60))
guest_start steal $tmo run --pvtime -c 1 -m 256 --name $NAME -k "$L2_KERNEL" -i "$L2_BENCH_INITRD" \
	-p "quiet l2.run=bench-steal l2.wait=3 l2.secs=$INTERVAL l2.intervals=$BENCH_RUNS l2.settle=1"
if ! wait_for "$OUT" STEAL-READY 100; then
	guest_kill
	missed "stolen time (guest never reached STEAL-READY: $(rc_text "$RC"))"
	bench_finish ""
fi
pid=$("$LKVM" stat --name $NAME 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
tid=$(vcpu_tid "$pid")
if [ -z "$tid" ]; then
	guest_kill
	missed "stolen time (no lkvm-vcpu-0 thread in lkvm pid '$pid')"
	bench_finish ""
fi
taskset -p -c $PIN_CPU "$tid" >>"$LOG" 2>&1
hog_start
if ! wait_for "$OUT" BSTEAL-BUSY 30; then
	missed "stolen time (guest never started its busy loop)"
fi
has "$OUT" PV-ENABLED=yes || diag "guest kernel did not report 'arm-pv: using stolen time PV'"
sleep 1
set -- $(stat_sample)
s0=${1:-} e0=${2:-} d0=${3:-}
i=1
while [ $i -le "$BENCH_RUNS" ] && [ -n "$s0" ] && [ -n "$d0" ]; do
	sleep $INTERVAL
	set -- $(stat_sample)
	s1=${1:-} e1=${2:-} d1=${3:-}
	if [ -z "$s1" ] || [ -z "$d1" ]; then
		missed "stolen time interval $i (lkvm stat --steal gave no values)"
		break
	fi
	ds=$((s1 - s0)) de=$((e1 - e0)) dd=$((d1 - d0))
	if [ "$dd" -gt 0 ]; then
		ratio=$(fdiv "$ds" "$dd" %.4f)
		hpct=$(fdiv $((ds * 100)) "$de" %.1f)
		bench steal_ratio $i "$ratio" ratio
		bench steal_record_pct $i "$hpct" %
		diag "interval $i: record +$ds ns, run delay +$dd ns, ratio $ratio; stolen $hpct% of $((de / 1000000)) ms"
	else
		missed "stolen time interval $i (host run delay did not grow: is the busy loop pinned?)"
	fi
	s0=$s1 e0=$e1 d0=$d1
	i=$((i + 1))
done
hog_stop
wait_for "$OUT" BSTEAL-DONE $((BENCH_RUNS * INTERVAL + 30))
guest_wait
# the guest's own intervals (same length, started when its busy loop settled):
# BSTEAL-PCT run=I pct=P wall_pct=W steal_ticks=S total_ticks=T wall_s=X
n=0
sed -n 's/.*BSTEAL-PCT run=\([0-9]*\) pct=\([0-9.]*\) wall_pct=\([0-9.]*\) steal_ticks=\([0-9]*\) total_ticks=\([0-9]*\) wall_s=\([0-9.]*\).*/\1 \2 \3 \4 \5 \6/p' \
	"$OUT" >"$WORK/steal-guest.txt"
while read -r r p w st tt ws; do
	bench steal_guest_pct "$r" "$p" %
	bench steal_guest_wall_pct "$r" "$w" %
	diag "guest interval $r: $st steal ticks of $tt accounted ($p%), $w% of ${ws} s wall time"
	n=$((n + 1))
done <"$WORK/steal-guest.txt"
[ "$n" -gt 0 ] || missed "guest steal % (no BSTEAL-PCT lines; guest $(rc_text "$RC"))"
bench_finish "$BENCH_RUNS intervals of $INTERVAL s under contention"
