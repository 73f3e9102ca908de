# 31-snapshot-smp-steal.sh - save/restore of a 2-vCPU guest (work on both CPUs continues) and of a --pvtime guest
# (its stolen time carries over and keeps growing under contention).
# timeout: 360
. "$(dirname "$0")/lib.sh"

SNAP=$WORK/smp.snap
HOG=
hog_stop() { [ -n "$HOG" ] && kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null; HOG=; }
trap 'hog_stop; guest_kill' EXIT
lastn() { tr -d '\r' <"$1" | sed -n "s/^$2 \([0-9]*\)\$/\1/p" | tail -n 1; }
firstn() { tr -d '\r' <"$1" | sed -n "s/^$2 \([0-9]*\)\$/\1/p" | head -n 1; }
# pin NAME: put VM NAME's vCPU 0 thread on L1 CPU 1 next to a busy loop
pin_with_hog() {
	pid=$("$LKVM" stat --name "$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-vcpu-0 ] && taskset -p -c 1 "$(basename "$t")" >/dev/null 2>&1
	done
	taskset -c 1 sh -c 'while :; do :; done' &
	HOG=$!
}

# --- 2 vCPUs --------------------------------------------------------------------------------------------------
guest_start smp-src 120 run -c 2 -m 256 --name smpvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=percpu"
if wait_for "$OUT" "CPU1 4" 100 && wait_for "$OUT" "CPU0 4" 10; then
	"$LKVM" save --name smpvm --stop "$SNAP" >>"$LOG" 2>&1
	guest_wait
	check "2 vCPUs: source saved and exited 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	c0=$(lastn "$OUT" CPU0)
	c1=$(lastn "$OUT" CPU1)
	guest_start smp-dst 90 restore "$SNAP"
	wait_for "$OUT" "CPU0 $((c0 + 3))" 60
	wait_for "$OUT" "CPU1 $((c1 + 3))" 30
	check "2 vCPUs: CPU0's counter continues ($c0 -> $(firstn "$OUT" CPU0) .. $(lastn "$OUT" CPU0))" \
		[ "$(firstn "$OUT" CPU0)" = $((c0 + 1)) -a "$(lastn "$OUT" CPU0)" -ge $((c0 + 3)) ]
	check "2 vCPUs: CPU1's counter continues ($c1 -> $(firstn "$OUT" CPU1) .. $(lastn "$OUT" CPU1))" \
		[ "$(firstn "$OUT" CPU1)" = $((c1 + 1)) -a "$(lastn "$OUT" CPU1)" -ge $((c1 + 3)) ]
	"$LKVM" stop --name smpvm >>"$LOG" 2>&1
	guest_wait
else
	guest_kill
	not_ok "2 vCPUs: the guest's per-CPU counters never started [$(guest_tail)]"
fi

# --- stolen time across a save/restore -------------------------------------------------------------------------
guest_start pv-src 150 run --pvtime -c 1 -m 256 --name pvsnap -k "$L2_KERNEL" -i "$L2_INITRD" \
	-p "quiet l2.run=stealcount"
if wait_for "$OUT" "STEAL 2 " 100; then
	pin_with_hog pvsnap
	n=$(tr -d '\r' <"$OUT" | sed -n 's/^STEAL \([0-9]*\) .*/\1/p' | tail -n 1)
	wait_for "$OUT" "STEAL $((n + 8)) " 40
	"$LKVM" stat --name pvsnap --steal >>"$LOG" 2>&1
	"$LKVM" save --name pvsnap --stop "$SNAP" >>"$LOG" 2>&1
	hog_stop
	guest_wait
	before=$(tr -d '\r' <"$OUT" | sed -n 's/^STEAL [0-9]* \([0-9]*\)$/\1/p' | tail -n 1)
	check "pvtime: steal accrued before the save (${before:-none} ticks)" [ "${before:-0}" -gt 0 ]
	guest_start pv-dst 90 restore "$SNAP"
	if wait_for "$OUT" "STEAL " 60; then
		pin_with_hog pvsnap
		m=$(tr -d '\r' <"$OUT" | sed -n 's/^STEAL \([0-9]*\) .*/\1/p' | tail -n 1)
		wait_for "$OUT" "STEAL $((m + 8)) " 40
		"$LKVM" stat --name pvsnap --steal >>"$LOG" 2>&1
		hog_stop
		first=$(tr -d '\r' <"$OUT" | sed -n 's/^STEAL [0-9]* \([0-9]*\)$/\1/p' | head -n 1)
		last=$(tr -d '\r' <"$OUT" | sed -n 's/^STEAL [0-9]* \([0-9]*\)$/\1/p' | tail -n 1)
		check "pvtime: steal after restore (${first}) >= before the save (${before})" [ "${first:-0}" -ge "${before:-1}" ]
		check "pvtime: steal keeps growing after restore under contention (${first} -> ${last})" \
			[ "${last:-0}" -gt $((${first:-0} + 50)) ]
	else
		not_ok "pvtime: restored guest printed nothing"
	fi
	"$LKVM" stop --name pvsnap >>"$LOG" 2>&1
	guest_wait
else
	guest_kill
	not_ok "pvtime: the guest never started counting [$(guest_tail)]"
fi
finish
