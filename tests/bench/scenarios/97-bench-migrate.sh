# 97-bench-migrate.sh - benchmarks: live migration of a 256 MiB guest between two lkvm processes over 127.0.0.1,
# idle (1 vCPU counting) and dirtying (2 vCPUs rewriting 32 MiB of tmpfs, tests/guest-scripts/migrate.sh): total
# time, the guest's pause (source pause -> destination ack), MiB sent, rounds; beside it the stop-and-copy pause of
# the dirtying guest (save --stop - | restore -, until the restored VM answers), and with --local on hugetlbfs RAM.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
# pid_of NAME: the pid of the running (not paused) lkvm answering for NAME, or nothing
pid_of() { "$LKVM" stat --name "$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*state=running.*/\1/p'; }
# stop_vm NAME: stop the VM answering for NAME and wait until it is gone. Right after a migration the destination
# may not answer yet (it listens once it runs): wait for it first, or a stop would miss it and leave it running.
stop_vm() {
	_k=0
	while ! "$LKVM" stat --name "$1" >/dev/null 2>&1 && [ $_k -lt 50 ]; do
		sleep 0.2
		_k=$((_k + 1))
	done
	"$LKVM" stop --name "$1" >>"$LOG" 2>&1
	_k=0
	while "$LKVM" stat --name "$1" >/dev/null 2>&1 && [ $_k -lt 100 ]; do
		sleep 0.2
		_k=$((_k + 1))
	done
}
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

# hugetlbfs for the --local rows (256 MiB guest: 128 huge pages of 2 MiB), where the host has it
HUGE=
if grep -qw hugetlbfs /proc/filesystems && [ -w /proc/sys/vm/nr_hugepages ]; then
	HUGE=$WORK/bench-huge
	mkdir -p "$HUGE"
	# reserved now, before the other guests fragment L1's memory; 272 MiB of its 2 GiB
	echo 136 >/proc/sys/vm/nr_hugepages
	if [ "$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)" -lt 128 ] || ! mount -t hugetlbfs none "$HUGE"; then
		echo 0 >/proc/sys/vm/nr_hugepages
		HUGE=
	fi
fi
[ -n "$HUGE" ] || bench_na mig_local_pause_ms "no hugetlbfs (or not 128 free huge pages) in L1"

i=1
while [ $i -le "$BENCH_RUNS" ]; do
	bg "idle-$i" run -c 1 -m 256 --name "bm-idle-$i" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
	if wait_for "$OUT" "COUNT 3 " 100; then
		one idle $i $((4500 + i))
	else
		missed "idle run $i: guest never counted"
	fi
	stop_vm "bm-idle-$i"
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
	stop_vm "bm-busy-$i"
	sleep 2

	# the dirtying guest on hugetlbfs RAM, moved with --local over unix: (RAM handed over, not copied)
	if [ -n "$HUGE" ]; then
		bg "local-$i" run -c 2 -m 256 --pvtime --hugetlbfs "$HUGE" --name "bm-local-$i" -k "$L2_KERNEL" \
			-i "$L2_INITRD" -p "quiet l2.run=migrate"
		GUEST_PID=$BGPID # wait_for gives up early if that lkvm is gone (e.g. no huge pages left)
		wait_for "$OUT" "SUM " 240
		_up=$?
		GUEST_PID=
		if [ $_up = 0 ]; then
			_n=bm-local-$i
			bg "$_n-dst" restore --incoming "unix:$WORK/$_n.sock"
			sleep 1
			if "$LKVM" migrate --name "$_n" --local "unix:$WORK/$_n.sock" >"$WORK/$_n.txt" 2>>"$LOG"; then
				bench mig_local_pause_ms "$i" "$(sed -n 's/.*guest paused \([0-9]*\) ms.*/\1/p' "$WORK/$_n.txt")" ms
				diag "local run $i: $(cat "$WORK/$_n.txt")"
			else
				missed "--local migration run $i failed"
			fi
		else
			missed "--local run $i: guest never got ready"
		fi
		stop_vm "bm-local-$i"
		sleep 2
	fi
	i=$((i + 1))
done
if [ -n "$HUGE" ]; then
	umount "$HUGE"
	echo 0 >/proc/sys/vm/nr_hugepages
fi
bench_finish "$BENCH_RUNS live migrations (idle and dirtying) and stop-and-copy moves"
