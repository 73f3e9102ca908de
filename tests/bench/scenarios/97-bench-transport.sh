# 97-bench-transport.sh - benchmarks: virtio-blk 4 KiB QD1 random-read IOPS over each transport (pci with MSI-X
# through the ITS, pci with INTx, mmio), with and without ioeventfd, and KVM's exit counters per request (debugfs:
# mmio_exit_user = exits to lkvm, mmio_exit_kernel = MMIO handled in the kernel, i.e. ioeventfd notifications).
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

RSECS=3
VARIANTS="pci_its pci_intx mmio pci_its_noioeventfd mmio_noioeventfd"
if ! "$LKVM" run --help 2>&1 | grep -q -- '--virtio-transport'; then
	for v in $VARIANTS; do bench_na "blk_qd1_iops_$v" "no --virtio-transport in this build"; done
	ok "n/a (no --virtio-transport in this build)"
	finish
fi
if ! l2_bench_initrd; then
	missed "transports (no L2 bench overlay $BENCH_DIR/l2-extra.cpio)"
	bench_finish ""
fi
[ -d /sys/kernel/debug/kvm ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
img=$WORK/bench-notify.img
rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count=64 2>>"$LOG"

# kstat NAME -> the running VM's counter (the only VM: scenarios run one at a time), or empty
kstat() {
	for _d in /sys/kernel/debug/kvm/*-*; do
		[ -r "$_d/$1" ] && { cat "$_d/$1"; return; }
	done
}
for v in $VARIANTS; do
	case $v in
	pci_its) args="--irqchip gicv3-its" ;;
	pci_intx) args="--irqchip gicv3" ;;
	mmio) args="--virtio-transport mmio" ;;
	pci_its_noioeventfd) args="--irqchip gicv3-its --no-ioeventfd" ;;
	mmio_noioeventfd) args="--virtio-transport mmio --no-ioeventfd" ;;
	esac
	# shellcheck disable=SC2086
	guest_start "notify-$v" $((90 + BENCH_RUNS * 20)) run -c 1 -m 256 $args -d "$img" -k "$L2_KERNEL" \
		-i "$L2_BENCH_INITRD" -p "quiet l2.run=bench-notify l2.runs=$BENCH_RUNS l2.rsecs=$RSECS"
	n=0
	i=1
	while [ $i -le "$BENCH_RUNS" ]; do
		wait_for "$OUT" "BNOTIFY-READY $i" 90 || break
		u0=$(kstat mmio_exit_user)
		k0=$(kstat mmio_exit_kernel)
		wait_for "$OUT" "BNOTIFY run=$i " 60 || break
		u1=$(kstat mmio_exit_user)
		k1=$(kstat mmio_exit_kernel)
		line=$(tr -d '\r' <"$OUT" | grep "^BNOTIFY run=$i ")
		ops=$(echo "$line" | sed -n 's/.* ops=\([0-9]*\).*/\1/p')
		iops=$(echo "$line" | sed -n 's/.* iops=\([0-9.]*\).*/\1/p')
		if [ -n "$iops" ]; then
			bench "blk_qd1_iops_$v" $i "$iops" IOPS
			n=$((n + 1))
			if [ -n "$u0" ] && [ -n "$u1" ] && [ "${ops:-0}" -gt 0 ]; then
				ue=$(fdiv $((u1 - u0)) "$ops" %.3f)
				ke=$(fdiv $((k1 - k0)) "$ops" %.3f)
				bench "exits_user_per_req_$v" $i "$ue" exits
				bench "exits_kernel_per_req_$v" $i "$ke" exits
				diag "$v run $i: $iops IOPS; per request: $ue exits to lkvm, $ke MMIO exits handled in KVM"
			else
				diag "$v run $i: $iops IOPS (no KVM debugfs counters)"
			fi
		fi
		i=$((i + 1))
	done
	guest_wait
	[ "$n" = "$BENCH_RUNS" ] || missed "$v: $n of $BENCH_RUNS runs measured ($(rc_text "$RC"))"
	[ -n "$u0" ] || bench_na "exits_user_per_req_$v" "no KVM debugfs counters in L1"
done
rm -f "$img"
bench_finish "$BENCH_RUNS runs per variant ($VARIANTS)"
