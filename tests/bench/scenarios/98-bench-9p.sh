# 98-bench-9p.sh - benchmarks: virtio-9p sequential read MB/s (one guest reads a 64 MiB file in L1's tmpfs through
# --9p, BENCH_RUNS times, 1 MiB blocks, msize 512 KiB). Numbers only.
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
lkvm_run 9p $((90 + BENCH_RUNS * 60)) run -c 1 -m 256 --9p "$dir,share" -k "$L2_KERNEL" -i "$L2_BENCH_INITRD" \
	-p "quiet l2.run=bench-9p l2.runs=$BENCH_RUNS"
rm -rf "$dir"
k=0
for l in $(sed -n 's/.*B9P read run=\([0-9]*\) bytes=\([0-9]*\) secs=\([0-9.]*\).*/\1:\2:\3/p' "$OUT"); do
	r=${l%%:*}
	rest=${l#*:}
	b=${rest%%:*}
	s=${rest#*:}
	v=$(awk -v b="$b" -v s="$s" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s }')
	[ -n "$v" ] || continue
	bench p9_read_mbs "$r" "$v" MB/s
	diag "run $r: 9p sequential read $v MB/s ($b bytes in $s s)"
	k=$((k + 1))
done
[ "$k" = "$BENCH_RUNS" ] || missed "virtio-9p read: $k of $BENCH_RUNS runs measured ($(rc_text "$RC"); $(grep -m 1 -E 'B9P-NOMOUNT|B9P-ERR|L2-RUN-MISSING' "$OUT" || echo 'no B9P line'))"
[ "$RC" = 0 ] || missed "virtio-9p guest did not power off cleanly ($(rc_text "$RC"))"
bench_finish "$BENCH_RUNS runs"
