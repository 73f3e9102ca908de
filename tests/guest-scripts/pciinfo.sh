# pciinfo.sh - L2: list PCI functions with their driver, the virtio interrupt lines, then exercise vda and hwrng.
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/vendor" ] || continue
	drv=$(readlink "$d/driver" 2>/dev/null)
	echo "PCI $(basename "$d") vendor=$(cat "$d/vendor") device=$(cat "$d/device") driver=${drv##*/}"
done
# MSI lines name the ITS domain; INTx lines the GIC with the device's shared handler (virtioN)
grep -E 'MSI|virtio' /proc/interrupts | tr -s ' ' | sed 's/^/IRQ /'
if [ -b /dev/vda ]; then
	echo "VDA-SIZE=$(cat /sys/block/vda/size)"
	echo PCI-WROTE-THIS | dd of=/dev/vda bs=512 seek=1 conv=sync,fsync 2>/dev/null
	echo "VDA-WRITE-RC=$?"
	echo "VDA-MARKER=$(dd if=/dev/vda bs=16 count=1 2>/dev/null)"
fi
if [ -c /dev/hwrng ]; then
	echo "RNG=$(cat /sys/class/misc/hw_random/rng_current) BYTES=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
fi
# counts after the I/O: the MSI/INTx lines must have fired
grep -E 'MSI|virtio' /proc/interrupts | tr -s ' ' | sed 's/^/IRQ-AFTER /'
sync
