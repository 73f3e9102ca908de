# itsinfo.sh - L2: report the GICv3 ITS the guest found, then tick until the host stops the VM.
for d in /proc/device-tree/intc@*/msi-controller@*; do
	[ -d "$d" ] && echo "ITS-DT $(basename "$d") $(tr -d '\000' <"$d/compatible")"
done
dmesg | grep -m 1 -i 'ITS@0x' | sed 's/^/ITS-DMESG: /'
echo ITS-READY
i=0
while :; do
	i=$((i + 1))
	echo "ITS-TICK $i"
	sleep 0.5
done
