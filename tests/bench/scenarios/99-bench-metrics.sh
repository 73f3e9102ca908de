# 99-bench-metrics.sh - benchmarks: the cost of scraping lkvm's --metrics endpoint. A 1-vCPU guest runs a CPU-bound
# loop in ~1 s chunks (its vCPU pinned to L1 CPU 1, the scraping client to CPU 0, lkvm's metrics thread where the
# scheduler puts it); each round compares the loop's throughput over chunks run with no scrape against chunks run
# while the endpoint is scraped every 100 ms (alternating which comes first), and records the scrapes' latency.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

MS=${TOOLS:-/tools}/mscrape
EP=unix:$WORK/bench-metrics.sock
NAME=bench-metrics
SCRAPES=100 # per round: 10 s of scraping at 100 ms
trap 'guest_kill' EXIT
trap 'guest_kill; exit 143' TERM INT

last_chunk() { sed -n 's/^CHUNK \([0-9]*\) .*/\1/p' "$OUT" | tail -n 1; }
# rate FROM TO: iterations per second over chunks FROM..TO (the spin count n over the summed chunk times)
rate() {
	awk -v f="$1" -v t="$2" -v n="$N" '/^CHUNK / { sub(/\r$/, ""); if ($2 >= f && $2 <= t) { s += $4 - $3; k++ } }
		END { if (k && s > 0) printf "%.1f %d\n", n * k / s, k; else print "nan 0" }' "$OUT"
}
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
guest_start bench-metrics $((120 + BENCH_RUNS * 60)) run -c 1 -m 256 --name $NAME --metrics "$EP" \
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
wait_chunk 2

# one phase: chunks that ran wholly inside it (the first one may have started before it)
phase_none() {
	_c0=$(last_chunk)
	wait_chunk $((_c0 + 8))
	set -- $(rate $((_c0 + 2)) $((_c0 + 8)))
	NONE=$1 NONE_K=$2
}
phase_scrape() {
	_c0=$(last_chunk)
	taskset -c 0 "$MS" -m loop $SCRAPES 100 "$EP" >"$WORK/loop.txt" 2>>"$LOG"
	_c1=$(last_chunk)
	set -- $(rate $((_c0 + 2)) $((_c1 - 1)))
	SCR=$1 SCR_K=$2
	cat "$WORK/loop.txt" >>"$LOG"
}
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	if [ $((i % 2)) = 1 ]; then phase_none; phase_scrape; else phase_scrape; phase_none; fi
	# scrapes=N failed=F median_ms=X p99_ms=Y max_ms=Z
	set -- $(sed -n 's/^scrapes=\([0-9]*\) failed=\([0-9]*\) median_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) max_ms=\([0-9.]*\)$/\1 \2 \3 \4 \5/p' "$WORK/loop.txt")
	if [ $# = 5 ] && [ "$NONE" != nan ] && [ "$SCR" != nan ]; then
		cost=$(awk -v a="$NONE" -v b="$SCR" 'BEGIN { printf "%.2f", (a - b) * 100 / a }')
		bench scrape_loop_none $i "$NONE" iter/s
		bench scrape_loop_100ms $i "$SCR" iter/s
		bench scrape_cost_pct $i "$cost" %
		bench scrape_latency_median_ms $i "$3" ms
		bench scrape_latency_p99_ms $i "$4" ms
		bench scrape_failed $i "$2" scrapes
		diag "round $i: loop $NONE iter/s ($NONE_K chunks) without scrapes, $SCR iter/s ($SCR_K chunks) scraped every 100 ms: cost $cost %; latency median $3 ms, p99 $4 ms, max $5 ms, $2 of $1 failed"
	else
		missed "scrape cost round $i (loop '$NONE'/'$SCR', scraper: $(cat "$WORK/loop.txt"))"
	fi
	i=$((i + 1))
done
"$MS" "$EP" >"$WORK/size.txt" 2>/dev/null
bench scrape_bytes 1 "$(wc -c <"$WORK/size.txt")" bytes
guest_kill
bench_finish "$BENCH_RUNS rounds of $SCRAPES scrapes at 100 ms against none"
