# 81-metrics-steal.sh - the exported steal is true: under a busy loop pinned beside a vCPU, lkvm_vcpu_steal_seconds
# rises at about the loop's share of wall time, agrees with 'lkvm stat --steal', with the run delay KVM adds and
# with the guest's own /proc/stat (within 5 %); 'lkvm stat --watch' without a terminal prints one parseable line
# per interval and on a terminal draws sparklines; 'lkvm top --once --json' lists both running VMs with their steal,
# and 'lkvm top' on a terminal takes its keys.
# timeout: 600
. "$(dirname "$0")/lib.sh"

MS=$TOOLS/mscrape
PTY=$TOOLS/ptyrun
A=unix:$WORK/m81a.sock
HOG=
hog_start() { taskset -c 1 sh -c 'while :; do :; done' & HOG=$!; }
hog_stop() { [ -n "$HOG" ] && kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null; HOG=; }
WATCH=
trap 'hog_stop; [ -n "$WATCH" ] && kill $WATCH 2>/dev/null; kill $BPID 2>/dev/null; guest_kill' EXIT
lkvm_pid() { "$LKVM" stat --name "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^pid=//p'; }
vcpu0_tid() {
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-vcpu-0 ] && { basename "$t"; return; }
	done
}
# metric FILE NAME: the value of NAME{vm="m81a",vcpu="0"} in nanoseconds (the text has seconds with up to 9 decimals)
metric_ns() {
	awk -v n="$2" 'index($0, n "{vm=\"m81a\",vcpu=\"0\"}") == 1 {
		split($NF, p, "."); f = substr(p[2] "000000000", 1, 9); printf "%d%s\n", p[1], f; exit }' "$1" | sed 's/^0*\([0-9]\)/\1/'
}
stat_ns() { "$LKVM" stat --name m81a --steal 2>>"$LOG" | tee -a "$LOG" | awk '$1 == "0" { print $2 }'; }
pm() { # per mille |a - b| / b
	_d=$(($1 > $2 ? $1 - $2 : $2 - $1))
	echo $((_d * 1000 / ($2 > 0 ? $2 : 1)))
}

# VM B: an idle second VM on the other CPU, in the background with its own console file
"$LKVM" run -c 1 -m 192 --name m81b -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter" \
	>"$WORK/m81b.out" 2>"$WORK/m81b.err" </dev/null &
BPID=$!
guest_start m81a 400 run -c 1 -m 256 --pvtime --name m81a --metrics "$A" -k "$L2_KERNEL" -i "$L2_INITRD" \
	-p "quiet l2.run=steal l2.wait=4 l2.secs=8"
if ! wait_for "$OUT" STEAL-READY 200 || ! wait_for "$WORK/m81b.out" COUNT 200; then
	guest_kill
	not_ok "guests did not start ($(rc_text "$RC"))"
	finish
fi
pa=$(lkvm_pid m81a)
pb=$(lkvm_pid m81b)
ta=$(vcpu0_tid "$pa")
tb=$(vcpu0_tid "$pb")
taskset -p -c 1 "$ta" >>"$LOG" 2>&1
taskset -p -c 0 "$tb" >>"$LOG" 2>&1
"$LKVM" stat --name m81a --watch --interval 1 >"$WORK/watch.txt" 2>>"$LOG" &
WATCH=$!
hog_start
wait_for "$OUT" STEAL-BUSY 60
sleep 1
s1=$(stat_ns)
t1=$(now_cs)
"$MS" "$A" >"$WORK/s1.txt" 2>>"$LOG"
"$LKVM" top --once --json --interval 1 >"$WORK/top.json" 2>>"$LOG"
sleep 2
s2=$(stat_ns)
t2=$(now_cs)
"$MS" "$A" >"$WORK/s2.txt" 2>>"$LOG"
wait_for "$OUT" STEAL-PCT= 60
hog_stop
wait_for "$OUT" STEAL-DONE 60
"$MS" "$A" >"$WORK/s3.txt" 2>>"$LOG"
kill "$WATCH" 2>/dev/null
wait "$WATCH" 2>/dev/null
WATCH=
cat "$WORK/s1.txt" "$WORK/s2.txt" "$WORK/watch.txt" "$WORK/top.json" >>"$LOG"

m1=$(metric_ns "$WORK/s1.txt" lkvm_vcpu_steal_seconds_total)
m2=$(metric_ns "$WORK/s2.txt" lkvm_vcpu_steal_seconds_total)
m3=$(metric_ns "$WORK/s3.txt" lkvm_vcpu_steal_seconds_total)
d1=$(metric_ns "$WORK/s1.txt" lkvm_vcpu_run_delay_seconds_total)
d2=$(metric_ns "$WORK/s2.txt" lkvm_vcpu_run_delay_seconds_total)
log "metric steal m1=$m1 m2=$m2 m3=$m3, run delay d1=$d1 d2=$d2, stat s1=$s1 s2=$s2, t1=$t1 t2=$t2"
if [ -n "$m1" ] && [ -n "$m2" ] && [ -n "$s1" ] && [ -n "$s2" ] && [ -n "$d1" ] && [ -n "$d2" ]; then
	dm=$((m2 - m1)) ds=$((s2 - s1)) dd=$((d2 - d1)) wall=$(((t2 - t1) * 10000000))
	share=$((dm * 100 / wall))
	check "steal rose at ${share}% of wall time under the pinned loop (its share: about half; 30-75 %)" \
		sh -c "[ $share -ge 30 ] && [ $share -le 75 ]"
	p=$(pm $dm $ds)
	check "its rise (${dm} ns) agrees with lkvm stat --steal's (${ds} ns): $((p / 10)).$((p % 10)) % apart (<= 5 %)" [ "$p" -le 50 ]
	p=$(pm $dm $dd)
	check "and with the run delay KVM adds (${dd} ns): $((p / 10)).$((p % 10)) % apart (<= 5 %)" [ "$p" -le 50 ]
else
	not_ok "no steal values (metric '$m1' '$m2', stat '$s1' '$s2', run delay '$d1' '$d2')"
fi
g=$(sed -n 's/.*STEAL-TOTAL-TICKS \([0-9]*\).*/\1/p' "$OUT" | head -n 1)
if [ -n "$g" ] && [ -n "$m3" ]; then
	gn=$((g * 10000000))
	p=$(pm "$m3" "$gn")
	# the guest counts in 10 ms ticks: allow two of them on top of 5 %
	check "the total (${m3} ns) agrees with the guest's /proc/stat steal (${g} ticks): $((p / 10)).$((p % 10)) % apart" \
		[ $(((m3 > gn ? m3 - gn : gn - m3) * 100)) -le $((gn * 5 + 2000000000)) ]
else
	not_ok "no final total (guest ticks '$g', metric '$m3')"
fi

# stat --watch without a terminal: one key=value line per interval
lines=$(grep -c '^[0-9-]*T[0-9:]*Z vm=m81a state=running interval_s=[0-9.]* source=pvtime steal_pct=[0-9.]* steal_mean_pct=[0-9.]* steal_max_pct=[0-9.]* exits_per_s=[0-9.]*$' "$WORK/watch.txt")
max=$(sed -n 's/.* steal_max_pct=\([0-9]*\).*/\1/p' "$WORK/watch.txt" | sort -n | tail -n 1)
check "stat --watch without a terminal: $lines parseable lines of $(wc -l <"$WORK/watch.txt"), the busiest at ${max:-?}% steal" \
	sh -c "[ $lines -ge 5 ] && [ $lines = $(wc -l <"$WORK/watch.txt") ] && [ ${max:-0} -ge 30 ]"

# top --once --json: both VMs with their steal
ja=$(tr '{' '\n' <"$WORK/top.json" | grep '"name":"m81a"' | sed -n 's/.*"steal_max_pct":\([0-9]*\).*/\1/p')
jb=$(tr '{' '\n' <"$WORK/top.json" | grep '"name":"m81b"' | sed -n 's/.*"steal_max_pct":\([0-9]*\).*/\1/p')
check "top --once --json lists m81a (${ja:-missing}% steal) and m81b (${jb:-missing}%), the pinned one stolen from" \
	sh -c "[ -n '$ja' ] && [ -n '$jb' ] && [ $ja -ge 30 ] && [ $jb -lt $ja ] && grep -q '^{\"interval_s\":[0-9.]*,\"sort\":\"steal\",\"vms\":\[{\"name\":\"m81a\"' '$WORK/top.json'"
"$LKVM" top --once --interval 0.5 --sort name >"$WORK/top.txt" 2>>"$LOG"
cat "$WORK/top.txt" >>"$LOG"
check "top --once: a header and a line per VM, sorted by name" \
	sh -c "grep -q '^NAME  *PID STATE' '$WORK/top.txt' && [ \"\$(grep -E '^m81[ab] ' '$WORK/top.txt' | cut -c1-4 | tr -d '\n')\" = m81am81b ]"

# on a terminal: stat --watch draws sparklines until Ctrl-C; top takes keys (n: sort by name, q: quit)
if [ -x "$PTY" ]; then
	timeout 60 "$PTY" "(Ctrl-C ends)" '\x03' -- "$LKVM" stat --name m81b --watch --interval 0.5 >"$WORK/wtty.out" 2>&1
	clr=$(printf '\033[2J')
	blk=$(printf '\342\226')
	check "stat --watch on a terminal: redraws in place with a sparkline, ends on Ctrl-C" \
		sh -c "grep -q 'last minute' '$WORK/wtty.out' && grep -qF '$clr' '$WORK/wtty.out' && grep -qF '$blk' '$WORK/wtty.out'"
	timeout 60 "$PTY" "keys:" 'nq' -- "$LKVM" top --interval 0.5 >"$WORK/ttop.out" 2>&1
	check "top on a terminal: sorts by name on n, quits on q, terminal restored" \
		sh -c "grep -q 'sorted by name' '$WORK/ttop.out' && grep -q 'PTYRUN exit=0 .*termios_after=restored' '$WORK/ttop.out'"
else
	not_ok "helper $PTY missing (make tools)"
fi

wait_for "$OUT" L2-RUN-DONE 60
guest_wait
check "m81a powers off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "its unix socket is removed on exit" [ ! -e "$WORK/m81a.sock" ]
"$LKVM" stop --name m81b >>"$LOG" 2>&1
wait $BPID
check "m81b stops, exit 0" [ $? = 0 ]
BPID=
finish
