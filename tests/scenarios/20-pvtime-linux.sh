# 20-pvtime-linux.sh - Linux guest with --pvtime: arm-pv enabled, region in the DT (no-map) and reserved in /proc/iomem.
# timeout: 200
. "$(dirname "$0")/lib.sh"

# 256 MiB at 0x80000000: the 64 KiB stolen-time region is carved from the top of RAM.
want_base=8fff0000
lkvm_run pvon 120 run --pvtime -c 2 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=pvinfo"
check "--pvtime, 2 vCPUs: guest ran and lkvm exited 0 ($(rc_text "$RC"), $SECS s)" [ "$RC" = 0 ]
check "guest sees 2 CPUs" has "$OUT" "PV-CPUS=2"
check "guest kernel: 'arm-pv: using stolen time PV'" has "$OUT" "arm-pv: using stolen time PV"
check "DT: /reserved-memory/stolen-time@$want_base, 64 KiB, no-map" \
	has "$OUT" "PV-DT-NODE stolen-time@$want_base reg=00000000${want_base}0000000000010000 no-map=yes"
check "/proc/iomem: ${want_base}-8fffffff is reserved, not RAM" has "$OUT" "PV-IOMEM ${want_base}-8fffffff : reserved"
if grep -q '^PV-RAM .*-8fffffff' "$OUT"; then
	not_ok "System RAM still covers the stolen-time region: $(grep '^PV-RAM' "$OUT" | tr '\n' ' ')"
else
	ok "System RAM stops below the region"
fi

lkvm_run pvoff 120 run --pvtime=off -c 2 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=pvinfo"
check "--pvtime=off: guest ran, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "--pvtime=off: no arm-pv stolen time in the guest" has "$OUT" "PV-ENABLED=no"
if has "$OUT" "PV-DT-NODE stolen-time"; then not_ok "--pvtime=off: DT still has a stolen-time node"; else ok "--pvtime=off: no stolen-time DT node"; fi
finish
