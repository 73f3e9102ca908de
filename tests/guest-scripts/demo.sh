# demo.sh - L2: show stolen time from inside the guest while the host steals CPU from vCPU 0.
echo "guest: $(uname -sr), $(grep -c '^processor' /proc/cpuinfo) CPUs"
dmesg | grep -m 1 'arm-pv' | sed 's/^/guest dmesg: /'
for d in /proc/device-tree/reserved-memory/*/; do [ -d "$d" ] && echo "guest DT: reserved-memory/$(basename "$d") (no-map: $([ -e "$d/no-map" ] && echo yes || echo no))"; done
grep reserved /proc/iomem | sed 's/^ */guest iomem: /'
echo DEMO-READY
sleep 2
taskset -c 0 sh -c 'while :; do :; done' &
busy=$!
i=0
while [ $i -lt 4 ]; do
	sleep 1
	awk '/^cpu[0-9]/{printf "guest /proc/stat: %s steal=%d ticks (%.2f s)\n", $1, $9, $9 / 100}' /proc/stat
	i=$((i + 1))
done
kill $busy
echo DEMO-DONE
sleep 2
