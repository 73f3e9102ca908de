# 05-irqchip-gicv2.sh - --irqchip gicv2: boot where KVM can create a vGICv2, else a clean one-line refusal naming GICv2;
# the host is asked before the kernel is opened (kvm-unit-tests' premature-failure probe); gicv2m is refused cleanly.
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

# kvm-unit-tests (--target=kvmtool) first runs each test with a kernel that does not exist: only when the output says
# "Unable to open kernel" does it believe the host could run the test. So the irqchip is checked first.
lkvm_run probe-v2 30 run --kernel _NO_FILE_4Uhere_ -m 64 -c 1 --irqchip gicv2
if has "$ERR" "Unable to open kernel"; then
	# a host with a vGICv2 opens the kernel next: that is the right answer there
	if lkvm_run v2check 30 run --irqchip gicv2 --dump-dtb "$WORK/v2.dtb" -k "$L2_KERNEL" && [ "$RC" = 0 ]; then
		ok "probe --irqchip gicv2: this host has a vGICv2, so the missing kernel is reported"
	else
		not_ok "probe --irqchip gicv2: says 'Unable to open kernel' although this host cannot create a GICv2"
	fi
else
	check "probe --irqchip gicv2 on a host without GICv2: refused before the kernel ($(first_line "$ERR"))" \
		sh -c "[ '$RC' != 0 ] && grep -qi gicv2 '$ERR' && [ \$(grep -c '[^[:space:]]' '$ERR') = 1 ]"
fi
lkvm_run probe-v3 30 run --kernel _NO_FILE_4Uhere_ -m 64 -c 1 --irqchip gicv3
check "probe --irqchip gicv3 (supported here): 'Fatal: Unable to open kernel _NO_FILE_4Uhere_'" \
	has "$ERR" "Fatal: Unable to open kernel _NO_FILE_4Uhere_"
lkvm_run probe-v2m 30 run --kernel _NO_FILE_4Uhere_ -m 64 -c 1 --irqchip gicv2m
check "probe --irqchip gicv2m: one-line refusal naming gicv2m, before the kernel ($(first_line "$ERR"))" \
	sh -c "[ '$RC' != 0 ] && grep -q gicv2m '$ERR' && ! grep -q 'Unable to open kernel' '$ERR' && [ \$(grep -c '[^[:space:]]' '$ERR') = 1 ]"
finish
