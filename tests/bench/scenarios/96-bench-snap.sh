# 96-bench-snap.sh - benchmarks: cold boot, save time, restore-to-running time and snapshot allocated size of a
# 1-vCPU guest counting in a busybox loop, with 256 MiB and with 1 GiB of RAM; restore / cold boot, the 1 GiB
# restore / the 256 MiB one, and the snapshot's allocated size / the guest memory touched.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

# now_ns: CLOCK_MONOTONIC in ns from /proc/timer_list ("now at N nsecs"), else /proc/uptime (10 ms steps)
now_ns() {
	_ns=$(awk '/^now at [0-9]+ nsecs/ { print $3; exit }' /proc/timer_list 2>/dev/null)
	if [ -n "$_ns" ]; then echo "$_ns"; else echo $(($(now_cs) * 10000000)); fi
}
secs_ns() { fdiv "$1" 1000000000 %.3f; }
# stat_val NAME KEY: a key=value of 'lkvm stat --name NAME'
stat_val() { "$LKVM" stat --name "$1" 2>>"$LOG" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# every lkvm here keeps its control socket in one known directory, so the restore can be timed by its appearance
LKVM_SOCK_DIR=$WORK/snap-sock
export LKVM_SOCK_DIR
mkdir -p "$LKVM_SOCK_DIR" && chmod 700 "$LKVM_SOCK_DIR"
last_count() { tr -d '\r' <"$1" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | tail -n 1; }

# bg TAG PATTERN ARGS...: lkvm ARGS in the background, console to $WORK/TAG.out through an awk that notes when
# L2-INIT-OK arrives ("BENCH-T init=S" after it, seconds since the start, /proc/uptime) and, if PATTERN is not
# empty, writes one line to $NOTIFY when a line starts with PATTERN (or at EOF): see wait_notify. Sets OUT, BGPID
# (the awk).
NOTIFY=$WORK/snap-notify.fifo
rm -f "$NOTIFY"
mkfifo "$NOTIFY"
bg() {
	OUT=$WORK/$1.out
	_pat=$2
	shift 2
	: >"$OUT"
	log "$LKVM $*"
	uptime_s
	"$LKVM" "$@" </dev/null 2>>"$LOG" | awk -v t0="$UP" -v pat="$_pat" -v fifo="$NOTIFY" '
		function up(  u, a) { getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " "); return a[1] }
		function note(w) { if (pat != "" && !sent) { print w > fifo; close(fifo); sent = 1 } }
		{ print; fflush() }
		/L2-INIT-OK/ && ti == "" { ti = up(); printf "BENCH-T init=%.2f\n", ti - t0; fflush() }
		index($0, pat) > 0 { note("ready") }
		END { note("eof") }' >"$OUT" &
	BGPID=$!
}
# wait_notify TIMEOUT_S: block (no polling, so the boot being timed has L1's CPUs to itself) until bg's awk has
# seen its pattern; succeeds iff it did
wait_notify() {
	(
		sleep "$1"
		echo timeout >"$NOTIFY"
	) &
	_wd=$!
	read -r _what <"$NOTIFY"
	kill "$_wd" 2>/dev/null
	wait "$_wd" 2>/dev/null
	log "wait_notify: ${_what:-nothing}"
	[ "$_what" = ready ]
}
stop_vm() {
	"$LKVM" stop --name "$1" >>"$LOG" 2>&1
	wait "$BGPID" 2>/dev/null
}

# cycle MIB RUN: boot the counter guest with MIB MiB, save it to a file, stop it, restore the file, check that it
# counts on, stop it. Sets OK=yes and T_BOOT, T_SAVE, T_RESTORE, T_CTL (s), TOUCHED_KIB, ALLOC_KIB, APPARENT (bytes).
cycle() {
	OK=no
	_name=snapb-$1-$2
	_snap=$WORK/bench-$1-$2.snap
	bg "$_name" "COUNT 3 " run -c 1 -m "$1" --name "$_name" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
	_src=$OUT
	if ! wait_notify 100; then
		"$LKVM" stop --name "$_name" >>"$LOG" 2>&1
		kill "$BGPID" 2>/dev/null
		wait "$BGPID" 2>/dev/null
		missed "snapshot $1 MiB run $2: guest never counted"
		return
	fi
	T_BOOT=$(sed -n 's/^BENCH-T init=\([0-9.]*\).*/\1/p' "$_src" | head -n 1)
	# touched memory: the guest RAM resident in lkvm just before the save (lkvm stat: ram_rss_kib)
	"$LKVM" stat --name "$_name" >>"$LOG" 2>&1
	TOUCHED_KIB=$(stat_val "$_name" ram_rss_kib)
	_t0=$(now_ns)
	"$LKVM" save --name "$_name" "$_snap" >>"$LOG" 2>&1
	_rc=$?
	_t1=$(now_ns)
	stop_vm "$_name"
	if [ "$_rc" != 0 ] || [ ! -s "$_snap" ]; then
		missed "snapshot $1 MiB run $2: save failed (exit $_rc)"
		rm -f "$_snap"
		return
	fi
	T_SAVE=$(secs_ns $((_t1 - _t0)))
	ALLOC_KIB=$(du -k "$_snap" | cut -f1)
	APPARENT=$(wc -c <"$_snap")
	# restore-to-running: until the restored lkvm has bound its control socket (kvm_run_vm does that just before it
	# starts the vCPUs), polled with shell builtins every ~10 ms; then until it answers 'lkvm stat' (each poll an
	# exec: this one moves in steps of one poll)
	_sock=$LKVM_SOCK_DIR/$_name.sock
	rm -f "$_sock"
	_t2=$(now_ns)
	bg "snapr-$1-$2" "" restore "$_snap"
	while [ ! -S "$_sock" ] && kill -0 "$BGPID" 2>/dev/null; do
		sleep 0.01
	done
	_t3=$(now_ns)
	while ! "$LKVM" stat --name "$_name" >/dev/null 2>&1; do
		kill -0 "$BGPID" 2>/dev/null || break
		sleep 0.05
	done
	_t4=$(now_ns)
	T_RESTORE=$(secs_ns $((_t3 - _t2)))
	T_CTL=$(secs_ns $((_t4 - _t2)))
	[ -S "$_sock" ] || T_RESTORE=
	_n=$(last_count "$_src")
	wait_for "$OUT" "COUNT $((_n + 1)) " 30 && OK=yes
	stop_vm "$_name"
	rm -f "$_snap"
	[ $OK = yes ] || missed "snapshot $1 MiB run $2: the restored guest did not count on"
	[ -n "$T_RESTORE" ] || { OK=no; missed "snapshot $1 MiB run $2: no control socket $_sock"; }
	log "snapshot $1 MiB run $2: boot ${T_BOOT:-?} s, save $T_SAVE s, restore $T_RESTORE s (control socket $T_CTL s), touched ${TOUCHED_KIB:-?} KiB, allocated $ALLOC_KIB KiB, apparent $APPARENT bytes"
}

if awk '/^now at [0-9]+ nsecs/ { f = 1; exit } END { exit !f }' /proc/timer_list 2>/dev/null; then
	bench_info snap_clock timer_list
else
	bench_info snap_clock uptime
fi
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	cycle 256 $i
	if [ $OK = yes ]; then
		r256=$T_RESTORE
		bench snap_boot_s $i "$T_BOOT" s
		bench snap_save_s $i "$T_SAVE" s
		bench snap_restore_s $i "$T_RESTORE" s
		bench snap_restore_ctl_s $i "$T_CTL" s
		[ -n "$T_BOOT" ] && bench snap_restore_boot_ratio $i "$(fdiv "$T_RESTORE" "$T_BOOT" %.4f)" ratio
		bench snap_size_mib $i "$(fdiv "$ALLOC_KIB" 1024 %.2f)" MiB
		if [ -n "$TOUCHED_KIB" ]; then
			bench snap_touched_mib $i "$(fdiv "$TOUCHED_KIB" 1024 %.1f)" MiB
			bench snap_ratio $i "$(fdiv "$ALLOC_KIB" "$TOUCHED_KIB" %.3f)" ratio
		fi
		diag "run $i, 256 MiB: boot ${T_BOOT:-?} s, save $T_SAVE s, restore $T_RESTORE s (answers $T_CTL s); snapshot $ALLOC_KIB KiB allocated ($APPARENT bytes apparent), touched ${TOUCHED_KIB:-?} KiB"
	else
		r256=
	fi
	cycle 1024 $i
	if [ $OK = yes ]; then
		bench snap_save_1g_s $i "$T_SAVE" s
		bench snap_restore_1g_s $i "$T_RESTORE" s
		[ -n "$r256" ] && bench snap_restore_1g_ratio $i "$(fdiv "$T_RESTORE" "$r256" %.4f)" ratio
		bench snap_size_1g_mib $i "$(fdiv "$ALLOC_KIB" 1024 %.2f)" MiB
		if [ -n "$TOUCHED_KIB" ]; then
			bench snap_touched_1g_mib $i "$(fdiv "$TOUCHED_KIB" 1024 %.1f)" MiB
			bench snap_ratio_1g $i "$(fdiv "$ALLOC_KIB" "$TOUCHED_KIB" %.3f)" ratio
		fi
		diag "run $i, 1 GiB: boot ${T_BOOT:-?} s, save $T_SAVE s, restore $T_RESTORE s (answers $T_CTL s); snapshot $ALLOC_KIB KiB allocated ($APPARENT bytes apparent), touched ${TOUCHED_KIB:-?} KiB"
	fi
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS save/restore cycles each of a 256 MiB and a 1 GiB guest"
