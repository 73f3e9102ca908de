# 05-irqchip-gicv2.sh - --irqchip gicv2: boot where KVM can create a vGICv2, else a clean one-line refusal naming GICv2.
# timeout: 150
. "$(dirname "$0")/lib.sh"

lkvm_run gicv2 130 run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 --irqchip gicv2 -p "quiet l2.run=poweroff"
msg=$(first_line "$ERR")
if [ "$RC" = 0 ] && has "$OUT" L2-INIT-OK; then
	ok "host supports a vGICv2, guest booted in $SECS s"
elif [ "$RC" != 0 ] && [ "$RC" != 124 ] && [ "$(nonempty_lines "$ERR")" = 1 ] && grep -qi gicv2 "$ERR" &&
	! booted "$OUT" "$ERR"; then
	ok "refused, exit $RC, \"$msg\""
else
	not_ok "$(rc_text "$RC"), $(nonempty_lines "$ERR") stderr lines, first: \"$msg\"$(booted "$OUT" && echo ', guest started')"
fi
finish
