# migrate.sh - L2: keep working across a live migration. vCPU 0 prints "TICK n" every 0.1 s; vCPU 1 keeps rewriting
# 32 MiB of tmpfs and every 3 s prints "SUM <md5 of a 48 MiB tmpfs file> steal=<ticks>". With l2.disk=1 vCPU 1 also
# writes the first 8 MiB of that file to /dev/vda, drops the page cache, reads it back: "DISK n <md5>".
# With l2.fill=N the guest first holds N MiB more (copies of that file in a tmpfs of its own): "FILLED N".
disk=0
fill=0
for w in $(cat /proc/cmdline); do
	case $w in
	l2.disk=*) disk=${w#l2.disk=} ;;
	l2.fill=*) fill=${w#l2.fill=} ;;
	esac
done
taskset -p -c 0 $$ >/dev/null 2>&1
dd if=/dev/urandom of=/tmp/big bs=1M count=48 2>/dev/null
echo "BIG $(md5sum </tmp/big | cut -d' ' -f1)"
echo "BIG8 $(dd if=/tmp/big bs=1M count=8 2>/dev/null | md5sum | cut -d' ' -f1)"
dd if=/tmp/big of=/tmp/hot bs=1M count=32 2>/dev/null
if [ "$fill" -gt 0 ]; then
	mkdir -p /fill
	mount -t tmpfs -o size=$((fill + 8))m tmpfs /fill
	n=0
	while [ $((n * 48)) -lt "$fill" ]; do
		c=$((fill - n * 48))
		[ $c -gt 48 ] && c=48
		dd if=/tmp/big of=/fill/f$n bs=1M count=$c 2>/dev/null
		n=$((n + 1))
	done
	echo "FILLED $(du -sm /fill | cut -f1)"
fi
taskset -c 1 sh -c 'while :; do dd if=/tmp/big of=/tmp/hot bs=1M count=32 conv=notrunc 2>/dev/null; done' &
taskset -c 1 sh -c 'while :; do sleep 3; echo "SUM $(md5sum </tmp/big | cut -d" " -f1) steal=$(awk "/^cpu /{print \$9}" /proc/stat)"; done' &
if [ "$disk" = 1 ]; then
	taskset -c 1 sh -c 'n=0; while :; do
		dd if=/tmp/big of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null
		echo 3 >/proc/sys/vm/drop_caches
		echo "DISK $n $(dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum | cut -d" " -f1)"
		n=$((n + 1))
	done' &
fi
echo MIGRATE-READY
i=0
while :; do
	i=$((i + 1))
	echo "TICK $i"
	sleep 0.1
done
