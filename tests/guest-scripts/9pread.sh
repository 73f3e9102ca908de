# 9pread.sh - L2 (bench): read /mnt/s/big from the share "share" once, timed in the guest (MB/s, no assertion).
mkdir -p /mnt/s
mount -t 9p share /mnt/s -o trans=virtio,version=9p2000.L,msize=524288 || exit 1
t0=$(cut -d' ' -f1 /proc/uptime)
dd if=/mnt/s/big of=/dev/null bs=1M 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
echo "READ-T0=$t0 READ-T1=$t1 SIZE=$(stat -c %s /mnt/s/big)"
umount /mnt/s
