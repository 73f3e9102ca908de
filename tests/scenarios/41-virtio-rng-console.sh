# 41-virtio-rng-console.sh - virtio-rng gives the guest entropy; --console virtio puts an answering shell on hvc0.
# Each over pci with INTx (the default on gicv3), pci with MSI-X (gicv3-its) and mmio.
# timeout: 400
. "$(dirname "$0")/lib.sh"

for t in pci pci-its mmio; do
	case $t in
	pci) args="" ;;
	pci-its) args="--irqchip gicv3-its" ;;
	mmio) args="--virtio-transport mmio" ;;
	esac
	# shellcheck disable=SC2086
	lkvm_run "rng-$t" 120 run -c 1 -m 256 $args -k "$L2_KERNEL" -i "$L2_INITRD" --rng -p "quiet l2.run=rng"
	check "$t: --rng: guest ran, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check "$t: virtio-rng is the guest's active hwrng" has "$OUT" "RNG=virtio_rng"
	bytes=$(tr -d '\r' <"$OUT" | sed -n 's/.*BYTES=\([0-9a-f]*\).*/\1/p')
	check "$t: guest read 32 bytes from /dev/hwrng (${bytes:-none})" [ "${#bytes}" -eq 64 ]

	# shellcheck disable=SC2086
	guest_start "hvc-$t" 120 run -c 1 -m 256 $args --console virtio -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
	if wait_for "$OUT" "l2# " 100; then
		guest_send 'echo $((6*7))-HVC-OK; cat /proc/consoles; ls /sys/bus/pci/devices | wc -l | sed "s/^/PCIFNS=/"'
		check "$t: --console virtio: the shell answers through hvc0" wait_for "$OUT" "42-HVC-OK" 30
		check "$t: --console virtio: the guest's console is hvc0" wait_for "$OUT" "hvc0" 10
		case $t in
		mmio) check "$t: no PCI functions" wait_for "$OUT" "PCIFNS=0" 20 ;;
		*) check "$t: the console is a PCI function" wait_for "$OUT" "PCIFNS=1" 20 ;;
		esac
		guest_send 'poweroff -f'
		guest_wait
		check "$t: --console virtio: poweroff, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	else
		guest_kill
		not_ok "$t: --console virtio: no shell prompt on hvc0 [$(guest_tail)]"
	fi
done
finish
