# pmuinfo.sh - L2: the PMU node in the device tree and the kernel's perf driver line.
[ -e /proc/device-tree/pmu/compatible ] && echo "PMU-DT $(tr -d '\000' </proc/device-tree/pmu/compatible)"
dmesg | grep -m 1 'hw perfevents' | sed 's/^/PMU-DMESG: /'
