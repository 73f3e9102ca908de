# counter.sh - L2: count forever, printing the count, uptime and how many lines the tmpfs log holds.
# Survives save/restore: after a restore the count continues and the log keeps its earlier lines.
i=0
while :; do
	i=$((i + 1))
	echo "$i" >>/tmp/counter.log
	read -r up _ </proc/uptime
	echo "COUNT $i up=$up lines=$(wc -l </tmp/counter.log)"
	sleep 0.3
done
