# 95-bench-gdb.sh - benchmarks: what --gdb costs with no debugger attached (exit-bench's MMIO exit, with and without
# the vCPU hooks), and a single-step round trip (gdbping: 's' packet -> KVM_GUESTDBG_SINGLESTEP -> stop reply).
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

PAYLOAD=${TOOLS:-/tools}/exit-bench.bin
PING=${TOOLS:-/tools}/gdbping
if [ ! -f "$PAYLOAD" ] || [ ! -x "$PING" ]; then
	bench_na gdb_exit_ns "no $PAYLOAD or $PING (make guest tools)"
	missed "gdb benchmarks (payload or gdbping missing)"
	bench_finish ""
fi
ns_of() { # the exit-bench line of $OUT -> ns per exit
	set -- $(sed -n 's/.*EXIT-BENCH reads=\([0-9]*\) ticks=\([0-9]*\) freq=\([0-9]*\) .*/\1 \2 \3/p' "$OUT" | head -n 1)
	[ $# = 3 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] && awk -v n="$1" -v t="$2" -v f="$3" 'BEGIN { printf "%.0f", t * 1e9 / f / n }'
}
SOCK=$WORK/gdb-bench.sock
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	# alternate the two so drift in the nested host hits both alike
	lkvm_run gdbx-plain-$i 120 run -c 1 -m 64 -k "$PAYLOAD"
	plain=$(ns_of)
	lkvm_run gdbx-hook-$i 120 run -c 1 -m 64 --gdb "unix:$SOCK" -k "$PAYLOAD"
	hooked=$(ns_of)
	if [ -n "$plain" ] && [ -n "$hooked" ]; then
		bench gdb_exit_plain_ns $i "$plain" ns
		bench gdb_exit_hooked_ns $i "$hooked" ns
		bench gdb_exit_ratio $i "$(awk -v a="$hooked" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')" ratio
		diag "run $i: $plain ns without --gdb, $hooked ns with --gdb (no debugger)"
	else
		missed "exit cost run $i (plain: ${plain:-none}, --gdb: ${hooked:-none})"
	fi
	# single-step round trip: the guest held at its first instruction, 200 steps on vCPU 1
	guest_start gdbstep-$i 120 run -c 1 -m 64 --gdb "unix:$SOCK" --gdb-wait -k "$PAYLOAD"
	"$PING" "$SOCK" 200 >"$WORK/gdbping-$i.out" 2>&1
	prc=$?
	cat "$WORK/gdbping-$i.out" >>"$LOG"
	wait_for "$OUT" "EXIT-BENCH" 100
	guest_wait
	us=$(sed -n 's/.*us_per_step=\([0-9.]*\) pc_moved=1.*/\1/p' "$WORK/gdbping-$i.out")
	if [ $prc = 0 ] && [ -n "$us" ]; then
		bench gdb_stepi_us $i "$us" us
		diag "run $i: $us us per stepi round trip"
	else
		missed "stepi run $i (gdbping exit $prc: $(head -n 1 "$WORK/gdbping-$i.out"))"
	fi
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS runs of the --gdb benchmarks"
