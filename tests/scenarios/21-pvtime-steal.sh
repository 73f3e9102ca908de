# 21-pvtime-steal.sh - stolen time under contention: guest steal %, record vs host run delay, lkvm stat, --pvtime=off.
# timeout: 420
. "$(dirname "$0")/lib.sh"

# The vCPU thread and (optionally) a busy loop share one L1 CPU.
PIN_CPU=1
HOG=

# steal_sample NAME -> "stolen_ns run_delay_ns" of vCPU 0 from 'lkvm stat --steal'
steal_sample() {
	"$LKVM" stat --name "$1" --steal 2>>"$LOG" | tee -a "$LOG" | awk '$1 == "0" { print $2, $5 }'
}
vcpu_tid() { # PID-of-lkvm -> TID of its vCPU 0 thread
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-vcpu-0 ] && { basename "$t"; return; }
	done
}
lkvm_pid() { "$LKVM" stat --name "$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p'; }
hog_start() { taskset -c $PIN_CPU sh -c 'while :; do :; done' & HOG=$!; }
hog_stop() { [ -n "$HOG" ] && kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null; HOG=; }

# run_case TAG PVOPT HOG(0|1): boot a 1-vCPU guest running steal.sh with the vCPU pinned; sets PCT, S_A.., D_A..
run_case() {
	tag=$1 pvopt=$2 hog=$3
	PCT= S_A= S_B= S_C= D_A= D_B= GUEST_TOTAL=
	guest_start "$tag" 250 run $pvopt -c 1 -m 256 --name "$tag" -k "$L2_KERNEL" -i "$L2_INITRD" \
		-p "quiet l2.run=steal l2.wait=3 l2.secs=5"
	if ! wait_for "$OUT" STEAL-READY 200; then
		guest_kill
		not_ok "$tag: guest never reached STEAL-READY ($(rc_text "$RC")) [$(guest_tail)]"
		return 1
	fi
	pid=$(lkvm_pid "$tag")
	tid=$(vcpu_tid "$pid")
	if [ -z "$tid" ]; then
		guest_kill
		not_ok "$tag: no lkvm-vcpu-0 thread found (lkvm pid '$pid')"
		return 1
	fi
	taskset -p -c $PIN_CPU "$tid" >>"$LOG" 2>&1
	[ "$hog" = 1 ] && hog_start
	if [ "$pvopt" != --pvtime=off ]; then set -- $(steal_sample "$tag"); S_A=$1 D_A=$2; fi
	wait_for "$OUT" STEAL-PCT= 60
	if [ "$pvopt" != --pvtime=off ]; then set -- $(steal_sample "$tag"); S_B=$1 D_B=$2; fi
	hog_stop
	wait_for "$OUT" STEAL-DONE 30
	if [ "$pvopt" != --pvtime=off ]; then
		set -- $(steal_sample "$tag")
		S_C=$1
		"$LKVM" stat --name "$tag" --steal --json >"$WORK/$tag.json" 2>>"$LOG"
	fi
	guest_wait
	PCT=$(sed -n 's/.*STEAL-PCT=\([0-9-]*\).*/\1/p' "$OUT" | head -n 1)
	GUEST_TOTAL=$(sed -n 's/.*STEAL-TOTAL-TICKS \([0-9]*\).*/\1/p' "$OUT" | head -n 1)
	log "$tag: pct=$PCT S_A=$S_A S_B=$S_B S_C=$S_C D_A=$D_A D_B=$D_B guest_total_ticks=$GUEST_TOTAL rc=$RC"
	[ -n "$PCT" ] || { not_ok "$tag: guest printed no STEAL-PCT"; return 1; }
	return 0
}
trap 'hog_stop; guest_kill' EXIT

# 1. contention: pinned busy loop beside the vCPU thread
if run_case pvhog --pvtime 1; then
	check "contention: guest steal ${PCT}% >= 30% over 5 s" [ "$PCT" -ge 30 ]
	check "contention: guest kernel used PV stolen time" has "$OUT" PV-ENABLED=yes
	if [ -n "$S_A" ] && [ -n "$S_B" ] && [ -n "$D_A" ] && [ -n "$D_B" ]; then
		ds=$((S_B - S_A)) dd=$((D_B - D_A))
		[ "$dd" -gt 0 ] || dd=1
		# accuracy in per-mille: |ds - dd| / dd
		diff=$((ds > dd ? ds - dd : dd - ds))
		pm=$((diff * 1000 / dd))
		diag "accuracy: record grew ${ds} ns, host run delay grew ${dd} ns: off by $((pm / 10)).$((pm % 10))%"
		check "accuracy: record delta ${ds} ns within 5% of host run delay ${dd} ns ($((pm / 10)).$((pm % 10))%)" [ "$pm" -le 50 ]
		check "lkvm stat --steal --json: one vCPU record with stolen_ns and run_delay_ns" \
			grep -q '^{"name":"pvhog","vcpus":\[{"vcpu":0,"stolen_ns":[0-9]*,"stolen_pct":[0-9.]*,"elapsed_ns":[0-9]*,"run_delay_ns":[0-9]*}\]}$' "$WORK/pvhog.json"
		check "lkvm stat --steal: monotonic (${S_A} <= ${S_B} <= ${S_C})" [ "$S_A" -le "$S_B" -a "$S_B" -le "${S_C:-0}" ]
		# the guest's accounted steal (10 ms ticks) vs the record, read moments apart with the vCPU idle
		g_ns=$((GUEST_TOTAL * 10000000))
		gd=$((g_ns > S_C ? g_ns - S_C : S_C - g_ns))
		check "lkvm stat agrees with the guest: record ${S_C} ns vs guest /proc/stat ${g_ns} ns (within 10% + 50 ms)" \
			[ $((gd)) -le $((S_C / 10 + 50000000)) ]
	else
		not_ok "lkvm stat --steal gave no values (S_A='$S_A' S_B='$S_B' D_A='$D_A' D_B='$D_B')"
	fi
fi

# 2. no contention: same pinning, no busy loop
if run_case pvidle --pvtime 0; then
	check "no contention: guest steal ${PCT}% < 5%" [ "$PCT" -lt 5 ]
fi

# 3. --pvtime=off under contention: no PV stolen time at all
if run_case pvoff --pvtime=off 1; then
	check "--pvtime=off: guest kernel has no arm-pv stolen time" has "$OUT" PV-ENABLED=no
	check "--pvtime=off: guest steal stays 0 (got ${GUEST_TOTAL} ticks)" [ "${GUEST_TOTAL:-1}" -eq 0 ]
	if "$LKVM" stat --name nonexistent-vm --steal >>"$LOG" 2>&1; then not_ok "stat of a missing VM succeeded"; else ok "lkvm stat of a missing VM fails cleanly"; fi
fi
finish
