# 95-bench-exit.sh - benchmarks: cost of one trapped MMIO exit (guest/exit-bench.c: UART register reads, 1 vCPU).
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

PAYLOAD=${TOOLS:-/tools}/exit-bench.bin
if [ ! -f "$PAYLOAD" ]; then
	bench_na exit_ns "no $PAYLOAD (make guest)"
	missed "exit cost ($PAYLOAD missing: make guest)"
	bench_finish ""
fi
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	lkvm_run exit-$i 120 run -c 1 -m 64 -k "$PAYLOAD"
	# EXIT-BENCH reads=N ticks=T freq=F ns_per_exit=X exits_per_sec=Y
	set -- $(sed -n 's/.*EXIT-BENCH reads=\([0-9]*\) ticks=\([0-9]*\) freq=\([0-9]*\) .*/\1 \2 \3/p' "$OUT" | head -n 1)
	if [ "$RC" = 0 ] && [ $# = 3 ] && [ "$3" -gt 0 ] && [ "$2" -gt 0 ]; then
		ns=$(awk -v n="$1" -v t="$2" -v f="$3" 'BEGIN { printf "%.0f", t * 1e9 / f / n }')
		ps=$(awk -v n="$1" -v t="$2" -v f="$3" 'BEGIN { printf "%.0f", n * f / t }')
		bench exit_ns $i "$ns" ns
		bench exit_per_s $i "$ps" exits/s
		diag "run $i: $ns ns per exit, $ps exits/s ($1 reads)"
	else
		missed "exit cost run $i ($(rc_text "$RC"), EXIT-BENCH line $(grep -q 'EXIT-BENCH reads=' "$OUT" && echo seen || echo missing))"
	fi
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS exit-bench runs"
