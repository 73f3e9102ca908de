# 44-hostile-pci.sh - a bare-metal guest attacks the PCI bus: config accesses out of range, BARs over RAM and over
# each other, garbage in the MSI-X table, a notify for a queue that does not exist. lkvm warns and keeps going.
# timeout: 90
. "$(dirname "$0")/lib.sh"

P=$TOOLS/pci-hostile.bin
[ -f "$P" ] || { not_ok "payload $P missing (make guest)"; finish; }
D=$WORK/hostile.img
dd if=/dev/zero of="$D" bs=1024 count=1024 2>/dev/null
lkvm_run hostile-pci 60 run -c 1 -m 64 --irqchip gicv3-its -d "$D" --rng -k "$P"
check "guest saw virtio-blk and virtio-rng functions" has "$OUT" "HOSTILE-PCI id0=0x10421af4 id1=0x10441af4"
check "empty slot reads all ones, extended space 0, misaligned refused" \
	has "$OUT" "empty-slot=0xffffffff extended=0x0 misaligned=0xffffffff"
check "read-only IDs survive writes" has "$OUT" "ids-after-write=0x10421af4"
check "BAR over guest RAM: RAM stays RAM" has "$OUT" "ram-intact=1"
check "lkvm refuses to decode the BAR over RAM" grep -q "outside the PCI window" "$ERR"
check "overlapping BARs: the first keeps decoding" has "$OUT" "overlap: numq-at-bar=1"
check "lkvm refuses the overlapping BAR" grep -q "overlaps the BAR" "$ERR"
check "MSI-X garbage: odd-width/out-of-table writes dropped with a warning" grep -q "MSI-X table write" "$ERR"
check "MSI to a garbage address: not delivered, reported" grep -q "was not delivered" "$ERR"
check "DRIVER_OK without FEATURES_OK: the device needs reset (0x44)" has "$OUT" "HOSTILE-PCI status=0x44"
check "notify for a nonexistent queue: ignored with a warning" grep -q "queue 7, which does not exist" "$ERR"
check "guest finished" has "$OUT" "HOSTILE-PCI done"
check "lkvm exits 0 after the guest powers off ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
