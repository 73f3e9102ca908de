# 9proot.sh - L2 booted with -d DIR: the root share is the tag /dev/root and the kernel was told to mount it.
echo "TAGS=$(cat /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag 2>/dev/null | tr '\0' ' ')"
grep -q 'root=/dev/root rw rootfstype=9p rootflags=trans=virtio,version=9p2000.L' /proc/cmdline && echo ROOT-ARGS-OK
mkdir -p /newroot
mount -t 9p /dev/root /newroot -o trans=virtio,version=9p2000.L && echo ROOT-MOUNT-OK
echo "ROOT-MARKER=$(cat /newroot/marker)"
echo "guest was here" >/newroot/guest-file && echo ROOT-WRITE-OK
umount /newroot
