# 41-virtio-rng-console.sh - virtio-rng gives the guest entropy; --console virtio puts an answering shell on hvc0.
# timeout: 200
. "$(dirname "$0")/lib.sh"

lkvm_run rng 120 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" --rng -p "quiet l2.run=rng"
check "--rng: guest ran, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "virtio-rng is the guest's active hwrng" has "$OUT" "RNG=virtio_rng"
bytes=$(tr -d '\r' <"$OUT" | sed -n 's/.*BYTES=\([0-9a-f]*\).*/\1/p')
check "guest read 32 bytes from /dev/hwrng (${bytes:-none})" [ "${#bytes}" -eq 64 ]

guest_start hvc 120 run -c 1 -m 256 --console virtio -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
if wait_for "$OUT" "l2# " 100; then
	guest_send 'echo $((6*7))-HVC-OK; cat /proc/consoles'
	check "--console virtio: the shell answers through hvc0" wait_for "$OUT" "42-HVC-OK" 30
	check "--console virtio: the guest's console is hvc0" wait_for "$OUT" "hvc0" 10
	guest_send 'poweroff -f'
	guest_wait
	check "--console virtio: poweroff, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
else
	guest_kill
	not_ok "--console virtio: no shell prompt on hvc0"
fi
finish
