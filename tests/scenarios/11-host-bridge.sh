# 11-host-bridge.sh - the scenarios' way to the test machine's tools (host_tool; nested: tests/testbed/host-agent.sh
# through L1's eth0) carries bytes both ways unchanged and reports a tool's status; gdb-multiarch and promtool answer.
# timeout: 120
. "$(dirname "$0")/lib.sh"

# 16 KiB of every byte value, and a last line without a newline
i=0
: >"$WORK/bridge.in"
while [ $i -lt 256 ]; do
	printf "$(printf '\\%03o' $i)" >>"$WORK/bridge.in"
	i=$((i + 1))
done
for _ in 1 2 3 4 5 6 7 8; do cat "$WORK/bridge.in" "$WORK/bridge.in" "$WORK/bridge.in" "$WORK/bridge.in" \
	"$WORK/bridge.in" "$WORK/bridge.in" "$WORK/bridge.in" "$WORK/bridge.in"; done >"$WORK/bridge.big"
printf 'no newline' >>"$WORK/bridge.big"
log "host_tool echo: $(wc -c <"$WORK/bridge.big") bytes"
host_tool echo "$WORK/bridge.big" "$WORK/bridge.out"
rc=$?
if [ $rc = 0 ] && cmp -s "$WORK/bridge.big" "$WORK/bridge.out"; then
	ok "echo: $(wc -c <"$WORK/bridge.out") bytes back unchanged (${HOST_AGENT:+through the test bed's agent at }${HOST_AGENT:-run here})"
else
	not_ok "echo: status $rc, $(wc -c <"$WORK/bridge.out" 2>/dev/null) bytes back of $(wc -c <"$WORK/bridge.big")"
fi

printf 'show version\n' >"$WORK/bridge.gdb"
host_tool gdb "$WORK/bridge.gdb" "$WORK/bridge.gdbout"
rc=$?
cat "$WORK/bridge.gdbout" >>"$LOG"
if [ $rc = 0 ] && grep -q '^GNU gdb' "$WORK/bridge.gdbout"; then
	ok "gdb-multiarch answers: $(head -n 1 "$WORK/bridge.gdbout")"
else
	not_ok "gdb-multiarch: status $rc, $(head -n 1 "$WORK/bridge.gdbout")"
fi

# a well-formed scrape passes, a broken one (a counter without _total, a sample before its TYPE) is refused
printf '# HELP x_total A counter.\n# TYPE x_total counter\nx_total 1\n' >"$WORK/bridge.good"
printf 'x_total{a="1"} 1\n# TYPE x_total counter\n# TYPE x_total gauge\n' >"$WORK/bridge.bad"
host_tool promtool "$WORK/bridge.good" "$WORK/bridge.pgood"
rg=$?
host_tool promtool "$WORK/bridge.bad" "$WORK/bridge.pbad"
rb=$?
cat "$WORK/bridge.pgood" "$WORK/bridge.pbad" >>"$LOG"
if [ $rg = 0 ] && [ $rb != 0 ]; then
	ok "promtool check metrics: a good scrape passes, a bad one fails (status $rb)"
else
	not_ok "promtool check metrics: good scrape status $rg (want 0), bad scrape status $rb (want non-zero)"
fi
finish
