# stealcount.sh - L2: keep CPU 0 busy and print its accounted steal (10 ms ticks) twice a second.
taskset -c 0 sh -c 'while :; do :; done' &
i=0
while :; do
	i=$((i + 1))
	echo "STEAL $i $(awk '/^cpu0 /{print $9}' /proc/stat)"
	sleep 0.5
done
