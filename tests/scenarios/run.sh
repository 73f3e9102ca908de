#!/bin/sh
# run.sh [NAME...] - run all (or the named) lkvm scenarios NN-name.sh in order on an arm64 KVM host; POSIX sh.
# "All" leaves out the scenarios marked "# manual: ..." (47-soak, make soak).
#
# Environment: LKVM (lkvm binary), L2_KERNEL (arm64 Image), L2_INITRD (l2.cpio), TOOLS (dir of extra static aarch64
# helpers, may be empty), WORK (scratch dir), VERBOSE=1 (show guest consoles). Defaults suit a checkout with
# build/testbed from tests/testbed/prepare.sh + mkl2initrd.sh. NAME may be "boot-1cpu", "01-boot-1cpu" or "01".
# Each scenario runs under timeout (120 s, or "# timeout: N" in the script) and prints "ok - ..." / "not ok - ..."
# lines; on failures the tail of $WORK/NAME.log is shown, and for a scenario that runs into its timeout where every
# process was waiting 5 s before (procs.sh). Last line: "N passed, N failed". Exit 0 iff none failed.

DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$DIR/../.." && pwd)
: "${LKVM:=$REPO/lkvm}"
: "${L2_KERNEL:=$REPO/build/testbed/Image}"
: "${L2_INITRD:=$REPO/build/testbed/l2.cpio}"
: "${TOOLS:=$REPO/build/tools}"
: "${WORK:=${TMPDIR:-/tmp}/lkvm-scenarios.$$}"
: "${VERBOSE:=0}"
export LKVM L2_KERNEL L2_INITRD TOOLS WORK VERBOSE
mkdir -p "$WORK" || exit 2

for f in "$LKVM" "$L2_KERNEL" "$L2_INITRD"; do
	[ -e "$f" ] || echo "# warning: $f does not exist" >&2
done

# the scenario files to run, in order
all=$(cd "$DIR" && ls [0-9][0-9]-*.sh 2>/dev/null)
selected=
unknown=
if [ $# -eq 0 ]; then
	# a scenario marked "# manual: ..." (the soak) runs only when named
	for s in $all; do
		grep -q '^# manual:' "$DIR/$s" || selected="$selected $s"
	done
else
	for want in "$@"; do
		hit=
		for s in $all; do
			base=${s%.sh}
			case $want in
			"$s" | "$base" | "${base#[0-9][0-9]-}" | "${base%%-*}") hit=$s ;;
			esac
			[ -n "$hit" ] && break
		done
		if [ -n "$hit" ]; then selected="$selected $hit"; else unknown="$unknown $want"; fi
	done
fi

passed=0
failed=0
count() {
	p=$(grep -c '^ok - ' "$1")
	f=$(grep -c '^not ok - ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
}

for want in $unknown; do
	echo "not ok - $want: no such scenario in $DIR"
	failed=$((failed + 1))
done

now_cs() {
	read -r up _ </proc/uptime
	s=${up%.*}
	f=${up#*.}
	echo $((s * 100 + ${f#0}))
}

. "$DIR/procs.sh"

# run_one NAME FILE TIMEOUT: one attempt; its result lines go to $WORK/NAME.result, its time to $el
run_one() {
	res="$WORK/$1.result"
	rm -f "$WORK/$1.log" "$WORK/$1.rc" "$WORK/$1.watchdog"
	t0=$(now_cs)
	# a watchdog notes what every process was doing shortly before the timeout (a hang shows where it waits)
	(
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		sleep $(($3 > 10 ? $3 - 5 : $3)) &
		sp=$!
		wait $sp && procs_report "$1 still running after $(($3 > 10 ? $3 - 5 : $3)) s" all >"$WORK/$1.watchdog" 2>&1
	) &
	wd=$!
	{
		SCENARIO=$1 timeout -k 10 "$3" sh "$DIR/$2" 2>&1
		echo $? >"$WORK/$1.rc"
	} >"$res"
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	el=$(($(now_cs) - t0))
	rc=$(cat "$WORK/$1.rc" 2>/dev/null || echo 255)
	if [ "$el" -ge $(($3 * 100)) ] && [ "$rc" -ne 0 ]; then
		echo "not ok - $1: timed out after $3 s" >>"$res"
	elif [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$res"; then
		echo "not ok - $1: script exited with status $rc" >>"$res"
	elif ! grep -q -e '^ok - ' -e '^not ok - ' "$res"; then
		echo "not ok - $1: reported no result" >>"$res"
	fi
}
# A scenario's scratch files go with it (the test bed's /tmp is a RAM-backed tmpfs shared with the guests): only
# the logs, results and exit codes stay.
scratch_clean() {
	for f in "$WORK"/* "$WORK"/.[!.]*; do
		case $f in
		*.log | *.result | *.rc | "$WORK/.[!.]*") ;;
		*) rm -rf "$f" ;;
		esac
	done
}
# failure_report NAME: the scenario log's tail and the watchdog's report
failure_report() {
	if [ -s "$WORK/$1.log" ]; then
		echo "# last 40 lines of $WORK/$1.log:"
		tail -n 40 "$WORK/$1.log" | sed 's/^/| /'
	fi
	if [ -s "$WORK/$1.watchdog" ]; then
		head -n 150 "$WORK/$1.watchdog" | sed 's/^/| /'
		cat "$WORK/$1.watchdog" >>"$WORK/$1.log"
	fi
}

for s in $selected; do
	base=${s%.sh}
	name=${base#[0-9][0-9]-}
	t=$(sed -n 's/^# *timeout: *\([0-9][0-9]*\).*/\1/p' "$DIR/$s" | head -n 1)
	t=${t:-120}
	run_one "$name" "$s" "$t"
	# A guest that hangs silently before it is ready (no console output, vCPU 0 running) is rare (one per CI run at
	# most, none in 46 boots in a row); its cause is not known (tests/testbed/README.md). When
	# every failure of a scenario is of that kind, the scenario runs once more and only that attempt counts; the
	# first attempt is shown, marked, with its hang report.
	if grep -q '^not ok - ' "$res" && ! grep '^not ok - ' "$res" | grep -qv '\[hung; console: '; then
		echo "# $name: every failure is a guest that hung before it was ready; running it once more (attempt 1 below)"
		sed 's/^\(not \)*ok - /# attempt 1: &/' "$res"
		failure_report "$name" | sed 's/^/# attempt 1: /'
		scratch_clean
		run_one "$name" "$s" "$t"
	fi
	cat "$res"
	echo "# $name: $((el / 100)).$((el % 100 / 10)) s"
	grep -q '^not ok - ' "$res" && failure_report "$name"
	count "$res"
	scratch_clean
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
