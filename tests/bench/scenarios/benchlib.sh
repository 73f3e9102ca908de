# benchlib.sh - helpers for the lkvm benchmark scenarios (sourced after lib.sh): run count, BENCH lines, clocks.
#
# Output protocol (parsed by tests/bench/run.sh on the host, from the L1 console):
#   BENCH metric=NAME run=I value=X unit=U    one measurement
#   BENCH-NA metric=NAME reason=TEXT          not measurable in this build (not a failure)
#   BENCH-INFO KEY=VALUE                      facts about the test bed
# Scenarios print numbers only; they report "not ok" only when a measurement could not run at all.

# BENCH_RUNS: environment, else lkvm.bench_runs=N on the (L1) kernel command line, else 5
if [ -z "${BENCH_RUNS:-}" ]; then
	for _w in $(cat /proc/cmdline); do
		case $_w in lkvm.bench_runs=*) BENCH_RUNS=${_w#lkvm.bench_runs=} ;; esac
	done
fi
case ${BENCH_RUNS:-} in '' | *[!0-9]* | 0) BENCH_RUNS=5 ;; esac
# directory holding l2-extra.cpio (L2 initramfs overlay: bench guest scripts, bench-io)
: "${BENCH_DIR:=/bench}"
BENCH_MISSED=

bench() { echo "BENCH metric=$1 run=$2 value=$3 unit=$4"; }
bench_na() {
	_m=$1
	shift
	echo "BENCH-NA metric=$_m reason=$*"
}
bench_info() { echo "BENCH-INFO $1=$2"; }
# missed WHAT: remember a measurement that did not run (reported by bench_finish)
missed() {
	BENCH_MISSED="$BENCH_MISSED; $*"
	log "MISSED: $*"
	diag "did not run: $*"
}
# bench_finish N_EXPECTED_DESC: one result line for the scenario
bench_finish() {
	if [ -n "$BENCH_MISSED" ]; then
		not_ok "measurements that did not run: ${BENCH_MISSED#; }"
	else
		ok "$*"
	fi
	finish
}

# uptime_s -> seconds since boot with centiseconds, into UP (no fork)
uptime_s() { read -r UP _ </proc/uptime; }
# fdiv A B [FMT]: A / B as a decimal (awk: busybox sh has integers only)
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.4f}" 'BEGIN { if (b == 0) print "nan"; else printf f "\n", a / b }'; }

# l2_bench_initrd: $L2_INITRD with the bench overlay appended (concatenated newc archives); sets L2_BENCH_INITRD
l2_bench_initrd() {
	L2_BENCH_INITRD=$WORK/l2-bench.cpio
	[ -s "$L2_BENCH_INITRD" ] && return 0
	if [ ! -f "$BENCH_DIR/l2-extra.cpio" ]; then
		log "no $BENCH_DIR/l2-extra.cpio"
		return 1
	fi
	cat "$L2_INITRD" "$BENCH_DIR/l2-extra.cpio" >"$L2_BENCH_INITRD"
}
