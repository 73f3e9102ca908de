# bench-9p.sh - L2 (bench): sequential read of /mnt/s/big from the 9p share "share", l2.runs times (1 MiB blocks,
# msize 512 KiB, cache=none so every run reads from the host). Prints B9P read run=I bytes=B secs=S.
runs=1
for w in $(cat /proc/cmdline); do
	case $w in l2.runs=*) runs=${w#l2.runs=} ;; esac
done
mkdir -p /mnt/s
if ! mount -t 9p share /mnt/s -o trans=virtio,version=9p2000.L,msize=524288; then
	echo "B9P-NOMOUNT fs=$(grep -c 9p /proc/filesystems) modules=$(ls /sys/module | grep -c 9p)" \
		"tags=$(cat /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag 2>/dev/null | tr '\0' ' ')"
	dmesg | tail -n 15
	runs=0
fi
bytes=$(stat -c %s /mnt/s/big)
i=1
while [ "$i" -le "$runs" ]; do
	read -r t0 _ </proc/uptime
	dd if=/mnt/s/big of=/dev/null bs=1M 2>/dev/null || echo "B9P-ERR run=$i"
	read -r t1 _ </proc/uptime
	echo "B9P read run=$i bytes=$bytes secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	i=$((i + 1))
done
[ "$runs" -gt 0 ] && umount /mnt/s
