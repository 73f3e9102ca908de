# 10-tty-pmu.sh - an interactive terminal: raw mode while the guest runs, Ctrl-A x quits, the terminal is restored;
# and --pmu: the guest drives a PMUv3 described by the device tree.
# timeout: 200
. "$(dirname "$0")/lib.sh"

PTY=$TOOLS/ptyrun
if [ -x "$PTY" ]; then
	timeout 120 "$PTY" "l2# " '\x01x' -- "$LKVM" run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet \
		>"$WORK/tty.out" 2>&1
	cat "$WORK/tty.out" >>"$LOG"
	check "on a terminal, the guest shell came up and Ctrl-A x was typed" grep -q "typed=yes" "$WORK/tty.out"
	check "the terminal was in raw mode while the guest ran" grep -q "raw_during=yes" "$WORK/tty.out"
	check "Ctrl-A x: lkvm exits 0" grep -q "PTYRUN exit=0 " "$WORK/tty.out"
	check "the terminal settings are restored afterwards" grep -q "termios_after=restored" "$WORK/tty.out"
else
	not_ok "helper $PTY missing (make tools)"
fi

lkvm_run pmu 120 run -c 1 -m 256 --pmu -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=pmuinfo"
check "--pmu: guest ran, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "--pmu: the DT has an arm,armv8-pmuv3 node" has "$OUT" "PMU-DT arm,armv8-pmuv3"
check "--pmu: the guest's perf driver found the PMU" has "$OUT" "PMU-DMESG"
finish
