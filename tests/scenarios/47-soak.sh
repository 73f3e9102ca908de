# 47-soak.sh - make soak: N cold boots, N save/restore cycles and N live moves back and forth (tcp: and unix: in
# turn) of a 2-vCPU --pvtime guest doing disk and memory work (tests/guest-scripts/migrate.sh l2.disk=1: 32 MiB of
# tmpfs rewritten, a 48 MiB file's md5 every 3 s, 8 MiB written to the disk, the cache dropped, read back and summed),
# all in one host (one L1). Prints the counts of failures, reboots, oopses, pages re-sent for want of a dirty-log
# entry and checksum mismatches, and the distributions of boot time, save/restore downtime and migration pause.
# N is SOAK_N, or the NN of LKVM_MODE=soak-NN (run-l1.sh --mode soak-10), else 10.
# manual: not in make check's run of every scenario; make soak names it.
# timeout: 2400
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/miglib.sh"

N=${SOAK_N:-10}
case ${LKVM_MODE:-} in soak-[0-9]*) N=${LKVM_MODE#soak-} ;; esac
case $N in '' | *[!0-9]* | 0) not_ok "N must be a positive integer (got '$N')"; finish ;; esac
if [ ! -x "$TS" ]; then
	not_ok "helper $TS missing (make tools)"
	finish
fi
VM=soakvm
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
cleanup() {
	"$LKVM" stop --name $VM >/dev/null 2>&1
	sleep 1
	for p in $PIDS; do kill "$p" 2>/dev/null; done
}
trap 'cleanup' EXIT
trap 'cleanup; exit 143' TERM INT

FAILS=0
# failed WHAT: one failure counted and described
failed() {
	FAILS=$((FAILS + 1))
	diag "FAILED: $*"
}
# oopses FILE...: kernel oopses, BUGs, panics and warnings in guest consoles
oopses() { cat "$@" 2>/dev/null | grep -c -E 'Oops|BUG:|Kernel panic|WARNING: CPU|Call trace' || true; }
# dist "V V ...": "min / median / p90 / max (n)" of the numbers given
dist() {
	echo "$1" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
		if (!NR) { print "none"; exit }
		p = int(NR * 0.9 + 0.999); if (p > NR) p = NR
		printf "%s / %s / %s / %s (%d)", v[1], v[int((NR + 1) / 2)], v[p], v[NR], NR }'
}
t_start=$(now_cs)

# ---- N cold boots to poweroff ---------------------------------------------------------------------------------------
BOOTS='' boot_ok=0 boot_oops=0
for i in $(seq 1 "$N"); do
	o=$WORK/soak-boot$i
	t0=$(now_cs)
	timeout -k 5 180 "$LKVM" run -c 2 -m 256 --pvtime -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff" \
		</dev/null >"$o.out" 2>"$o.err"
	rc=$?
	el=$(($(now_cs) - t0))
	if [ $rc = 0 ] && has "$o.out" "L2-RUN-DONE poweroff"; then
		boot_ok=$((boot_ok + 1))
		BOOTS="$BOOTS $(cs_fmt $el)"
	else
		failed "cold boot $i: exit $(rc_text $rc) after $(cs_fmt $el) s [$(tail -n 5 "$o.out" "$o.err" | tr '\r\n' '  ' | head -c 600)]"
	fi
	boot_oops=$((boot_oops + $(oopses "$o.out")))
	{ sed "s/^/boot$i: /" "$o.out" "$o.err"; } >>"$LOG" 2>/dev/null
done
diag "cold boots: $boot_ok of $N to poweroff; seconds min / median / p90 / max: $(dist "$BOOTS")"

# ---- the working guest ------------------------------------------------------------------------------------------------
D=$WORK/soak.img
dd if=/dev/zero of="$D" bs=1M count=16 2>/dev/null
SNAP=$WORK/soak.snap
cur=s0
GUESTS=s0
mstart s0 run -c 2 -m 512 --pvtime --name $VM -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=migrate l2.disk=1"
if ! wait_for "$WORK/s0.out" "DISK 1 " 300; then
	not_ok "the working guest never wrote its disk twice [$(tail -n 8 "$WORK/s0.out" "$WORK/s0.err" | tr '\r\n' '  ')]"
	mlog s0
	finish
fi
BIG=$(sed -n 's/^[0-9]* BIG \([0-9a-f]*\).*/\1/p' "$WORK/s0.out")
BIG8=$(sed -n 's/^[0-9]* BIG8 \([0-9a-f]*\).*/\1/p' "$WORK/s0.out")
diag "working guest: 48 MiB file md5 $BIG, its first 8 MiB (the disk's) $BIG8"
# ticks_on FROM TO: the guest at TO ticks 10 past FROM's last tick; prints the gap in ms between the two processes'
# ticks around the switch (the guest's downtime as its console shows it)
ticks_on() {
	_lt=$(last_tick "$WORK/$1.out")
	wait_for "$WORK/$2.out" "TICK $((${_lt:-0} + 10))" 120 || return 1
	_a=$(ticks "$WORK/$1.out" | tail -n 1 | cut -d' ' -f1)
	_b=$(ticks "$WORK/$2.out" | head -n 1 | cut -d' ' -f1)
	echo $((_b - _a))
}

# ---- N save/restore cycles: save --stop to a file, restore it -------------------------------------------------------
SR='' sr_ok=0
for i in $(seq 1 "$N"); do
	nxt=r$i
	if ! "$LKVM" save --name $VM --stop "$SNAP" >"$WORK/soak-save$i.txt" 2>&1; then
		failed "save $i: $(tail -n 1 "$WORK/soak-save$i.txt")"
		break
	fi
	src_rc=$(mwait "$cur" 60)
	[ "$src_rc" = 0 ] || failed "save $i: the saved lkvm exited $src_rc"
	mstart $nxt restore "$SNAP"
	GUESTS="$GUESTS $nxt"
	if gap=$(ticks_on "$cur" "$nxt"); then
		sr_ok=$((sr_ok + 1))
		SR="$SR $gap"
	else
		failed "restore $i: the guest did not tick on [$(tail -n 5 "$WORK/$nxt.out" "$WORK/$nxt.err" | tr '\r\n' '  ' | head -c 600)]"
		cur=$nxt
		break
	fi
	cur=$nxt
done
diag "save/restore: $sr_ok of $N cycles; downtime ms (last tick before the save to the first after the restore) min / median / p90 / max: $(dist "$SR")"

# ---- N live moves, tcp: and unix: in turn -----------------------------------------------------------------------------
PAUSES='' mv_ok=0 RESENT=0 resent_moves=0 PORT=$((23000 + $$ % 1000))
[ $sr_ok = "$N" ] || N_MOVES=0
for i in $(seq 1 "${N_MOVES:-$N}"); do
	nxt=m$i
	if [ $((i % 2)) = 1 ]; then addr=tcp:127.0.0.1:$((PORT + i)); else addr=unix:$WORK/soak-m$i.sock; fi
	mstart $nxt restore --incoming "$addr"
	GUESTS="$GUESTS $nxt"
	wait_listen "$WORK/$nxt.err"
	"$LKVM" migrate --name $VM "$addr" >"$WORK/soak-mig$i.txt" 2>&1
	rc=$?
	log "move $i to $addr: rc $rc: $(cat "$WORK/soak-mig$i.txt")"
	if [ $rc != 0 ]; then
		failed "move $i ($addr): migrate exit $rc: $(tail -n 1 "$WORK/soak-mig$i.txt")"
		"$LKVM" stop --name $VM >/dev/null 2>&1 # the destination, if it runs
		break
	fi
	src_rc=$(mwait "$cur" 60)
	[ "$src_rc" = 0 ] || failed "move $i: the source lkvm exited $src_rc"
	p=$(sed -n 's/.*guest paused \([0-9]*\) ms.*/\1/p' "$WORK/soak-mig$i.txt" | tail -n 1)
	u=$(sed -n 's/.*(\([0-9]*\) pages\{0,1\} changed without a dirty-log entry.*/\1/p' "$WORK/soak-mig$i.txt" | tail -n 1)
	if ticks_on "$cur" "$nxt" >/dev/null; then
		mv_ok=$((mv_ok + 1))
		PAUSES="$PAUSES ${p:-?}"
	else
		failed "move $i ($addr): the guest did not tick on at the destination [$(tail -n 5 "$WORK/$nxt.out" "$WORK/$nxt.err" | tr '\r\n' '  ' | head -c 600)]"
		cur=$nxt
		break
	fi
	if [ -n "$u" ]; then
		RESENT=$((RESENT + u))
		resent_moves=$((resent_moves + 1))
		# what the re-check read for it: the blocks written since the live check, or all of RAM (a loss outside them)
		diag "move $i: $u page(s) re-sent; $(grep '^pause ' "$WORK/soak-mig$i.txt" | sed 's/.*\(re-check [^)]*)\).*/\1/')"
	fi
	cur=$nxt
done
diag "live moves: $mv_ok of $N; pause ms min / median / p90 / max: $(dist "$PAUSES"); $RESENT page(s) re-sent for want of a dirty-log entry, in $resent_moves move(s)"

# ---- the guest's own account, then power it off ------------------------------------------------------------------------
sleep 7 # one more SUM and DISK at the last destination
outs=
for g in $GUESTS; do outs="$outs $WORK/$g.out"; done
# (a line cut by a save or a move is half in one process's console, half in the next: only whole sums count)
# shellcheck disable=SC2086
sums=$(cat $outs | sed -n 's/^[0-9]* SUM \([0-9a-f]\{32\}\) .*/\1/p')
# shellcheck disable=SC2086
disks=$(cat $outs | sed -n 's/^[0-9]* DISK [0-9]* \([0-9a-f]\{32\}\).*/\1/p')
n_sum=$(echo "$sums" | grep -c . || true)
n_disk=$(echo "$disks" | grep -c . || true)
bad=$(( $(echo "$sums" | grep . | grep -cv "^$BIG\$" || true) + $(echo "$disks" | grep . | grep -cv "^$BIG8\$" || true) ))
# shellcheck disable=SC2086
reboots=$(($(cat $outs | grep -c 'L2-INIT-OK' || true) - 1))
# shellcheck disable=SC2086
work_oops=$(oopses $outs)
"$LKVM" stop --name $VM >>"$LOG" 2>&1
last_rc=$(mwait "$cur" 60)
[ "$last_rc" = 0 ] || failed "the last lkvm exited $last_rc after lkvm stop"
for g in $GUESTS; do mlog $g; done

el=$(($(now_cs) - t_start))
diag "SOAK N=$N in $(cs_fmt $el) s: failures $FAILS, reboots $reboots, oopses $((boot_oops + work_oops)), re-sent pages $RESENT (in $resent_moves of $mv_ok moves), checksum mismatches $bad (of $n_sum file and $n_disk disk sums)"
diag "SOAK boot s: $(dist "$BOOTS"); save/restore downtime ms: $(dist "$SR"); migration pause ms: $(dist "$PAUSES")"
check "cold boots: $boot_ok of $N reached poweroff" [ "$boot_ok" = "$N" ]
check "save/restore: $sr_ok of $N cycles, the guest ticking on after each" [ "$sr_ok" = "$N" ]
check "live moves: $mv_ok of $N, the guest ticking on after each" [ "$mv_ok" = "$N" ]
check "no failure along the way ($FAILS)" [ "$FAILS" = 0 ]
check "no reboot of the working guest ($reboots)" [ "$reboots" = 0 ]
check "no oops, BUG, panic or warning in any guest console ($((boot_oops + work_oops)))" [ $((boot_oops + work_oops)) = 0 ]
check "the guest's checksums: $n_sum file and $n_disk disk sums, $bad mismatched" \
	sh -c "[ $bad = 0 ] && [ $n_sum -ge $N ] && [ $n_disk -ge $N ]"
finish
