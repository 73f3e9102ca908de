# 94-bench-blk.sh - benchmarks: virtio-blk sequential write/read (dd, 1 MiB blocks, O_DIRECT in the guest) and 4 KiB
# random reads (bench-io, queue depth 1) on a 128 MiB image in L1's tmpfs. n/a while lkvm has no -d/--disk. With a
# reference VMM, each round boots one guest per VMM (alternating) for one run; without, one lkvm guest does them all.
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

# blk_guest lkvm|ref NRUNS RUN0: one guest doing NRUNS runs on a fresh image, reported as runs RUN0+1...
blk_guest() {
	_w=$1
	_n=$2
	_r0=$3
	_tag=blk
	[ "$_w" = ref ] && _tag=ref-blk
	[ "$_r0" -gt 0 ] && _tag=$_tag-$((_r0 + 1))
	_lab=$(vmm_label "$_w")
	rm -f "$img"
	# allocated, not sparse: reads then hit real tmpfs pages
	dd if=/dev/zero of="$img" bs=1M count=128 2>>"$LOG"
	with_vmm "$_w" lkvm_run $_tag $((90 + _n * 60)) run -c 1 -m 256 -d "$img" -k "$L2_KERNEL" -i "$L2_BENCH_INITRD" \
		-p "quiet l2.run=bench-blk l2.runs=$_n l2.mb=$MB l2.rsecs=$RSECS"
	rm -f "$img"
	mode=$(sed -n 's/.*BBLK-MODE write=\([a-z_]*\) read=\([a-z_]*\).*/write=\1 read=\2/p' "$OUT" | head -n 1)
	if [ -z "$mode" ]; then
		missed "$_lab virtio-blk ($(rc_text "$RC"); $(grep -m 1 -E 'BBLK-NODEV|BBLK-SMALL|L2-RUN-MISSING' "$OUT" || echo 'no BBLK-MODE line'))"
		return
	fi
	if [ "$_w" = lkvm ]; then
		bench_info blk_mode "$(echo "$mode" | tr ' ' ',')"
		bench_info blk_timer "$(sed -n 's/.*BBLK write run=[0-9]* .* timer=\([a-z-]*\).*/\1/p' "$OUT" | head -n 1)"
		bench_info blk_randread "$(grep -q 'BBLK randread' "$OUT" && echo bench-io || echo none)"
	else
		bench_info ref_blk_mode "$(echo "$mode" | tr ' ' ',')"
	fi
	# BBLK write|read run=I bytes=B secs=S ; BBLK randread run=I bs=4096 ops=N secs=S iops=X
	for kind in write read; do
		sed -n "s/.*BBLK $kind run=\([0-9]*\) bytes=\([0-9]*\) secs=\([0-9.]*\).*/\1 \2 \3/p" "$OUT" >"$WORK/$_tag-$kind.txt"
		_k=0
		while read -r r b s; do
			v=$(awk -v b="$b" -v s="$s" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s }')
			[ -n "$v" ] || continue
			bench_v "$_w" blk_${kind}_mbs $((_r0 + r)) "$v" MB/s
			diag "$_lab run $((_r0 + r)): $kind $v MB/s ($b bytes in $s s)"
			_k=$((_k + 1))
		done <"$WORK/$_tag-$kind.txt"
		[ "$_k" = "$_n" ] || missed "$_lab virtio-blk $kind: $_k of $_n runs measured"
	done
	_k=0
	for r in $(sed -n 's/.*BBLK randread run=\([0-9]*\) .* iops=\([0-9.]*\).*/\1:\2/p' "$OUT"); do
		bench_v "$_w" blk_randread_iops $((_r0 + ${r%%:*})) "${r#*:}" IOPS
		diag "$_lab run $((_r0 + ${r%%:*})): 4 KiB random read ${r#*:} IOPS"
		_k=$((_k + 1))
	done
	[ "$_k" -gt 0 ] || [ "$_w" = ref ] || bench_na blk_randread_iops "no bench-io helper in the L2 overlay"
	grep 'BBLK-ERR' "$OUT" | head -n 3 | while read -r l; do diag "$_lab: $l"; done
	[ "$RC" = 0 ] || missed "$_lab virtio-blk guest did not power off cleanly ($(rc_text "$RC"))"
	MODE=$mode
}

MODE=
vmm_rounds blk_guest
bench_ratio blk_write_mbs blk_write_ratio
bench_ratio blk_read_mbs blk_read_ratio
bench_ratio blk_randread_iops blk_randread_ratio
bench_finish "$BENCH_RUNS runs${REF:+, one guest per VMM and round}${MODE:+ ($MODE)}"
