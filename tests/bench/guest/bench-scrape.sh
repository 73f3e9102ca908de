# bench-scrape.sh - L2 guest script (benchmarks): a CPU-bound loop in chunks of about one second, forever; each chunk
# prints "CHUNK k START END" (guest uptime, s), so the host can compare its throughput with and without scrapes.
up() { read -r _u _ </proc/uptime; echo "$_u"; }
spin() { _i=0; while [ $_i -lt "$1" ]; do _i=$((_i + 1)); done; }
n=5000
while :; do # calibrate: a chunk of at least 0.8 s
	a=$(up)
	spin $n
	b=$(up)
	awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a >= 0.8) }' && break
	n=$((n * 2))
done
echo "BSCRAPE-READY n=$n"
k=0
while :; do
	k=$((k + 1))
	a=$(up)
	spin $n
	b=$(up)
	echo "CHUNK $k $a $b"
done
