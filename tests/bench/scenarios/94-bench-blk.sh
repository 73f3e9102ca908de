# 94-bench-blk.sh - benchmarks: virtio-blk sequential write/read (dd, 1 MiB blocks, O_DIRECT in the guest) and 4 KiB
# random reads (bench-io, queue depth 1) on a 128 MiB image in L1's tmpfs. n/a while lkvm has no -d/--disk.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

MB=64
RSECS=3
if ! "$LKVM" run --help 2>&1 | grep -qE -- '(^|[ ,])(-d|--disk)([ ,=<]|$)'; then
	for m in blk_write_mbs blk_read_mbs blk_randread_iops; do bench_na $m "no virtio-blk in this build"; done
	ok "n/a (no virtio-blk in this build)"
	finish
fi
if ! l2_bench_initrd; then
	missed "virtio-blk (no L2 bench overlay $BENCH_DIR/l2-extra.cpio)"
	bench_finish ""
fi
img=$WORK/bench-disk.img
rm -f "$img"
# allocated, not sparse: reads then hit real tmpfs pages
dd if=/dev/zero of="$img" bs=1M count=128 2>>"$LOG"
tmo=$((90 + BENCH_RUNS * 60))
lkvm_run blk $tmo run -c 1 -m 256 -d "$img" -k "$L2_KERNEL" -i "$L2_BENCH_INITRD" \
	-p "quiet l2.run=bench-blk l2.runs=$BENCH_RUNS l2.mb=$MB l2.rsecs=$RSECS"
rm -f "$img"
mode=$(sed -n 's/.*BBLK-MODE write=\([a-z_]*\) read=\([a-z_]*\).*/write=\1 read=\2/p' "$OUT" | head -n 1)
if [ -z "$mode" ]; then
	missed "virtio-blk ($(rc_text "$RC"); $(grep -m 1 -E 'BBLK-NODEV|BBLK-SMALL|L2-RUN-MISSING' "$OUT" || echo 'no BBLK-MODE line'))"
	bench_finish ""
fi
bench_info blk_mode "$(echo "$mode" | tr ' ' ',')"
bench_info blk_timer "$(sed -n 's/.*BBLK write run=[0-9]* .* timer=\([a-z-]*\).*/\1/p' "$OUT" | head -n 1)"
bench_info blk_randread "$(grep -q 'BBLK randread' "$OUT" && echo bench-io || echo none)"
# BBLK write|read run=I bytes=B secs=S ; BBLK randread run=I bs=4096 ops=N secs=S iops=X
for kind in write read; do
	sed -n "s/.*BBLK $kind run=\([0-9]*\) bytes=\([0-9]*\) secs=\([0-9.]*\).*/\1 \2 \3/p" "$OUT" >"$WORK/blk-$kind.txt"
	n=0
	while read -r r b s; do
		v=$(awk -v b="$b" -v s="$s" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s }')
		[ -n "$v" ] || continue
		bench blk_${kind}_mbs "$r" "$v" MB/s
		diag "run $r: $kind $v MB/s ($b bytes in $s s)"
		n=$((n + 1))
	done <"$WORK/blk-$kind.txt"
	[ "$n" = "$BENCH_RUNS" ] || missed "virtio-blk $kind: $n of $BENCH_RUNS runs measured"
done
n=0
for r in $(sed -n 's/.*BBLK randread run=\([0-9]*\) .* iops=\([0-9.]*\).*/\1:\2/p' "$OUT"); do
	bench blk_randread_iops "${r%%:*}" "${r#*:}" IOPS
	diag "run ${r%%:*}: 4 KiB random read ${r#*:} IOPS"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || bench_na blk_randread_iops "no bench-io helper in the L2 overlay"
grep 'BBLK-ERR' "$OUT" | head -n 3 | while read -r l; do diag "$l"; done
[ "$RC" = 0 ] || missed "virtio-blk guest did not power off cleanly ($(rc_text "$RC"))"
bench_finish "$BENCH_RUNS runs in one boot ($mode)"
