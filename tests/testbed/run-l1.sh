#!/bin/bash
# run-l1.sh - boot the L1 arm64 KVM host under QEMU TCG and run the lkvm scenarios inside it; exit 0 iff all passed.
#
# Usage: run-l1.sh [--nvhe] [--timeout SECONDS] [--scenarios a,b] [--log FILE] [--mode MODE] [--shell] [--quiet]
#                  [--outdir DIR] [--append 'KERNEL ARGS']
#   --nvhe        L1 KVM in nVHE mode (kvm-arm.mode=nvhe) instead of VHE
#   --timeout S   whole QEMU run limit (default 900)
#   --scenarios   comma-separated scenario names (default: all; "none" runs nothing)
#   --log FILE    L1 console log (default OUTDIR/l1-console.log)
#   --mode MODE   lkvm.mode=MODE for l1-init ("demo" shows the L2 consoles)
#   --shell       interactive L1 shell after the scenarios (QEMU on this terminal; Ctrl-A x quits QEMU)
#   --quiet       do not copy the console to stdout; only the results
# L1_MEM (default 2G) is L1's RAM. L1's eth0 is a QEMU user-mode NIC: the scenarios run gdb-multiarch and promtool on
# this machine through host-agent.sh (see lib.sh's host_tool).
# Needs OUTDIR/Image and OUTDIR/l1.cpio (prepare.sh, mkl2initrd.sh, mkl1initrd.sh). OUTDIR defaults to build/testbed.
set -u

OUT=build/testbed
NVHE=0
TMO=900
SCEN=
LOG=
MODE=
SHELL_=0
QUIET=0
EXTRA=
usage() { sed -n '4,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--nvhe) NVHE=1 ;;
	--timeout) TMO=${2:?}; shift ;;
	--scenarios) SCEN=${2:?}; shift ;;
	--log) LOG=${2:?}; shift ;;
	--mode) MODE=${2:?}; shift ;;
	--shell) SHELL_=1 ;;
	--quiet) QUIET=1 ;;
	--outdir) OUT=${2:?}; shift ;;
	--append) EXTRA="$EXTRA ${2:?}"; shift ;;
	-h | --help) usage ;;
	*) echo "run-l1: unknown argument $1" >&2; usage ;;
	esac
	shift
done
LOG=${LOG:-$OUT/l1-console.log}
for f in "$OUT/Image" "$OUT/l1.cpio"; do
	[ -f "$f" ] || { echo "run-l1: $f missing (run prepare.sh, mkl2initrd.sh, mkl1initrd.sh)" >&2; exit 2; }
done
mkdir -p "$(dirname "$LOG")"

append="console=ttyAMA0 rdinit=/init panic=-1 quiet"
[ $NVHE = 1 ] && append="$append kvm-arm.mode=nvhe"
[ -n "$SCEN" ] && append="$append lkvm.scenarios=$SCEN"
[ -n "$MODE" ] && append="$append lkvm.mode=$MODE"
[ $SHELL_ = 1 ] && append="$append lkvm.shell=1"
append="$append$EXTRA"

# The bridge to the test machine (L1's eth0, QEMU user networking): L1 reaches host-agent.sh, which runs gdb-multiarch
# and promtool here for the scenarios, at 10.0.2.100:7000 (one agent per connection), and the agent's gdb reaches
# port 1234 in L1 through a forward from a free local port. romfile= because the NIC's boot ROM (ipxe-qemu, a
# Recommends) is not installed; -nic none drops the virt board's default NIC for the same reason.
HERE=$(cd "$(dirname "$0")" && pwd)
LKVM_REPO=$(cd "$HERE/../.." && pwd)
port_free() { ! (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
LKVM_GDB_PORT=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	p=$((20000 + RANDOM % 20000))
	if port_free "$p"; then LKVM_GDB_PORT=$p; break; fi
done
[ -n "$LKVM_GDB_PORT" ] || { echo "run-l1: no free local port for the gdb forward" >&2; exit 2; }
export LKVM_GDB_PORT LKVM_REPO
net="user,id=n0,restrict=off,hostfwd=tcp:127.0.0.1:$LKVM_GDB_PORT-:1234"
net="$net,guestfwd=tcp:10.0.2.100:7000-cmd:$HERE/host-agent.sh"
qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on
	-accel tcg,thread=multi -smp 2 -m "${L1_MEM:-2G}" -nographic -no-reboot
	-nic none -netdev "$net" -device virtio-net-pci,netdev=n0,romfile=
	-kernel "$OUT/Image" -initrd "$OUT/l1.cpio" -append "$append")

# one nested QEMU at a time on this machine (2 cores): wait for any other run-l1 to finish
if [ -z "${RUN_L1_LOCKED:-}" ] && command -v flock >/dev/null; then
	exec 9>/tmp/lkvm-qemu.lock
	flock 9
fi
echo "run-l1: ${qemu[*]}" >&2
echo "run-l1: console log $LOG, timeout $TMO s" >&2
t0=$EPOCHREALTIME
t_init=
: >"$LOG"
if [ $SHELL_ = 1 ]; then
	# QEMU must own the terminal: --foreground keeps it in the terminal's process group
	timeout --foreground "$TMO" "${qemu[@]}" | tee "$LOG"
	qrc=${PIPESTATUS[0]}
else
	# line by line: log everything, echo unless --quiet, note when L1's init starts
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$LOG"
		if [ -z "$t_init" ] && [[ $line == L1-INIT-OK* ]]; then t_init=$EPOCHREALTIME; fi
		[[ $line == RUN-L1-QEMU-EXIT* ]] && continue
		[ $QUIET = 1 ] || printf '%s\n' "$line"
	done < <(timeout -k 10 "$TMO" "${qemu[@]}" </dev/null 2>&1; echo "RUN-L1-QEMU-EXIT $?")
	qrc=$(sed -n 's/^RUN-L1-QEMU-EXIT //p' "$LOG" | tail -n 1)
fi
t1=$EPOCHREALTIME
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

clean=$(mktemp)
trap 'rm -f "$clean"' EXIT
tr -d '\r' <"$LOG" >"$clean"

echo
echo "===== L1 results ($( [ $NVHE = 1 ] && echo nVHE || echo VHE); log: $LOG) ====="
grep -m 1 '^L1-INIT-OK' "$clean"
grep -m 1 '^L1-KVM=' "$clean"
grep -E '^(not )?ok - ' "$clean"
# what each failed scenario's log ended with (and where its processes waited, if it timed out)
if grep -q '^| ' "$clean"; then
	echo "----- failed scenarios: their logs' last lines -----"
	grep -E '^(# last 40 lines of |\| )' "$clean" | head -n 400
	echo "-----------------------------------------------------"
fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$clean" | tail -n 1)
passed=$(grep -cE '^ok - ' "$clean")
failed=$(grep -cE '^not ok - ' "$clean")
if [ -n "$summary" ]; then
	passed=${summary%% passed*}
	failed=${summary#*, }
	failed=${failed%% failed}
fi
status=0
bad=0
grep -q '^L1-DONE' "$clean" || bad=1
[ -z "$summary" ] && [ "$SCEN" != none ] && bad=1
if [ $bad = 1 ]; then
	if [ "${qrc:-0}" = 124 ] || [ "${qrc:-0}" = 137 ]; then
		why="QEMU timed out after $TMO s"
	else
		why="L1 ended without L1-DONE (QEMU exit ${qrc:-?})"
	fi
	echo "----- last 60 console lines -----"
	grep -v '^RUN-L1-QEMU-EXIT ' "$clean" | tail -n 60
	echo "---------------------------------"
	echo "not ok - l1: $why"
	failed=$((failed + 1))
	status=1
fi
[ "$failed" -eq 0 ] || status=1
if [ -n "$t_init" ]; then
	echo "# L1 boot (QEMU start to L1-INIT-OK): $(secs "$t0" "$t_init") s; whole run $(secs "$t0" "$t1") s"
else
	echo "# whole run $(secs "$t0" "$t1") s"
fi
echo "$passed passed, $failed failed"
exit $status
