# cpus.sh - L2 guest script: print L2-CPUS=N, the number of online CPUs.
n=0
if [ -r /sys/devices/system/cpu/online ]; then
	# e.g. "0-3,5,7-8"
	ranges=$(cat /sys/devices/system/cpu/online)
	old_ifs=$IFS
	IFS=,
	for r in $ranges; do
		case $r in
		*-*) n=$((n + ${r#*-} - ${r%-*} + 1)) ;;
		?*) n=$((n + 1)) ;;
		esac
	done
	IFS=$old_ifs
fi
[ "$n" -gt 0 ] || n=$(grep -c '^processor' /proc/cpuinfo)
echo "L2-CPUS=$n"
