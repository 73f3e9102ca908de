# 32-snapshot-chain.sh - three save/restore cycles of one guest: to a file, streamed through a pipe
# (lkvm save - | lkvm restore -), and to a file again; the count continues every time.
# timeout: 300
. "$(dirname "$0")/lib.sh"

count_last() { tr -d '\r' <"$1" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | tail -n 1; }
count_first() { tr -d '\r' <"$1" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | head -n 1; }
# continued TAG PREV: the output of TAG picks up at PREV + 1 and goes on
continued() {
	wait_for "$OUT" "COUNT $(($2 + 3)) " 60
	f=$(count_first "$OUT")
	if [ "${f:-0}" = $(($2 + 1)) ] && has "$OUT" "COUNT $(($2 + 3)) "; then
		ok "$1: guest continues at COUNT $f after $2"
	else
		not_ok "$1: expected COUNT $(($2 + 1)) onwards, first was '${f}'"
	fi
}

guest_start chain0 90 run -c 1 -m 256 --name chainvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
wait_for "$OUT" "COUNT 3 " 100 || { guest_kill; not_ok "guest never counted [$(guest_tail)]"; finish; }

# cycle 1: file
"$LKVM" save --name chainvm --stop "$WORK/chain1.snap" >>"$LOG" 2>&1
guest_wait
prev=$(count_last "$OUT")
guest_start chain1 90 restore "$WORK/chain1.snap"
continued "cycle 1 (file)" "$prev"

# cycle 2: streamed
log "streaming: save - | restore -"
S_OUT=$WORK/chain2.out
( "$LKVM" save --name chainvm --stop - 2>>"$WORK/chain2.save.err" |
	timeout 90 "$LKVM" restore - >"$S_OUT" 2>"$WORK/chain2.err"; echo $? >"$WORK/chain2.rc" ) &
SPID=$!
guest_wait
check "cycle 2: the source exited 0 once streamed ($(rc_text "$RC"))" [ "$RC" = 0 ]
prev=$(count_last "$OUT")
OUT=$S_OUT
continued "cycle 2 (lkvm save - | lkvm restore -)" "$prev"
prev=$(count_last "$OUT")

# cycle 3: file again, from the streamed VM
"$LKVM" save --name chainvm --stop "$WORK/chain3.snap" >>"$LOG" 2>&1
wait "$SPID"
check "cycle 2's VM exited 0 after its own save ($(cat "$WORK/chain2.rc"))" [ "$(cat "$WORK/chain2.rc")" = 0 ]
sed 's/^/stream: /' "$S_OUT" "$WORK/chain2.err" >>"$LOG"
prev=$(count_last "$S_OUT")
guest_start chain3 90 restore "$WORK/chain3.snap"
continued "cycle 3 (file)" "$prev"
"$LKVM" stop --name chainvm >>"$LOG" 2>&1
guest_wait
check "third restore stopped cleanly ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish
