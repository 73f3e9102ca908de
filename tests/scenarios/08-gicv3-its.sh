# 08-gicv3-its.sh - --irqchip gicv3-its: the guest finds the ITS in its device tree and probes it; such a VM
# cannot be saved yet, and says so in one line while it keeps running.
# timeout: 150
. "$(dirname "$0")/lib.sh"

guest_start its 120 run -c 1 -m 256 --irqchip gicv3-its --name itsvm -k "$L2_KERNEL" -i "$L2_INITRD" \
	-p "quiet l2.run=itsinfo"
if ! wait_for "$OUT" ITS-READY 100; then
	guest_kill
	not_ok "guest with an ITS never got ready ($(rc_text "$RC"))"
	finish
fi
check "DT: msi-controller@8080000 with compatible arm,gic-v3-its" has "$OUT" "ITS-DT msi-controller@8080000 arm,gic-v3-its"
check "guest kernel probed the ITS at 0x8080000" has "$OUT" "ITS@0x0000000008080000"
"$LKVM" save --name itsvm "$WORK/its.snap" >"$WORK/its-save.out" 2>"$WORK/its-save.err"
rc=$?
check "save of an ITS VM is refused in one line (exit $rc): $(tr -s ' ' <"$WORK/its-save.err")" \
	[ "$rc" != 0 -a "$(grep -c '[^[:space:]]' "$WORK/its-save.err")" = 1 ]
check "... and the VM keeps running" sh -c "'$LKVM' stat --name itsvm | grep -q state=running"
check "... and no snapshot file was left" [ ! -e "$WORK/its.snap" ]
"$LKVM" stop --name itsvm >>"$LOG" 2>&1
guest_wait
check "ITS VM stopped with lkvm stop ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
