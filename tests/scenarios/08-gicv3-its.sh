# 08-gicv3-its.sh - --irqchip gicv3-its: the guest finds the ITS in its device tree and probes it; the VM is saved
# (LPI pending tables and ITS tables flushed to guest RAM first) and restored, and carries on.
# timeout: 200
. "$(dirname "$0")/lib.sh"

last_tick() { tr -d '\r' <"$1" | sed -n 's/^ITS-TICK \([0-9]*\)$/\1/p' | tail -n 1; }
first_tick() { tr -d '\r' <"$1" | sed -n 's/^ITS-TICK \([0-9]*\)$/\1/p' | head -n 1; }

guest_start its 120 run -c 2 -m 256 --irqchip gicv3-its --name itsvm -k "$L2_KERNEL" -i "$L2_INITRD" \
	-p "quiet l2.run=itsinfo"
if ! wait_for "$OUT" "ITS-TICK 3" 100; then
	guest_kill
	not_ok "guest with an ITS never got ready ($(rc_text "$RC")) [$(guest_tail)]"
	finish
fi
check "DT: msi-controller@8080000 with compatible arm,gic-v3-its" has "$OUT" "ITS-DT msi-controller@8080000 arm,gic-v3-its"
check "guest kernel probed the ITS at 0x8080000" has "$OUT" "ITS@0x0000000008080000"
"$LKVM" save --name itsvm --stop "$WORK/its.snap" >"$WORK/its-save.out" 2>"$WORK/its-save.err"
rc=$?
cat "$WORK/its-save.err" >>"$LOG"
guest_wait
check "save of a 2-vCPU VM with an ITS: exit $rc, source exited ($(rc_text "$RC"))" [ "$rc" = 0 -a "$RC" = 0 ]
n=$(last_tick "$OUT")
guest_start its-dst 90 restore "$WORK/its.snap"
wait_for "$OUT" "ITS-TICK $((n + 3))" 60
f=$(first_tick "$OUT")
check "restored ITS VM carries on (tick $n -> ${f:-none} .. $(last_tick "$OUT"))" [ "${f:-0}" = $((n + 1)) -a "$(last_tick "$OUT")" -ge $((n + 3)) ]
"$LKVM" stop --name itsvm >>"$LOG" 2>&1
guest_wait
check "restored ITS VM stopped with lkvm stop ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
