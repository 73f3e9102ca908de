# 01-boot-1cpu.sh - boot the L2 guest with 1 vCPU and 256 MiB; it must reach its init and power off (exit 0).
# timeout: 120
. "$(dirname "$0")/lib.sh"

lkvm_run boot1 100 run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p "quiet l2.run=poweroff"
if [ "$RC" = 0 ] && has "$OUT" L2-INIT-OK; then
	ok "boot 1 vCPU: $SECS s"
else
	not_ok "boot 1 vCPU: $(rc_text "$RC") after $SECS s, L2-INIT-OK $(has "$OUT" L2-INIT-OK && echo seen || echo missing)"
fi
finish
