# bench-blk.sh - L2 guest script (benchmarks): sequential dd write and read of /dev/vda bypassing the page cache,
# then 4 KiB random reads (bench-io) if the helper is present. Kernel command line: l2.runs=N (default 5),
# l2.mb=MiB per dd (default 64), l2.rsecs=S per random-read run (default 3), l2.dev=DEV (default /dev/vda).
runs=5
mb=64
rsecs=3
dev=/dev/vda
for w in $(cat /proc/cmdline); do
	case $w in
	l2.runs=*) runs=${w#l2.runs=} ;;
	l2.mb=*) mb=${w#l2.mb=} ;;
	l2.rsecs=*) rsecs=${w#l2.rsecs=} ;;
	l2.dev=*) dev=${w#l2.dev=} ;;
	esac
done
if [ ! -b "$dev" ]; then
	echo "BBLK-NODEV $dev: $(ls /dev | grep -E '^vd' | tr '\n' ' ')"
	exit 1
fi
size=$(blockdev --getsize64 "$dev" 2>/dev/null || echo 0)
if [ "$size" -lt $((mb * 1048576)) ]; then
	echo "BBLK-SMALL $dev has $size bytes, need $((mb * 1048576))"
	exit 1
fi
# O_DIRECT where dd can do it; otherwise buffered with fsync (write) / drop_caches before reading
wmode=direct
dd if=/dev/zero of="$dev" bs=1M count=1 oflag=direct conv=fsync 2>/dev/null || wmode=fsync
rmode=direct
dd if="$dev" of=/dev/null bs=1M count=1 iflag=direct 2>/dev/null || rmode=drop_caches
echo "BBLK-MODE write=$wmode read=$rmode dev=$dev size=$size mb=$mb"
# ddrate TAG RUN ARGS...: run dd and print "BBLK TAG run=N bytes=B secs=S timer=T". Debian's busybox dd prints no
# timing, so the wall time of the dd process comes from bench-io (CLOCK_MONOTONIC) or else /proc/uptime (10 ms).
ddrate() {
	tag=$1 run=$2
	shift 2
	if [ -x /bin/bench-io ]; then
		timer=bench-io
		t=$(/bin/bench-io time dd "$@" 2>/tmp/dd.err | sed -n 's/^BENCH-IO time secs=\([0-9.]*\) rc=0.*/\1/p')
	else
		timer=uptime
		read -r u0 _ </proc/uptime
		if dd "$@" 2>/tmp/dd.err; then
			read -r u1 _ </proc/uptime
			t=$(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.2f", b - a }')
		else
			t=
		fi
	fi
	# "N+0 records out": whole 1 MiB blocks copied
	n=$(sed -n 's/^\([0-9]*\)+[0-9]* records out.*/\1/p' /tmp/dd.err | tail -n 1)
	if [ -n "$t" ] && [ "${n:-0}" -gt 0 ]; then
		echo "BBLK $tag run=$run bytes=$((n * 1048576)) secs=$t timer=$timer"
	else
		echo "BBLK-ERR $tag run=$run: $(tr '\n' ' ' </tmp/dd.err)"
	fi
}
i=1
while [ $i -le "$runs" ]; do
	if [ $wmode = direct ]; then
		ddrate write $i if=/dev/zero of="$dev" bs=1M count="$mb" oflag=direct conv=fsync
	else
		ddrate write $i if=/dev/zero of="$dev" bs=1M count="$mb" conv=fsync
	fi
	if [ $rmode = direct ]; then
		ddrate read $i if="$dev" of=/dev/null bs=1M count="$mb" iflag=direct
	else
		sync
		echo 3 >/proc/sys/vm/drop_caches
		ddrate read $i if="$dev" of=/dev/null bs=1M count="$mb"
	fi
	if [ -x /bin/bench-io ]; then
		r=$(/bin/bench-io randread "$dev" "$rsecs" 4096 2>&1)
		case $r in
		BENCH-IO*) echo "BBLK randread run=$i ${r#BENCH-IO randread }" ;;
		*) echo "BBLK-ERR randread run=$i: $r" ;;
		esac
	fi
	i=$((i + 1))
done
echo BBLK-DONE
