# 83-metrics-moves.sh - metrics across moves: while a live migration runs the source's endpoint shows it (state
# migrating, round, bytes sent); the destination (restore --incoming --metrics) starts its counters afresh with a
# later lkvm_process_start_time_seconds while stolen time carries on; a file restore takes over the same unix path
# once the saved VM has gone; a bad restore --metrics fails in one line.
# timeout: 600
. "$(dirname "$0")/lib.sh"

MS=$TOOLS/mscrape
SRC=unix:$WORK/m83src.sock
DST=unix:$WORK/m83dst.sock
PIDS=
cleanup() {
	"$LKVM" stop --name m83 >/dev/null 2>&1
	sleep 1
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	guest_kill
}
trap 'cleanup' EXIT
val() { awk -v n="$2" 'index($0, n "{") == 1 || $1 == n { print $NF; exit }' "$1"; }
steal_ns() {
	awk 'index($0, "lkvm_vcpu_steal_seconds_total{") == 1 { split($NF, p, "."); printf "%d%s\n", p[1], substr(p[2] "000000000", 1, 9); exit }' "$1" |
		sed 's/^0*\([0-9]\)/\1/'
}
wait_listen() { # ERRFILE: restore --incoming says it listens
	_end=$(($(now_cs) + 3000))
	while ! has "$1" "waiting for a migration" && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
}

dd if=/dev/zero of="$WORK/m83.img" bs=1048576 count=8 2>/dev/null
guest_start m83 500 run -c 1 -m 256 --pvtime --name m83 -d "$WORK/m83.img" --metrics "$SRC" -k "$L2_KERNEL" \
	-i "$L2_INITRD" -p "quiet l2.run=counter"
if ! wait_for "$OUT" "COUNT 5 " 150; then
	guest_kill
	not_ok "the guest did not start counting ($(rc_text "$RC"))"
	finish
fi
"$MS" "$SRC" >"$WORK/src0.txt" 2>>"$LOG"
src_start=$(val "$WORK/src0.txt" lkvm_process_start_time_seconds)
src_blk=$(awk 'index($0, "lkvm_virtio_queue_requests_total{vm=\"m83\",device=\"blk0\"") == 1 { print $NF }' "$WORK/src0.txt")
check "the source: running, not migrating, blk requests ${src_blk:-?} from the guest's boot" \
	sh -c "grep -q '^lkvm_vm_state{vm=\"m83\",state=\"running\"} 1' '$WORK/src0.txt' && grep -q '^lkvm_migration_active{vm=\"m83\"} 0' '$WORK/src0.txt' && [ ${src_blk:-0} -ge 1 ]"

# --- a live migration, slowed to 8 MiB/s so that it can be watched ---
"$LKVM" restore --incoming "unix:$WORK/m83.mig" --metrics "$DST" </dev/null >"$WORK/dst.out" 2>"$WORK/dst.err" &
PIDS="$PIDS $!"
wait_listen "$WORK/dst.err"
"$LKVM" migrate --name m83 --max-bandwidth 8 "unix:$WORK/m83.mig" >"$WORK/mig.txt" 2>&1 &
MIG=$!
seen=0 rounds=0 sent=0 n=0
while kill -0 "$MIG" 2>/dev/null && [ $n -lt 300 ]; do
	n=$((n + 1))
	"$MS" "$SRC" >"$WORK/during.txt" 2>/dev/null || continue
	if grep -q '^lkvm_migration_active{vm="m83"} 1' "$WORK/during.txt" &&
		grep -q '^lkvm_vm_state{vm="m83",state="migrating"} 1' "$WORK/during.txt"; then
		seen=$((seen + 1))
		rounds=$(val "$WORK/during.txt" lkvm_migration_round)
		sent=$(val "$WORK/during.txt" lkvm_migration_sent_bytes)
		cp "$WORK/during.txt" "$WORK/migrating.txt"
	fi
	sleep 0.2
done
wait "$MIG"
mrc=$?
cat "$WORK/mig.txt" "$WORK/migrating.txt" >>"$LOG" 2>/dev/null
check "lkvm migrate succeeded (exit $mrc): $(tail -n 1 "$WORK/mig.txt")" [ $mrc = 0 ]
check "scrapes during the move saw it $seen times: state migrating, round ${rounds:-?}, ${sent:-?} bytes sent" \
	sh -c "[ $seen -ge 1 ] && [ ${rounds:-0} -ge 1 ] && [ ${sent:-0} -gt 0 ] && grep -q '^lkvm_migration_expected_pause_seconds{vm=\"m83\"} ' '$WORK/migrating.txt'"

# --- the destination ---
end=$(($(now_cs) + 3000))
until "$MS" "$DST" >"$WORK/dst1.txt" 2>>"$LOG" || [ "$(now_cs)" -ge "$end" ]; do sleep 0.3; done
cat "$WORK/dst1.txt" >>"$LOG"
dst_start=$(val "$WORK/dst1.txt" lkvm_process_start_time_seconds)
dst_blk=$(awk 'index($0, "lkvm_virtio_queue_requests_total{vm=\"m83\",device=\"blk0\"") == 1 { print $NF }' "$WORK/dst1.txt")
check "the destination serves its metrics: running, started later (${src_start:-?} -> ${dst_start:-?})" \
	sh -c "grep -q '^lkvm_vm_state{vm=\"m83\",state=\"running\"} 1' '$WORK/dst1.txt' && awk 'BEGIN { exit !(${dst_start:-0} > ${src_start:-0}) }'"
check "its counters start afresh: blk requests ${dst_blk:-?} (the source had ${src_blk:-?})" \
	sh -c "[ -n '$dst_blk' ] && [ ${dst_blk:-99} -lt ${src_blk:-0} ]"
"$MS" "$SRC" >/dev/null 2>&1
check "the source's endpoint is gone with it" [ $? != 0 ]
guest_wait
check "the source ended, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
s_src=$(steal_ns "$WORK/src0.txt")
sleep 1
"$MS" "$DST" >"$WORK/dst2.txt" 2>>"$LOG"
s_dst=$(steal_ns "$WORK/dst2.txt")
check "stolen time carries on: ${s_src:-?} ns before the move, ${s_dst:-?} ns after" \
	sh -c "[ -n '$s_src' ] && [ -n '$s_dst' ] && [ $s_dst -ge $s_src ] && [ $s_src -gt 0 ]"

# --- save --stop, then a file restore on the same metrics path ---
expect_fail "restore --metrics with a bad value fails" "$LKVM" restore --metrics "tcp:0" "$WORK/nonexistent.snap"
check "... in one line naming --metrics" sh -c "tail -n 1 '$LOG' | grep -q -- '--metrics tcp:0'"
"$LKVM" save --stop --name m83 "$WORK/m83.snap" >>"$LOG" 2>&1
check "lkvm save --stop of the migrated VM" [ $? = 0 ]
"$LKVM" restore --metrics "$DST" "$WORK/m83.snap" </dev/null >"$WORK/rst.out" 2>"$WORK/rst.err" &
PIDS="$PIDS $!"
end=$(($(now_cs) + 3000))
until "$MS" "$DST" >"$WORK/rst.txt" 2>>"$LOG" && grep -q '^lkvm_process_start_time_seconds' "$WORK/rst.txt" &&
	[ "$(val "$WORK/rst.txt" lkvm_process_start_time_seconds)" != "$dst_start" ] || [ "$(now_cs)" -ge "$end" ]; do
	sleep 0.3
done
rst_start=$(val "$WORK/rst.txt" lkvm_process_start_time_seconds)
check "a file restore serves on the same unix path once the saved VM is gone (start ${rst_start:-?})" \
	sh -c "awk 'BEGIN { exit !(${rst_start:-0} > ${dst_start:-0}) }' && grep -q '^lkvm_vm_state{vm=\"m83\",state=\"running\"} 1' '$WORK/rst.txt'"
"$LKVM" stop --name m83 >>"$LOG" 2>&1
sleep 1
check "the restored VM stopped and removed its socket" [ ! -e "$WORK/m83dst.sock" ]
cat "$WORK/dst.err" "$WORK/rst.err" >>"$LOG"
rm -f "$WORK/m83.img" "$WORK/m83.snap"
finish
