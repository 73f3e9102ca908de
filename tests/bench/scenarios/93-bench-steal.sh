# 93-bench-steal.sh - benchmarks: stolen time. A 1-vCPU guest keeps its vCPU busy while a busy loop is pinned to the
# same L1 CPU as the vCPU thread. lkvm (--pvtime): per interval, (PV-time record delta) / (host run-delay delta of
# that thread), both read by one `lkvm stat --steal`; lkvm and the reference VMM (stolen time on by default): the
# steal the guest kernel accounted (/proc/stat). With a reference, each round boots one guest per VMM (alternating)
# for one interval; without, one lkvm guest runs all the intervals.
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
# vcpu_tid COMM [PID]: the thread called COMM (of process PID, else of any process)
vcpu_tid() {
	for t in /proc/${2:-[0-9]*}/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] && { basename "$t"; return; }
	done
}

# steal_guest lkvm|ref NINT RUN0: one guest busy for NINT intervals of INTERVAL s, reported as runs RUN0+1...
steal_guest() {
	_w=$1
	_n=$2
	_r0=$3
	_tag=steal
	[ "$_w" = ref ] && _tag=ref-steal
	[ "$_r0" -gt 0 ] && _tag=$_tag-$((_r0 + 1))
	_tmo=$((60 + _n * INTERVAL + 60))
	_p="quiet l2.run=bench-steal l2.wait=3 l2.secs=$INTERVAL l2.intervals=$_n l2.settle=1"
	if [ "$_w" = ref ]; then
		with_vmm ref guest_start $_tag $_tmo run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_BENCH_INITRD" -p "$_p"
	else
		guest_start $_tag $_tmo run --pvtime -c 1 -m 256 --name $NAME -k "$L2_KERNEL" -i "$L2_BENCH_INITRD" -p "$_p"
	fi
	if ! wait_for "$OUT" STEAL-READY 100; then
		guest_kill
		missed "$(vmm_label "$_w") stolen time (guest never reached STEAL-READY: $(rc_text "$RC"))"
		return
	fi
	if [ "$_w" = ref ]; then
		tid=$(vcpu_tid $REF_VCPU)
	else
		pid=$("$LKVM" stat --name $NAME 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
		tid=$(vcpu_tid lkvm-vcpu-0 "$pid")
	fi
	if [ -z "$tid" ]; then
		guest_kill
		missed "$(vmm_label "$_w") stolen time (no vCPU 0 thread found)"
		return
	fi
	taskset -p -c $PIN_CPU "$tid" >>"$LOG" 2>&1
	hog_start
	if ! wait_for "$OUT" BSTEAL-BUSY 30; then
		missed "$(vmm_label "$_w") stolen time (guest never started its busy loop)"
	fi
	has "$OUT" PV-ENABLED=yes ||
		diag "$(vmm_label "$_w"): guest kernel did not report 'arm-pv: using stolen time PV'"
	sleep 1
	if [ "$_w" = lkvm ]; then
		set -- $(stat_sample)
		s0=${1:-} e0=${2:-} d0=${3:-}
		i=1
		while [ $i -le "$_n" ] && [ -n "$s0" ] && [ -n "$d0" ]; do
			sleep $INTERVAL
			set -- $(stat_sample)
			s1=${1:-} e1=${2:-} d1=${3:-}
			if [ -z "$s1" ] || [ -z "$d1" ]; then
				missed "stolen time interval $((_r0 + i)) (lkvm stat --steal gave no values)"
				break
			fi
			ds=$((s1 - s0)) de=$((e1 - e0)) dd=$((d1 - d0))
			if [ "$dd" -gt 0 ]; then
				ratio=$(fdiv "$ds" "$dd" %.4f)
				hpct=$(fdiv $((ds * 100)) "$de" %.1f)
				bench steal_ratio $((_r0 + i)) "$ratio" ratio
				bench steal_record_pct $((_r0 + i)) "$hpct" %
				diag "interval $((_r0 + i)): record +$ds ns, run delay +$dd ns, ratio $ratio; stolen $hpct% of $((de / 1000000)) ms"
			else
				missed "stolen time interval $((_r0 + i)) (host run delay did not grow: is the busy loop pinned?)"
			fi
			s0=$s1 e0=$e1 d0=$d1
			i=$((i + 1))
		done
	fi
	wait_for "$OUT" BSTEAL-DONE $((_n * INTERVAL + 30))
	hog_stop
	guest_wait
	# the guest's own intervals (same length, started when its busy loop settled):
	# BSTEAL-PCT run=I pct=P wall_pct=W steal_ticks=S total_ticks=T wall_s=X
	_k=0
	sed -n 's/.*BSTEAL-PCT run=\([0-9]*\) pct=\([0-9.]*\) wall_pct=\([0-9.]*\) steal_ticks=\([0-9]*\) total_ticks=\([0-9]*\) wall_s=\([0-9.]*\).*/\1 \2 \3 \4 \5 \6/p' \
		"$OUT" >"$WORK/$_tag-guest.txt"
	while read -r r p wp st tt ws; do
		bench_v "$_w" steal_guest_pct $((_r0 + r)) "$p" %
		bench_v "$_w" steal_guest_wall_pct $((_r0 + r)) "$wp" %
		diag "$(vmm_label "$_w") guest interval $((_r0 + r)): $st steal ticks of $tt accounted ($p%), $wp% of ${ws} s wall time"
		_k=$((_k + 1))
	done <"$WORK/$_tag-guest.txt"
	[ "$_k" -gt 0 ] || missed "$(vmm_label "$_w") guest steal % (no BSTEAL-PCT lines; guest $(rc_text "$RC"))"
}

if ! l2_bench_initrd; then
	missed "stolen time (no L2 bench overlay $BENCH_DIR/l2-extra.cpio)"
	bench_finish ""
fi
vmm_rounds steal_guest
bench_ratio steal_guest_pct steal_guest_ratio
bench_ratio steal_guest_wall_pct steal_guest_wall_ratio
bench_finish "$BENCH_RUNS intervals of $INTERVAL s under contention${REF:+, one guest per VMM and round}"
