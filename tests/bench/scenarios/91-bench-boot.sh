# 91-bench-boot.sh - benchmarks: VMM start -> L2-INIT-OK (and -> VMM exit after poweroff), 1 and 2 vCPUs, 256 MiB;
# lkvm, and the reference VMM (ref_*, lkvm/reference ratios per round) when there is one, alternating.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

# boot_once lkvm|ref TAG CPUS: one quiet boot that powers off at once; sets T_INIT, T_EXIT (seconds, "" if not
# seen), RC. The console is piped through awk, which reads /proc/uptime (10 ms resolution) when the marker arrives.
boot_once() {
	_bin=$LKVM
	[ "$1" = ref ] && _bin=$REF_RUN
	OUT=$WORK/$2.out
	ERR=$WORK/$2.err
	log "[$2] $_bin run -k $L2_KERNEL -i $L2_INITRD -m 256 -c $3 -p 'quiet l2.run=poweroff'"
	uptime_s
	{
		timeout -k 5 120 "$_bin" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c "$3" -p "quiet l2.run=poweroff" \
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
	log "[$2] init=$T_INIT exit=$T_EXIT rc=$RC"
}

i=1
while [ $i -le "$BENCH_RUNS" ]; do
	line="run $i:"
	for c in 1 2; do
		for w in $(vmm_order $i); do
			tag=boot-${c}cpu-$i
			[ "$w" = ref ] && tag=ref-$tag
			boot_once "$w" "$tag" $c
			if [ -n "$T_INIT" ] && [ "$RC" = 0 ]; then
				bench_v "$w" boot_${c}cpu_s $i "$T_INIT" s
				bench_v "$w" boot_${c}cpu_exit_s $i "$T_EXIT" s
				line="$line $(vmm_label "$w") $c vCPU ${T_INIT} s (exit ${T_EXIT} s);"
			else
				missed "$(vmm_label "$w") boot $c vCPU run $i (L2-INIT-OK ${T_INIT:-missing}, $(rc_text "${RC:-?}"))"
				line="$line $(vmm_label "$w") $c vCPU failed;"
			fi
		done
	done
	diag "$line"
	i=$((i + 1))
done
for c in 1 2; do
	bench_ratio boot_${c}cpu_s boot_${c}cpu_ratio
	bench_ratio boot_${c}cpu_exit_s boot_${c}cpu_exit_ratio
done
bench_finish "$BENCH_RUNS boots each with 1 and 2 vCPUs${REF:+, lkvm and the reference alternating}"
