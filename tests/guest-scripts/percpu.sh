# percpu.sh - L2: one counter pinned to each CPU, printing "CPU<i> <n>"; runs until the VM stops.
n=$(grep -c '^processor' /proc/cpuinfo)
i=0
while [ $i -lt "$n" ]; do
	taskset -c $i sh -c "j=0; while :; do j=\$((j + 1)); echo CPU$i \$j; sleep 0.4; done" &
	i=$((i + 1))
done
wait
