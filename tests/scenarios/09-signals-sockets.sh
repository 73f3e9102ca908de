# 09-signals-sockets.sh - SIGTERM stops a VM cleanly (its socket goes away); a socket left by a killed lkvm gives
# clients a clear error and is taken over by the next lkvm of that name; lkvm list shows running VMs.
# timeout: 200
. "$(dirname "$0")/lib.sh"

vm_pid() { "$LKVM" stat --name "$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p'; }

guest_start sig 120 run -c 1 -m 256 --name sigvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
wait_for "$OUT" "COUNT 2 " 100 || { guest_kill; not_ok "guest never started [$(guest_tail)]"; finish; }
check "lkvm list shows sigvm running" sh -c "'$LKVM' list | grep -q 'sigvm *running'"
pid=$(vm_pid sigvm)
kill -TERM "$pid"
guest_wait
check "SIGTERM: lkvm exits 143 (128 + 15) ($(rc_text "$RC"))" [ "$RC" = 143 ]
check "SIGTERM: the guest was stopped cleanly (an Info line, no error)" [ "$(grep -c 'Error\|Fatal' "$ERR")" = 0 ]
if "$LKVM" list | grep -q sigvm; then not_ok "sigvm still listed after SIGTERM"; else ok "sigvm gone from lkvm list"; fi

guest_start stale 120 run -c 1 -m 256 --name stalevm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
wait_for "$OUT" "COUNT 2 " 100 || { guest_kill; not_ok "guest never started [$(guest_tail)]"; finish; }
pid=$(vm_pid stalevm)
kill -KILL "$pid"
guest_wait
"$LKVM" stat --name stalevm >"$WORK/stale.out" 2>"$WORK/stale.err"
rc=$?
check "client of a killed VM's socket: exit $rc, one clear line: $(tr -s ' ' <"$WORK/stale.err")" \
	[ "$rc" != 0 -a "$(grep -c '[^[:space:]]' "$WORK/stale.err")" = 1 ]
check "... naming it stale" grep -q "stale" "$WORK/stale.err"
guest_start stale2 120 run -c 1 -m 256 --name stalevm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
wait_for "$OUT" "COUNT 2 " 100
check "a new lkvm takes over the stale name" sh -c "'$LKVM' stat --name stalevm | grep -q state=running"
lkvm_run dupname 30 run -c 1 -m 256 --name stalevm -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
check "a second VM with a live name is refused in one line: $(tr -s ' ' <"$ERR")" \
	[ "$RC" != 0 -a "$(grep -c '[^[:space:]]' "$ERR")" = 1 ]
"$LKVM" stop --name stalevm >>"$LOG" 2>&1
guest_wait
check "lkvm stop: exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
