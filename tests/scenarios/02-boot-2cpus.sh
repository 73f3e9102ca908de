# 02-boot-2cpus.sh - boot the L2 guest with 2 vCPUs; the guest must see both online and power off (exit 0).
# timeout: 150
. "$(dirname "$0")/lib.sh"

lkvm_run boot2 130 run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 2 -p "quiet l2.run=cpus"
cpus=$(grep -o 'L2-CPUS=[0-9]*' "$OUT" | head -n 1)
if [ "$RC" = 0 ] && [ "$cpus" = L2-CPUS=2 ]; then
	ok "boot 2 vCPUs: $cpus, $SECS s"
else
	not_ok "boot 2 vCPUs: $(rc_text "$RC") after $SECS s, ${cpus:-no L2-CPUS line} (want L2-CPUS=2)"
fi
finish
