# 03-console-input.sh - drive an interactive L2 shell through lkvm's stdin (a FIFO): compute, then power off.
# timeout: 150
. "$(dirname "$0")/lib.sh"

guest_start console 130 run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p quiet
if ! wait_for "$OUT" "l2# " 100; then
	guest_kill
	not_ok "no shell prompt ($(has "$OUT" L2-INIT-OK && echo 'L2-INIT-OK seen' || echo 'no L2-INIT-OK'); lkvm $(rc_text "$RC"))"
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
finish
