# miglib.sh - helpers for scenarios that move a guest between lkvm processes (47-soak; 37 and 48 keep their own), sourced after lib.sh.
# Consoles are timestamped by $TOOLS/tstamp (CLOCK_MONOTONIC ms), so ticks in different processes' files compare.
TS="$TOOLS/tstamp"
PIDS=
# mstart TAG ARGS...: lkvm in the background, stdin /dev/null, console timestamped into $WORK/TAG.out, stderr into
# TAG.err, its exit status into TAG.rc when it ends (killed after MSTART_LIMIT s, 1200 by default)
mstart() {
	_tag=$1
	shift
	rm -f "$WORK/$_tag.rc" "$WORK/$_tag.err"
	log "[$_tag] $LKVM $*"
	(
		timeout -k 5 "${MSTART_LIMIT:-1200}" "$LKVM" "$@" </dev/null 2>"$WORK/$_tag.err"
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
# mlog TAG: TAG's console and stderr into the scenario log
mlog() {
	{
		sed "s/^/$1 out: /" "$WORK/$1.out"
		sed "s/^/$1 err: /" "$WORK/$1.err"
	} >>"$LOG" 2>/dev/null
}
# wait_listen ERRFILE: wait (up to 30 s) until restore --incoming says it listens
wait_listen() {
	_end=$(($(now_cs) + 3000))
	while ! has "$1" "waiting for a migration" && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
}
# ticks FILE...: "ms n" for every complete TICK line (tests/guest-scripts/migrate.sh)
ticks() { cat "$@" | sed -n 's/^\([0-9]*\) TICK \([0-9]*\)\r*$/\1 \2/p' | sort -n; }
# the highest tick: a source stopped mid-line leaves a cut one at its end ("TICK 2" of "TICK 211")
last_tick() { ticks "$1" | sort -k2,2n | tail -n 1 | cut -d' ' -f2; }
