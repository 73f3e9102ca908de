# 97-bench-migscale.sh - benchmarks: the pause of a live migration against guest RAM size, the same dirtying
# workload (2 vCPUs, 32 MiB of tmpfs rewritten in a loop, tests/guest-scripts/migrate.sh) in a 256 MiB guest, a 1 GiB
# guest holding ~768 MiB and a 2 GiB guest holding ~1.5 GiB (l2.fill=). Each guest moves back and forth over unix:,
# alternately with --recheck always (the whole-RAM check of before), --recheck auto, and auto on a host whose record
# says it lost entries in the 2 MiB blocks being written before (autorec: as this bed after its first such loss; the
# record is written for the move and removed after it, unless lkvm itself added to it); pause and its parts per move.
# min(BENCH_RUNS, 3) moves of each. Needs two copies of the largest guest in L1: run.sh gives L1 4 GiB for it; with
# less the fill shrinks and BENCH-INFO says so.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
RUNS=$BENCH_RUNS
[ "$RUNS" -gt 3 ] && RUNS=3
VM=bm-scale
stop_vm() {
	"$LKVM" stop --name "$1" >>"$LOG" 2>&1
	_k=0
	while "$LKVM" stat --name "$1" >/dev/null 2>&1 && [ $_k -lt 100 ]; do
		sleep 0.2
		_k=$((_k + 1))
	done
}
# bg TAG ARGS...: lkvm ARGS in the background, console to $WORK/TAG.out
bg() {
	OUT=$WORK/$1.out
	shift
	: >"$OUT"
	log "$LKVM $*"
	"$LKVM" "$@" </dev/null >"$OUT" 2>>"$LOG" &
	BGPID=$!
}
# the control directory, as lkvm finds it (control-path.c): where the host record of dirty-log losses lives
ctl_dir() {
	if [ -n "${LKVM_SOCK_DIR:-}" ]; then echo "$LKVM_SOCK_DIR"
	elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then echo "$XDG_RUNTIME_DIR/lkvm"
	elif [ -n "${HOME:-}" ] && [ "$HOME" != / ]; then echo "$HOME/.lkvm"
	else echo "/tmp/lkvm-$(id -u)"; fi
}
REC=$(ctl_dir)/dirty-log-losses
# field NAME FILE: the ms figure before NAME's " ms" in the pause line ("device state 30 ms" -> 30)
part() { grep '^pause ' "$2" | sed -n "s/.*$1 \([0-9]*\) ms.*/\1/p"; }

AVAIL=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
bench_info migscale_l1_avail_mib "$AVAIL"
n=0
for spec in 256:0 1024:640 2048:1400; do
	MIB=${spec%:*}
	FILL=${spec#*:}
	MAXF=$(((AVAIL - 300) / 2 - 160))
	if [ "$FILL" -gt "$MAXF" ]; then
		bench_info "migscale_${MIB}_fill_note" "only_${AVAIL}_MiB_in_L1:_fill_${MAXF}_not_${FILL}"
		FILL=$MAXF
	fi
	[ "$FILL" -lt 0 ] && FILL=0
	n=$((n + 1))
	bg "s$MIB-0" run -c 2 -m "$MIB" --pvtime --name $VM -k "$L2_KERNEL" -i "$L2_INITRD" \
		-p "quiet l2.run=migrate l2.fill=$FILL"
	if ! wait_for "$OUT" "SUM " 900; then
		missed "the $MIB MiB guest never got ready"
		stop_vm $VM
		continue
	fi
	BIG=$(sed -n 's/^BIG \([0-9a-f]*\).*/\1/p' "$OUT" | tr -d '\r')
	HOLD=$("$LKVM" stat --name $VM 2>/dev/null | sed -n 's/.*ram_rss_kib=\([0-9]*\).*/\1/p')
	bench_info "migscale_${MIB}_holds_mib" "$((${HOLD:-0} / 1024))"
	m=0
	i=1
	while [ $i -le "$RUNS" ]; do
		for mode in always auto autorec; do
			m=$((m + 1))
			sock=$WORK/scale-$MIB-$m.sock
			bg "s$MIB-$m" restore --incoming "unix:$sock"
			sleep 2
			sleep 3 # the guest back at work after its last move
			made=
			if [ $mode = autorec ] && [ ! -e "$REC" ]; then
				echo "$(uname -r) 1 0 0" >"$REC" && made=$(cat "$REC")
			fi
			if "$LKVM" migrate --name $VM --recheck ${mode%rec} "unix:$sock" >"$WORK/s$MIB-$m.txt" 2>>"$LOG"; then
				f=$WORK/s$MIB-$m.txt
				p=$(sed -n 's/^pause \([0-9]*\) ms.*/\1/p' "$f")
				echo "$MIB $mode $p" >>"$WORK/migscale.vals"
				bench "migscale_${MIB}_${mode}_pause_ms" $i "$p" ms
				u=$(sed -n 's/.*(\([0-9]*\) pages* changed without a dirty-log entry.*/\1/p' "$f")
				bench "migscale_${MIB}_${mode}_unlogged" $i "${u:-0}" pages
				bench "migscale_${MIB}_${mode}_recheck_ms" $i "$(part re-check "$f")" ms
				[ $mode = autorec ] && bench "migscale_${MIB}_${mode}_read" $i \
					"$(sed -n 's/.*re-check [0-9]* ms ([^)]*, \([0-9]*\) pages read).*/\1/p' "$f")" pages
				bench "migscale_${MIB}_${mode}_pages_ms" $i "$(part 'last dirty pages' "$f")" ms
				bench "migscale_${MIB}_${mode}_state_ms" $i "$(part 'device state' "$f")" ms
				bench "migscale_${MIB}_${mode}_dest_ms" $i "$(part 'destination set-up' "$f")" ms
				diag "$MIB MiB, $mode, run $i: $(tr '\n' ' ' <"$f")"
			else
				missed "$MIB MiB: --recheck $mode move $i failed"
			fi
			if [ -n "$made" ]; then
				# lkvm's own entries stay; the bench's line goes
				if [ "$(cat "$REC" 2>/dev/null)" = "$made" ]; then rm -f "$REC"; else diag "host record now: $(cat "$REC")"; fi
			fi
		done
		i=$((i + 1))
	done
	sleep 4
	S=$(sed -n 's/^SUM \([0-9a-f]*\) .*/\1/p' "$OUT" | tail -n 1)
	if [ -n "$BIG" ] && [ "$S" = "$BIG" ]; then
		bench_info "migscale_${MIB}_data" "intact_after_${m}_moves"
	else
		missed "$MIB MiB: the 48 MiB file changed or no checksum after the moves (${S:-none}, ${BIG:-none} before)"
	fi
	stop_vm $VM
	sleep 2
done
# pause(largest) / pause(256 MiB), medians
for mode in always auto autorec; do
	r=$(awk -v m=$mode '$2 == m { v[$1, ++n[$1]] = $3 }
		function med(k,   i, j, t, c) { c = n[k]; if (!c) return ""
			for (i = 1; i <= c; i++) a[i] = v[k, i]
			for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return a[int((c + 1) / 2)] }
		END { s = med(256); l = med(2048); if (s != "" && l != "" && s > 0) printf "%.2f", l / s }' "$WORK/migscale.vals" 2>/dev/null)
	if [ -n "$r" ]; then bench "migscale_ratio_$mode" 1 "$r" ratio; else bench_na "migscale_ratio_$mode" "a size did not run"; fi
done
bench_finish "pause against guest RAM: $RUNS moves with --recheck always, auto and auto with a host record at 256 MiB, 1 GiB, 2 GiB"
