# 98-bench-9p.sh - benchmarks: virtio-9p sequential read MB/s (a guest reads a 64 MiB file in L1's tmpfs through
# --9p, 1 MiB blocks, msize 512 KiB). With a reference VMM (same --9p spelling, as kvmtool), each round boots one
# guest per VMM (alternating) for one run and the ratio is printed; without, one lkvm guest does every run.
# timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

MB=64
if ! "$LKVM" run --help 2>&1 | grep -q -- '--9p'; then
	bench_na p9_read_mbs "no virtio-9p in this build"
	ok "n/a (no virtio-9p in this build)"
	finish
fi
if ! l2_bench_initrd; then
	missed "virtio-9p (no L2 bench overlay $BENCH_DIR/l2-extra.cpio)"
	bench_finish ""
fi
dir=$WORK/bench-9p
rm -rf "$dir"
mkdir -p "$dir"
dd if=/dev/urandom of="$dir/big" bs=1M count=$MB 2>>"$LOG"

# p9_guest lkvm|ref NRUNS RUN0: one guest reading the share NRUNS times, reported as runs RUN0+1...
p9_guest() {
	_w=$1
	_n=$2
	_r0=$3
	_tag=9p
	[ "$_w" = ref ] && _tag=ref-9p
	[ "$_r0" -gt 0 ] && _tag=$_tag-$((_r0 + 1))
	_lab=$(vmm_label "$_w")
	with_vmm "$_w" lkvm_run $_tag $((90 + _n * 60)) run -c 1 -m 256 --9p "$dir,share" -k "$L2_KERNEL" \
		-i "$L2_BENCH_INITRD" -p "quiet l2.run=bench-9p l2.runs=$_n"
	_k=0
	for l in $(sed -n 's/.*B9P read run=\([0-9]*\) bytes=\([0-9]*\) secs=\([0-9.]*\).*/\1:\2:\3/p' "$OUT"); do
		r=${l%%:*}
		rest=${l#*:}
		b=${rest%%:*}
		s=${rest#*:}
		v=$(awk -v b="$b" -v s="$s" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s }')
		[ -n "$v" ] || continue
		bench_v "$_w" p9_read_mbs $((_r0 + r)) "$v" MB/s
		diag "$_lab run $((_r0 + r)): 9p sequential read $v MB/s ($b bytes in $s s)"
		_k=$((_k + 1))
	done
	[ "$_k" = "$_n" ] || missed "$_lab virtio-9p read: $_k of $_n runs measured ($(rc_text "$RC"); $(grep -m 1 -E 'B9P-NOMOUNT|B9P-ERR|L2-RUN-MISSING' "$OUT" || echo 'no B9P line'))"
	[ "$RC" = 0 ] || missed "$_lab virtio-9p guest did not power off cleanly ($(rc_text "$RC"))"
}

vmm_rounds p9_guest
bench_ratio p9_read_mbs p9_read_ratio
rm -rf "$dir"
bench_finish "$BENCH_RUNS runs${REF:+, one guest per VMM and round}"
