# 03-console-input.sh - drive an interactive L2 shell through lkvm's stdin (a FIFO): compute, then power off; then
# 'echo cmd | lkvm run' with a guest that reads its console only 3 s after boot, on the 8250 and on virtio-console:
# input that arrives before the guest listens is held, not lost to the driver's FIFO reset.
# timeout: 400
. "$(dirname "$0")/lib.sh"

guest_start console 130 run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p quiet
if ! wait_for "$OUT" "l2# " 100; then
	guest_kill
	not_ok "no shell prompt ($(has "$OUT" L2-INIT-OK && echo 'L2-INIT-OK seen' || echo 'no L2-INIT-OK'); lkvm $(rc_text "$RC")) [$(guest_tail)]"
	finish
fi
# single quotes: the guest's shell must do the arithmetic
guest_send 'echo $((6*7))-CONSOLE-OK'
if wait_for "$OUT" 42-CONSOLE-OK 30; then
	ok "guest computed 42-CONSOLE-OK"
else
	not_ok "no 42-CONSOLE-OK within 30 s"
fi
guest_send 'poweroff -f'
guest_wait
if [ "$RC" = 0 ]; then
	ok "poweroff -f: exit 0 ($SECS s in all)"
else
	not_ok "poweroff -f: $(rc_text "$RC") after $SECS s"
fi

# piped: the command is in the pipe before lkvm starts, the guest reads it seconds after its driver reset the FIFO
for con in serial virtio; do
	log "[piped-$con] printf ... | $LKVM run --console $con ... l2.run=readline"
	printf '%s\n' 'echo $((6*7))-PIPED-OK' |
		timeout -k 5 150 "$LKVM" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 --console $con \
			-p "quiet l2.run=readline" >"$WORK/piped-$con.out" 2>"$WORK/piped-$con.err"
	rc=$?
	sed 's/^/out: /' "$WORK/piped-$con.out" >>"$LOG"
	sed 's/^/err: /' "$WORK/piped-$con.err" >>"$LOG"
	check "echo cmd | lkvm run --console $con: the guest that listens late ran it (42-PIPED-OK), exit $rc" \
		sh -c "grep -q 'READLINE-LISTENING' '$WORK/piped-$con.out' && grep -q '^42-PIPED-OK' '$WORK/piped-$con.out' && [ $rc = 0 ]"
done
finish
