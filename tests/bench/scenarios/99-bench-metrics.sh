# 99-bench-metrics.sh - benchmarks: the cost of scraping lkvm's --metrics endpoint. A 1-vCPU guest runs a CPU-bound
# loop in ~1 s chunks (its vCPU pinned to L1 CPU 1; this script, its polling and the scraping client on CPU 0;
# lkvm's metrics thread where the scheduler puts it); each round alternates three times between ~3 chunks with no scrape and 40 scrapes 100 ms apart
# (which comes first alternating by round) and compares the loop's throughput over the whole chunks of each; the
# scrapes' latency and the metrics thread's CPU time per scrape (schedstat) are recorded for every scrape loop.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

MS=${TOOLS:-/tools}/mscrape
EP=unix:$WORK/bench-metrics.sock
NAME=bench-metrics
SCRAPES=40 # per phase: 4 s of scraping at 100 ms
trap 'guest_kill' EXIT
trap 'guest_kill; exit 143' TERM INT

last_chunk() { sed -n 's/^CHUNK \([0-9]*\) .*/\1/p' "$OUT" | tail -n 1 | grep . || echo 0; }
# chunks FROM TO: the summed time (s) and the number of chunks FROM..TO, into CH_T and CH_K
chunks() {
	set -- $(awk -v f="$1" -v t="$2" '/^CHUNK / { sub(/\r$/, ""); if ($2 >= f && $2 <= t) { s += $4 - $3; k++ } }
		END { printf "%.2f %d\n", s, k }' "$OUT")
	CH_T=$1 CH_K=$2
}
fadd() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
# wait_chunk K: until chunk K has been printed
wait_chunk() {
	_end=$(($(now_cs) + 6000))
	while [ "$(last_chunk)" -lt "$1" ] 2>/dev/null && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
}

if [ ! -x "$MS" ]; then
	missed "scrape cost ($MS missing: make tools)"
	bench_finish ""
fi
if ! l2_bench_initrd; then
	missed "scrape cost (no L2 bench overlay $BENCH_DIR/l2-extra.cpio)"
	bench_finish ""
fi
guest_start bench-metrics $((120 + BENCH_RUNS * 90)) run -c 1 -m 256 --name $NAME --metrics "$EP" \
	-k "$L2_KERNEL" -i "$L2_BENCH_INITRD" -p "quiet l2.run=bench-scrape"
if ! wait_for "$OUT" BSCRAPE-READY 120; then
	guest_kill
	missed "scrape cost (the guest never calibrated its loop: $(rc_text "$RC"))"
	bench_finish ""
fi
N=$(sed -n 's/.*BSCRAPE-READY n=\([0-9]*\).*/\1/p' "$OUT" | head -n 1)
pid=$("$LKVM" stat --name $NAME 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
for t in /proc/"$pid"/task/*; do
	[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-vcpu-0 ] && taskset -p -c 1 "$(basename "$t")" >>"$LOG" 2>&1
done
# this script's own work (polling the console, the scraper) stays on CPU 0: only the vCPU and whatever lkvm's
# metrics thread does may meet on CPU 1 (lkvm, started before, keeps both CPUs)
taskset -p -c 0 $$ >>"$LOG" 2>&1
wait_chunk 2

# metrics_cpu_ns: CPU time of lkvm's metrics thread so far (schedstat)
metrics_cpu_ns() { cut -d' ' -f1 "$MTASK/schedstat" 2>/dev/null || echo 0; }
MTASK=
for t in /proc/"$pid"/task/*; do
	[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-metrics ] && MTASK=$t
done
# A phase takes the chunks that ran wholly inside it (the first one may have started before it).
phase_none() {
	_c0=$(last_chunk)
	wait_chunk $((_c0 + 4))
	chunks $((_c0 + 2)) $((_c0 + 4))
	T_none=$(fadd "$T_none" "$CH_T") K_none=$((K_none + CH_K))
}
phase_scrape() {
	_c0=$(last_chunk)
	_cpu0=$(metrics_cpu_ns)
	taskset -c 0 "$MS" -m loop $SCRAPES 100 "$EP" >"$WORK/loop.txt" 2>>"$LOG"
	CPU=$(($(metrics_cpu_ns) - _cpu0))
	chunks $((_c0 + 2)) $(($(last_chunk) - 1))
	T_scr=$(fadd "$T_scr" "$CH_T") K_scr=$((K_scr + CH_K))
	cat "$WORK/loop.txt" >>"$LOG"
	# scrapes=N failed=F median_ms=X p99_ms=Y max_ms=Z
	set -- $(sed -n 's/^scrapes=\([0-9]*\) failed=\([0-9]*\) median_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) max_ms=\([0-9.]*\)$/\1 \2 \3 \4 \5/p' "$WORK/loop.txt")
	if [ $# = 5 ]; then
		L=$((L + 1))
		bench scrape_latency_median_ms $L "$3" ms
		bench scrape_latency_p99_ms $L "$4" ms
		bench scrape_failed $L "$2" scrapes
		bench scrape_cpu_us $L "$(fdiv "$CPU" $(($1 * 1000)) %.0f)" us
		diag "scrapes: $1 ($2 failed), latency median $3 ms, p99 $4 ms, max $5 ms; metrics thread CPU $((CPU / 1000)) us in all"
	else
		missed "a scrape loop ($(cat "$WORK/loop.txt"))"
	fi
}
L=0
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	T_none=0 K_none=0 T_scr=0 K_scr=0
	# three alternations per round, which phase comes first alternating by round
	for _ in 1 2 3; do
		if [ $((i % 2)) = 1 ]; then phase_none; phase_scrape; else phase_scrape; phase_none; fi
	done
	if [ "$K_none" -gt 0 ] && [ "$K_scr" -gt 0 ]; then
		NONE=$(fdiv $((N * K_none)) "$T_none" %.1f)
		SCR=$(fdiv $((N * K_scr)) "$T_scr" %.1f)
		cost=$(awk -v a="$NONE" -v b="$SCR" 'BEGIN { printf "%.2f", (a - b) * 100 / a }')
		bench scrape_loop_none $i "$NONE" iter/s
		bench scrape_loop_100ms $i "$SCR" iter/s
		bench scrape_cost_pct $i "$cost" %
		diag "round $i: loop $NONE iter/s ($K_none chunks) without scrapes, $SCR iter/s ($K_scr chunks) scraped every 100 ms: $cost % less"
	else
		missed "scrape cost round $i (no whole chunks: $K_none without, $K_scr with scrapes)"
	fi
	i=$((i + 1))
done
"$MS" "$EP" >"$WORK/size.txt" 2>/dev/null
bench scrape_bytes 1 "$(wc -c <"$WORK/size.txt")" bytes
guest_kill
bench_finish "$BENCH_RUNS rounds of 3 x $SCRAPES scrapes at 100 ms against none"
