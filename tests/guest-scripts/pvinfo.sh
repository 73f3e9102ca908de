# pvinfo.sh - L2: report what the guest kernel saw of PV stolen time (dmesg line, DT node, /proc/iomem, steal).
n=$(grep -c '^processor' /proc/cpuinfo)
echo "PV-CPUS=$n"
dmesg | grep -m 1 'arm-pv' | sed 's/^/PV-DMESG: /'
dmesg | grep -q 'arm-pv: using stolen time PV' && echo PV-ENABLED=yes || echo PV-ENABLED=no
for d in /proc/device-tree/reserved-memory/*/; do
	[ -d "$d" ] || continue
	name=$(basename "$d")
	reg=$(od -An -tx1 "$d/reg" 2>/dev/null | tr -d ' \n')
	nomap=no
	[ -e "$d/no-map" ] && nomap=yes
	echo "PV-DT-NODE $name reg=$reg no-map=$nomap"
done
grep -i 'reserved' /proc/iomem | sed 's/^ */PV-IOMEM /'
grep -i 'System RAM' /proc/iomem | sed 's/^ */PV-RAM /'
echo "PV-STEAL-TICKS $(awk '/^cpu /{print $9}' /proc/stat)"
