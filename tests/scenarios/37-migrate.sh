# 37-migrate.sh - live migration between lkvm processes over 127.0.0.1: a busy 2-vCPU --pvtime guest moves with its
# ticks, memory and stolen time; the pause against stop-and-copy; failures leave the source running; a guest with a
# disk under write load. The move back (A->B->A over unix:) and MIGRATE_PINGPONG (2) more moves use --verify: the
# destination compares every page with the source's before it runs. LKVM_MODE=migrate-verify (run-l1.sh --mode
# migrate-verify --scenarios migrate) verifies every move and makes 8 more.
# timeout: 1200
. "$(dirname "$0")/lib.sh"

TS="$TOOLS/tstamp"
NET="$TOOLS/mignet"
for t in "$TS" "$NET"; do
	if [ ! -x "$t" ]; then
		not_ok "helper $t missing (make tools)"
		finish
	fi
done
VM=migvm
PIDS=
# a bare test host (the nested bed's L1) may not have brought loopback up; a normal host has (and refuses quietly)
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
cleanup() {
	for n in migvm migdisk; do "$LKVM" stop --name "$n" >/dev/null 2>&1; done
	sleep 1
	for p in $PIDS; do kill "$p" 2>/dev/null; done
}
trap 'cleanup' EXIT
trap 'cleanup; exit 143' TERM INT

now_ms() { echo x | "$TS" | cut -d' ' -f1; }
# mstart TAG ARGS...: lkvm in the background, stdin /dev/null, console timestamped (ms) into $WORK/TAG.out, its exit
# status into $WORK/TAG.rc when it ends
mstart() {
	_tag=$1
	shift
	rm -f "$WORK/$_tag.rc" "$WORK/$_tag.err"
	log "[$_tag] $LKVM $*"
	(
		timeout -k 5 900 "$LKVM" "$@" </dev/null 2>"$WORK/$_tag.err"
		echo $? >"$WORK/$_tag.rc"
	) | "$TS" >"$WORK/$_tag.out" &
	PIDS="$PIDS $!"
}
# mwait TAG SECS: wait for TAG's lkvm to end; prints its exit status, or "running"
mwait() {
	_end=$(($(now_cs) + $2 * 100))
	while [ ! -s "$WORK/$1.rc" ] && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
	if [ -s "$WORK/$1.rc" ]; then cat "$WORK/$1.rc"; else echo running; fi
}
mlog() {
	{
		sed "s/^/$1 out: /" "$WORK/$1.out"
		sed "s/^/$1 err: /" "$WORK/$1.err"
	} >>"$LOG" 2>/dev/null
}
# ticks FILE...: "ms n" for every complete TICK line
ticks() { cat "$@" | sed -n 's/^\([0-9]*\) TICK \([0-9]*\)\r*$/\1 \2/p' | sort -n; }
# the highest tick: a source stopped mid-line leaves a cut one at its end ("TICK 2" of "TICK 211")
last_tick() { ticks "$1" | sort -k2,2n | tail -n 1 | cut -d' ' -f2; }
first_tick() { ticks "$1" | head -n 1 | cut -d' ' -f2; }
# max_gap FROM_MS TO_MS FILE...: the largest time between consecutive ticks from the last one before FROM to TO
max_gap() {
	_f=$1
	_t=$2
	shift 2
	ticks "$@" | awk -v f="$_f" -v t="$_t" '$1 < f { prev = $1; next } $1 <= t { if (prev != "" && $1 - prev > g) g = $1 - prev; prev = $1 } END { print g + 0 }'
}
sums() { cat "$@" | sed -n 's/^[0-9]* SUM \([0-9a-f]*\) steal=\([0-9]*\).*/\1 \2/p'; }
# one_line FILE: exactly one non-empty line
one_line() { [ "$(nonempty_lines "$1")" = 1 ]; }
running() { "$LKVM" stat --name "$1" 2>/dev/null | grep -q state=running; }
ticking() {
	_a=$(last_tick "$1")
	sleep 1.5
	[ "$(last_tick "$1")" -gt "${_a:-0}" ]
}
wait_listen() { # wait_listen ERRFILE: restore --incoming says it listens
	_end=$(($(now_cs) + 3000))
	while ! has "$1" "waiting for a migration" && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
}

# ---- the source --------------------------------------------------------------------------------------------
mstart a run -c 2 -m 256 --pvtime --name $VM -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=migrate"
if ! wait_for "$WORK/a.out" "SUM " 240; then
	mlog a
	not_ok "source guest never got ready ($(mwait a 0)) [$(tag_tail "$WORK/a")]"
	finish
fi
BIG=$(sed -n 's/^[0-9]* BIG \([0-9a-f]*\).*/\1/p' "$WORK/a.out")
diag "48 MiB file md5 $BIG"

# ---- failures first: each must leave the source running ----------------------------------------------------
t0=$(now_cs)
"$LKVM" migrate --name $VM tcp:127.0.0.1:4399 >"$WORK/f-closed.txt" 2>&1
rc=$?
el=$(($(now_cs) - t0))
log "closed port: rc $rc after ${el} cs: $(cat "$WORK/f-closed.txt")"
check "closed port: migrate fails fast ($(cs_fmt $el) s, exit $rc) in one line: $(head -c 150 "$WORK/f-closed.txt")" \
	sh -c "[ $rc -ne 0 ] && [ $el -lt 500 ] && [ \"\$(grep -c . '$WORK/f-closed.txt')\" = 1 ] && grep -q 'refused' '$WORK/f-closed.txt'"
check "closed port: the source keeps running" running $VM

"$NET" cut 4401 3000000 >"$WORK/f-cut.log" 2>&1 &
PIDS="$PIDS $!"
sleep 1
"$LKVM" migrate --name $VM tcp:127.0.0.1:4401 >"$WORK/f-cut.txt" 2>&1
rc=$?
log "cut: rc $rc: $(cat "$WORK/f-cut.txt") / $(cat "$WORK/f-cut.log")"
check "destination lost mid-stream ($(tail -n 1 "$WORK/f-cut.log")): migrate exit $rc, one line: $(head -c 150 "$WORK/f-cut.txt")" \
	sh -c "[ $rc -ne 0 ] && [ \"\$(grep -c . '$WORK/f-cut.txt')\" = 1 ] && ! grep -q 'cannot connect' '$WORK/f-cut.txt' && grep -q 'cut after 3000000' '$WORK/f-cut.log'"
if running $VM && ticking "$WORK/a.out"; then ok "lost mid-stream: the source keeps running and ticking"; else not_ok "lost mid-stream: source not running"; fi

# a destination that gets the whole stream but the last 100 bytes (a relay holds them back and then hangs up):
# the source never gets an acknowledgement and runs on; the destination refuses the truncated stream
mstart in-short restore --incoming tcp:127.0.0.1:4403 --name badshort
wait_listen "$WORK/in-short.err"
"$NET" relay 4402 4403 -100 >"$WORK/f-relay.log" 2>&1 &
PIDS="$PIDS $!"
sleep 1
"$LKVM" migrate --name $VM tcp:127.0.0.1:4402 >"$WORK/f-rec.txt" 2>&1
rc=$?
log "no ack: rc $rc: $(cat "$WORK/f-rec.txt") / $(cat "$WORK/f-relay.log")"
check "destination never acknowledges ($(tail -n 1 "$WORK/f-relay.log")): migrate exit $rc, one line: $(head -c 150 "$WORK/f-rec.txt")" \
	sh -c "[ $rc -ne 0 ] && [ \"\$(grep -c . '$WORK/f-rec.txt')\" = 1 ] && grep -q 'acknowledg' '$WORK/f-rec.txt'"
if running $VM && ticking "$WORK/a.out"; then ok "no ack: the source keeps running and ticking"; else not_ok "no ack: source not running"; fi

# garbage, a stream cut 20 MB in, and the one above that lacks its last 100 bytes: exit 1, one line, no vCPU ran
head -c 100000 /dev/urandom >"$WORK/garbage.bin"
mstart in-garbage restore --incoming tcp:127.0.0.1:4404 --name badgarbage
wait_listen "$WORK/in-garbage.err"
"$NET" send 4404 "$WORK/garbage.bin" >/dev/null 2>&1
mstart in-half restore --incoming tcp:127.0.0.1:4405 --name badhalf
wait_listen "$WORK/in-half.err"
"$NET" relay 4406 4405 20000000 >"$WORK/f-half.log" 2>&1 &
PIDS="$PIDS $!"
sleep 1
"$LKVM" migrate --name $VM tcp:127.0.0.1:4406 >>"$LOG" 2>&1
for f in garbage half short; do
	rc=$(mwait "in-$f" 60)
	mlog "in-$f"
	check "destination fed a $f stream: exit $rc, one line, no vCPU ran: $(grep -v 'waiting for a migration' "$WORK/in-$f.err" | head -c 150)" \
		sh -c "[ '$rc' = 1 ] && [ \"\$(grep -v 'waiting for a migration' '$WORK/in-$f.err' | grep -c .)\" = 1 ] && grep -q 'stream from' '$WORK/in-$f.err' && ! grep -q . '$WORK/in-$f.out'"
done
check "the cut and the short streams are named as truncated" sh -c "grep -q truncated '$WORK/in-half.err' && grep -q truncated '$WORK/in-short.err'"
if running $VM && ticking "$WORK/a.out"; then ok "after all that the source still runs and ticks"; else not_ok "source not running"; fi
rm -f "$WORK/garbage.bin"
# one connection only: a second client is refused while the first is being served
mstart in-two restore --incoming tcp:127.0.0.1:4408 --name badtwo
wait_listen "$WORK/in-two.err"
printf 'LKVMSNAP' >"$WORK/head.bin"
( "$NET" send 4408 "$WORK/head.bin" >/dev/null 2>&1 ) &
sleep 1
if "$NET" send 4408 "$WORK/head.bin" >/dev/null 2>&1; then not_ok "a second connection was accepted"; else ok "a second connection is refused"; fi
mwait in-two 60 >/dev/null

# --timeout with the default strategy: cancel, the source runs on, the destination sees an aborted stream
mstart in-tmo restore --incoming tcp:127.0.0.1:4409 --name badtmo
wait_listen "$WORK/in-tmo.err"
t0=$(now_cs)
"$LKVM" migrate --name $VM --timeout 2 --max-bandwidth 8 tcp:127.0.0.1:4409 >"$WORK/f-tmo.txt" 2>&1
rc=$?
el=$(($(now_cs) - t0))
check "--timeout 2 (cancel): exit $rc after $(cs_fmt $el) s, one line: $(head -c 150 "$WORK/f-tmo.txt")" \
	sh -c "[ $rc -ne 0 ] && [ $el -lt 1500 ] && [ \"\$(grep -c . '$WORK/f-tmo.txt')\" = 1 ] && grep -q 'timed out' '$WORK/f-tmo.txt'"
if running $VM && ticking "$WORK/a.out"; then ok "timeout: the source keeps running and ticking"; else not_ok "timeout: source not running"; fi
rc=$(mwait in-tmo 150)
mlog in-tmo
check "timeout: the destination gives up on the aborted stream (exit $rc, no vCPU ran)" \
	sh -c "[ '$rc' = 1 ] && grep -q 'stream from' '$WORK/in-tmo.err' && ! grep -q . '$WORK/in-tmo.out'"

# ---- the live move A -> B ----------------------------------------------------------------------------------
# Not verified page by page: this move's pause is measured against stop-and-copy below. The move back and the
# moves after it use --verify (the destination compares a CRC of every page before it takes the guest over).
# LKVM_MODE=migrate-verify verifies every move and makes 8 more of them.
VERIFY=
PINGPONG=${MIGRATE_PINGPONG:-2}
if [ "${LKVM_MODE:-}" = migrate-verify ]; then
	VERIFY=--verify
	PINGPONG=${MIGRATE_PINGPONG:-8}
fi
mstart b restore --incoming tcp:127.0.0.1:4410
wait_listen "$WORK/b.err"
sleep 3
T0=$(now_ms)
"$LKVM" migrate --name $VM $VERIFY tcp:127.0.0.1:4410 >"$WORK/mig1.txt" 2>&1 &
MPID=$!
sleep 1
# another control client while the VM migrates: answered between chunks (or refused), never a crash
"$LKVM" stat --name $VM >"$WORK/stat-during.txt" 2>&1
src=$?
still=0
kill -0 $MPID 2>/dev/null && still=1
wait $MPID
rc=$?
T1=$(now_ms)
log "stat during migration (rc $src, migration still running: $still): $(cat "$WORK/stat-during.txt")"
if [ $still = 1 ]; then
	check "lkvm stat during the migration answers ($(head -c 80 "$WORK/stat-during.txt"))" \
		sh -c "[ $src = 0 ] && grep -q 'name=$VM' '$WORK/stat-during.txt'"
fi
log "migrate A->B: rc $rc: $(cat "$WORK/mig1.txt")"
diag "A->B: $(tail -n 1 "$WORK/mig1.txt"); destination: $(sed -n 's/.*migration: \([0-9]* ms from the PAUSED.*\)/\1/p' "$WORK/b.err")"
check "live migration A->B: exit $rc: $(tail -n 1 "$WORK/mig1.txt")" [ "$rc" = 0 ]
check "the source lkvm exited 0 ($(mwait a 30))" [ "$(mwait a 30)" = 0 ]
LA=$(last_tick "$WORK/a.out")
if wait_for "$WORK/b.out" "TICK $((LA + 30))" 120; then
	ok "destination ticks on (after TICK $LA)"
else
	not_ok "destination ticks on (after TICK $LA)"
	diag "B console tail: $(tail -n 4 "$WORK/b.out" | tr '\r\n' '  ')"
	diag "B log: $(tr '\n' ' ' <"$WORK/b.err" | head -c 1500)"
fi
FB=$(first_tick "$WORK/b.out")
check "ticks continue where they stopped (last on A $LA, first on B ${FB:-none})" \
	sh -c "[ -n '$FB' ] && [ $FB -gt $LA ] && [ $FB -le $((LA + 2)) ]"
if has "$WORK/b.out" L2-INIT-OK; then not_ok "the guest rebooted"; else ok "no reboot across the move"; fi
N=$(sums "$WORK/b.out" | wc -l)
wait_for "$WORK/b.out" "SUM " 60
sleep 4
SB=$(sums "$WORK/b.out" | cut -d' ' -f1 | sort -u)
check "48 MiB file unchanged after the move (md5 $(echo $SB) on B, $BIG on A)" [ "${SB:-none}" = "${BIG:-empty}" ]
LIVE=$(max_gap "$T0" $((T1 + 2000)) "$WORK/a.out" "$WORK/b.out")
diag "live: $(tail -n 1 "$WORK/mig1.txt"); largest tick gap ${LIVE} ms"

# ---- and back: B -> A' (a new process on the same host, over a unix socket), verified page by page -------------
CUR=c
mstart c restore --incoming "unix:$WORK/mig.sock"
wait_listen "$WORK/c.err"
"$LKVM" migrate --name $VM --verify "unix:$WORK/mig.sock" >"$WORK/mig2.txt" 2>&1
rc=$?
check "chain B->A (--verify): exit $rc: $(tail -n 1 "$WORK/mig2.txt")" [ "$rc" = 0 ]
[ "$rc" = 0 ] || CUR=b
check "B exited 0 ($(mwait b 30))" [ "$(mwait b 30)" = 0 ]
LB=$(last_tick "$WORK/b.out")
if wait_for "$WORK/c.out" "TICK $((LB + 20))" 120; then
	ok "ticks continue after the second move (after TICK $LB)"
else
	not_ok "ticks continue after the second move (after TICK $LB)"
	diag "C console tail: $(tail -n 4 "$WORK/c.out" | tr '\r\n' '  ')"
	diag "C log: $(tr '\n' ' ' <"$WORK/c.err" | head -c 1500); stat: $("$LKVM" stat --name $VM 2>&1 | head -c 200)"
	diag "B->A migration: $(tr '\n' ' ' <"$WORK/mig2.txt")"
fi
wait_for "$WORK/c.out" "SUM " 60
SC3=$(sums "$WORK/a.out" "$WORK/b.out" "$WORK/c.out" | cut -d' ' -f1 | sort -u)
check "48 MiB file unchanged on A, B and A again (md5 $(echo $SC3))" [ "$SC3" = "$BIG" ]
STEALS=$(sums "$WORK/a.out" "$WORK/b.out" "$WORK/c.out" | cut -d' ' -f2 | tr '\n' ' ')
check "steal is monotonic across both moves ($STEALS)" sh -c "echo '$STEALS' | tr ' ' '\n' | grep . | awk 'NR > 1 && \$1 < p { bad = 1 } { p = \$1 } END { exit bad }'"


# ---- more moves back and forth, each checked page by page (--verify) -------------------------------------------
if [ "$PINGPONG" -gt 0 ]; then
	good=0
	for i in $(seq 1 "$PINGPONG"); do
		mstart "p$i" restore --incoming "unix:$WORK/pp$i.sock"
		wait_listen "$WORK/p$i.err"
		sleep 2
		"$LKVM" migrate --name $VM --verify "unix:$WORK/pp$i.sock" >"$WORK/pp$i.txt" 2>&1
		rc=$?
		log "ping-pong $i from $CUR: rc $rc: $(cat "$WORK/pp$i.txt")"
		if [ $rc = 0 ]; then
			mwait $CUR 30 >/dev/null
			CUR=p$i
			good=$((good + 1))
		else
			diag "move $i: $(tail -n 1 "$WORK/pp$i.txt")"
			diag "move $i destination: $(grep -v 'waiting for' "$WORK/p$i.err" | tr '\n' ' ' | head -c 1500)"
			mwait "p$i" 30 >/dev/null
		fi
	done
	check "$good of $PINGPONG further verified moves succeeded" [ "$good" = "$PINGPONG" ]
	wait_for "$WORK/$CUR.out" "TICK " 30
	LC=$(last_tick "$WORK/$CUR.out")
	check "the guest ticks on after them (from TICK $LC)" wait_for "$WORK/$CUR.out" "TICK $((${LC:-0} + 20))" 60
	sleep 3
	SC3=$(sums "$WORK/$CUR.out" | tail -n 1 | cut -d' ' -f1)
	check "48 MiB file unchanged after them (md5 $SC3)" [ "$SC3" = "$BIG" ]
fi

# ---- the same guest by stop-and-copy: save --stop - | restore - --------------------------------------------
T0=$(now_ms)
rm -f "$WORK/d.rc"
log "[d] save --stop - | restore -"
(
	sh -c "'$LKVM' save --name $VM --stop - | timeout -k 5 600 '$LKVM' restore - 2>'$WORK/d.err'"
	echo $? >"$WORK/d.rc"
) | "$TS" >"$WORK/d.out" &
PIDS="$PIDS $!"
LC=$(last_tick "$WORK/$CUR.out")
check "stop-and-copy: the guest ticks on" wait_for "$WORK/d.out" "TICK $((LC + 20))" 180
check "the source ($CUR) exited 0 after save --stop ($(mwait $CUR 30))" [ "$(mwait $CUR 30)" = 0 ]
SC=$(max_gap "$T0" $(($(now_ms))) "$WORK/$CUR.out" "$WORK/d.out")
diag "pause: live ${LIVE} ms, stop-and-copy ${SC} ms"
check "live pause ${LIVE} ms <= 0.2 x stop-and-copy ${SC} ms" [ $((LIVE * 5)) -le "$SC" ]
"$LKVM" stop --name $VM >>"$LOG" 2>&1
mwait d 30 >/dev/null

# ---- a disk under write load ---------------------------------------------------------------------------------
dd if=/dev/zero of="$WORK/disk.img" bs=1M count=16 2>/dev/null
mstart e run -c 2 -m 256 --name migdisk -d "$WORK/disk.img" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=migrate l2.disk=1"
if wait_for "$WORK/e.out" "DISK 1 " 300; then
	BIG8=$(sed -n 's/^[0-9]* BIG8 \([0-9a-f]*\).*/\1/p' "$WORK/e.out")
	mstart f restore --incoming tcp:127.0.0.1:4412
	wait_listen "$WORK/f.err"
	# slowed down and out of time: --timeout-strategy force finishes the move paused
	LKVM_DEBUG_UNLOGGED=$WORK/mig3.unlogged "$LKVM" migrate --name migdisk --max-bandwidth 20 --timeout 2 \
		--timeout-strategy force tcp:127.0.0.1:4412 >"$WORK/mig3.txt" 2>&1
	rc=$?
	# each page the dirty log missed, with its changed bytes (docs/migration.md, "Lost entries")
	head -n 4 "$WORK/mig3.unlogged" 2>/dev/null | while read -r l; do diag "disk move unlogged: $l"; done
	check "disk guest migrated (--timeout 2 --timeout-strategy force): exit $rc: $(tail -n 1 "$WORK/mig3.txt")" [ "$rc" = 0 ]
	ND=$(sed -n 's/^[0-9]* DISK \([0-9]*\) .*/\1/p' "$WORK/e.out" | tail -n 1)
	check "disk writes go on at the destination" wait_for "$WORK/f.out" "DISK $((ND + 3)) " 240
	BAD=$(cat "$WORK/e.out" "$WORK/f.out" | sed -n 's/^[0-9]* DISK [0-9]* \([0-9a-f]*\).*/\1/p' | grep -cv "^$BIG8\$")
	check "every read-back of the disk matches what was written ($BAD mismatches)" [ "$BAD" = 0 ]
	"$LKVM" stop --name migdisk >>"$LOG" 2>&1
	check "destination stopped cleanly ($(mwait f 30))" [ "$(mwait f 30)" = 0 ]
	check "the image holds the data (host-side md5)" \
		sh -c "[ \"\$(dd if='$WORK/disk.img' bs=1M count=8 2>/dev/null | md5sum | cut -d' ' -f1)\" = '$BIG8' ]"
else
	not_ok "disk guest never started writing [$(tag_tail "$WORK/e")]"
fi
for t in a b c d e f $(cd "$WORK" && ls p*.out 2>/dev/null | sed "s/\.out$//"); do mlog $t; done
rm -f "$WORK/disk.img" "$WORK/head.bin"
finish
