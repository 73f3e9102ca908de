# 91-bench-boot.sh - benchmarks: lkvm start -> L2-INIT-OK (and -> lkvm exit after poweroff), 1 and 2 vCPUs, 256 MiB.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

# boot_once TAG CPUS: one quiet boot that powers off at once; sets T_INIT, T_EXIT (seconds, "" if not seen), RC.
# The console is piped through awk, which reads /proc/uptime (10 ms resolution) when the marker line arrives.
boot_once() {
	OUT=$WORK/$1.out
	ERR=$WORK/$1.err
	log "[$1] $LKVM run -k $L2_KERNEL -i $L2_INITRD -m 256 -c $2 -p 'quiet l2.run=poweroff'"
	uptime_s
	{
		timeout -k 5 120 "$LKVM" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c "$2" -p "quiet l2.run=poweroff" \
			</dev/null 2>"$ERR"
		echo "BENCH-RC $?"
	} | awk -v t0="$UP" '
		function up(  u, a) { getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " "); return a[1] }
		/^BENCH-RC / { te = up(); rc = $2; next }
		{ print }
		/L2-INIT-OK/ && ti == "" { ti = up() }
		END { printf "BENCH-T init=%s exit=%s rc=%s\n", (ti == "" ? "" : sprintf("%.2f", ti - t0)),
			(te == "" ? "" : sprintf("%.2f", te - t0)), rc }' >"$OUT"
	_t=$(grep '^BENCH-T ' "$OUT" | tail -n 1)
	T_INIT=$(echo "$_t" | sed -n 's/.* init=\([0-9.]*\) .*/\1/p')
	T_EXIT=$(echo "$_t" | sed -n 's/.* exit=\([0-9.]*\) .*/\1/p')
	RC=$(echo "$_t" | sed -n 's/.* rc=\([0-9]*\).*/\1/p')
	{
		sed 's/^/out: /' "$OUT"
		sed 's/^/err: /' "$ERR"
	} >>"$LOG"
	log "[$1] init=$T_INIT exit=$T_EXIT rc=$RC"
}

i=1
while [ $i -le "$BENCH_RUNS" ]; do
	line="run $i:"
	for c in 1 2; do
		boot_once boot-${c}cpu-$i $c
		if [ -n "$T_INIT" ] && [ "$RC" = 0 ]; then
			bench boot_${c}cpu_s $i "$T_INIT" s
			bench boot_${c}cpu_exit_s $i "$T_EXIT" s
			line="$line $c vCPU ${T_INIT} s (exit ${T_EXIT} s);"
		else
			missed "boot $c vCPU run $i (L2-INIT-OK ${T_INIT:-missing}, $(rc_text "${RC:-?}"))"
			line="$line $c vCPU failed;"
		fi
	done
	diag "$line"
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS boots each with 1 and 2 vCPUs"
