# 43-virtio-pci.sh - virtio over PCI (the default transport): vendor 0x1af4 functions bound to virtio-pci, MSI-X
# vectors through the ITS with gicv3-its, level INTx without an ITS, a pattern written over PCI lands in the host
# file; the same devices over --virtio-transport mmio.
# timeout: 400
. "$(dirname "$0")/lib.sh"

D=$WORK/pcidisk.img
fresh_disk() {
	dd if=/dev/zero of="$D" bs=1024 count=4096 2>/dev/null
	printf LKVM-PCI-MARKER | dd of="$D" conv=notrunc 2>/dev/null
}
landed() { dd if="$D" bs=512 skip=1 count=1 2>/dev/null | grep -q PCI-WROTE-THIS; }
common_checks() {
	check "$1: guest ran, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check "$1: vda is 4 MiB and reads the host's marker" sh -c "grep -q 'VDA-SIZE=8192' '$OUT' && grep -q 'VDA-MARKER=LKVM-PCI-MARKER' '$OUT'"
	check "$1: guest write + fsync succeeded" has "$OUT" "VDA-WRITE-RC=0"
	check "$1: the pattern the guest wrote is in the host file" landed
	check "$1: virtio-rng is the guest's hwrng and gives bytes" sh -c "grep -q 'RNG=virtio_rng.*BYTES=[0-9a-f]\{32\}' '$OUT'"
	diag "$1: $(tr -d '\r' <"$OUT" | sed -n 's/^IRQ-AFTER //p' | tr '\n' ';')"
}

fresh_disk
lkvm_run its 150 run -c 1 -m 256 --irqchip gicv3-its -d "$D" --rng -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=pciinfo"
common_checks "pci+its"
check "pci+its: virtio-blk is PCI 1af4:1042 bound to virtio-pci" has "$OUT" "vendor=0x1af4 device=0x1042 driver=virtio-pci"
check "pci+its: virtio-rng is PCI 1af4:1044 bound to virtio-pci" has "$OUT" "vendor=0x1af4 device=0x1044 driver=virtio-pci"
check "pci+its: /proc/interrupts shows MSI vectors for the virtio queues" sh -c "grep -q '^IRQ-AFTER.*MSI.*virtio.*req' '$OUT'"
check "pci+its: a config vector per device (MSI-X: queues + config)" sh -c "grep -q '^IRQ.*MSI.*virtio.*-config' '$OUT'"

fresh_disk
lkvm_run intx 150 run -c 1 -m 256 --irqchip gicv3 -d "$D" --rng -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=pciinfo"
common_checks "pci+intx"
check "pci+intx: no ITS, so no MSI lines" sh -c "! grep -q '^IRQ.*MSI' '$OUT'"
check "pci+intx: the virtio devices share level-triggered INTx lines" sh -c "grep -q '^IRQ-AFTER.*Level.*virtio' '$OUT'"

fresh_disk
lkvm_run mmio 150 run -c 1 -m 256 --virtio-transport mmio -d "$D" --rng -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=pciinfo"
common_checks "mmio"
check "mmio: no PCI functions" sh -c "! grep -q '^PCI ' '$OUT'"
check "mmio: the devices interrupt through their own SPIs" sh -c "grep -q '^IRQ-AFTER.*Edge.*virtio' '$OUT'"

lkvm_run legacy 30 run -c 1 -m 256 --virtio-transport pci-legacy -k "$L2_KERNEL" -i "$L2_INITRD"
check "--virtio-transport pci-legacy: one-line refusal ($(first_line "$ERR"))" \
	[ "$RC" != 0 -a "$RC" -lt 124 -a "$(nonempty_lines "$ERR")" = 1 ]
finish
