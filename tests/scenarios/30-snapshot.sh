# 30-snapshot.sh - save a running guest with --stop, restore it, and check it continues where it stopped.
# timeout: 300
. "$(dirname "$0")/lib.sh"

SNAP=$WORK/counter.snap
# last_count FILE -> the highest COUNT printed so far
last_count() { sed -n 's/^COUNT \([0-9]*\) .*/\1/p' "$1" | tail -n 1; }
first_count() { sed -n 's/^COUNT \([0-9]*\) .*/\1/p' "$1" | head -n 1; }
uptime_of() { sed -n "s/^COUNT $2 up=\([0-9]*\)\..*/\1/p" "$1" | head -n 1; }

guest_start snap-src 120 run -c 1 -m 256 --name snapvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
if ! wait_for "$OUT" "COUNT 5 " 100; then
	guest_kill
	not_ok "source guest never counted to 5 ($(rc_text "$RC"))"
	finish
fi
SRC_OUT=$OUT
log "saving"
if "$LKVM" save --name snapvm --stop "$SNAP" >>"$LOG" 2>&1; then ok "lkvm save --stop: exit 0"; else not_ok "lkvm save --stop failed"; fi
guest_wait
check "source lkvm exited 0 after the save ($(rc_text "$RC"))" [ "$RC" = 0 ]
N=$(last_count "$SRC_OUT")
UP=$(uptime_of "$SRC_OUT" "$N")
check "snapshot file exists ($(wc -c <"$SNAP" 2>/dev/null) bytes for a 256 MiB guest)" [ -s "$SNAP" ]
diag "source stopped at COUNT $N (uptime ${UP}s)"

guest_start snap-dst 120 restore "$SNAP"
if wait_for "$OUT" "COUNT $((N + 3)) " 60; then
	ok "restored guest continues counting (reached $((N + 3)))"
else
	not_ok "restored guest did not continue to COUNT $((N + 3))"
fi
F=$(first_count "$OUT")
check "count continues from the saved value (first after restore: ${F:-none}, saved: $N)" [ "${F:-0}" -eq $((N + 1)) ]
if has "$OUT" L2-INIT-OK; then not_ok "the guest rebooted (L2-INIT-OK after restore)"; else ok "no reboot after restore"; fi
UP2=$(uptime_of "$OUT" "$F")
check "uptime continues (${UP}s before, ${UP2:-?}s after)" [ "${UP2:-0}" -ge "${UP:-99999}" ]
check "tmpfs file kept its earlier lines (COUNT $F lines=$F)" sh -c "tr -d '\\r' <\"$OUT\" | grep -q \"^COUNT $F up=[0-9.]* lines=$F\\$\""
if "$LKVM" stat --name snapvm >>"$LOG" 2>&1; then ok "restored VM answers under its saved name"; else not_ok "restored VM not reachable as snapvm"; fi
"$LKVM" stop --name snapvm >>"$LOG" 2>&1
guest_wait
check "restored VM stopped cleanly with lkvm stop ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
