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
	not_ok "source guest never counted to 5 ($(rc_text "$RC")) [$(guest_tail)]"
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
check "--clock continue: no jump in guest uptime across the save (${UP}s -> ${UP2}s)" [ "${UP2:-0}" -le $((${UP:-0} + 2)) ]
if "$LKVM" stat --name snapvm >>"$LOG" 2>&1; then ok "restored VM answers under its saved name"; else not_ok "restored VM not reachable as snapvm"; fi

# pause / resume
"$LKVM" pause --name snapvm >>"$LOG" 2>&1
sleep 1
P1=$(last_count "$OUT")
check "lkvm pause: state=paused" sh -c "'$LKVM' stat --name snapvm | grep -q state=paused"
sleep 2
P2=$(last_count "$OUT")
check "lkvm pause: the guest stops counting ($P1 -> $P2 over 2 s)" [ "$P1" = "$P2" ]
"$LKVM" resume --name snapvm >>"$LOG" 2>&1
check "lkvm resume: the guest counts again" wait_for "$OUT" "COUNT $((P2 + 2)) " 30

# --clock advance: the guest's counter moves forward by the downtime
"$LKVM" save --name snapvm --stop "$SNAP" >>"$LOG" 2>&1
guest_wait
N=$(last_count "$OUT")
UP=$(uptime_of "$OUT" "$N")
sleep 6
guest_start snap-adv 120 restore --clock advance "$SNAP"
wait_for "$OUT" "COUNT $((N + 2)) " 60
UP3=$(uptime_of "$OUT" "$((N + 1))")
check "--clock advance: guest uptime jumps by the downtime (${UP}s -> ${UP3:-?}s, 6 s away)" \
	[ "${UP3:-0}" -ge $((${UP:-0} + 5)) ]
"$LKVM" stop --name snapvm >>"$LOG" 2>&1
guest_wait
check "restored VM stopped cleanly with lkvm stop ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
