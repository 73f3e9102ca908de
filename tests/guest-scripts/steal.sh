# steal.sh - L2: keep every vCPU busy for a while and report the steal the guest kernel accounted (/proc/stat).
# Parameters from the kernel command line: l2.wait=S (before measuring, default 3), l2.secs=S (default 5).
wait_s=3
secs=5
for w in $(cat /proc/cmdline); do
	case $w in
	l2.wait=*) wait_s=${w#l2.wait=} ;;
	l2.secs=*) secs=${w#l2.secs=} ;;
	esac
done
dmesg | grep -q 'arm-pv: using stolen time PV' && echo PV-ENABLED=yes || echo PV-ENABLED=no
# cpu line: user nice system idle iowait irq softirq steal ...; total = sum of the first 8
sample() { awk '/^cpu /{t=0; for (i = 2; i <= 9; i++) t += $i; print $9, t}' /proc/stat; }
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
set -- $(sample)
s0=$1 t0=$2
echo STEAL-BUSY
sleep "$secs"
set -- $(sample)
s1=$1 t1=$2
kill $pids
dt=$((t1 - t0))
[ "$dt" -gt 0 ] || dt=1
echo "STEAL-PCT=$(((s1 - s0) * 100 / dt)) steal_ticks=$((s1 - s0)) total_ticks=$dt cpus=$n"
sleep 1
awk '/^cpu[0-9]/{print "STEAL-CPU " substr($1, 4), $9}' /proc/stat
echo "STEAL-TOTAL-TICKS $(awk '/^cpu /{print $9}' /proc/stat)"
echo STEAL-DONE
# give the host time to read lkvm stat before the guest powers off
sleep "${wait_s}"
