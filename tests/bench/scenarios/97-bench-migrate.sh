# 97-bench-migrate.sh - benchmarks: live migration of a 256 MiB guest between two lkvm processes over 127.0.0.1,
# idle (1 vCPU counting) and dirtying (2 vCPUs rewriting 32 MiB of tmpfs, tests/guest-scripts/migrate.sh): total
# time, the guest's pause (source pause -> destination ack), MiB sent, rounds; beside it the stop-and-copy pause of
# the dirtying guest (save --stop - | restore -, until the restored VM answers).
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
# pid_of NAME: the pid of the running (not paused) lkvm answering for NAME, or nothing
pid_of() { "$LKVM" stat --name "$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*state=running.*/\1/p'; }
# bg TAG ARGS...: lkvm ARGS in the background, console to $WORK/TAG.out
bg() {
	OUT=$WORK/$1.out
	shift
	: >"$OUT"
	log "$LKVM $*"
	"$LKVM" "$@" </dev/null >"$OUT" 2>>"$LOG" &
	BGPID=$!
}
# one KIND RUN PORT: migrate the running VM bm-KIND-RUN once; BENCH lines mig_KIND_*
one() {
	_n=bm-$1-$2
	bg "$_n-dst" restore --incoming "tcp:127.0.0.1:$3"
	_dst=$BGPID
	sleep 1
	if "$LKVM" migrate --name "$_n" "tcp:127.0.0.1:$3" >"$WORK/$_n.txt" 2>>"$LOG"; then
		# "migrated VM x to y: R round(s), M MiB sent, T ms in all, guest paused P ms"
		bench "mig_$1_total_s" "$2" "$(fdiv "$(sed -n 's/.* \([0-9]*\) ms in all.*/\1/p' "$WORK/$_n.txt")" 1000 %.2f)" s
		bench "mig_$1_pause_ms" "$2" "$(sed -n 's/.*guest paused \([0-9]*\) ms.*/\1/p' "$WORK/$_n.txt")" ms
		bench "mig_$1_sent_mib" "$2" "$(sed -n 's/.* \([0-9.]*\) MiB sent.*/\1/p' "$WORK/$_n.txt")" MiB
		bench "mig_$1_rounds" "$2" "$(sed -n 's/.*: \([0-9]*\) rounds*,.*/\1/p' "$WORK/$_n.txt")" rounds
		diag "$1 run $2: $(cat "$WORK/$_n.txt")"
	else
		missed "$1 migration run $2 failed"
		kill "$_dst" 2>/dev/null
	fi
}

i=1
while [ $i -le "$BENCH_RUNS" ]; do
	bg "idle-$i" run -c 1 -m 256 --name "bm-idle-$i" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
	if wait_for "$OUT" "COUNT 3 " 100; then
		one idle $i $((4500 + i))
	else
		missed "idle run $i: guest never counted"
	fi
	"$LKVM" stop --name "bm-idle-$i" >>"$LOG" 2>&1
	sleep 1

	bg "busy-$i" run -c 2 -m 256 --pvtime --name "bm-busy-$i" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=migrate"
	if wait_for "$OUT" "SUM " 240; then
		one busy $i $((4600 + i))
		# the same guest by stop-and-copy: from the save until the restored VM answers
		spid=$(pid_of "bm-busy-$i")
		t0=$(now_cs)
		"$LKVM" save --name "bm-busy-$i" --stop - 2>>"$LOG" | "$LKVM" restore - >"$WORK/busy-sc-$i.out" 2>>"$LOG" &
		while p=$(pid_of "bm-busy-$i"); [ -z "$p" ] || [ "$p" = "$spid" ]; do
			[ "$(($(now_cs) - t0))" -gt 12000 ] && break
			sleep 0.05
		done
		t1=$(now_cs)
		if has "$WORK/busy-sc-$i.out" TICK || wait_for "$WORK/busy-sc-$i.out" TICK 60; then
			bench mig_stopcopy_s $i "$(fdiv $((t1 - t0)) 100 %.2f)" s
		else
			missed "stop-and-copy run $i: restored guest did not continue"
		fi
	else
		missed "busy run $i: guest never got ready"
	fi
	"$LKVM" stop --name "bm-busy-$i" >>"$LOG" 2>&1
	sleep 2
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS live migrations (idle and dirtying) and stop-and-copy moves"
