# 82-metrics-hostile.sh - hostile clients of a --metrics unix: endpoint (10000 bytes of garbage, a request head that
# never ends, one that stops half-way, 200 connections at once, a client that reads nothing) while the guest counts:
# it never stalls, lkvm answers each in its way and counts them, and a later scrape succeeds.
# timeout: 400
. "$(dirname "$0")/lib.sh"

MS=$TOOLS/mscrape
EP=unix:$WORK/m82.sock
BG=
trap 'for p in $BG; do kill "$p" 2>/dev/null; done; guest_kill' EXIT
val() { awk -v n="$2" -v a="$3" 'index($0, n "{") == 1 && index($0, a) { print $NF; exit }' "$1"; }
last_count() { sed -n 's/^COUNT \([0-9]*\) .*/\1/p' "$OUT" | tail -n 1; }

guest_start m82 300 run -c 2 -m 256 --name m82 --metrics "$EP" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
if ! wait_for "$OUT" "COUNT 3 " 150; then
	guest_kill
	not_ok "the guest did not start counting ($(rc_text "$RC"))"
	finish
fi
check "the socket is there, 0660" sh -c "[ -S '$WORK/m82.sock' ] && [ \"\$(stat -c %a '$WORK/m82.sock')\" = 660 ]"
"$MS" "$EP" >"$WORK/before.txt" 2>>"$LOG"
check "a first scrape over the unix socket" sh -c "[ \"\$(tail -n 1 '$WORK/before.txt')\" = '# EOF' ]"
c0=$(last_count)
t0=$(now_cs)

# the slow ones in the background: half a head then silence (7 s), a request whose answer is never read (12 s)
"$MS" -m silent 7 "$EP" >"$WORK/silent.txt" 2>&1 &
BG="$BG $!"
"$MS" -m noread 12 "$EP" >"$WORK/noread.txt" 2>&1 &
BG="$BG $!"
"$MS" -m garbage 10000 "$EP" >"$WORK/garbage.txt" 2>&1
"$MS" -m endless "$EP" >"$WORK/endless.txt" 2>&1
"$MS" -m flood 200 "$EP" >"$WORK/flood.txt" 2>&1
"$MS" "$EP" >"$WORK/during.txt" 2>>"$LOG"
during=$?
for p in $BG; do wait "$p"; done
BG=
cat "$WORK/garbage.txt" "$WORK/endless.txt" "$WORK/flood.txt" "$WORK/silent.txt" "$WORK/noread.txt" >>"$LOG"
t1=$(now_cs)
c1=$(last_count)

check "10000 bytes of garbage: answered $(cat "$WORK/garbage.txt")" grep -Eq '^HTTP/1.1 (400|431) ' "$WORK/garbage.txt"
check "a head that never ends: $(cat "$WORK/endless.txt")" grep -q 'HTTP/1.1 431 ' "$WORK/endless.txt"
check "a head that stops half-way: $(cat "$WORK/silent.txt")" grep -q 'HTTP/1.1 408 ' "$WORK/silent.txt"
check "a client that reads nothing: $(cat "$WORK/noread.txt")" grep -q 'noread: [0-9]* bytes' "$WORK/noread.txt"
set -- $(sed -n 's/^flood 200: 200=\([0-9]*\) 503=\([0-9]*\) closed=\([0-9]*\) other=\([0-9]*\) connect_failed=\([0-9]*\)$/\1 \2 \3 \4 \5/p' "$WORK/flood.txt")
check "200 connections at once: ${1:-?} served, ${2:-?} told 503, ${3:-?} closed, ${4:-?} else, ${5:-?} not connected" \
	sh -c "[ ${1:-0} -ge 1 ] && [ $((${1:-0} + ${2:-0} + ${3:-0} + ${5:-0})) = 200 ] && [ ${4:-1} = 0 ]"
check "a scrape while all that went on succeeds" sh -c "[ $during = 0 ] && [ \"\$(tail -n 1 '$WORK/during.txt')\" = '# EOF' ]"
el=$((t1 - t0))
# counter.sh counts every 0.3 s (slower under TCG); a stalled VM would show a gap in its uptime stamps
gap=$(sed -n 's/^COUNT [0-9]* up=\([0-9.]*\) .*/\1/p' "$OUT" | awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { printf "%.1f", g }')
check "the guest kept counting: $c0 -> $c1 in $(cs_fmt $el) s, its largest gap ${gap} s (< 3 s)" \
	sh -c "[ $((${c1:-0} - ${c0:-0})) -ge $((el / 100)) ] && awk 'BEGIN { exit !($gap < 3.0) }'"

"$MS" "$EP" >"$WORK/after.txt" 2>>"$LOG"
check "a later scrape succeeds" sh -c "[ \"\$(tail -n 1 '$WORK/after.txt')\" = '# EOF' ]"
A=$WORK/after.txt
r431=$(val "$A" lkvm_metrics_responses_total 'code="431"')
r408=$(val "$A" lkvm_metrics_responses_total 'code="408"')
r503=$(val "$A" lkvm_metrics_responses_total 'code="503"')
r200=$(val "$A" lkvm_metrics_responses_total 'code="200"')
ref=$(awk 'index($0, "lkvm_metrics_refused_connections_total{") == 1 { print $NF }' "$A")
check "lkvm counted them: 200 x${r200:-?}, 431 x${r431:-?}, 408 x${r408:-?}, 503 x${r503:-?}, refused ${ref:-?}" \
	sh -c "[ ${r431:-0} -ge 1 ] && [ ${r408:-0} -ge 1 ] && [ ${r503:-0} = ${ref:-x} ] && [ ${r200:-0} -ge 3 ]"

guest_kill
check "lkvm ended on SIGTERM (${RC})" [ "$RC" = killed ]
check "its socket is gone" [ ! -e "$WORK/m82.sock" ]
finish
