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

# ---- the reference VMM (make bench REF_VMM=FILE: run.sh copies FILE to $BENCH_DIR/ref-vmm) -----------------------
# REF is empty without one: the scenarios then measure lkvm only and print no ref_* or *_ratio lines.
# REF_RUN is a wrapper that runs the reference the way the scenarios need it: kvmtool keeps its sockets under
# $HOME/.lkvm (a scratch HOME here), adds a user-mode NIC unless told "--network mode=none", and spins on a console
# input at EOF (/dev/null), so its stdin is a FIFO that nobody writes to (opened read-write: never readable, no EOF).
REF=
REF_RUN=
REF_VCPU=kvm-vcpu-0
BENCH_VALS=$WORK/$SCENARIO.vals
if [ -x "$BENCH_DIR/ref-vmm" ]; then
	REF=$BENCH_DIR/ref-vmm
	REF_RUN=$WORK/ref-run.sh
	if [ ! -x "$REF_RUN" ]; then
		mkdir -p "$WORK/ref-home"
		[ -p "$WORK/ref-idle.fifo" ] || mkfifo "$WORK/ref-idle.fifo"
		cat >"$REF_RUN" <<-EOS
			#!/bin/sh
			# run the reference VMM: scratch HOME, idle console input, no NIC for 'run'; 'run-net' takes the
			# caller's -n options and input (guest_start's FIFO), through a terminal: kvmtool reads its console
			# input only from one
			export HOME=$WORK/ref-home
			if [ "\$1" = run-net ]; then
				shift
				PTYRUN_RELAY=1 exec $TOOLS/ptyrun PTYRUN-NO-MARKER "" -- $REF run "\$@"
			fi
			exec 0<>$WORK/ref-idle.fifo
			if [ "\$1" = run ]; then
				shift
				exec $REF run --network mode=none "\$@"
			fi
			exec $REF "\$@"
		EOS
		chmod 755 "$REF_RUN"
	fi
fi
# vmm_order ROUND -> "lkvm ref" on odd rounds, "ref lkvm" on even ones ("lkvm" alone without a reference)
vmm_order() {
	if [ -z "$REF" ]; then echo lkvm; elif [ $(($1 % 2)) = 1 ]; then echo "lkvm ref"; else echo "ref lkvm"; fi
}
# with_vmm lkvm|ref CMD...: run CMD (a lib.sh helper such as lkvm_run or guest_start) with $LKVM pointing at that VMM
with_vmm() {
	_wv=$LKVM
	[ "$1" = ref ] && LKVM=$REF_RUN
	shift
	"$@"
	_wrc=$?
	LKVM=$_wv
	return $_wrc
}
# vmm_rounds FN: without a reference, "FN lkvm BENCH_RUNS 0" (one guest does every run); with one, BENCH_RUNS rounds
# of "FN VMM 1 ROUND-1", one guest per VMM and round, in vmm_order
vmm_rounds() {
	if [ -z "$REF" ]; then
		"$1" lkvm "$BENCH_RUNS" 0
		return
	fi
	_round=1
	while [ $_round -le "$BENCH_RUNS" ]; do
		for _vw in $(vmm_order $_round); do
			"$1" "$_vw" 1 $((_round - 1))
		done
		_round=$((_round + 1))
	done
}
# vmm_label lkvm|ref -> name for messages
vmm_label() { [ "$1" = ref ] && echo reference || echo lkvm; }
# bench_v lkvm|ref METRIC RUN VALUE UNIT: one figure of lkvm (METRIC) or of the reference (ref_METRIC), also kept
# in $BENCH_VALS for bench_ratio
bench_v() {
	if [ "$1" = ref ]; then bench "ref_$2" "$3" "$4" "$5"; else bench "$2" "$3" "$4" "$5"; fi
	echo "$1 $2 $3 $4" >>"$BENCH_VALS"
}
# bench_ratio METRIC RATIO_METRIC: for every run with both figures (and a non-zero reference), lkvm / reference
bench_ratio() {
	[ -n "$REF" ] && [ -f "$BENCH_VALS" ] || return 0
	awk -v m="$1" '$2 == m && $4 != "" && $4 != "nan" { v[$1 " " $3] = $4; r[$3] = 1 }
		END { for (k in r) if (("lkvm " k) in v && ("ref " k) in v && v["ref " k] + 0 != 0)
			printf "%s %.4f\n", k, v["lkvm " k] / v["ref " k] }' "$BENCH_VALS" | sort -n >"$WORK/ratio.tmp"
	while read -r _r _x; do bench "$2" "$_r" "$_x" ratio; done <"$WORK/ratio.tmp"
}
rm -f "$BENCH_VALS"
