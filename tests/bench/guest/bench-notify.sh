# bench-notify.sh - L2 guest script (benchmarks): 4 KiB random reads at queue depth 1 (one notification per request)
# in runs the host can bracket with KVM's exit counters: "BNOTIFY-READY i", 1 s of quiet, the run, its result line,
# 1 s of quiet. Kernel command line: l2.runs=N (default 5), l2.rsecs=S per run (default 3).
runs=5
rsecs=3
for w in $(cat /proc/cmdline); do
	case $w in
	l2.runs=*) runs=${w#l2.runs=} ;;
	l2.rsecs=*) rsecs=${w#l2.rsecs=} ;;
	esac
done
if [ ! -b /dev/vda ] || [ ! -x /bin/bench-io ]; then
	echo "BNOTIFY-NODEV"
	exit 1
fi
i=1
while [ $i -le "$runs" ]; do
	echo "BNOTIFY-READY $i"
	sleep 1
	r=$(/bin/bench-io randread /dev/vda "$rsecs" 4096 2>&1)
	echo "BNOTIFY run=$i ${r#BENCH-IO randread }"
	sleep 1
	i=$((i + 1))
done
echo BNOTIFY-DONE
