# bench-steal.sh - L2 guest script (benchmarks): keep every vCPU busy and print the steal % of each interval.
# Kernel command line: l2.wait=S (idle before and after, default 3), l2.secs=S (interval, default 5),
# l2.intervals=N (default 5), l2.settle=S (busy before the first interval, default 1).
wait_s=3
secs=5
intervals=5
settle=1
for w in $(cat /proc/cmdline); do
	case $w in
	l2.wait=*) wait_s=${w#l2.wait=} ;;
	l2.secs=*) secs=${w#l2.secs=} ;;
	l2.intervals=*) intervals=${w#l2.intervals=} ;;
	l2.settle=*) settle=${w#l2.settle=} ;;
	esac
done
dmesg | grep -q 'arm-pv: using stolen time PV' && echo PV-ENABLED=yes || echo PV-ENABLED=no
# "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal ...; total = the first 8 (USER_HZ ticks)
# sample -> "steal total uptime": the cpu line's steal and total, and the guest's uptime in seconds
sample() {
	awk '/^cpu /{t=0; for (i = 2; i <= 9; i++) t += $i; getline u < "/proc/uptime"; split(u, a, " "); print $9, t, a[1]}' \
		/proc/stat
}
echo STEAL-READY
sleep "$wait_s"
n=$(grep -c '^processor' /proc/cpuinfo)
pids=
i=0
while [ $i -lt "$n" ]; do
	taskset -c $i sh -c 'while :; do :; done' &
	pids="$pids $!"
	i=$((i + 1))
done
echo BSTEAL-BUSY
sleep "$settle"
set -- $(sample)
s0=$1 t0=$2 u0=$3
i=1
while [ $i -le "$intervals" ]; do
	sleep "$secs"
	set -- $(sample)
	ds=$(($1 - s0)) dt=$(($2 - t0))
	# pct: share of the ticks the guest accounted (what top shows as %st); wall_pct: share of wall time (USER_HZ 100)
	echo "BSTEAL-PCT run=$i $(awk -v s=$ds -v t=$dt -v a="$u0" -v b="$3" 'BEGIN {
		w = b - a; if (t <= 0) t = 1; if (w <= 0) w = 1
		printf "pct=%.1f wall_pct=%.1f steal_ticks=%d total_ticks=%d wall_s=%.2f", 100 * s / t, s / w, s, t, w }')"
	s0=$1 t0=$2 u0=$3
	i=$((i + 1))
done
kill $pids
echo BSTEAL-DONE
# the host reads lkvm stat while the guest is still up
sleep "$wait_s"
